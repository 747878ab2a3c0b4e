"""More of ``tf.nn``, built from existing ops (gradients come for free): ``xw_plus_b``,
``relu_layer``, ``crelu``, ``silu``/``swish``, ``softsign``, ``local_response_normalization``
(``lrn``), ``log_poisson_loss``, ``weighted_cross_entropy_with_logits``, ``compute_average_loss``,
``zero_fraction``, and ``all_candidate_sampler``."""

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.candidate_sampling_ops import SampledValues
from jitgraph.ops.extra_math_ops import softsign, zero_fraction  # noqa: F401  (re-exported as tf.nn.*)
from jitgraph.ops.linalg_ops import matmul
from jitgraph.ops.math_ops import binary, cast, unary
from jitgraph.ops.nn_ops import bias_add
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.reduction_ops import reduce_sum
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["xw_plus_b", "relu_layer", "crelu", "silu", "swish", "softsign", "local_response_normalization", "lrn",
           "log_poisson_loss", "weighted_cross_entropy_with_logits", "compute_average_loss", "zero_fraction",
           "all_candidate_sampler"]


def xw_plus_b(x, weights, biases, name=None):
    """``matmul(x, weights) + biases``."""
    with op_scope(name or "xw_plus_b", [x, weights, biases]) as scope:
        return bias_add(matmul(x, weights), biases, name=scope)


def relu_layer(x, weights, biases, name=None):
    """``relu(matmul(x, weights) + biases)``."""
    with op_scope(name or "relu_layer", [x, weights, biases]) as scope:
        return unary("Relu", bias_add(matmul(x, weights), biases), name=scope)


def crelu(features, name=None, axis=-1):
    """``concat([relu(x), relu(-x)], axis)``: both signs, each rectified."""
    with op_scope(name or "CRelu", [features]):
        x = convert_to_tensor(features)
        return array_ops.concat([unary("Relu", x), unary("Relu", unary("Neg", x))], axis)


def silu(features, beta=1.0):
    """``x * sigmoid(beta * x)`` (also called swish)."""
    with op_scope("silu", [features]):
        x = convert_to_tensor(features)
        return binary("Mul", x, unary("Sigmoid", x * beta if beta != 1.0 else x))


swish = silu


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, name=None):
    """``x / (bias + alpha * s) ** beta`` where ``s`` sums ``x ** 2`` over the ``2 * depth_radius + 1``
    nearest channels (the last axis of a 4-D input)."""
    with op_scope(name or "LRN", [input]):
        x = convert_to_tensor(input)
        if x.shape.ndims not in (None, 4):
            raise ValueError(f"local_response_normalization: input must be 4-D, got shape {x.shape}")
        r = int(depth_radius)
        sq = array_ops.pad(unary("Square", x), [[0, 0], [0, 0], [0, 0], [r, r]])
        c = array_ops.shape(x)[3]
        window = None
        for k in range(2 * r + 1):   # the channels d - r .. d + r of the zero-padded squares
            part = array_ops.slice(sq, array_ops.stack([0, 0, 0, k]), array_ops.stack([-1, -1, -1, c]))
            window = part if window is None else window + part
        return binary("RealDiv", x, binary("Pow", bias + alpha * window, beta))


lrn = local_response_normalization


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """``exp(log_input) - log_input * targets``, plus Stirling's term for ``targets > 1`` if
    ``compute_full_loss``."""
    with op_scope(name or "log_poisson_loss", [targets, log_input]):
        c = convert_to_tensor(log_input)
        z = convert_to_tensor(targets, preferred_dtype=c.dtype.base_dtype)
        loss = unary("Exp", c) - c * z
        if compute_full_loss:
            import math
            stirling = z * unary("Log", z) - z + 0.5 * unary("Log", 2 * math.pi * z)
            use = binary("LogicalAnd", binary("GreaterEqual", z, 0.0), binary("LessEqual", z, 1.0))
            from jitgraph.ops.math_ops import where
            loss = loss + where(use, z * 0, stirling)
        return loss


def weighted_cross_entropy_with_logits(labels=None, logits=None, pos_weight=None, name=None, targets=None):
    """``sigmoid_cross_entropy_with_logits`` with the positive term weighted by ``pos_weight``:
    ``(1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0))``."""
    labels = targets if labels is None else labels
    with op_scope(name or "logistic_loss", [logits, labels]):
        x = convert_to_tensor(logits)
        z = convert_to_tensor(labels, preferred_dtype=x.dtype.base_dtype)
        log_weight = 1 + (pos_weight - 1) * z
        soft = unary("Log1p", unary("Exp", unary("Neg", unary("Abs", x)))) + unary("Relu", unary("Neg", x))
        return (1 - z) * x + log_weight * soft


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """``sum(per_example_loss * sample_weight) / global_batch_size`` (default: the batch size)."""
    with op_scope("compute_average_loss", [per_example_loss]):
        loss = convert_to_tensor(per_example_loss)
        if sample_weight is not None:
            loss = loss * sample_weight
        size = cast(array_ops.size(loss) if global_batch_size is None else convert_to_tensor(global_batch_size),
                    loss.dtype.base_dtype)
        return binary("RealDiv", reduce_sum(loss), size)


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """Every class ``0 .. num_sampled - 1``, each with expected count 1 (for testing sampled losses
    against the full softmax)."""
    with op_scope(name or "AllCandidateSampler", [true_classes]):
        true = convert_to_tensor(true_classes, dtypes.int64)
        sampled = array_ops.range(0, num_sampled, dtype=dtypes.int64)
        return SampledValues(sampled, cast(true * 0 + 1, dtypes.float32),
                             cast(sampled * 0 + 1, dtypes.float32))
