"""Reductions: ``reduce_sum/mean/max/min/prod/all/any``, ``argmax``/``argmin``, ``add_n``,
``cumsum``/``cumprod`` and ``unbroadcast``. What is built from them (``reduce_logsumexp``,
``count_nonzero``, ``norm``, ``global_norm``, ``clip_by_*``) lives in ``clip_ops.py`` and is
re-exported here.

Reduction ops (kind ``reduction``) carry their axes as a static attr: ``axis`` is a sorted tuple
of non-negative dims (``None`` only when the input's rank is unknown: reduce everything) and
``keep_dims`` a bool. ``extra`` gives the compiler the accumulate step: ``combine`` (add, mul,
max, min, and, or), ``identity`` (the start value; "-inf"/"inf" for max/min, replaced by the
dtype's limits for integers) and ``mean``. Integer ``reduce_mean`` truncates toward zero, as TF's.
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import math_ops
from jitgraph.ops.op_util import check_dtype, no_gradient, shape_tensor, shape_value, static_axes
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all", "reduce_any",
           "argmax", "argmin", "add_n", "cumsum", "cumprod"]

_NUMERIC = "float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64"


def _ao():
    from jitgraph.ops import array_ops
    return array_ops


# ---- the reduction ops -----------------------------------------------------------------------------
def _reduce_infer(op_type, ok, allowed):
    def infer(ins, a):
        x = ins[0]
        check_dtype(x, ok, op_type, "input", allowed)
        dt = x.dtype.base_dtype
        if a["axis"] is None or x.shape.ndims is None:
            return [(dt, TensorShape(None) if a["axis"] is not None or x.shape.ndims is None else [])]
        dims = x.shape.as_list()
        if a["keep_dims"]:
            return [(dt, [1 if i in a["axis"] else d for i, d in enumerate(dims)])]
        return [(dt, [d for i, d in enumerate(dims) if i not in a["axis"]])]
    return infer


def _mean(x, axis, keep_dims):
    n = int(np.prod([x.shape[i] for i in (axis if axis is not None else range(x.ndim))]))
    if x.dtype.kind in "iu":
        s = np.sum(x, axis=axis, keepdims=keep_dims, dtype=np.int64)
        return (np.sign(s) * (np.abs(s) // max(n, 1))).astype(x.dtype)
    acc = np.float32 if x.dtype == np.float16 else x.dtype.type
    return (np.sum(x, axis=axis, keepdims=keep_dims, dtype=acc) / acc(n)).astype(x.dtype)


def _extreme(fn, lowest):
    def run(x, axis, keep_dims):
        info = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype)
        init = (-np.inf if lowest else np.inf) if x.dtype.kind == "f" else (info.min if lowest else info.max)
        return fn(x, axis=axis, keepdims=keep_dims, initial=init)
    return run


def _num(d):
    return d.is_numeric


def _bool(d):
    return d.is_bool


REDUCTIONS = [
    # type, NumPy reference, accepted dtypes, combine step, identity element (compiler vocabulary)
    ("Sum", lambda x, axis, keep_dims: np.sum(x, axis=axis, keepdims=keep_dims, dtype=x.dtype), _num, "add", 0),
    ("Mean", _mean, _num, "add", 0),
    ("Prod", lambda x, axis, keep_dims: np.prod(x, axis=axis, keepdims=keep_dims, dtype=x.dtype), _num, "mul", 1),
    ("Max", _extreme(np.max, True), _num, "max", "-inf"),
    ("Min", _extreme(np.min, False), _num, "min", "inf"),
    ("All", lambda x, axis, keep_dims: np.all(x, axis=axis, keepdims=keep_dims), _bool, "and", True),
    ("Any", lambda x, axis, keep_dims: np.any(x, axis=axis, keepdims=keep_dims), _bool, "or", False),
]


def _keep(g, op):
    """``g`` (the gradient of a reduction's output) with the reduced dims put back as size 1."""
    axis = op.get_attr("axis")
    if op.get_attr("keep_dims") or axis is None:
        return g
    for ax in axis:
        g = _ao().expand_dims(g, ax)
    return g


def _sum_grad(op, g):
    x = op.inputs[0]
    return [_ao().broadcast_to(_keep(g, op), shape_tensor(x))]


def _count(op):
    """Elements of the input per output element, as a tensor of the input's dtype."""
    x, y = op.inputs[0], op.outputs[0]
    dt = x.dtype.base_dtype
    nx, ny = x.shape.num_elements(), y.shape.num_elements()
    if nx is not None and ny is not None:
        return convert_to_tensor(np.asarray(nx // max(ny, 1), dt.as_np))
    sx = math_ops.cast(_ao().size(x), dt)
    sy = math_ops.cast(math_ops.binary("Maximum", _ao().size(y), 1), dt)
    return math_ops.binary("RealDiv", sx, sy)


def _mean_grad(op, g):
    return [math_ops.binary("RealDiv", _sum_grad(op, g)[0], _count(op))]


def _extreme_grad(op, g):
    x, y = op.inputs[0], op.outputs[0]
    hit = math_ops.cast(math_ops.binary("Equal", x, _keep(y, op)), x.dtype.base_dtype)
    n = reduce_sum(hit, op.get_attr("axis"), keepdims=True)
    return [math_ops.binary("Mul", math_ops.binary("RealDiv", hit, n), _keep(g, op))]


def _prod_grad(op, g):
    x = op.inputs[0]
    full = _ao().broadcast_to(_keep(g, op), shape_tensor(x))
    return [make_op("ProdGrad", [x, full], {"axis": op.get_attr("axis")}, "ProdGrad").outputs[0]]


def _prod_grad_compute(x, g, axis):
    """d prod / dx_i = product of the other elements of x_i's group (exact with zeros)."""
    axis = tuple(range(x.ndim)) if axis is None else axis
    rest = [i for i in range(x.ndim) if i not in axis]
    perm = rest + list(axis)
    xt = np.transpose(x, perm)
    flat = xt.reshape(xt.shape[:len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], -1), axis=-1)[..., ::-1]
    others = (left * right).reshape(xt.shape)
    return np.transpose(others, np.argsort(perm)) * g


_GRADS = {"Sum": _sum_grad, "Mean": _mean_grad, "Prod": _prod_grad, "Max": _extreme_grad, "Min": _extreme_grad,
          "All": no_gradient, "Any": no_gradient}

for _t, _fn, _ok, _comb, _ident in REDUCTIONS:
    define_op(_t, _reduce_infer(_t, _ok, "bool" if _ok is _bool else _NUMERIC), _fn, kind="reduction",
              grad=_GRADS[_t], extra={"combine": _comb, "identity": _ident, "mean": _t == "Mean"})
define_op("ProdGrad", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], _prod_grad_compute, kind="library")


def _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices=None, keep_dims=None):
    x = convert_to_tensor(input_tensor)
    axis = reduction_indices if axis is None else axis
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    axes, r = static_axes(axis, f"{op_type} reduction axis"), x.shape.ndims
    if axes is None:
        axes = None if r is None else tuple(range(r))
    elif r is not None:
        for ax in axes:
            if not -r <= ax < r:
                raise ValueError(f"Invalid reduction dimension {ax} for input with {r} dimensions "
                                 f"(op {op_type})")
        norm = [ax % r for ax in axes]
        if len(set(norm)) != len(norm):
            raise ValueError(f"{op_type}: reduction axis {axes} names a dimension more than once")
        axes = tuple(sorted(norm))
    elif any(ax < 0 for ax in axes):
        raise ValueError(f"{op_type}: negative reduction axes {axes} need an input of known rank")
    else:
        axes = tuple(sorted(set(axes)))
    return make_op(op_type, [x], {"axis": axes, "keep_dims": keepdims}, name or op_type).outputs[0]


