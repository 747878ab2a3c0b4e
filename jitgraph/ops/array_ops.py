"""Array ops: shape, size, rank, reshape, transpose, expand_dims/squeeze, range, one_hot; and the
public namespace of the other array modules, re-exported here (``tf.concat``, ``tf.gather`` …):
``concat_ops.py`` (stack/unstack, concat/split), ``tile_pad_ops.py`` (tile, broadcast_to, pad,
reverse) and ``slicing_ops.py`` (``x[...]``, slice, gather, scatter, where, boolean_mask).

Layout ops keep what the compiler needs to see statically as attrs (``perm``, ``axis``,
``squeeze_dims``); operands that are often computed at run time (``Reshape``'s shape, ``Tile``'s
multiples, ``Pad``'s paddings, ``Range``'s bounds) stay inputs, as in TF, and are folded into the
static shape when they are known (``op_util.partial_value``).
"""

import builtins

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.op_util import (check_int_tensor, int_tensor, no_gradient, normalize_axis, op_scope, partial_value,
                                  shape_tensor, shape_value, static_axes)
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["shape", "shape_n", "size", "rank", "reshape", "transpose", "expand_dims", "squeeze", "range", "one_hot",
           "newaxis"]

newaxis = None


def _dt(ins):
    return ins[0].dtype.base_dtype


# ---- Shape, Size, Rank -------------------------------------------------------------------------------
define_op("Shape", kind="layout", grad=no_gradient,
          infer=lambda ins, a: [(a["out_type"], [ins[0].shape.ndims])],
          compute=lambda x, out_type: np.array(x.shape, dtype=out_type.as_np))


def shape(input, name=None, out_type=dtypes.int32):
    """The dynamic shape of ``input`` as a 1-D int32 tensor."""
    x = convert_to_tensor(input)
    return make_op("Shape", [x], {"out_type": dtypes.as_dtype(out_type)}, name or "Shape").outputs[0]


def shape_n(input, out_type=dtypes.int32, name=None):
    """``[shape(t) for t in input]``."""
    return [shape(t, out_type=out_type) for t in input]


define_op("Size", kind="layout", grad=no_gradient, infer=lambda ins, a: [(a["out_type"], [])],
          compute=lambda x, out_type: np.array(x.size, dtype=out_type.as_np))
define_op("Rank", kind="layout", grad=no_gradient, infer=lambda ins, a: [(dtypes.int32, [])],
          compute=lambda x: np.array(x.ndim, dtype=np.int32))


def size(input, name=None, out_type=dtypes.int32):
    """The number of elements of ``input`` (a constant when its shape is static, as in TF)."""
    x, out_type = convert_to_tensor(input), dtypes.as_dtype(out_type)
    if x.shape.is_fully_defined():
        return constant(np.array(x.shape.num_elements(), out_type.as_np), out_type, name=name or "Size")
    return make_op("Size", [x], {"out_type": out_type}, name or "Size").outputs[0]


def rank(input, name=None):
    """The rank of ``input`` as a scalar int32 tensor."""
    x = convert_to_tensor(input)
    if x.shape.ndims is not None:
        return constant(np.int32(x.shape.ndims), name=name or "Rank")
    return make_op("Rank", [x], {}, name or "Rank").outputs[0]


# ---- Reshape ---------------------------------------------------------------------------------------
def _reshape_infer(ins, a):
    x, shp = ins
    check_int_tensor(shp, "Reshape", "shape")
    if shp.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {shp.shape.ndims}")
    v = partial_value(shp)
    if v is None:
        return [(_dt(ins), shape_value(shp))]
    dims = [None if e is None else int(e) for e in v]
    if any(d is not None and d < -1 for d in dims):
        raise ValueError(f"Reshape: size {min(d for d in dims if d is not None)} must be non-negative, or -1 "
                         f"(infer this dimension)")
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape: only one dimension may be -1, got shape {dims}")
    n_in = x.shape.num_elements()
    known = int(np.prod([d for d in dims if d not in (None, -1)]))
    if -1 in dims:
        i = dims.index(-1)
        if n_in is not None and None not in dims and known:
            if n_in % known:
                raise ValueError(f"Dimension size must be evenly divisible by {known} but is {n_in}")
            dims[i] = n_in // known
        else:
            dims[i] = None
    elif n_in is not None and None not in dims and known != n_in:
        raise ValueError(f"Cannot reshape a tensor with {n_in} elements to shape {dims} ({known} elements)")
    return [(_dt(ins), dims)]


