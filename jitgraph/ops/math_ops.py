"""Elementwise math: unary and binary ops with NumPy broadcasting, comparisons, logic, cast, where.

Each row of the tables below is one op: its TF type, its NumPy reference, its Numba scalar template
(``{0}``, ``{1}`` are the scalar operands), the dtypes it accepts and its gradient rule.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import convert_binary, convert_to_tensor, define_op, make_op

FLOAT = "float"
NUM = "numeric"
INT = "integer"
BOOL = "bool"
ANY = "any"


def _check_dtype(t, allowed, op_type):
    d = t.dtype.base_dtype
    ok = {FLOAT: d.is_floating, NUM: d.is_numeric, INT: d.is_integer, BOOL: d.is_bool,
          ANY: True}[allowed]
    if not ok:
        raise TypeError(f"Value passed to parameter 'x' has DataType {d.name} not in list of allowed "
                        f"values for {op_type} ({allowed} types)")


def broadcast_shapes(a, b):
    """Static NumPy broadcasting of two TensorShapes (None = unknown dim); ``ValueError`` if not."""
    if a.ndims is None or b.ndims is None:
        return TensorShape(None)
    x, y = a.as_list(), b.as_list()
    n = max(len(x), len(y))
    x, y = [1] * (n - len(x)) + x, [1] * (n - len(y)) + y
    out = []
    for p, q in zip(x, y):
        if p is None or q is None:
            known = q if p is None else p
            out.append(known if known not in (None, 1) else None)
        elif p == q or q == 1:
            out.append(p)
        elif p == 1:
            out.append(q)
        else:
            raise ValueError(f"Dimensions must be equal, but are {p} and {q}")
    return TensorShape(out)


# ---- unary ops -------------------------------------------------------------------------------------
def _int_safe(fn):
    def run(x):
        with np.errstate(all="ignore"):
            return fn(x)
    run.ufunc = _ufunc_of(fn)
    return run


def _ufunc_of(fn):
    """The NumPy ufunc a reference function is (or wraps), else None: ``extra["ufunc"]`` lets the
    reference executor write the result into a dying input's buffer (``out=``) instead of new memory."""
    if isinstance(fn, np.ufunc) or getattr(fn, "takes_out", False):
        return fn
    return getattr(fn, "ufunc", None)


def _relu(x, out=None):
    return np.maximum(x, np.zeros((), x.dtype), out=out)


_relu.takes_out = True     # a ufunc in all but name: elementwise, ``out=`` may be its input


def _rsqrt(x):
    with np.errstate(all="ignore"):
        return (1 / np.sqrt(x)).astype(x.dtype)


def _sigmoid(x):
    with np.errstate(all="ignore"):
        return (1 / (1 + np.exp(-x))).astype(x.dtype)


# Gradient helpers: rules build graph ops with the functions of this module (operators included).
def _x(op):
    return op.inputs[0]


def _y(op):
    return op.outputs[0]


def _zeros(t):
    from jitgraph.ops.constant_ops import zeros_like
    return zeros_like(t)


def _mask(cond, g):
    """``g`` where ``cond`` holds, else 0 (also where ``g`` is NaN, as TF's ReluGrad). The zero is a
    broadcast scalar: no zeros tensor is materialized, and the select fuses into one loop."""
    return where(cond, g, convert_to_tensor(np.zeros((), g.dtype.base_dtype.as_np)))


def _unbroadcast(grad, target):
    from jitgraph.ops.reduction_ops import unbroadcast
    return unbroadcast(grad, target)


def _no_grad(op, *grads):
    return [None] * len(op.inputs)


