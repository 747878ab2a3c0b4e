"""Segment reductions and partitioning: ``tf.math.segment_sum/mean/max/min/prod`` (sorted segment
ids), ``tf.math.unsorted_segment_max/min/prod/mean/sqrt_n`` (``unsorted_segment_sum`` lives in
``slicing_ops``), ``tf.dynamic_partition`` and ``tf.dynamic_stitch`` (what partitioned
``embedding_lookup`` is built from).

Segment ``k`` of the output reduces the rows ``data[i]`` with ``segment_ids[i] == k``. An empty
segment holds 0 for the sorted ops (1 for prod) and the reduction's identity for the unsorted
ones (the lowest value for max, the highest for min, 1 for prod), as in TF.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import check_dtype, check_int_tensor, int_tensor, op_scope
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op
from jitgraph.ops.slicing_ops import _check_range, gather, unsorted_segment_sum

__all__ = ["segment_sum", "segment_mean", "segment_max", "segment_min", "segment_prod", "unsorted_segment_max",
           "unsorted_segment_min", "unsorted_segment_prod", "unsorted_segment_mean", "unsorted_segment_sqrt_n",
           "dynamic_partition", "dynamic_stitch"]

_UFUNC = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}


def _reduce(data, ids, n, how, empty):
    """``out[k] = how-reduction of data[ids == k]``; ``empty`` fills segments nobody writes."""
    dt = data.dtype
    if how == "max":
        init = np.finfo(dt).min if dt.kind == "f" else np.iinfo(dt).min
    elif how == "min":
        init = np.finfo(dt).max if dt.kind == "f" else np.iinfo(dt).max
    else:
        init = 1 if how == "prod" else 0
    out = np.full((n,) + data.shape[ids.ndim:], init, dtype=dt)
    _UFUNC[how].at(out, ids, data)
    if empty is not None:
        hit = np.zeros(n, dtype=bool)
        hit[ids.reshape(-1)] = True
        out[~hit] = empty
    return out


def _rows_infer(op_type, n_of):
    def infer(ins, a):
        data, ids = ins[0], ins[1]
        check_dtype(data, lambda d: d.is_floating or d.is_integer, op_type, "data", "numeric types")
        check_int_tensor(ids, op_type, "segment_ids")
        n = n_of(ins)
        if data.shape.ndims is None or ids.shape.ndims is None:
            return [(data.dtype.base_dtype, TensorShape(None))]
        if not data.shape[:ids.shape.ndims].is_compatible_with(ids.shape):
            raise ValueError(f"{op_type}: segment_ids shape {ids.shape} must be a prefix of data shape {data.shape}")
        return [(data.dtype.base_dtype, [n] + data.shape.as_list()[ids.shape.ndims:])]
    return infer


def _sorted_n(ins):
    if ins[1].shape.ndims not in (None, 1):
        raise ValueError(f"segment_ids should be a vector, got shape {ins[1].shape}")
    ids = constant_value(ins[1])
    return int(ids[-1]) + 1 if ids is not None and len(ids) else None


def _sorted_compute(how):
    def compute(data, segment_ids):
        ids = segment_ids
        if len(ids) != data.shape[0]:
            raise errors.InvalidArgumentError(None, None, f"segment_ids should be the same size as dimension 0 of "
                                                          f"input: {len(ids)} vs {data.shape[0]}")
        if np.any(ids < 0) or np.any(np.diff(ids) < 0):
            raise errors.InvalidArgumentError(None, None, "segment ids must be >= 0 and sorted in increasing order, "
                                                          f"got {ids.tolist()}")
        n = int(ids[-1]) + 1 if len(ids) else 0
        if how == "mean":
            total = _reduce(data, ids, n, "sum", None)
            count = np.bincount(ids, minlength=n).reshape((n,) + (1,) * (data.ndim - 1))
            return (total / np.maximum(count, 1)).astype(data.dtype)
        return _reduce(data, ids, n, how, 1 if how == "prod" else 0)
    return compute


def _unsorted_n(ins):
    check_int_tensor(ins[2], "UnsortedSegment", "num_segments")
    n = constant_value(ins[2])
    return None if n is None else int(n)


def _unsorted_compute(how):
    def compute(data, segment_ids, num_segments):
        n = int(num_segments)
        _check_range(segment_ids, n, "segment_ids")
        return _reduce(data, segment_ids, n, how, None)
    return compute


# ---- gradients: built from gather and segment sums --------------------------------------------------
def _segment_sum(x, ids, n):
    return unsorted_segment_sum(x, ids, n) if n is not None else segment_sum(x, ids)


def _num_segments(op):
    return op.inputs[2] if len(op.inputs) == 3 else None


def _extreme_grad(op, g):
    """The gradient goes to the entries equal to the result, shared equally among ties."""
    from jitgraph.ops.math_ops import binary, cast, where
    from jitgraph.ops.constant_ops import zeros_like
    data, ids = op.inputs[0], op.inputs[1]
    selected = binary("Equal", data, gather(op.outputs[0], ids))
    count = _segment_sum(cast(selected, g.dtype.base_dtype), ids, _num_segments(op))
    share = binary("RealDiv", gather(g, ids), gather(count, ids))
    return [where(selected, share, zeros_like(share)), None] + ([None] if len(op.inputs) == 3 else [])


def _per_row(count, data, ids):
    """``count`` (one entry per segment) reshaped to broadcast against segment rows of ``data``."""
    from jitgraph.ops.array_ops import concat, expand_dims, rank, reshape
    from jitgraph.ops.constant_ops import fill
    if data.shape.ndims is not None and ids.shape.ndims is not None:
        return reshape(count, [-1] + [1] * (data.shape.ndims - ids.shape.ndims))
    return reshape(count, concat([[-1], fill(expand_dims(rank(data) - rank(ids), 0), 1)], 0))


def _mean_grad(op, g):
    from jitgraph.ops.math_ops import binary, cast
    from jitgraph.ops.constant_ops import ones_like
    data, ids = op.inputs
    count = _per_row(segment_sum(cast(ones_like(ids), g.dtype.base_dtype), ids), data, ids)
    return [gather(binary("RealDiv", g, binary("Maximum", count, 1)), ids), None]


def _prod_grad(op, g):
    """``d prod / d x_i`` = the product of the other entries of x_i's segment, zeros included."""
    from jitgraph.ops.math_ops import binary, cast, where
    from jitgraph.ops.constant_ops import ones_like, zeros_like
    data, ids = op.inputs[0], op.inputs[1]
    n = _num_segments(op)
    is_zero = binary("Equal", data, zeros_like(data))
    zeros = _segment_sum(cast(is_zero, dtypes.int32), ids, n)
    nonzero = where(is_zero, ones_like(data), data)
    prod_nonzero = unsorted_segment_prod(nonzero, ids, n) if n is not None else segment_prod(nonzero, ids)
    zeros_here = gather(zeros, ids)
    others = where(binary("Equal", zeros_here, 0), binary("RealDiv", gather(op.outputs[0], ids), nonzero),
                   where(binary("Equal", zeros_here, 1), where(is_zero, gather(prod_nonzero, ids), zeros_like(data)),
                         zeros_like(data)))
    return [binary("Mul", gather(g, ids), others), None] + ([None] if n is not None else [])


