"""The ``tf.losses`` functions: a per-element loss, scaled by ``weights`` and reduced as
``reduction`` says, added to ``GraphKeys.LOSSES``.

``weights`` is a scalar or a tensor of the loss's rank whose dims are 1 or the loss's. The
default reduction, ``SUM_BY_NONZERO_WEIGHTS``, divides the weighted sum by the number of
elements whose (broadcast) weight is not zero. As TF, the losses are computed in float32.
"""

from jitgraph import dtypes
from jitgraph.api_graph import name_scope
from jitgraph.framework.graph import GraphKeys
from jitgraph.losses.util import add_loss
from jitgraph.losses.weights_broadcast import assert_broadcastable, broadcast_weights, div_no_nan
from jitgraph.ops import math_api, nn_ops
from jitgraph.ops.array_ops import shape, size, squeeze
from jitgraph.ops.constant_ops import zeros_like
from jitgraph.ops.gradients import stop_gradient
from jitgraph.ops.math_ops import cast, where
from jitgraph.ops.reduction_ops import reduce_sum
from jitgraph.ops.registry import convert_to_tensor


class Reduction:
    """How a weighted loss is reduced to a scalar (or not, ``NONE``)."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls):
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


def _num_elements(losses):
    with name_scope(None, "num_elements", [losses]):
        return cast(size(losses), losses.dtype.base_dtype)


def num_present(losses, weights, per_batch=False):
    """How many elements of ``losses`` have a nonzero weight (per batch entry if ``per_batch``)."""
    if isinstance(weights, float) and weights != 0.0:
        return _num_elements(losses)
    with name_scope(None, "num_present", [losses, weights]):
        weights = cast(convert_to_tensor(weights), dtypes.float32)
        present = broadcast_weights(cast(math_api.not_equal(weights, 0.0), dtypes.float32), losses)
        if per_batch:
            return reduce_sum(present, list(range(1, losses.shape.ndims)), keepdims=True)
        return reduce_sum(present)


def compute_weighted_loss(losses, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                          reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``losses * weights`` reduced by ``reduction``; added to ``loss_collection``."""
    Reduction.validate(reduction)
    with name_scope(scope, "weighted_loss", [losses, weights]):
        losses = convert_to_tensor(losses)
        input_dtype = losses.dtype.base_dtype
        losses = cast(losses, dtypes.float32)
        weights = cast(convert_to_tensor(weights), dtypes.float32)
        assert_broadcastable(weights, losses)
        weighted = math_api.multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = div_no_nan(loss, reduce_sum(broadcast_weights(weights, losses)), name="value")
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = div_no_nan(loss, num_present(losses, weights), name="value")
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = div_no_nan(loss, _num_elements(losses), name="value")
        loss = cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


def _pair(labels, predictions, names=("labels", "predictions")):
    """Both as float32 tensors of compatible static shapes."""
    for value, what in zip((labels, predictions), names):
        if value is None:
            raise ValueError(f"Argument `{what}` must not be None.")
    predictions = cast(convert_to_tensor(predictions), dtypes.float32)
    labels = cast(convert_to_tensor(labels), dtypes.float32)
    if not predictions.shape.is_compatible_with(labels.shape):
        raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
    return labels, predictions


def _loss(default_name, labels, predictions, weights, scope, loss_collection, reduction, per_element,
          names=("labels", "predictions")):
    with name_scope(scope, default_name, [predictions, labels, weights]) as s:
        labels, predictions = _pair(labels, predictions, names)
        return compute_weighted_loss(per_element(labels, predictions), weights, s, loss_collection, reduction)