def _reducer(op_type, doc):
    def reduce(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None):
        return _reduce(op_type, input_tensor, axis, keepdims, name, reduction_indices, keep_dims)
    reduce.__name__ = "reduce_" + {"Sum": "sum", "Mean": "mean", "Max": "max", "Min": "min", "Prod": "prod",
                                   "All": "all", "Any": "any"}[op_type]
    reduce.__doc__ = (f"{doc} over ``axis`` (an int or list; None: all dims); ``keepdims`` keeps reduced "
                      f"dims as size 1. TF1 spellings ``reduction_indices``/``keep_dims`` are accepted.")
    return reduce


reduce_sum = _reducer("Sum", "Sum of elements")
reduce_mean = _reducer("Mean", "Mean of elements (integer inputs: truncated toward zero)")
reduce_max = _reducer("Max", "Maximum of elements (the dtype's lowest value for an empty reduction)")
reduce_min = _reducer("Min", "Minimum of elements")
reduce_prod = _reducer("Prod", "Product of elements")
reduce_all = _reducer("All", "Logical and of bool elements")
reduce_any = _reducer("Any", "Logical or of bool elements")


# ---- ArgMax, ArgMin ----------------------------------------------------------------------------------
def _arg_infer(op_type):
    def infer(ins, a):
        x = ins[0]
        check_dtype(x, _num, op_type, "input", _NUMERIC)
        if x.shape.ndims is None:
            return [(a["output_type"], TensorShape(None))]
        r = x.shape.ndims
        if not -r <= a["axis"] < max(r, 1):
            raise ValueError(f"Expected dimension in the range [{-r}, {r}), but got {a['axis']}")
        a["axis"] %= max(r, 1)
        return [(a["output_type"], [d for i, d in enumerate(x.shape.as_list()) if i != a["axis"]])]
    return infer


