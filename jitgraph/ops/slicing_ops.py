"""Slicing and indexing: ``x[1:, ::2, tf.newaxis, ...]`` (StridedSlice), ``tf.slice``, ``tf.gather``,
``tf.gather_nd``/``tf.scatter_nd``, ``tf.unsorted_segment_sum``, ``tf.where(c)`` and ``tf.boolean_mask``.

Slice bounds are int tensors (so ``x[i]`` with a fed ``i`` works); when they are constants the
output shape is static and an out-of-range index is a ``ValueError`` at build time, as in TF.
The public functions are re-exported by ``array_ops`` (and so by ``tf``).
"""

import builtins
import weakref

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops.op_util import (check_int_tensor, dim_of, int_tensor, int_vector, no_gradient, normalize_axis,
                                  op_scope, partial_value, shape_tensor, shape_value, static_axes)
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["strided_slice", "slice", "gather", "gather_nd", "scatter_nd", "unsorted_segment_sum", "boolean_mask"]

_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
_INT = (dtypes.int32, dtypes.int64)


def _array_ops():
    from jitgraph.ops import array_ops
    return array_ops


# ---- StridedSlice ----------------------------------------------------------------------------------
def _index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask):
    """The NumPy index that a strided-slice spec stands for (TF's semantics are NumPy's)."""
    idx = []
    for i in range(len(begin)):
        bit = 1 << i
        if ellipsis_mask & bit:
            idx.append(Ellipsis)
        elif new_axis_mask & bit:
            idx.append(None)
        elif shrink_axis_mask & bit:
            idx.append(int(begin[i]))
        else:
            if int(strides[i]) == 0:
                raise ValueError("strides must be non-zero")
            idx.append(builtins.slice(None if begin_mask & bit else int(begin[i]),
                                      None if end_mask & bit else int(end[i]), int(strides[i])))
    return tuple(idx)


def _strided_slice_compute(x, begin, end, strides, **masks):
    return x[_index(begin, end, strides, **masks)]


def _strided_slice_infer(ins, a):
    x, b, e, s = ins
    for t, what in zip((b, e, s), ("begin", "end", "strides")):
        check_int_tensor(t, "StridedSlice", what)
    n = b.shape[0].value if b.shape.ndims == 1 else None
    r = x.shape.ndims
    if n is None or r is None:
        return [(x.dtype.base_dtype, TensorShape(None))]
    bv, ev, sv = partial_value(b), partial_value(e), partial_value(s)
    bits = [1 << i for i in range(n)]
    consumed = sum(1 for bit in bits if not (a["ellipsis_mask"] | a["new_axis_mask"]) & bit)
    if consumed > r:
        raise ValueError(f"Index out of range using input dim {r}; input has only {r} dims")
    dims, out, d = x.shape.as_list(), [], 0
    for i, bit in enumerate(bits):
        if a["ellipsis_mask"] & bit:
            out += dims[d:d + r - consumed]
            d += r - consumed
            continue
        if a["new_axis_mask"] & bit:
            out.append(1)
            continue
        dim, d = dims[d], d + 1
        begin = None if bv is None else bv[i]
        if a["shrink_axis_mask"] & bit:
            if dim is not None and begin is not None and not -dim <= begin < dim:
                raise ValueError(f"slice index {begin} of dimension {d - 1} out of bounds.")
            continue
        stride = None if sv is None else sv[i]
        if stride == 0:
            raise ValueError("strides must be non-zero")
        end = None if ev is None else ev[i]
        begin = "all" if a["begin_mask"] & bit else begin
        end = "all" if a["end_mask"] & bit else end
        if dim is None or stride is None or begin is None or end is None:
            out.append(dim if begin == end == "all" and stride == 1 else None)
            continue
        sl = builtins.slice(None if begin == "all" else begin, None if end == "all" else end, stride)
        out.append(len(range(*sl.indices(dim))))
    return [(x.dtype.base_dtype, out + dims[d:])]