def absolute_difference(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                        reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``|predictions - labels|``."""
    return _loss("absolute_difference", labels, predictions, weights, scope, loss_collection, reduction,
                 lambda y, p: math_api.abs(p - y))


def mean_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                       reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``(predictions - labels)**2``."""
    return _loss("mean_squared_error", labels, predictions, weights, scope, loss_collection, reduction,
                 math_api.squared_difference)


def huber_loss(labels, predictions, weights=1.0, delta=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``0.5 * x**2`` for ``|x| <= delta``, else ``0.5 * delta**2 + delta * (|x| - delta)``; ``x = p - y``."""
    def per_element(y, p):
        error = math_api.abs(p - y)
        quadratic = math_api.minimum(error, delta)
        return 0.5 * (quadratic * quadratic) + delta * (error - quadratic)
    return _loss("huber_loss", labels, predictions, weights, scope, loss_collection, reduction, per_element)


def log_loss(labels, predictions, weights=1.0, epsilon=1e-7, scope=None, loss_collection=GraphKeys.LOSSES,
             reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``-y * log(p + eps) - (1 - y) * log(1 - p + eps)`` for probabilities ``p``."""
    return _loss("log_loss", labels, predictions, weights, scope, loss_collection, reduction,
                 lambda y, p: -(y * math_api.log(p + epsilon)) - (1 - y) * math_api.log(1 - p + epsilon))


def hinge_loss(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
               reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """``relu(1 - (2y - 1) * logits)`` for labels ``y`` in {0, 1}."""
    return _loss("hinge_loss", labels, logits, weights, scope, loss_collection, reduction,
                 lambda y, x: math_api.relu(1.0 - (2.0 * y - 1.0) * x), names=("labels", "logits"))


def cosine_distance(labels, predictions, axis=None, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                    reduction=Reduction.SUM_BY_NONZERO_WEIGHTS, dim=None):
    """``1 - sum(labels * predictions, axis)`` (keeping ``axis``) for unit-normalized inputs."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    return _loss("cosine_distance_loss", labels, predictions, weights, scope, loss_collection, reduction,
                 lambda y, p: 1 - reduce_sum(p * y, [axis], keepdims=True))


def mean_pairwise_squared_error(labels, predictions, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES):
    """Per batch entry, the mean over pairs of elements ``(i, j)`` of
    ``((p_i - p_j) - (y_i - y_j))**2``, scaled by ``weights`` (scalar or ``[batch]``-like) and summed."""
    with name_scope(scope, "mean_pairwise_squared_error", [predictions, labels, weights]):
        labels, predictions = _pair(labels, predictions)
        weights = cast(convert_to_tensor(weights), dtypes.float32)
        assert_broadcastable(weights, labels)
        diffs = predictions - labels
        axes = list(range(1, diffs.shape.ndims))
        sum_sq = reduce_sum(math_api.square(diffs), axes, keepdims=True)
        n = num_present(diffs, weights, per_batch=True)
        term1 = 2.0 * div_no_nan(sum_sq, math_api.maximum(n - 1, 0.0), name="value")
        sum_diff = reduce_sum(diffs, axes, keepdims=True)
        term2 = 2.0 * div_no_nan(math_api.square(sum_diff), math_api.maximum(n * (n - 1), 0.0), name="value")
        loss = reduce_sum((term1 - term2) * weights)
        loss = where(math_api.greater(reduce_sum(n), 0.0), loss, zeros_like(loss), name="value")
        add_loss(loss, loss_collection)
        return loss


def sigmoid_cross_entropy(multi_class_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Logistic loss of ``logits`` against 0/1 labels; ``label_smoothing`` ``s`` moves the labels
    to ``y * (1 - s) + s / 2``."""
    if multi_class_labels is None or logits is None:
        raise ValueError(f"Argument `{'multi_class_labels' if multi_class_labels is None else 'logits'}` must not "
                         f"be None.")
    with name_scope(scope, "sigmoid_cross_entropy_loss", [logits, multi_class_labels, weights]) as s:
        logits = convert_to_tensor(logits)
        labels = cast(convert_to_tensor(multi_class_labels), logits.dtype.base_dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {logits.shape} and {labels.shape} are incompatible")
        if label_smoothing > 0:
            labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
        losses = nn_ops.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, s, loss_collection, reduction)


def softmax_cross_entropy(onehot_labels, logits, weights=1.0, label_smoothing=0, scope=None,
                          loss_collection=GraphKeys.LOSSES, reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy per example (no gradient into the labels); ``label_smoothing`` ``s``
    moves the one-hot labels to ``y * (1 - s) + s / num_classes``."""
    if onehot_labels is None or logits is None:
        raise ValueError(f"Argument `{'onehot_labels' if onehot_labels is None else 'logits'}` must not be None.")
    with name_scope(scope, "softmax_cross_entropy_loss", [logits, onehot_labels, weights]) as s:
        logits = convert_to_tensor(logits)
        labels = cast(convert_to_tensor(onehot_labels), logits.dtype.base_dtype)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {logits.shape} and {labels.shape} are incompatible")
        if label_smoothing > 0:
            num_classes = cast(shape(labels)[-1], logits.dtype.base_dtype)
            labels = labels * (1.0 - label_smoothing) + label_smoothing / num_classes
        labels = stop_gradient(labels, name="labels_stop_gradient")
        losses = nn_ops.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, s, loss_collection, reduction)


def _squeeze_trailing_one(labels, logits, weights):
    """TF's ``remove_squeezable_dimensions`` for sparse labels: ``[batch, 1]`` labels (and weights one
    rank above the labels) lose their last dim."""
    lr, pr = labels.shape.ndims, logits.shape.ndims
    if lr is not None and pr is not None:
        if pr - lr == 2 and logits.shape[-1].is_compatible_with(1):
            logits = squeeze(logits, [-1])
        elif pr - lr == 0 and labels.shape[-1].is_compatible_with(1):
            labels = squeeze(labels, [-1])
    weights = convert_to_tensor(weights)
    if labels.shape.ndims is not None and weights.shape.ndims is not None:
        if weights.shape.ndims - labels.shape.ndims == 1:
            weights = squeeze(weights, [-1])
    return labels, logits, weights


def sparse_softmax_cross_entropy(labels, logits, weights=1.0, scope=None, loss_collection=GraphKeys.LOSSES,
                                 reduction=Reduction.SUM_BY_NONZERO_WEIGHTS):
    """Softmax cross-entropy per example with integer class ``labels`` (``[batch]`` or ``[batch, 1]``)."""
    if labels is None or logits is None:
        raise ValueError(f"Argument `{'labels' if labels is None else 'logits'}` must not be None.")
    with name_scope(scope, "sparse_softmax_cross_entropy_loss", [logits, labels, weights]) as s:
        labels, logits, weights = _squeeze_trailing_one(convert_to_tensor(labels), convert_to_tensor(logits),
                                                        weights)
        losses = nn_ops.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, s, loss_collection, reduction)
