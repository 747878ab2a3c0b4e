"""Sampled losses for large output vocabularies: ``tf.nn.nce_loss`` and
``tf.nn.sampled_softmax_loss``.

Both score each example against its true classes and ``num_sampled`` classes drawn once per batch
(by default from ``log_uniform_candidate_sampler``), looking the classes' weight rows and biases
up with ``embedding_lookup``, so a sharded ``weights`` list works. The logits get ``log`` of the
sampler's expected counts subtracted (the correction for sampling), and sampled classes that are
a row's true class can be masked out with ``-FLOAT_MAX`` (``remove_accidental_hits``). Built from
ordinary ops: the gradients into ``weights``, ``biases`` and ``inputs`` come for free (dense).
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.candidate_sampling_ops import log_uniform_candidate_sampler
from jitgraph.ops.constant_ops import ones_like, zeros_like
from jitgraph.ops.embedding_ops import embedding_lookup
from jitgraph.ops.gradients import stop_gradient
from jitgraph.ops.linalg_ops import matmul
from jitgraph.ops.math_ops import binary, cast, unary
from jitgraph.ops.nn_ops import sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.reduction_ops import reduce_any, reduce_sum
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["nce_loss", "sampled_softmax_loss"]


def _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true, sampled_values,
                    subtract_log_q, remove_accidental_hits, partition_strategy, seed):
    """``(logits, labels)``, both ``[batch, num_true + num_sampled]``: true classes first, each true
    label weighted ``1 / num_true``."""
    weights = list(weights) if isinstance(weights, (list, tuple)) else [weights]
    inputs = convert_to_tensor(inputs)
    dt = inputs.dtype.base_dtype
    labels = convert_to_tensor(labels)
    if labels.dtype.base_dtype != dtypes.int64:
        labels = cast(labels, dtypes.int64)
    labels_flat = array_ops.reshape(labels, [-1])
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True, num_classes, seed=seed)
    sampled, true_count, sampled_count = (stop_gradient(convert_to_tensor(s)) for s in sampled_values)
    sampled = cast(sampled, dtypes.int64) if sampled.dtype.base_dtype != dtypes.int64 else sampled
    n_true = array_ops.size(labels_flat)
    all_ids = array_ops.concat([labels_flat, sampled], 0)
    all_w = embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
    true_w = array_ops.slice(all_w, array_ops.stack([0, 0]), array_ops.stack([n_true, -1]))
    sampled_w = array_ops.slice(all_w, array_ops.stack([n_true, 0]), [-1, -1])
    sampled_logits = matmul(inputs, sampled_w, transpose_b=True)
    all_b = embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
    true_b = array_ops.reshape(array_ops.slice(all_b, array_ops.stack([0]), array_ops.stack([n_true])),
                               [-1, num_true])
    sampled_b = array_ops.slice(all_b, array_ops.stack([n_true]), [-1])
    dim = array_ops.shape(true_w)[1:2]
    true_w = array_ops.reshape(true_w, array_ops.concat([[-1, num_true], dim], 0))
    true_logits = reduce_sum(binary("Mul", array_ops.expand_dims(inputs, 1), true_w), -1) + true_b
    sampled_logits = sampled_logits + sampled_b
    if remove_accidental_hits:   # a sampled class that is a true class of the row must not count against it
        hit = reduce_any(binary("Equal", array_ops.expand_dims(labels, 2),
                                array_ops.reshape(sampled, [1, 1, -1])), 1)
        sampled_logits = sampled_logits + cast(hit, dt) * np.finfo(dt.as_np).min
    if subtract_log_q:
        true_logits = true_logits - unary("Log", cast(true_count, dt))
        sampled_logits = sampled_logits - unary("Log", cast(sampled_count, dt))
    logits = array_ops.concat([true_logits, sampled_logits], 1)
    targets = array_ops.concat([ones_like(true_logits) / num_true, zeros_like(sampled_logits)], 1)
    return logits, stop_gradient(targets)   # constants; ``Fill`` (a dynamic zeros_like) has no gradient rule


def nce_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1, sampled_values=None,
             remove_accidental_hits=False, partition_strategy="mod", name="nce_loss", seed=None):
    """Noise-contrastive estimation loss per example (``[batch]``): logistic regression telling
    each example's true classes (``labels``, int ``[batch, num_true]``) from ``num_sampled``
    noise classes. ``weights`` is ``[num_classes, dim]`` (or a list of its shards), ``biases``
    ``[num_classes]``, ``inputs`` ``[batch, dim]``. Use it for training only; evaluate with the
    full softmax."""
    with op_scope(name or "nce_loss", []):
        logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                          sampled_values, True, remove_accidental_hits, partition_strategy, seed)
        losses = sigmoid_cross_entropy_with_logits(labels=targets, logits=logits, name="sampled_losses")
        return reduce_sum(losses, 1)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes, num_true=1,
                         sampled_values=None, remove_accidental_hits=True, partition_strategy="mod",
                         name="sampled_softmax_loss", seed=None):
    """Softmax cross-entropy per example (``[batch]``) over the true classes and ``num_sampled``
    sampled ones instead of all ``num_classes``: a cheap training estimate of the full softmax
    loss. Arguments as for ``nce_loss``."""
    with op_scope(name or "sampled_softmax_loss", []):
        logits, targets = _sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes, num_true,
                                          sampled_values, True, remove_accidental_hits, partition_strategy, seed)
        return softmax_cross_entropy_with_logits_v2(labels=targets, logits=logits)