def _strided_slice_grad(op, g):
    x, b, e, s = op.inputs
    masks = {k: op.get_attr(k) for k in _MASKS}
    dx = make_op("StridedSliceGrad", [shape_tensor(x), b, e, s, g], masks, "StridedSliceGrad").outputs[0]
    return [dx, None, None, None]


def _strided_slice_grad_compute(shape, begin, end, strides, dy, **masks):
    dx = np.zeros(tuple(int(d) for d in shape), dtype=dy.dtype)
    dx[_index(begin, end, strides, **masks)] = dy
    return dx


define_op("StridedSlice", _strided_slice_infer, _strided_slice_compute, kind="layout", grad=_strided_slice_grad)
define_op("StridedSliceGrad", lambda ins, a: [(ins[4].dtype.base_dtype, shape_value(ins[0]))],
          _strided_slice_grad_compute, kind="library")


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                  shrink_axis_mask=0, var=None, name=None):
    """``input_[begin:end:strides]`` per dimension, with TF's mask bits for ``:``, ``...``,
    ``tf.newaxis`` and integer indices."""
    x = convert_to_tensor(input_)
    masks = dict(zip(_MASKS, (begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)))
    with op_scope(name or "StridedSlice", [x]) as scope:
        b, e = int_tensor(begin, "begin"), int_tensor(end, "end")
        s = int_tensor(strides if strides is not None else [1] * (b.shape[0].value or 0), "strides")
        return make_op("StridedSlice", [x, b, e, s], masks, scope).outputs[0]


def _index_value(k):
    if isinstance(k, (bool, np.bool_)) or not (isinstance(k, (int, np.integer)) or hasattr(k, "op")):
        raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                        f"tf.int32/tf.int64 tensors are valid indices, got {k!r}")
    if hasattr(k, "op"):
        k = convert_to_tensor(k)
        if k.dtype.base_dtype not in _INT or k.shape.ndims not in (None, 0):
            raise TypeError(f"Only scalar tf.int32/tf.int64 tensors are valid indices, got {k!r}")
        if k.dtype.base_dtype != dtypes.int32:
            from jitgraph.ops.math_ops import cast
            k = cast(k, dtypes.int32)
        return k
    return int(k)


def strided_slice_from_key(tensor, key):
    """``tensor[key]`` for a Python index key (what ``Tensor.__getitem__`` calls)."""
    x = convert_to_tensor(tensor)
    key = key if isinstance(key, tuple) else (key,)
    spec = {"begin": [], "end": [], "strides": []}
    masks = dict.fromkeys(_MASKS, 0)

    def add(b, e, s):
        spec["begin"].append(b), spec["end"].append(e), spec["strides"].append(s)

    for i, k in enumerate(key):
        bit = 1 << i
        if isinstance(k, builtins.slice):
            b = 0 if k.start is None else _index_value(k.start)
            e = 0 if k.stop is None else _index_value(k.stop)
            masks["begin_mask"] |= bit if k.start is None else 0
            masks["end_mask"] |= bit if k.stop is None else 0
            add(b, e, 1 if k.step is None else _index_value(k.step))
        elif k is Ellipsis:
            if masks["ellipsis_mask"]:
                raise ValueError("Multiple ellipses in slice spec not allowed")
            masks["ellipsis_mask"] |= bit
            add(0, 0, 1)
        elif k is None:
            masks["new_axis_mask"] |= bit
            add(0, 0, 1)
        else:
            v = _index_value(k)
            masks["shrink_axis_mask"] |= bit
            add(v, v + 1 if isinstance(v, int) else v, 1)
    with op_scope("strided_slice", [x]) as scope:
        vecs = [int_vector(spec[k]) for k in ("begin", "end", "strides")]
        return make_op("StridedSlice", [x] + vecs, masks, scope).outputs[0]


