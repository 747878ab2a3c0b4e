"""``tf.contrib.seq2seq.sequence_loss``: the weighted cross-entropy of a sequence of logits, as TF
1.15 computes it (the decoders and attention of ``tf.contrib.seq2seq`` are not here)::

    loss = tf.contrib.seq2seq.sequence_loss(logits,            # [batch, time, classes]
                                            targets,           # [batch, time] int
                                            tf.ones([batch, time]))
"""

from jitgraph.api_graph import name_scope
from jitgraph.ops.array_ops import reshape, shape
from jitgraph.ops.extra_math_ops import div_no_nan
from jitgraph.ops.math_ops import cast
from jitgraph.ops.nn_ops import sparse_softmax_cross_entropy_with_logits
from jitgraph.ops.reduction_ops import count_nonzero, reduce_sum
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["sequence_loss"]


_LAYOUTS = {2: "[batch_size x sequence_length]", 3: "[batch_size x sequence_length x logits]"}


def _check_rank(tensor, rank, argument):
    """TF's message (``Logits must be a [batch_size x sequence_length x logits] tensor``), naming
    the argument and what it got."""
    got = tensor.shape.ndims
    if got != rank:
        have = "unknown rank" if got is None else f"rank {got} (shape {tuple(tensor.shape.as_list())})"
        raise ValueError(f"{argument.capitalize()} must be a {_LAYOUTS[rank]} tensor: sequence_loss argument "
                         f"`{argument}` has {have}.")


def sequence_loss(logits, targets, weights, average_across_timesteps=True, average_across_batch=True,
                  sum_over_timesteps=False, sum_over_batch=False, softmax_loss_function=None, name=None):
    """Cross-entropy of ``logits`` ``[batch, time, classes]`` against the int ``targets``
    ``[batch, time]``, times ``weights`` ``[batch, time]`` (a mask: 1 for real steps, 0 for
    padding), reduced per the flags:

    * ``average_across_*``: sum over that axis, divided by the sum of the weights over it;
    * ``sum_over_*``: sum over that axis, divided by the number of non-zero weights over it;
    * both over both axes: one division by the total; neither flag of an axis: that axis stays.

    The result has rank 0 (the default: the weighted mean cross-entropy per symbol), 1 or 2.
    Divisions by zero give 0. ``softmax_loss_function(labels=, logits=)`` replaces the sparse
    softmax cross-entropy on the flattened ``[batch*time, classes]`` logits.

    Raises ``ValueError`` naming the argument when ``logits`` is not rank 3 or ``targets``/``weights``
    are not rank 2, and when both the ``average_across_`` and ``sum_over_`` flag of an axis are set."""
    logits, targets, weights = convert_to_tensor(logits), convert_to_tensor(targets), convert_to_tensor(weights)
    _check_rank(logits, 3, "logits")
    _check_rank(targets, 2, "targets")
    _check_rank(weights, 2, "weights")
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError("average_across_timesteps and sum_over_timesteps cannot be set to True at same time.")
    if average_across_batch and sum_over_batch:
        raise ValueError("average_across_batch and sum_over_batch cannot be set to True at same time.")
    with name_scope(name, "sequence_loss", [logits, targets, weights]):
        num_classes = shape(logits)[2]
        logits_flat = reshape(logits, [-1, num_classes])
        targets = reshape(targets, [-1])
        if softmax_loss_function is None:
            crossent = sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits_flat)
        else:
            crossent = softmax_loss_function(labels=targets, logits=logits_flat)
        crossent *= reshape(weights, [-1])
        if average_across_timesteps and average_across_batch:
            return div_no_nan(reduce_sum(crossent), reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            crossent = reduce_sum(crossent)
            return div_no_nan(crossent, cast(count_nonzero(weights), crossent.dtype.base_dtype))
        crossent = reshape(crossent, shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return div_no_nan(reduce_sum(crossent, axis=axis), reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            crossent = reduce_sum(crossent, axis=axis)
            return div_no_nan(crossent, cast(count_nonzero(weights, axis=axis), crossent.dtype.base_dtype))
        return crossent