UNARY = [
    # type, numpy reference, numba scalar template, allowed dtypes, gradient (op, dy) -> [dx]
    ("Neg", np.negative, "(-{0})", NUM, lambda op, g: [-g]),
    ("Abs", np.abs, "abs({0})", NUM, lambda op, g: [g * unary("Sign", _x(op))]),
    ("Sign", np.sign, "np.sign({0})", NUM, lambda op, g: [_zeros(g)]),
    ("Square", np.square, "({0} * {0})", NUM, lambda op, g: [g * (2 * _x(op))]),
    ("Exp", np.exp, "np.exp({0})", FLOAT, lambda op, g: [g * _y(op)]),
    ("Log", np.log, "np.log({0})", FLOAT, lambda op, g: [g / _x(op)]),
    ("Log1p", np.log1p, "np.log1p({0})", FLOAT, lambda op, g: [g / (1 + _x(op))]),
    ("Expm1", np.expm1, "np.expm1({0})", FLOAT, lambda op, g: [g * (_y(op) + 1)]),
    ("Sqrt", np.sqrt, "np.sqrt({0})", FLOAT, lambda op, g: [g * 0.5 / _y(op)]),
    ("Rsqrt", _rsqrt, "(1.0 / np.sqrt({0}))", FLOAT, lambda op, g: [g * -0.5 * (_y(op) * _y(op) * _y(op))]),
    ("Reciprocal", np.reciprocal, "(1.0 / {0})", FLOAT, lambda op, g: [-g * (_y(op) * _y(op))]),
    ("Tanh", np.tanh, "np.tanh({0})", FLOAT, lambda op, g: [g * (1 - _y(op) * _y(op))]),
    ("Sigmoid", _sigmoid, "(1.0 / (1.0 + np.exp(-{0})))", FLOAT, lambda op, g: [g * (_y(op) * (1 - _y(op)))]),
    ("Sin", np.sin, "np.sin({0})", FLOAT, lambda op, g: [g * unary("Cos", _x(op))]),
    ("Cos", np.cos, "np.cos({0})", FLOAT, lambda op, g: [-g * unary("Sin", _x(op))]),
    ("Floor", np.floor, "np.floor({0})", FLOAT, _no_grad),
    ("Ceil", np.ceil, "np.ceil({0})", FLOAT, _no_grad),
    ("Round", np.round, "np.round({0})", FLOAT, _no_grad),  # banker's rounding, as TF
    ("Relu", _relu, "max({0}, 0)", NUM,
     lambda op, g: [_mask(_y(op) > 0, g)]),
    ("Relu6", lambda x: np.minimum(np.maximum(x, 0), 6).astype(x.dtype), "min(max({0}, 0), 6)", NUM,
     lambda op, g: [_mask((_x(op) > 0) & (_x(op) < 6), g)]),
    ("Softplus", lambda x: np.logaddexp(0, x).astype(x.dtype), "np.logaddexp(0, {0})", FLOAT,
     lambda op, g: [g * unary("Sigmoid", _x(op))]),
    ("IsNan", np.isnan, "np.isnan({0})", FLOAT, _no_grad),
    ("IsInf", np.isinf, "np.isinf({0})", FLOAT, _no_grad),
    ("IsFinite", np.isfinite, "np.isfinite({0})", FLOAT, _no_grad),
    ("LogicalNot", np.logical_not, "(not {0})", BOOL, _no_grad),
]
_BOOL_RESULT = {"IsNan", "IsInf", "IsFinite", "LogicalNot"}


def _unary_infer(op_type, allowed):
    def infer(ins, attrs):
        _check_dtype(ins[0], allowed, op_type)
        out = dtypes.bool if op_type in _BOOL_RESULT else ins[0].dtype.base_dtype
        return [(out, ins[0].shape)]
    return infer


for _t, _fn, _tmpl, _allowed, _grad in UNARY:
    define_op(_t, _unary_infer(_t, _allowed), _int_safe(_fn), kind="elementwise", scalar=_tmpl, grad=_grad,
              extra={"ufunc": _ufunc_of(_fn)})


def unary(op_type, x, name=None):
    """Build the unary elementwise op ``op_type`` on ``x``."""
    return make_op(op_type, [convert_to_tensor(x)], {}, name or op_type).outputs[0]


# ---- binary ops -----------------------------------------------------------------------------------
def _int_div_check(fn):
    def run(x, y):
        if x.dtype.kind in "iu" and np.any(y == 0):
            raise errors.InvalidArgumentError(None, None, "Integer division by zero")
        with np.errstate(all="ignore"):
            return np.asarray(fn(x, y)).astype(np.result_type(x, y))
    return run


