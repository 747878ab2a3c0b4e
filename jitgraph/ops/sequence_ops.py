"""``tf.sequence_mask``: the boolean mask of the valid steps of padded sequences, built from
``range`` and ``less``."""

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.math_ops import binary, cast
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.reduction_ops import reduce_max
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["sequence_mask"]


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """``mask[i..., j] = j < lengths[i...]`` for ``j < maxlen`` (default: the largest length), so
    the result has shape ``lengths.shape + [maxlen]``.

        tf.sequence_mask([1, 3, 2], 5)  # [[T, F, F, F, F], [T, T, T, F, F], [T, T, F, F, F]]
    """
    with op_scope(name or "SequenceMask", [lengths]):
        lengths = convert_to_tensor(lengths)
        if not lengths.dtype.base_dtype.is_integer:
            raise TypeError(f"sequence_mask: lengths must be integers, got {lengths.dtype.base_dtype.name}")
        if maxlen is None:
            maxlen = binary("Maximum", reduce_max(lengths), 0)
        else:
            maxlen = convert_to_tensor(maxlen, preferred_dtype=lengths.dtype.base_dtype)
        if maxlen.shape.ndims not in (None, 0):
            raise ValueError("maxlen must be scalar for sequence_mask")
        steps = array_ops.range(0, maxlen, 1, dtype=maxlen.dtype.base_dtype)
        mask = binary("Less", steps, cast(array_ops.expand_dims(lengths, -1), maxlen.dtype.base_dtype))
        dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.bool
        return mask if dtype == dtypes.bool else cast(mask, dtype)