# ---- Slice -----------------------------------------------------------------------------------------
def _slice_bounds(x_shape, begin, size):
    out = []
    for i, (d, b, s) in enumerate(zip(x_shape, begin, size)):
        if b is not None and b < 0 or s is not None and s < -1:
            raise ValueError(f"Slice: begin {b} / size {s} of dimension {i} must be >= 0 (size may be -1)")
        if d is not None and b is not None and s is not None and (b + (s if s != -1 else 0) > d or b > d):
            raise ValueError(f"Slice: begin {b} + size {s} of dimension {i} exceed its size {d}")
        out.append(None if s is None else (s if s != -1 else (None if d is None or b is None else d - b)))
    return out


def _slice_infer(ins, a):
    x, b, s = ins
    check_int_tensor(b, "Slice", "begin"), check_int_tensor(s, "Slice", "size")
    bv, sv = partial_value(b), partial_value(s)
    n = b.shape[0].value if b.shape.ndims == 1 else None
    r = x.shape.ndims
    if r is not None and n is not None and n != r:
        raise ValueError(f"Slice: begin has {n} entries but the input has rank {r}")
    if r is None:
        return [(x.dtype.base_dtype, TensorShape(None if n is None else [None] * n))]
    bv = [None] * r if bv is None else list(bv)
    sv = [None] * r if sv is None else list(sv)
    return [(x.dtype.base_dtype, _slice_bounds(x.shape.as_list(), bv, sv))]


def _slice_compute(x, begin, size):
    _slice_bounds(x.shape, [int(b) for b in begin], [int(s) for s in size])
    return x[tuple(builtins.slice(int(b), None if s == -1 else int(b) + int(s)) for b, s in zip(begin, size))]


def _slice_grad(op, g):
    ao = _array_ops()
    x, b, _ = op.inputs
    after = shape_tensor(x) - b - ao.shape(op.outputs[0])
    return [ao.pad(g, ao.stack([b, after], axis=1)), None, None]


define_op("Slice", _slice_infer, _slice_compute, kind="layout", grad=_slice_grad)


def slice_(input_, begin, size, name=None):
    """The block of ``input_`` starting at ``begin`` with extent ``size`` (-1: to the end)."""
    x = convert_to_tensor(input_)
    with op_scope(name or "Slice", [x]) as scope:
        b, s = int_tensor(begin, "begin"), int_tensor(size, "size")
        if b.dtype.base_dtype != s.dtype.base_dtype:
            from jitgraph.ops.math_ops import cast
            b, s = cast(b, dtypes.int32), cast(s, dtypes.int32)
        return make_op("Slice", [x, b, s], {}, scope).outputs[0]


# ---- GatherV2, UnsortedSegmentSum ------------------------------------------------------------------
def _check_range(indices, n, what="indices"):
    bad = (indices < 0) | (indices >= n)
    if np.any(bad):
        pos = np.argwhere(bad)[0]
        raise errors.InvalidArgumentError(None, None, f"{what}[{','.join(map(str, pos))}] = "
                                                      f"{indices[tuple(pos)]} is not in [0, {n})")


def _gather_infer(ins, a):
    p, idx = ins
    check_int_tensor(idx, "GatherV2", "indices")
    if p.shape.ndims is None:
        return [(p.dtype.base_dtype, TensorShape(None))]
    axis = a["axis"] = normalize_axis(a["axis"], p.shape.ndims, "GatherV2")
    if idx.shape.ndims is None:
        return [(p.dtype.base_dtype, TensorShape(None))]
    dims = p.shape.as_list()
    return [(p.dtype.base_dtype, dims[:axis] + idx.shape.as_list() + dims[axis + 1:])]


def _gather_compute(params, indices, axis):
    _check_range(indices, params.shape[axis])
    return np.take(params, indices, axis=axis)