def _plain(fn):
    def run(x, y):
        with np.errstate(all="ignore"):
            return fn(x, y)
    run.ufunc = _ufunc_of(fn)
    return run


def _truncatediv(x, y):
    if x.dtype.kind in "iu":
        q = np.abs(x) // np.abs(y)
        return (np.sign(x) * np.sign(y) * q).astype(x.dtype)
    return np.trunc(x / y)


def _pow(x, y):
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise errors.InvalidArgumentError(None, None, "Integers to negative integer powers are not allowed")
    return np.power(x, y)


def _both(fx, fy):
    """A binary rule from the two partials, each summed back over broadcast axes."""
    return lambda op, g: [_unbroadcast(fx(op, g, *op.inputs), op.inputs[0]),
                          _unbroadcast(fy(op, g, *op.inputs), op.inputs[1])]


def _pow_dy(op, g, x, y):
    return g * _y(op) * where(x > 0, unary("Log", where(x > 0, x, unary("Abs", x) + 1)), _zeros(x))


BINARY = [
    # type, numpy reference, numba scalar template, allowed dtypes, result ("same"/"bool"), gradient
    ("Add", _plain(np.add), "({0} + {1})", NUM, "same", _both(lambda op, g, x, y: g, lambda op, g, x, y: g)),
    ("Sub", _plain(np.subtract), "({0} - {1})", NUM, "same", _both(lambda op, g, x, y: g, lambda op, g, x, y: -g)),
    ("Mul", _plain(np.multiply), "({0} * {1})", NUM, "same",
     _both(lambda op, g, x, y: g * y, lambda op, g, x, y: x * g)),
    ("RealDiv", _plain(np.true_divide), "({0} / {1})", FLOAT, "same",
     _both(lambda op, g, x, y: g / y, lambda op, g, x, y: -g * _y(op) / y)),
    ("FloorDiv", _int_div_check(np.floor_divide), "({0} // {1})", NUM, "same", _no_grad),
    ("FloorMod", _int_div_check(np.mod), "({0} % {1})", NUM, "same",
     _both(lambda op, g, x, y: g, lambda op, g, x, y: -g * unary("Floor", x / y))),
    ("TruncateDiv", _int_div_check(_truncatediv), None, NUM, "same", _no_grad),
    ("TruncateMod", _int_div_check(np.fmod), "np.fmod({0}, {1})", NUM, "same", _no_grad),
    ("Pow", _plain(_pow), "({0} ** {1})", NUM, "same",
     _both(lambda op, g, x, y: g * y * binary("Pow", x, y - 1), _pow_dy)),
    ("Maximum", _plain(np.maximum), "max({0}, {1})", NUM, "same",
     _both(lambda op, g, x, y: _mask(x >= y, g), lambda op, g, x, y: _mask(x < y, g))),
    ("Minimum", _plain(np.minimum), "min({0}, {1})", NUM, "same",
     _both(lambda op, g, x, y: _mask(x <= y, g), lambda op, g, x, y: _mask(x > y, g))),
    ("SquaredDifference", _plain(lambda x, y: np.square(x - y)), "(({0} - {1}) * ({0} - {1}))", NUM, "same",
     _both(lambda op, g, x, y: g * (2 * (x - y)), lambda op, g, x, y: -g * (2 * (x - y)))),
    ("Atan2", _plain(np.arctan2), "np.arctan2({0}, {1})", FLOAT, "same",
     _both(lambda op, g, y, x: g * x / (x * x + y * y), lambda op, g, y, x: -g * y / (x * x + y * y))),
    ("Less", np.less, "({0} < {1})", NUM, "bool", _no_grad),
    ("LessEqual", np.less_equal, "({0} <= {1})", NUM, "bool", _no_grad),
    ("Greater", np.greater, "({0} > {1})", NUM, "bool", _no_grad),
    ("GreaterEqual", np.greater_equal, "({0} >= {1})", NUM, "bool", _no_grad),
    ("Equal", np.equal, "({0} == {1})", ANY, "bool", _no_grad),
    ("NotEqual", np.not_equal, "({0} != {1})", ANY, "bool", _no_grad),
    ("LogicalAnd", np.logical_and, "({0} and {1})", BOOL, "bool", _no_grad),
    ("LogicalOr", np.logical_or, "({0} or {1})", BOOL, "bool", _no_grad),
    ("LogicalXor", np.logical_xor, "({0} != {1})", BOOL, "bool", _no_grad),
]


