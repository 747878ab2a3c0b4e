"""Streaming means: ``mean``, ``mean_tensor``, ``accuracy``, the error means, ``percentage_below``,
``mean_per_class_accuracy`` and ``mean_iou``.

Each returns ``(value, update_op)``. The state lives in float32 (float64 for ``mean_iou``)
variables in ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES`` named ``<metric scope>/total``,
``/count``…; running ``update_op`` folds a batch in and returns the updated value, ``value``
reads the state, and ``tf.local_variables_initializer()`` resets it.
"""

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.losses.weights_broadcast import broadcast_weights, div_no_nan
from jitgraph.ops import math_api
from jitgraph.ops.array_ops import expand_dims, reshape, size, squeeze
from jitgraph.ops.confusion_matrix import confusion_matrix, squeeze_pair
from jitgraph.ops.constant_ops import ones_like, zeros, zeros_like
from jitgraph.ops.math_ops import cast, where
from jitgraph.ops.reduction_ops import reduce_mean, reduce_sum
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.ops.slicing_ops import unsorted_segment_sum
from jitgraph.ops.state_ops import assign_add
from jitgraph.variables.scopes import variable_scope
from jitgraph.variables.variables import Variable


def metric_variable(shape, dtype, validate_shape=True, name=None):
    """A zero-initialized local variable in ``LOCAL_VARIABLES`` and ``METRIC_VARIABLES``."""
    return Variable(lambda: zeros(shape, dtype), trainable=False, validate_shape=validate_shape, name=name,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES])


def add_to_collections(collections, value):
    if collections:
        get_default_graph().add_to_collections(collections, value)


def squeeze_or_expand(predictions, labels, weights):
    """TF's ``_remove_squeezable_dimensions``: labels/predictions whose ranks differ by one lose
    the extra trailing 1; weights one rank above (below) the predictions are squeezed (expanded)."""
    predictions = convert_to_tensor(predictions)
    if labels is not None:
        labels, predictions = squeeze_pair(convert_to_tensor(labels), predictions)
        if not predictions.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
    if weights is None:
        return predictions, labels, None
    weights = convert_to_tensor(weights)
    wr, pr = weights.shape.ndims, predictions.shape.ndims
    if wr not in (None, 0) and pr is not None:
        if wr - pr == 1:
            weights = squeeze(weights, [-1])
        elif pr - wr == 1:
            weights = expand_dims(weights, -1)
    return predictions, labels, weights