#: The ``UnsortedSegmentSum`` ops that are the gradient of a ``gather`` along axis 0 (of
#: ``embedding_lookup``): TF keeps that gradient as ``IndexedSlices`` (the looked-up rows), and its
#: optimizers then update only those rows (``train.optimizers.looked_up_rows``).
ROW_GRADIENTS = weakref.WeakSet()


def _gather_grad(op, g):
    ao = _array_ops()
    p, idx = op.inputs
    axis, r, ni = op.get_attr("axis"), p.shape.ndims, idx.shape.ndims
    front = list(range(axis, axis + ni))
    g = ao.transpose(g, front + [i for i in range(r + ni - 1) if i not in front]) if axis else g
    rest = [dim_of(p, i) for i in range(r) if i != axis]
    flat = ao.reshape(g, int_vector([-1] + rest))
    dp = unsorted_segment_sum(flat, ao.reshape(idx, [-1]), dim_of(p, axis))
    if not axis:
        ROW_GRADIENTS.add(dp.op)
    else:
        dp = ao.transpose(dp, list(range(1, axis + 1)) + [0] +
                          list(range(axis + 1, r)))
    return [dp, None]


define_op("GatherV2", _gather_infer, _gather_compute, kind="library", grad=_gather_grad)


def gather(params, indices, validate_indices=None, name=None, axis=None, batch_dims=0):
    """``params`` indexed by ``indices`` along ``axis`` (default 0); an out-of-range index is an
    ``InvalidArgumentError`` when the graph runs."""
    if batch_dims:
        raise NotImplementedError("gather: batch_dims other than 0 is not supported")
    p, idx = convert_to_tensor(params), convert_to_tensor(indices)
    axis = 0 if axis is None else static_axes(axis, "gather axis")[0]
    return make_op("GatherV2", [p, idx], {"axis": axis}, name or "GatherV2").outputs[0]


def _segment_infer(ins, a):
    data, ids, num = ins
    check_int_tensor(ids, "UnsortedSegmentSum", "segment_ids")
    check_int_tensor(num, "UnsortedSegmentSum", "num_segments")
    n = constant_value(num)
    n = None if n is None else int(n)
    if data.shape.ndims is None or ids.shape.ndims is None:
        return [(data.dtype.base_dtype, TensorShape(None))]
    lead = data.shape[:ids.shape.ndims]
    if not lead.is_compatible_with(ids.shape):
        raise ValueError(f"segment_ids shape {ids.shape} must be a prefix of data shape {data.shape}")
    return [(data.dtype.base_dtype, [n] + data.shape.as_list()[ids.shape.ndims:])]