_GRADS = {"sum": lambda op, g: [gather(g, op.inputs[1]), None], "mean": _mean_grad, "max": _extreme_grad,
          "min": _extreme_grad, "prod": _prod_grad}

for _how in ("sum", "mean", "max", "min", "prod"):
    _t = "Segment" + _how.capitalize()
    define_op(_t, _rows_infer(_t, _sorted_n), _sorted_compute(_how), kind="library", grad=_GRADS[_how])
for _how in ("max", "min", "prod"):
    _t = "UnsortedSegment" + _how.capitalize()
    define_op(_t, _rows_infer(_t, _unsorted_n), _unsorted_compute(_how), kind="library", grad=_GRADS[_how])


def _sorted(op_type, doc):
    def fn(data, segment_ids, name=None):
        return make_op(op_type, [convert_to_tensor(data), convert_to_tensor(segment_ids)], {},
                       name or op_type).outputs[0]
    fn.__doc__ = f"{doc} of the rows of ``data`` in each segment; ``segment_ids`` must be sorted."
    return fn


def _unsorted(op_type, doc):
    def fn(data, segment_ids, num_segments, name=None):
        with op_scope(name or op_type, [data]) as scope:
            ts = [convert_to_tensor(data), convert_to_tensor(segment_ids), int_tensor(num_segments, "num_segments")]
            return make_op(op_type, ts, {}, scope).outputs[0]
    fn.__doc__ = f"{doc} of the rows of ``data`` in each of ``num_segments`` segments (ids in any order)."
    return fn


segment_sum = _sorted("SegmentSum", "The sum")
segment_mean = _sorted("SegmentMean", "The mean")
segment_max = _sorted("SegmentMax", "The maximum")
segment_min = _sorted("SegmentMin", "The minimum")
segment_prod = _sorted("SegmentProd", "The product")
unsorted_segment_max = _unsorted("UnsortedSegmentMax", "The maximum (lowest value if empty)")
unsorted_segment_min = _unsorted("UnsortedSegmentMin", "The minimum (highest value if empty)")
unsorted_segment_prod = _unsorted("UnsortedSegmentProd", "The product (1 if empty)")


def _segment_count(data, segment_ids, num_segments):
    """How many rows each segment has, shaped to broadcast against a segment reduction of data."""
    from jitgraph.ops.constant_ops import ones_like
    from jitgraph.ops.math_ops import cast
    ones = cast(ones_like(segment_ids), data.dtype.base_dtype)
    return _per_row(unsorted_segment_sum(ones, segment_ids, num_segments), data, segment_ids)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """The mean of each segment's rows (0 for an empty segment)."""
    from jitgraph.ops.math_ops import binary
    with op_scope(name or "UnsortedSegmentMean", [data]):
        data, ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
        count = _segment_count(data, ids, num_segments)
        return binary("RealDiv", unsorted_segment_sum(data, ids, num_segments), binary("Maximum", count, 1))


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """Each segment's sum divided by the square root of its row count (0 for an empty segment)."""
    from jitgraph.ops.math_ops import binary, unary
    with op_scope(name or "UnsortedSegmentSqrtN", [data]):
        data, ids = convert_to_tensor(data), convert_to_tensor(segment_ids)
        count = _segment_count(data, ids, num_segments)
        return binary("Mul", unsorted_segment_sum(data, ids, num_segments),
                      unary("Rsqrt", binary("Maximum", count, 1)))


