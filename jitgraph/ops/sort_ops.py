"""Ordering ops: ``tf.nn.top_k`` (``TopKV2``), ``tf.nn.in_top_k`` (``InTopKV2``), ``tf.sort`` and
``tf.argsort`` (built on ``top_k`` as TF builds them, so ties keep their original order and the
gradient of ``sort`` comes from ``top_k``'s), ``tf.unique`` and ``tf.unique_with_counts``.
"""

import collections

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import check_dtype, check_int_tensor, dim_of, int_tensor, int_vector, no_gradient, op_scope
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["top_k", "in_top_k", "sort", "argsort", "unique", "unique_with_counts"]

_REAL = "float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64"


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])
UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCountsOutput = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _real(d):
    return d.is_floating or d.is_integer


def _ao():
    from jitgraph.ops import array_ops
    return array_ops


# ---- TopKV2 ----------------------------------------------------------------------------------------
def _top_k_infer(ins, a):
    x, k = ins
    check_dtype(x, _real, "TopKV2", "input", _REAL)
    check_int_tensor(k, "TopKV2", "k")
    if k.shape.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {k.shape.ndims} (TopKV2's k)")
    kv = constant_value(k)
    kv = None if kv is None else int(kv)
    if kv is not None and kv < 0:
        raise ValueError(f"Need k >= 0, got {kv}")
    if x.shape.ndims is None:
        return [(x.dtype.base_dtype, TensorShape(None)), (dtypes.int32, TensorShape(None))]
    if x.shape.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0 (TopKV2's input)")
    dims = x.shape.as_list()
    if kv is not None and dims[-1] is not None and dims[-1] < kv:
        raise ValueError(f"input must have at least k columns. Had {dims[-1]}, needs {kv}")
    out = dims[:-1] + [kv]
    return [(x.dtype.base_dtype, out), (dtypes.int32, out)]


def _top_k_compute(x, k, sorted=True):
    k = int(k)
    n = x.shape[-1]
    if k > n:
        raise ValueError(f"input must have at least k columns. Had {n}, needs {k}")
    # a stable ascending sort of the reversed row, read backwards: largest first, ties by lower index
    idx = (n - 1 - np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1])[..., :k]
    return np.take_along_axis(x, idx, axis=-1), idx.astype(np.int32)


def _top_k_grad(op, g_values, g_indices):
    """Each value's gradient goes back to the position it came from."""
    from jitgraph.ops.reduction_ops import reduce_prod
    from jitgraph.ops.slicing_ops import unsorted_segment_sum
    ao = _ao()
    x, idx = op.inputs[0], op.outputs[1]
    n, k = ao.shape(x)[-1], ao.shape(idx)[-1]
    flat_idx = ao.reshape(idx, int_vector([-1, k]))
    offsets = ao.expand_dims(ao.range(0, ao.shape(flat_idx)[0] * n, n), -1)
    positions = ao.reshape(flat_idx + offsets, [-1])
    dx = unsorted_segment_sum(ao.reshape(g_values, [-1]), positions, reduce_prod(ao.shape(x)))
    return [ao.reshape(dx, ao.shape(x)), None]


define_op("TopKV2", _top_k_infer, _top_k_compute, kind="library", grad=_top_k_grad)


def top_k(input, k=1, sorted=True, name=None):
    """The ``k`` largest entries of the last axis of ``input`` and their int32 indices, largest
    first; equal values keep their order of position."""
    x = convert_to_tensor(input)
    with op_scope(name or "TopKV2", [x]) as scope:
        op = make_op("TopKV2", [x, int_tensor(k, "k")], {"sorted": bool(sorted)}, scope)
    return TopKV2(op.outputs[0], op.outputs[1])


# ---- InTopKV2 --------------------------------------------------------------------------------------
def _in_top_k_infer(ins, a):
    pred, targets, k = ins
    check_dtype(pred, lambda d: d == dtypes.float32, "InTopKV2", "predictions", "float32")
    check_int_tensor(targets, "InTopKV2", "targets"), check_int_tensor(k, "InTopKV2", "k")
    if pred.shape.ndims not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {pred.shape.ndims} (InTopKV2's predictions)")
    if targets.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {targets.shape.ndims} (InTopKV2's targets)")
    batch = pred.shape[0].merge_with(targets.shape[0]) if pred.shape.ndims and targets.shape.ndims else None
    return [(dtypes.bool, [batch.value if batch is not None else None])]


def _in_top_k_compute(predictions, targets, k):
    n = predictions.shape[1]
    ok = (targets >= 0) & (targets < n)
    t = np.where(ok, targets, 0).astype(np.intp)
    target_value = np.take_along_axis(predictions, t[:, None], axis=1)[:, 0]
    finite = np.isfinite(predictions).all(axis=1)
    # ties at the boundary count as in the top k: only strictly larger predictions push a target out
    larger = (predictions > target_value[:, None]).sum(axis=1)
    return ok & finite & (larger < int(k))


define_op("InTopKV2", _in_top_k_infer, _in_top_k_compute, kind="library", grad=no_gradient)


def in_top_k(predictions, targets, k, name=None):
    """Per row, is ``predictions[i, targets[i]]`` among the ``k`` largest of the row? Ties at the
    boundary count as in; a target out of range or a row with a non-finite value gives False."""
    with op_scope(name or "in_top_k", [predictions]) as scope:
        p, t = convert_to_tensor(predictions), convert_to_tensor(targets)
        kt = int_tensor(k, "k")
        if kt.dtype.base_dtype != t.dtype.base_dtype:
            from jitgraph.ops.math_ops import cast
            kt = cast(kt, t.dtype.base_dtype)
        return make_op("InTopKV2", [p, t, kt], {}, scope).outputs[0]


# ---- sort / argsort: top_k along the last axis -----------------------------------------------------
def _sort(values, axis, direction, want_indices):
    from jitgraph.ops.math_ops import unary
    ao = _ao()
    x = convert_to_tensor(values)
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"{direction!r} is not a valid direction: expected 'ASCENDING' or 'DESCENDING'")
    r = x.shape.ndims
    if r is None:
        raise ValueError("sort/argsort: the rank of values must be known when the graph is built")
    if not -r <= axis < r:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {r}")
    axis %= r
    perm = None
    if axis != r - 1:
        perm = list(range(r))
        perm[axis], perm[-1] = r - 1, axis
        x = ao.transpose(x, perm)
    d = x.dtype.base_dtype
    if direction == "ASCENDING":   # descending order of a reversed key; the map keeps ties in place
        if d.is_unsigned:
            x = d.max - x
        elif d.is_integer:
            x = unary("Neg", x) - 1
        else:
            x = unary("Neg", x)
    vals, idx = top_k(x, dim_of(x, -1))
    out = idx
    if not want_indices:
        out = vals
        if direction == "ASCENDING":
            out = d.max - vals if d.is_unsigned else (unary("Neg", vals) - 1 if d.is_integer else unary("Neg", vals))
    return ao.transpose(out, perm) if perm is not None else out


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis``; equal values keep their relative order."""
    with op_scope(name or "sort", [values]):
        return _sort(values, axis, direction, False)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 indices that sort ``values`` along ``axis`` (always stable here)."""
    with op_scope(name or "argsort", [values]):
        return _sort(values, axis, direction, True)


# ---- Unique, UniqueWithCounts ----------------------------------------------------------------------
def _unique_infer(with_counts):
    def infer(ins, a):
        x = ins[0]
        if x.shape.ndims not in (None, 1):
            raise ValueError(f"unique expects a 1D vector, got shape {x.shape}")
        out = [(x.dtype.base_dtype, [None]), (a["out_idx"], x.shape if x.shape.ndims else [None])]
        return out + [(a["out_idx"], [None])] if with_counts else out
    return infer


def _unique_compute(with_counts):
    def compute(x, out_idx):
        values, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                                  equal_nan=False)   # TF: every NaN is a value of its own
        order = np.argsort(first, kind="stable")      # np.unique sorts; TF keeps first-occurrence order
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        idx = rank[inverse.reshape(-1)].astype(out_idx.as_np)
        out = (values[order], idx)
        return out + (counts[order].astype(out_idx.as_np),) if with_counts else out
    return compute


define_op("Unique", _unique_infer(False), _unique_compute(False), kind="library")
define_op("UniqueWithCounts", _unique_infer(True), _unique_compute(True), kind="library")


def _out_idx(out_idx):
    d = dtypes.as_dtype(out_idx)
    if d not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'out_idx' has DataType {d.name} not in list of allowed "
                        f"values: int32, int64")
    return d


def unique(x, out_idx=dtypes.int32, name=None):
    """``(y, idx)``: the distinct values of 1-D ``x`` in order of first appearance, and for each
    element of ``x`` the position of its value in ``y``."""
    op = make_op("Unique", [convert_to_tensor(x)], {"out_idx": _out_idx(out_idx)}, name or "Unique")
    return UniqueOutput(*op.outputs)


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """``(y, idx, count)``: as ``unique``, plus how often each value of ``y`` occurs in ``x``."""
    op = make_op("UniqueWithCounts", [convert_to_tensor(x)], {"out_idx": _out_idx(out_idx)},
                 name or "UniqueWithCounts")
    return UniqueWithCountsOutput(*op.outputs)