define_op("Reshape", _reshape_infer, lambda x, shape: np.reshape(x, tuple(int(d) for d in shape)),
          kind="layout", grad=lambda op, g: [reshape(g, shape_tensor(op.inputs[0])), None])


def reshape(tensor, shape, name=None):
    """``tensor`` with the same elements in row-major order and a new ``shape`` (one dim may be -1)."""
    x = convert_to_tensor(tensor)
    with op_scope(name or "Reshape", [x]) as scope:
        return make_op("Reshape", [x, int_tensor(shape, "shape")], {}, scope).outputs[0]


# ---- Transpose -------------------------------------------------------------------------------------
def _transpose_infer(ins, a):
    x, perm = ins[0], a["perm"]
    if perm is None:
        return [(_dt(ins), TensorShape(None if x.shape.ndims is None else x.shape.as_list()[::-1]))]
    if x.shape.ndims is not None and len(perm) != x.shape.ndims:
        raise ValueError(f"Dimension must be {x.shape.ndims} but is {len(perm)}")
    if sorted(perm) != list(builtins.range(len(perm))):
        raise ValueError(f"transpose: perm {list(perm)} is not a permutation of 0..{len(perm) - 1}")
    if x.shape.ndims is None:
        return [(_dt(ins), [None] * len(perm))]
    dims = x.shape.as_list()
    return [(_dt(ins), [dims[p] for p in perm])]


def _transpose_grad(op, g):
    perm = op.get_attr("perm")
    return [transpose(g, None if perm is None else list(np.argsort(perm)))]


define_op("Transpose", _transpose_infer, lambda x, perm: np.transpose(x, perm), kind="layout",
          grad=_transpose_grad)


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permute the dimensions of ``a``; ``perm=None`` reverses them."""
    x = convert_to_tensor(a)
    perm = static_axes(perm, "transpose perm")
    if perm is not None:
        perm = tuple(normalize_axis(p, len(perm), "Transpose", "perm entry") for p in perm)
    return make_op("Transpose", [x], {"perm": perm}, name).outputs[0]


# ---- ExpandDims, Squeeze ---------------------------------------------------------------------------
def _expand_infer(ins, a):
    x, axis = ins[0], a["axis"]
    r = x.shape.ndims
    if r is None:
        return [(_dt(ins), TensorShape(None))]
    if not -r - 1 <= axis <= r:
        raise ValueError(f"dim {axis} not in the interval [{-r - 1}, {r}].")
    a["axis"] = axis % (r + 1)
    dims = x.shape.as_list()
    return [(_dt(ins), dims[:a["axis"]] + [1] + dims[a["axis"]:])]


define_op("ExpandDims", _expand_infer, lambda x, axis: np.expand_dims(x, axis), kind="layout",
          grad=lambda op, g: [reshape(g, shape_tensor(op.inputs[0]))])


def expand_dims(input, axis=None, name=None, dim=None):
    """Insert a dimension of size 1 at ``axis``."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("expand_dims: `axis` must be given")
    x = convert_to_tensor(input)
    axis = static_axes(axis, "expand_dims axis")[0]
    return make_op("ExpandDims", [x], {"axis": axis}, name or "ExpandDims").outputs[0]


def _squeeze_infer(ins, a):
    x, axes = ins[0], a["squeeze_dims"]
    r = x.shape.ndims
    if r is None:
        return [(_dt(ins), TensorShape(None))]
    axes = tuple(sorted({normalize_axis(d, r, "Squeeze", "dim") for d in axes}))
    a["squeeze_dims"] = axes
    dims = x.shape.as_list()
    if not axes:
        if None in dims:
            return [(_dt(ins), TensorShape(None))]
        return [(_dt(ins), [d for d in dims if d != 1])]
    for d in axes:
        if dims[d] not in (None, 1):
            raise ValueError(f"Can not squeeze dim[{d}], expected a dimension of 1, got {dims[d]}")
    return [(_dt(ins), [d for i, d in enumerate(dims) if i not in axes])]


define_op("Squeeze", _squeeze_infer, lambda x, squeeze_dims: np.squeeze(x, axis=squeeze_dims or None),
          kind="layout", grad=lambda op, g: [reshape(g, shape_tensor(op.inputs[0]))])


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    """Remove dimensions of size 1 (all of them, or those in ``axis``)."""
    axis = squeeze_dims if axis is None else axis
    axes = static_axes(axis, "squeeze axis") or []
    x = convert_to_tensor(input)
    return make_op("Squeeze", [x], {"squeeze_dims": tuple(axes)}, name or "Squeeze").outputs[0]