# ---- DynamicPartition, DynamicStitch ---------------------------------------------------------------
def _partition_infer(ins, a):
    data, parts = ins
    check_int_tensor(parts, "DynamicPartition", "partitions")
    if parts.dtype.base_dtype != dtypes.int32:
        raise TypeError(f"Value passed to parameter 'partitions' has DataType {parts.dtype.base_dtype.name} "
                        f"not in list of allowed values: int32")
    if data.shape.ndims is not None and parts.shape.ndims is not None:
        if not data.shape[:parts.shape.ndims].is_compatible_with(parts.shape):
            raise ValueError(f"DynamicPartition: partitions shape {parts.shape} must be a prefix of data shape "
                             f"{data.shape}")
        shape = TensorShape([None] + data.shape.as_list()[parts.shape.ndims:])
    else:
        shape = TensorShape(None)
    return [(data.dtype.base_dtype, shape)] * a["num_partitions"]


def _partition_compute(data, partitions, num_partitions):
    _check_range(partitions, num_partitions, "partitions")
    return tuple(data[partitions == p] for p in range(num_partitions))


def _partition_grad(op, *grads):
    from jitgraph.ops.array_ops import range as range_, reshape, shape, size
    data, parts = op.inputs
    original = reshape(range_(size(parts)), shape(parts))
    pieces = dynamic_partition(original, parts, op.get_attr("num_partitions"))
    return [reshape(dynamic_stitch(pieces, list(grads)), shape(data)), None]


define_op("DynamicPartition", _partition_infer, _partition_compute, kind="library", grad=_partition_grad)


def dynamic_partition(data, partitions, num_partitions, name=None):
    """Split ``data`` into ``num_partitions`` tensors: output ``p`` holds the rows of ``data`` whose
    ``partitions`` entry is ``p``, in order."""
    return list(make_op("DynamicPartition", [convert_to_tensor(data), convert_to_tensor(partitions)],
                        {"num_partitions": int(num_partitions)}, name or "DynamicPartition").outputs)


def _stitch_infer(ins, a):
    n = len(ins) // 2
    idx, data = ins[:n], ins[n:]
    for t in idx:
        if t.dtype.base_dtype != dtypes.int32:
            raise TypeError(f"DynamicStitch: indices must be int32, got {t.dtype.base_dtype.name}")
    dts = {t.dtype.base_dtype for t in data}
    if len(dts) != 1:
        raise TypeError(f"DynamicStitch: all data must have one dtype, got {sorted(d.name for d in dts)}")
    values = [constant_value(t) for t in idx]
    first = None if any(v is None for v in values) else max((int(np.max(v)) + 1 for v in values if np.size(v)),
                                                             default=0)
    d0, i0 = data[0].shape, idx[0].shape
    rest = d0.as_list()[i0.ndims:] if d0.ndims is not None and i0.ndims is not None else None
    return [(data[0].dtype.base_dtype, TensorShape(None) if rest is None else [first] + rest)]


def _stitch_compute(*arrays):
    n = len(arrays) // 2
    idx, data = arrays[:n], arrays[n:]
    size = max((int(np.max(i)) + 1 for i in idx if i.size), default=0)
    inner = data[0].shape[idx[0].ndim:]
    out = np.zeros((size,) + inner, dtype=data[0].dtype)
    for i, d in zip(idx, data):   # later inputs win on repeated indices
        if d.shape != i.shape + inner:
            raise ValueError(f"data shape {list(d.shape)} must be indices shape {list(i.shape)} + {list(inner)}")
        if np.any(i < 0):
            raise errors.InvalidArgumentError(None, None, f"DynamicStitch: negative index {int(i.min())}")
        out[i.reshape(-1)] = d.reshape((-1,) + inner)
    return out


define_op("DynamicStitch", _stitch_infer, _stitch_compute, kind="library",
          grad=lambda op, g: [None] * (len(op.inputs) // 2) + [gather(g, t) for t in op.inputs[:len(op.inputs) // 2]])


def dynamic_stitch(indices, data, name=None):
    """Interleave ``data`` tensors into one: ``merged[indices[m][i]] = data[m][i]``."""
    if len(indices) != len(data):
        raise ValueError(f"dynamic_stitch: {len(indices)} index tensors for {len(data)} data tensors")
    ts = [convert_to_tensor(t) for t in indices] + [convert_to_tensor(t) for t in data]
    return make_op("DynamicStitch", ts, {}, name or "DynamicStitch").outputs[0]