define_op("ArgMax", _arg_infer("ArgMax"), kind="library", grad=no_gradient,
          compute=lambda x, axis, output_type: np.argmax(x, axis=axis).astype(output_type.as_np))
define_op("ArgMin", _arg_infer("ArgMin"), kind="library", grad=no_gradient,
          compute=lambda x, axis, output_type: np.argmin(x, axis=axis).astype(output_type.as_np))


def _arg(op_type, input, axis, name, dimension, output_type):
    axis = dimension if axis is None else axis
    axis = 0 if axis is None else static_axes(axis, f"{op_type} axis")[0]
    return make_op(op_type, [convert_to_tensor(input)], {"axis": axis, "output_type": dtypes.as_dtype(output_type)},
                   name or op_type).outputs[0]


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """Index of the largest element along ``axis`` (default 0; the first one on ties), int64."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):
    """Index of the smallest element along ``axis`` (default 0; the first one on ties), int64."""
    return _arg("ArgMin", input, axis, name, dimension, output_type)


# ---- AddN ----------------------------------------------------------------------------------------
def _add_n_infer(ins, a):
    dt = ins[0].dtype.base_dtype
    shape = TensorShape(None)
    for t in ins:
        if t.dtype.base_dtype != dt:
            raise TypeError(f"add_n: all inputs must have dtype {dt.name}, got {t.dtype.base_dtype.name} "
                            f"for {t.name}")
        if not shape.is_compatible_with(t.shape):
            raise ValueError(f"add_n: shapes {shape} and {t.shape} must be equal (no broadcasting)")
        shape = shape.merge_with(t.shape)
    check_dtype(ins[0], _num, "AddN", "inputs", _NUMERIC)
    return [(dt, shape)]


def _add_n_compute(*xs):
    out = np.array(xs[0], copy=True)
    for x in xs[1:]:
        out += x
    return out


# An n-ary elementwise op: the compiler joins its operands with extra["nary"] (no fixed template).
define_op("AddN", _add_n_infer, _add_n_compute, kind="elementwise", extra={"nary": " + "},
          grad=lambda op, g: [g] * len(op.inputs))


def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of the same shape and dtype."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("Inputs must be an iterable of at least one Tensor with the same dtype and shape.")
    ts = [convert_to_tensor(t) for t in inputs]
    if len(ts) == 1:
        from jitgraph.ops.control_ops import identity
        return identity(ts[0], name=name or "AddN")
    return make_op("AddN", ts, {}, name or "AddN").outputs[0]


# ---- Cumsum, Cumprod -------------------------------------------------------------------------------
def _cum_infer(op_type):
    def infer(ins, a):
        x = ins[0]
        check_dtype(x, _num, op_type, "x", _NUMERIC)
        if x.shape.ndims is not None:
            r = x.shape.ndims
            if not -r <= a["axis"] < r:
                raise ValueError(f"{op_type}: axis {a['axis']} is out of range for rank {r}")
            a["axis"] %= r
        return [(x.dtype.base_dtype, x.shape)]
    return infer


def _cum(fn, identity):
    def run(x, axis, exclusive, reverse):
        y = np.flip(x, axis) if reverse else x
        out = fn(y, axis=axis, dtype=x.dtype)
        if exclusive:
            pad = [(0, 0)] * x.ndim
            pad[axis] = (1, 0)
            out = np.pad(out, pad, constant_values=identity)[tuple(
                slice(0, -1) if i == axis else slice(None) for i in range(x.ndim))]
        return np.flip(out, axis) if reverse else out
    return run


def _cumsum_grad(op, g):
    return [cumsum(g, op.get_attr("axis"), exclusive=op.get_attr("exclusive"), reverse=not op.get_attr("reverse"))]


def _cumprod_grad(op, g):
    from jitgraph.ops.constant_ops import zeros_like
    x, y = op.inputs[0], op.outputs[0]   # TF's rule: sum of later products / x, and 0 where x == 0
    s = cumsum(math_ops.binary("Mul", y, g), op.get_attr("axis"), exclusive=op.get_attr("exclusive"),
               reverse=not op.get_attr("reverse"))
    zero = math_ops.binary("Equal", x, 0)
    return [math_ops.where(zero, zeros_like(s), math_ops.binary("RealDiv", s, math_ops.where(zero, _ones(x), x)))]


def _ones(t):
    from jitgraph.ops.constant_ops import ones_like
    return ones_like(t)


define_op("Cumsum", _cum_infer("Cumsum"), _cum(np.cumsum, 0), kind="library", grad=_cumsum_grad)
define_op("Cumprod", _cum_infer("Cumprod"), _cum(np.cumprod, 1), kind="library", grad=_cumprod_grad)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running sum along ``axis``; ``exclusive`` leaves out the current element, ``reverse`` runs
    from the end."""
    attrs = {"axis": static_axes(axis, "cumsum axis")[0], "exclusive": bool(exclusive), "reverse": bool(reverse)}
    return make_op("Cumsum", [convert_to_tensor(x)], attrs, name or "Cumsum").outputs[0]


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Running product along ``axis`` (see ``cumsum``)."""
    attrs = {"axis": static_axes(axis, "cumprod axis")[0], "exclusive": bool(exclusive), "reverse": bool(reverse)}
    return make_op("Cumprod", [convert_to_tensor(x)], attrs, name or "Cumprod").outputs[0]


# ---- summing a broadcast gradient back to an operand's shape ------------------------------------------
def _sum_to_shape_compute(g, shape):
    target = tuple(int(d) for d in shape)
    lead = g.ndim - len(target)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target) if d == 1 and g.shape[lead + i] != 1)
    return np.sum(g, axis=axes, keepdims=True, dtype=g.dtype).reshape(target)


define_op("SumToShape", lambda ins, a: [(ins[0].dtype.base_dtype, shape_value(ins[1]))], _sum_to_shape_compute,
          kind="library", grad=lambda op, g: [_ao().broadcast_to(g, _ao().shape(op.inputs[0])), None])


def unbroadcast(grad, target):
    """``grad`` (the gradient of a broadcast result) summed back to the shape of ``target``: static
    ``Sum`` + ``Reshape`` when the broadcast dims are known, else one ``SumToShape`` op."""
    gs, ts = grad.shape, target.shape
    if gs.ndims is not None and ts.ndims is not None and gs.ndims >= ts.ndims:
        lead = gs.ndims - ts.ndims
        axes = list(range(lead))
        decided = True
        for i, d in enumerate(ts.as_list()):
            gd = gs[lead + i].value
            if d == 1:
                axes.append(lead + i)       # summing over a size-1 dim is harmless
            elif d is None and gd != 1:
                decided = False             # target may or may not be broadcast along this dim
        if decided:
            # only leading axes summed: a plain sum already has the target's shape (bias gradients)
            inner = any(a >= lead for a in axes)
            out = reduce_sum(grad, axes, keepdims=inner) if axes else grad
            return out if out.shape == ts and ts.is_fully_defined() else _ao().reshape(out, shape_tensor(target))
    return make_op("SumToShape", [grad, _ao().shape(target)], {}, "SumToShape").outputs[0]


from jitgraph.ops.clip_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.clip_ops import __all__ as _clip_all  # noqa: E402

__all__ += _clip_all
