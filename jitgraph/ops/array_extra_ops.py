"""More array functions of ``tf``: ``linspace``, ``meshgrid``, ``roll``, ``space_to_depth``/
``depth_to_space``, ``identity_n``, ``ensure_shape`` (``EnsureShape``: the shape checked when run),
``py_func``/``numpy_function`` (``PyFunc``: a Python function called on the arrays when run) and
``matching_files`` (``MatchingFiles``)."""

import glob as _glob

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import array_ops
from jitgraph.ops.control_ops import identity
from jitgraph.ops.math_ops import binary, cast
from jitgraph.ops.op_util import no_gradient, op_scope
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["linspace", "lin_space", "meshgrid", "roll", "space_to_depth", "depth_to_space", "identity_n",
           "ensure_shape", "py_func", "numpy_function", "matching_files"]


def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included)."""
    with op_scope(name or "LinSpace", [start, stop]):
        start = convert_to_tensor(start)
        if not start.dtype.base_dtype.is_floating:
            start = cast(start, dtypes.float32)
        dt = start.dtype.base_dtype
        stop = cast(convert_to_tensor(stop), dt)
        num = convert_to_tensor(num)
        steps = cast(binary("Maximum", num - 1, 1), dt)
        i = cast(array_ops.range(num), dt)
        delta = binary("RealDiv", stop - start, steps)
        if start.shape.ndims:   # vectors of starts and stops: [num, k] (axis 0) or [k, num]
            out = array_ops.expand_dims(start, 0) + array_ops.expand_dims(i, 1) * array_ops.expand_dims(delta, 0)
            return out if axis == 0 else array_ops.transpose(out)
        return start + i * delta


lin_space = linspace


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D ``args``: ``indexing="xy"`` (default; first two axes swapped) or
    ``"ij"``."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"meshgrid: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with op_scope(name, []):
        xs = [array_ops.reshape(convert_to_tensor(a), [-1]) for a in args]
        n = len(xs)
        axis_of = list(range(n))
        if indexing == "xy" and n > 1:   # the first two inputs vary along the columns and rows
            axis_of[0], axis_of[1] = 1, 0
        sizes = [None] * n
        for x, ax in zip(xs, axis_of):
            sizes[ax] = array_ops.size(x)
        full = array_ops.stack(sizes)
        out = []
        for x, ax in zip(xs, axis_of):
            shape = [1] * n
            shape[ax] = -1
            out.append(array_ops.broadcast_to(array_ops.reshape(x, shape), full))
        return out


def roll(input, shift, axis, name=None):
    """``input`` shifted cyclically by ``shift`` places along ``axis`` (ints or lists of them; a
    shift may be a tensor)."""
    with op_scope(name or "Roll", [input]):
        x = convert_to_tensor(input)
        shifts = shift if isinstance(shift, (list, tuple)) else [shift]
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if len(shifts) != len(axes):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
        for s, a in zip(shifts, axes):
            n = array_ops.shape(x)[a]
            idx = binary("FloorMod", array_ops.range(n) - cast(convert_to_tensor(s), dtypes.int32), n)
            x = array_ops.gather(x, idx, axis=a % x.shape.ndims if x.shape.ndims else a)
        return x


def _block_check(x, block_size, op):
    if block_size < 2:
        raise ValueError(f"{op}: block_size must be at least 2, got {block_size}")
    if x.shape.ndims not in (None, 4):
        raise ValueError(f"{op}: input must be 4-D NHWC, got shape {x.shape}")


def space_to_depth(input, block_size, name=None, data_format="NHWC"):
    """Move ``block_size x block_size`` blocks of pixels into the channels (NHWC)."""
    if data_format != "NHWC":
        raise ValueError("space_to_depth: only data_format='NHWC' is supported")
    with op_scope(name or "SpaceToDepth", [input]):
        x = convert_to_tensor(input)
        _block_check(x, block_size, "space_to_depth")
        b, h, w, c = (array_ops.shape(x)[i] for i in range(4))
        y = array_ops.reshape(x, array_ops.stack([b, h // block_size, block_size, w // block_size, block_size, c]))
        y = array_ops.transpose(y, [0, 1, 3, 2, 4, 5])
        return array_ops.reshape(y, array_ops.stack([b, h // block_size, w // block_size,
                                                     c * block_size * block_size]))


def depth_to_space(input, block_size, name=None, data_format="NHWC"):
    """Move channels into ``block_size x block_size`` blocks of pixels (NHWC); undoes
    ``space_to_depth``."""
    if data_format != "NHWC":
        raise ValueError("depth_to_space: only data_format='NHWC' is supported")
    with op_scope(name or "DepthToSpace", [input]):
        x = convert_to_tensor(input)
        _block_check(x, block_size, "depth_to_space")
        b, h, w, c = (array_ops.shape(x)[i] for i in range(4))
        cc = c // (block_size * block_size)
        y = array_ops.reshape(x, array_ops.stack([b, h, w, block_size, block_size, cc]))
        y = array_ops.transpose(y, [0, 1, 3, 2, 4, 5])
        return array_ops.reshape(y, array_ops.stack([b, h * block_size, w * block_size, cc]))


def identity_n(input, name=None):
    """``[identity(t) for t in input]``."""
    with op_scope(name or "IdentityN", []):
        return [identity(t) for t in input]


# ---- EnsureShape ---------------------------------------------------------------------------------------
def _ensure_infer(ins, a):
    x = ins[0]
    if not x.shape.is_compatible_with(a["shape"]):
        raise ValueError(f"Shape {x.shape} is not compatible with the expected shape {a['shape']}")
    return [(x.dtype.base_dtype, x.shape.merge_with(a["shape"]))]


def _ensure_compute(x, shape):
    if not TensorShape(list(x.shape)).is_compatible_with(shape):
        raise errors.InvalidArgumentError(None, None, f"Shape of tensor {list(x.shape)} is not compatible with "
                                                      f"expected shape {shape}.")
    return x


define_op("EnsureShape", _ensure_infer, _ensure_compute, kind="library", grad=lambda op, g: [g])


def ensure_shape(x, shape, name=None):
    """``x``, with ``shape`` merged into its static shape and checked again when the graph runs."""
    attrs = {"shape": TensorShape(shape)}
    return make_op("EnsureShape", [convert_to_tensor(x)], attrs, name or "EnsureShape").outputs[0]


# ---- PyFunc --------------------------------------------------------------------------------------------
def _py_run(ctx, op, ins):
    out = op.get_attr("func")(*ins)
    touts = op.get_attr("Tout")
    results = list(out) if isinstance(out, (list, tuple)) else ([] if out is None else [out])
    if len(results) != len(touts):
        raise errors.InvalidArgumentError(None, op, f"{op.name}: the function returned {len(results)} values, "
                                                    f"expected {len(touts)}")
    return [np.asarray(r, dtype=t.as_np if t != dtypes.string else object) for r, t in zip(results, touts)]


define_op("PyFunc", lambda ins, a: [(t, TensorShape(None)) for t in a["Tout"]], kind="library", stateful=True,
          run=_py_run, grad=no_gradient)


def py_func(func, inp, Tout, stateful=True, name=None):  # noqa: N803  (TF's name)
    """Call the Python function ``func`` on the NumPy values of ``inp`` each time the graph runs;
    it returns arrays of the dtypes ``Tout`` (a dtype or a list of them). No gradient flows."""
    single = not isinstance(Tout, (list, tuple))
    touts = [dtypes.as_dtype(t) for t in ([Tout] if single else Tout)]
    ts = [convert_to_tensor(x) for x in inp]
    op = make_op("PyFunc", ts, {"func": func, "Tout": tuple(touts), "stateful": bool(stateful)}, name or "PyFunc")
    return op.outputs[0] if single else list(op.outputs)


def numpy_function(func, inp, Tout, stateful=True, name=None):  # noqa: N803
    """As ``py_func``."""
    return py_func(func, inp, Tout, stateful, name or "PyFunc")


# ---- MatchingFiles -------------------------------------------------------------------------------------
def _matching_run(ctx, op, ins):
    pats = [p.decode() if isinstance(p, bytes) else str(p) for p in np.asarray(ins[0], dtype=object).reshape(-1)]
    found = sorted({f for p in pats for f in _glob.glob(p)})
    return [np.array([f.encode() for f in found], dtype=object).reshape(-1)]


define_op("MatchingFiles", lambda ins, a: [(dtypes.string, [None])], kind="library", stateful=True,
          run=_matching_run, grad=no_gradient)


def matching_files(pattern, name=None):
    """The file names (sorted) that match the glob ``pattern`` (a string or strings), when run."""
    return make_op("MatchingFiles", [convert_to_tensor(pattern, dtypes.string)], {}, name or "MatchingFiles").outputs[0]
