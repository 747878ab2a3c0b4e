"""``tf.nn.embedding_lookup``: rows of an embedding table, possibly split over several tensors.

Built from ``gather`` (one table) or ``dynamic_partition``/``gather``/``dynamic_stitch`` (a table
split into a list of shards), so the gradient comes for free. It is dense: a table's gradient is a
full-size tensor that is zero outside the looked-up rows (jitgraph has no ``IndexedSlices``). The
optimizers still treat a one-table lookup's gradient as TF treats its ``IndexedSlices``
(``train.optimizers.looked_up_rows``: Momentum, RMSProp, Adagrad, Adadelta and FTRL read and
write only those rows, never the dense gradient), and the compiler runs SGD on it as a sparse row
update (``compiler.remap``).
Sharded tables' gradients go through ``dynamic_stitch`` and are updated densely.

Shards. With ``partition_strategy="mod"`` id ``i`` lives in shard ``i % n`` at row ``i // n``;
with ``"div"`` the ids are split into contiguous blocks, the first ``total % n`` shards holding
one more id than the rest (TF's layout for partitioned variables).
"""

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.clip_ops import clip_by_norm
from jitgraph.ops.control_ops import identity
from jitgraph.ops.math_ops import binary, cast, where
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.reduction_ops import reduce_sum
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.ops.segment_ops import dynamic_partition, dynamic_stitch

__all__ = ["embedding_lookup"]


def _clip_rows(rows, ids, max_norm):
    """Scale each looked-up embedding down to L2 norm ``max_norm`` when it is longer."""
    if max_norm is None:
        return rows
    r, k = rows.shape.ndims, ids.shape.ndims
    if r is None or k is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    return clip_by_norm(rows, max_norm, axes=list(range(k, r)))


def _shard_of(flat_ids, params, strategy):
    """``(shard, row within the shard)`` of every id."""
    n = len(params)
    if strategy == "mod":
        return binary("FloorMod", flat_ids, n), binary("FloorDiv", flat_ids, n)
    sizes = [p.shape[0].value for p in params]
    dt = flat_ids.dtype.base_dtype
    if all(s is not None for s in sizes):
        total = convert_to_tensor(sum(sizes), dt)
    else:
        total = reduce_sum(cast(array_ops.stack([array_ops.shape(p)[0] for p in params]), dt))
    per = binary("FloorDiv", total, n)
    extras = binary("FloorMod", total, n)
    shard = binary("Maximum", binary("FloorDiv", flat_ids, per + 1), binary("FloorDiv", flat_ids - extras, per))
    in_big = binary("Less", shard, extras)
    row = where(in_big, binary("FloorMod", flat_ids, per + 1), binary("FloorMod", flat_ids - extras, per))
    return shard, row


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True, max_norm=None):
    """``params[ids]``: for each id its row of the table ``params`` (a tensor or variable, or a list
    of shards of one table), shaped ``ids.shape + row shape``. ``max_norm`` scales down rows whose
    L2 norm exceeds it. An id out of range is an ``InvalidArgumentError`` when the graph runs."""
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("Need at least one param")
    with op_scope(name or "embedding_lookup", []):
        shards = [convert_to_tensor(p) for p in shards]
        ids = convert_to_tensor(ids, name="ids")
        if not ids.dtype.base_dtype.is_integer:
            raise TypeError(f"embedding_lookup: ids must be int32 or int64, got {ids.dtype.base_dtype.name}")
        if len(shards) == 1:
            return identity(_clip_rows(array_ops.gather(shards[0], ids), ids, max_norm))
        flat = array_ops.reshape(ids, [-1])
        position = array_ops.range(array_ops.size(flat))
        shard, row = _shard_of(flat, shards, partition_strategy)
        shard = cast(shard, dtypes.int32)
        rows_of = dynamic_partition(row, shard, len(shards))
        where_to = dynamic_partition(position, shard, len(shards))
        found = [array_ops.gather(p, r) for p, r in zip(shards, rows_of)]
        flat_rows = dynamic_stitch(where_to, found)
        row_shape = shards[0].shape[1:]
        for p in shards[1:]:
            row_shape = row_shape.merge_with(p.shape[1:])
        if row_shape.is_fully_defined():
            out_shape = array_ops.concat([array_ops.shape(ids), row_shape.as_list()], 0)
        else:
            out_shape = array_ops.concat([array_ops.shape(ids), array_ops.shape(flat_rows)[1:]], 0)
        out = array_ops.reshape(flat_rows, out_shape)
        if ids.shape.ndims is not None and row_shape.ndims is not None:
            out.set_shape(ids.shape.concatenate(row_shape))
        return _clip_rows(out, ids, max_norm)