def _segment_compute(data, segment_ids, num_segments):
    n = int(num_segments)
    _check_range(segment_ids, n, "segment_ids")
    out = np.zeros((n,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
    np.add.at(out, segment_ids, data)
    return out


define_op("UnsortedSegmentSum", _segment_infer, _segment_compute, kind="library",
          grad=lambda op, g: [gather(g, op.inputs[1]), None, None],
          extra={"fast": lazy("segment", "unsorted_segment_sum_fast")})


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """``out[k] = sum of data[i] where segment_ids[i] == k`` for ``k < num_segments``."""
    with op_scope(name or "UnsortedSegmentSum", [data]) as scope:
        ts = [convert_to_tensor(data), convert_to_tensor(segment_ids), int_tensor(num_segments, "num_segments")]
        return make_op("UnsortedSegmentSum", ts, {}, scope).outputs[0]


# ---- GatherNd, ScatterNd ---------------------------------------------------------------------------
def _nd_index(indices, shape):
    k = indices.shape[-1]
    for j in range(k):
        _check_range(indices[..., j], shape[j])
    return tuple(np.moveaxis(indices, -1, 0))


def _gather_nd_infer(ins, a):
    p, idx = ins
    check_int_tensor(idx, "GatherNd", "indices")
    if p.shape.ndims is None or idx.shape.ndims is None or idx.shape[-1].value is None:
        return [(p.dtype.base_dtype, TensorShape(None))]
    k = idx.shape[-1].value
    if k > p.shape.ndims:
        raise ValueError(f"GatherNd: index depth {k} exceeds the rank {p.shape.ndims} of params")
    return [(p.dtype.base_dtype, idx.shape.as_list()[:-1] + p.shape.as_list()[k:])]


def _scatter_nd_infer(ins, a):
    idx, upd, shp = ins
    check_int_tensor(idx, "ScatterNd", "indices"), check_int_tensor(shp, "ScatterNd", "shape")
    return [(upd.dtype.base_dtype, shape_value(shp))]


def _scatter_nd_compute(indices, updates, shape):
    out = np.zeros(tuple(int(d) for d in shape), dtype=updates.dtype)
    np.add.at(out, _nd_index(indices, out.shape), updates)
    return out


define_op("GatherNd", _gather_nd_infer, lambda params, indices: params[_nd_index(indices, params.shape)],
          kind="library",
          grad=lambda op, g: [scatter_nd(op.inputs[1], g, shape_tensor(op.inputs[0])), None])
define_op("ScatterNd", _scatter_nd_infer, _scatter_nd_compute, kind="library",
          grad=lambda op, g: [None, gather_nd(g, op.inputs[0]), None])


def gather_nd(params, indices, name=None, batch_dims=0):
    """``out[i...] = params[indices[i...]]`` where the last axis of ``indices`` indexes ``params``."""
    if batch_dims:
        raise NotImplementedError("gather_nd: batch_dims other than 0 is not supported")
    return make_op("GatherNd", [convert_to_tensor(params), convert_to_tensor(indices)], {},
                   name or "GatherNd").outputs[0]


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of ``shape`` with ``updates`` added at ``indices`` (duplicates accumulate)."""
    with op_scope(name or "ScatterNd", [updates]) as scope:
        ts = [convert_to_tensor(indices), convert_to_tensor(updates), int_tensor(shape, "shape")]
        return make_op("ScatterNd", ts, {}, scope).outputs[0]


# ---- Where (indices), boolean_mask -----------------------------------------------------------------
define_op("Where", kind="library", grad=no_gradient,
          infer=lambda ins, a: [(dtypes.int64, [None, ins[0].shape.ndims] if ins[0].shape.ndims is not None
                                 else TensorShape([None, None]))],
          compute=lambda c: np.argwhere(c).astype(np.int64))


def where_indices(condition, name=None):
    """The coordinates of the true elements of ``condition``: an int64 ``[n, rank]`` tensor."""
    return make_op("Where", [convert_to_tensor(condition, dtypes.bool)], {}, name or "Where").outputs[0]


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The entries of ``tensor`` where ``mask`` is true; ``mask`` covers dimensions
    ``axis … axis + mask.rank`` (axis defaults to 0) and they collapse into one."""
    ao = _array_ops()
    with op_scope(name, [tensor, mask]) as scope:
        x, m = convert_to_tensor(tensor), convert_to_tensor(mask, dtypes.bool)
        k, r = m.shape.ndims, x.shape.ndims
        if k is None or r is None:
            raise ValueError("boolean_mask: the ranks of tensor and mask must be known")
        if k == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else normalize_axis(axis, r, "boolean_mask")
        if not x.shape[axis:axis + k].is_compatible_with(m.shape):
            raise ValueError(f"Shapes {x.shape[axis:axis + k]} and {m.shape} are incompatible")
        dims = [dim_of(x, i) for i in range(axis)] + [-1] + \
               [dim_of(x, i) for i in range(axis + k, r)]
        flat = ao.reshape(x, int_vector(dims))
        idx = ao.squeeze(where_indices(ao.reshape(m, [-1])), axis=[1])
        return gather(flat, idx, axis=axis, name=scope)


slice = slice_  # noqa: A001  (TF's name)