def _binary_infer(op_type, allowed, result):
    def infer(ins, attrs):
        x, y = ins
        if x.dtype.base_dtype != y.dtype.base_dtype:
            raise TypeError(f"Input 'y' of '{op_type}' Op has type {y.dtype.base_dtype.name} that does "
                            f"not match type {x.dtype.base_dtype.name} of argument 'x'")
        _check_dtype(x, allowed, op_type)
        out = dtypes.bool if result == "bool" else x.dtype.base_dtype
        return [(out, broadcast_shapes(x.shape, y.shape))]
    return infer


for _t, _fn, _tmpl, _allowed, _res, _grad in BINARY:
    define_op(_t, _binary_infer(_t, _allowed, _res), _fn, kind="elementwise", scalar=_tmpl, grad=_grad,
              extra={"ufunc": _ufunc_of(_fn)})


def binary(op_type, x, y, name=None):
    """Build the binary elementwise op ``op_type``; Python scalars take the tensor's dtype."""
    x, y = convert_binary(x, y, op_type)
    return make_op(op_type, [x, y], {}, name or op_type).outputs[0]


# ---- cast, where --------------------------------------------------------------------------------------
def _cast_compute(x, DstT, SrcT=None):
    dst = DstT.as_np
    if dst.kind == "b":
        return x != 0
    with np.errstate(all="ignore"):
        if x.dtype.kind == "f" and dst.kind in "iu":
            return np.trunc(x).astype(dst)
        return x.astype(dst)


define_op("Cast", lambda ins, a: [(a["DstT"], ins[0].shape)], _cast_compute, kind="elementwise",
          scalar=None,
          grad=lambda op, g: [cast(g, _x(op).dtype.base_dtype) if _x(op).dtype.base_dtype.is_floating
                              and g.dtype.base_dtype.is_floating else None])  # the compiler lowers Cast per (src, dst) pair


def cast(x, dtype, name=None):
    """Convert ``x`` to ``dtype``: float→int truncates toward zero, number→bool is ``x != 0``."""
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype).base_dtype
    if x.dtype.base_dtype == dtype:
        return x
    if dtype == dtypes.string or x.dtype.base_dtype == dtypes.string:
        raise TypeError(f"Cast between {x.dtype.base_dtype.name} and {dtype.name} is not supported")
    return make_op("Cast", [x], {"DstT": dtype, "SrcT": x.dtype.base_dtype}, name or "Cast").outputs[0]


def _select_infer(ins, a):
    c, x, y = ins
    if c.dtype.base_dtype != dtypes.bool:
        raise TypeError(f"condition must be bool, got {c.dtype.base_dtype.name}")
    if x.dtype.base_dtype != y.dtype.base_dtype:
        raise TypeError(f"x and y must have the same dtype, got {x.dtype.base_dtype.name} and "
                        f"{y.dtype.base_dtype.name}")
    return [(x.dtype.base_dtype, broadcast_shapes(broadcast_shapes(c.shape, x.shape), y.shape))]


define_op("SelectV2", _select_infer, lambda c, x, y: np.where(c, x, y), kind="elementwise",
          grad=lambda op, g: [None, _unbroadcast(_mask(op.inputs[0], g), op.inputs[1]),
                              _unbroadcast(where(op.inputs[0], _zeros(g), g), op.inputs[2])],
          scalar="({1} if {0} else {2})")


def where(condition, x=None, y=None, name=None):
    """Elementwise ``x if condition else y`` with broadcasting (TF2 ``where_v2`` semantics)."""
    c = convert_to_tensor(condition, dtypes.bool)
    if x is None and y is None:
        from jitgraph.ops.array_ops import where_indices
        return where_indices(c, name=name)
    x, y = convert_binary(x, y, "Select")
    return make_op("SelectV2", [c, x, y], {}, name or "Select").outputs[0]