# ---- Range, OneHot -------------------------------------------------------------------
def _range_infer(ins, a):
    for t, what in zip(ins, ("start", "limit", "delta")):
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Range: {what} must be a scalar, got shape {t.shape}")
    vals = [constant_value(t) for t in ins]
    if any(v is None for v in vals):
        return [(a["Tidx"], [None])]
    start, limit, delta = (np.asarray(v).item() for v in vals)
    if delta == 0:
        raise ValueError("Range: delta must not be zero")
    return [(a["Tidx"], [max(0, int(np.ceil((limit - start) / delta)))])]


def _range_compute(start, limit, delta, Tidx):
    if delta == 0:
        raise ValueError("Requires delta != 0")
    return np.arange(start, limit, delta).astype(Tidx.as_np)


define_op("Range", _range_infer, _range_compute, kind="source", grad=no_gradient)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001  (TF's name)
    """``[start, start + delta, …]`` up to (excluding) ``limit``; ``range(n)`` is ``0 … n-1``."""
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    if dtype is None:
        kinds = [a.dtype.base_dtype if hasattr(a, "dtype") and hasattr(a, "op") else
                 (dtypes.float32 if isinstance(a, float) else dtypes.int32) for a in args]
        order = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]
        dtype = max(kinds, key=lambda d: order.index(d) if d in order else 0)
    dtype = dtypes.as_dtype(dtype)
    from jitgraph.ops.math_ops import cast
    with op_scope(name, [a for a in args if hasattr(a, "op")]) as scope:
        ts = [cast(convert_to_tensor(v), dtype) if hasattr(v, "op") else
              constant(np.asarray(v).astype(dtype.as_np), dtype, name=n)
              for v, n in zip(args, ("start", "limit", "delta"))]
        return make_op("Range", ts, {"Tidx": dtype}, scope).outputs[0]


def _one_hot_infer(ins, a):
    idx = ins[0]
    check_int_tensor(idx, "OneHot", "indices")
    if idx.shape.ndims is None:
        return [(a["dtype"], TensorShape(None))]
    dims = idx.shape.as_list()
    axis = a["axis"]
    if not -1 <= axis <= len(dims):
        raise ValueError(f"OneHot: axis {axis} must be -1 or in [0, {len(dims)}]")
    a["axis"] = len(dims) if axis == -1 else axis
    return [(a["dtype"], dims[:a["axis"]] + [a["depth"]] + dims[a["axis"]:])]


def _one_hot_compute(indices, depth, on_value, off_value, axis, dtype):
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, np.asarray(on_value, dtype.as_np), np.asarray(off_value, dtype.as_np))
    return np.moveaxis(out, -1, axis)


define_op("OneHot", _one_hot_infer, _one_hot_compute, kind="library", grad=no_gradient)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A tensor with ``on_value`` where the index equals the position along the new ``axis``
    (default last) and ``off_value`` elsewhere; out-of-range indices give all ``off_value``."""
    idx = convert_to_tensor(indices)
    if dtype is None:
        dtype = next((v.dtype.base_dtype if hasattr(v, "dtype") else
                      (dtypes.float32 if isinstance(v, float) else dtypes.int32)
                      for v in (on_value, off_value) if v is not None), dtypes.float32)
    dtype = dtypes.as_dtype(dtype)
    vals = []
    for v, default in ((on_value, 1), (off_value, 0)):
        if hasattr(v, "op"):
            v = constant_value(v)
            if v is None:
                raise ValueError("one_hot: on_value/off_value must be known when the graph is built")
        vals.append(np.asarray(default if v is None else v).astype(dtype.as_np)[()])
    depth = static_axes(depth, "one_hot depth")[0]
    return make_op("OneHot", [idx], {"depth": int(depth), "on_value": vals[0], "off_value": vals[1],
                                     "axis": -1 if axis is None else axis, "dtype": dtype},
                   name or "one_hot").outputs[0]


from jitgraph.ops.concat_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.concat_ops import __all__ as _concat_all  # noqa: E402
from jitgraph.ops.slicing_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.slicing_ops import __all__ as _slicing_all  # noqa: E402
from jitgraph.ops.slicing_ops import strided_slice_from_key, where_indices  # noqa: F401,E402  (x[key], tf.where(c))
from jitgraph.ops.tile_pad_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.tile_pad_ops import __all__ as _tile_pad_all  # noqa: E402

__all__ += _concat_all + _slicing_all + _tile_pad_all