def mean(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The (weighted) mean of all ``values`` seen: ``total / count``."""
    with variable_scope(name, "mean", [values, weights]):
        values = cast(convert_to_tensor(values), dtypes.float32)
        total = metric_variable([], dtypes.float32, name="total")
        count = metric_variable([], dtypes.float32, name="count")
        if weights is None:
            num_values = cast(size(values), dtypes.float32)
        else:
            values, _, weights = squeeze_or_expand(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes.float32), values)
            values = math_api.multiply(values, weights)
            num_values = reduce_sum(weights)
        update_total = assign_add(total, reduce_sum(values))
        update_count = assign_add(count, num_values)
        return _running_mean(total, count, update_total, update_count, metrics_collections, updates_collections)


def _running_mean(total, count, update_total, update_count, metrics_collections, updates_collections):
    """(``total / count``, the same after this run's updates), added to the given collections."""
    value = div_no_nan(total, math_api.maximum(count, 0.0), name="value")
    update_op = div_no_nan(update_total, math_api.maximum(update_count, 0.0), name="update_op")
    add_to_collections(metrics_collections, value)
    add_to_collections(updates_collections, update_op)
    return value, update_op


def mean_tensor(values, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The elementwise (weighted) mean of every ``values`` seen (its shape must be static)."""
    with variable_scope(name, "mean", [values, weights]):
        values = cast(convert_to_tensor(values), dtypes.float32)
        if not values.shape.is_fully_defined():
            raise ValueError(f"mean_tensor: the values' shape must be fully known when the graph is built (it sets "
                             f"the shape of the running mean), got {values.shape}")
        total = metric_variable(values.shape, dtypes.float32, name="total_tensor")
        count = metric_variable(values.shape, dtypes.float32, name="count_tensor")
        num_values = ones_like(values)
        if weights is not None:
            values, _, weights = squeeze_or_expand(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes.float32), values)
            values = math_api.multiply(values, weights)
            num_values = math_api.multiply(num_values, weights)
        update_total = assign_add(total, values)
        update_count = assign_add(count, num_values)
        return _running_mean(total, count, update_total, update_count, metrics_collections, updates_collections)


def accuracy(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """How often ``predictions == labels`` (weighted): a ``mean`` named ``accuracy``."""
    predictions, labels, weights = squeeze_or_expand(predictions, labels, weights)
    if labels.dtype.base_dtype != predictions.dtype.base_dtype:
        predictions = cast(predictions, labels.dtype.base_dtype)
    is_correct = cast(math_api.equal(predictions, labels), dtypes.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


def mean_absolute_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                        name=None):
    predictions, labels, weights = squeeze_or_expand(predictions, labels, weights)
    return mean(math_api.abs(predictions - labels), weights, metrics_collections, updates_collections,
                name or "mean_absolute_error")


def mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                       name=None):
    predictions, labels, weights = squeeze_or_expand(predictions, labels, weights)
    return mean(math_api.squared_difference(labels, predictions), weights, metrics_collections, updates_collections,
                name or "mean_squared_error")


def root_mean_squared_error(labels, predictions, weights=None, metrics_collections=None, updates_collections=None,
                            name=None):
    """``sqrt`` of the streaming mean squared error."""
    predictions, labels, weights = squeeze_or_expand(predictions, labels, weights)
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None, name or "root_mean_squared_error")
    value, update_op = math_api.sqrt(mse), math_api.sqrt(update_mse)
    add_to_collections(metrics_collections, value)
    add_to_collections(updates_collections, update_op)
    return value, update_op


def mean_relative_error(labels, predictions, normalizer, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
    """The mean of ``|labels - predictions| / normalizer`` (0 where the normalizer is 0)."""
    predictions, labels, weights = squeeze_or_expand(predictions, labels, weights)
    predictions, normalizer, _ = squeeze_or_expand(predictions, normalizer, None)
    relative = where(math_api.equal(normalizer, 0.0), zeros_like(labels),
                     math_api.divide(math_api.abs(labels - predictions), normalizer))
    return mean(relative, weights, metrics_collections, updates_collections, name or "mean_relative_error")


def mean_cosine_distance(labels, predictions, dim, weights=None, metrics_collections=None, updates_collections=None,
                         name=None):
    """``1 - mean(sum(labels * predictions, dim))`` for unit-normalized inputs."""
    predictions, labels, weights = squeeze_or_expand(predictions, labels, weights)
    radial = reduce_sum(math_api.multiply(predictions, labels), [dim], keepdims=True)
    value, update_op = mean(radial, weights, None, None, name or "mean_cosine_distance")
    value, update_op = math_api.subtract(1.0, value), math_api.subtract(1.0, update_op)
    add_to_collections(metrics_collections, value)
    add_to_collections(updates_collections, update_op)
    return value, update_op


def percentage_below(values, threshold, weights=None, metrics_collections=None, updates_collections=None, name=None):
    """The fraction of ``values`` below ``threshold``."""
    below = cast(math_api.less(convert_to_tensor(values), threshold), dtypes.float32)
    return mean(below, weights, metrics_collections, updates_collections, name or "percentage_below_threshold")


def _flat(t):
    return reshape(t, [-1]) if t is not None and t.shape.ndims is not None and t.shape.ndims > 1 else t


def mean_per_class_accuracy(labels, predictions, num_classes, weights=None, metrics_collections=None,
                            updates_collections=None, name=None):
    """The mean over classes of each class's accuracy (``count`` correct / ``total`` seen, per label)."""
    with variable_scope(name, "mean_accuracy", [predictions, labels, weights]):
        labels = _flat(cast(convert_to_tensor(labels), dtypes.int64))
        predictions = _flat(convert_to_tensor(predictions))
        if not predictions.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
        total = metric_variable([num_classes], dtypes.float32, name="total")
        count = metric_variable([num_classes], dtypes.float32, name="count")
        ones = cast(ones_like(labels), dtypes.float32)
        if labels.dtype.base_dtype != predictions.dtype.base_dtype:
            predictions = cast(predictions, labels.dtype.base_dtype)
        is_correct = cast(math_api.equal(predictions, labels), dtypes.float32)
        if weights is not None:
            weights = cast(_flat(convert_to_tensor(weights)), dtypes.float32)
            is_correct, ones = is_correct * weights, ones * weights
        update_total = assign_add(total, unsorted_segment_sum(ones, labels, num_classes))
        update_count = assign_add(count, unsorted_segment_sum(is_correct, labels, num_classes))
        value = reduce_mean(div_no_nan(count, math_api.maximum(total, 0.0)), name="mean_accuracy")
        update_op = div_no_nan(update_count, math_api.maximum(update_total, 0.0), name="update_op")
        add_to_collections(metrics_collections, value)
        add_to_collections(updates_collections, update_op)
        return value, update_op


def mean_iou(labels, predictions, num_classes, weights=None, metrics_collections=None, updates_collections=None,
             name=None):
    """Mean intersection-over-union of the classes seen, from a streaming confusion matrix
    (``update_op`` returns the accumulated ``[num_classes, num_classes]`` float64 matrix)."""
    with variable_scope(name, "mean_iou", [predictions, labels, weights]):
        labels, predictions = convert_to_tensor(labels), convert_to_tensor(predictions)
        if not predictions.shape.is_compatible_with(labels.shape):
            raise ValueError(f"Shapes {predictions.shape} and {labels.shape} are incompatible")
        total_cm = metric_variable([num_classes, num_classes], dtypes.float64, name="total_confusion_matrix")
        current = confusion_matrix(_flat(cast(labels, dtypes.int64)), _flat(cast(predictions, dtypes.int64)),
                                   num_classes, weights=_flat(None if weights is None else convert_to_tensor(weights)),
                                   dtype=dtypes.float64)
        update_op = assign_add(total_cm, current)
        cm = convert_to_tensor(total_cm)
        rows, cols = cast(reduce_sum(cm, 0), dtypes.float32), cast(reduce_sum(cm, 1), dtypes.float32)
        from jitgraph.ops.linalg_ops import eye
        diag = cast(reduce_sum(cm * eye(num_classes, dtype=dtypes.float64), 1), dtypes.float32)
        denominator = rows + cols - diag
        valid = reduce_sum(cast(math_api.not_equal(denominator, 0.0), dtypes.float32))
        denominator = where(math_api.greater(denominator, 0.0), denominator, ones_like(denominator))
        iou = math_api.divide(diag, denominator)
        value = where(math_api.greater(valid, 0.0), reduce_sum(iou, name="mean_iou") / valid, 0.0)
        add_to_collections(metrics_collections, value)
        add_to_collections(updates_collections, update_op)
        return value, update_op
