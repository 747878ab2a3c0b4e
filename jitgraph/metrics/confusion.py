"""Streaming confusion counts and what is computed from them: ``true_positives`` and friends,
their ``*_at_thresholds`` versions, ``precision``, ``recall``, ``precision_at_thresholds``,
``recall_at_thresholds``, ``auc``, ``sensitivity_at_specificity``, ``specificity_at_sensitivity``.

A prediction counts as positive at threshold ``t`` when ``prediction > t``. The counts live in
float32 local variables ``<scope>/true_positives`` … (one entry per threshold).
"""

from jitgraph import dtypes
from jitgraph.losses.weights_broadcast import broadcast_weights, div_no_nan
from jitgraph.metrics.basic import add_to_collections, metric_variable, squeeze_or_expand
from jitgraph.ops import math_api
from jitgraph.ops.array_ops import reshape
from jitgraph.ops.constant_ops import constant, ones_like
from jitgraph.ops.control_ops import identity
from jitgraph.ops.math_ops import cast, where
from jitgraph.ops.reduction_ops import argmax, argmin, cumsum, reduce_min, reduce_sum
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.ops.state_ops import assign_add
from jitgraph.variables.scopes import variable_scope

_KEPSILON = 1e-7


def _count_condition(values, weights, metrics_collections, updates_collections):
    """Sum of the true entries of bool ``values`` (times ``weights``) into a ``count`` variable."""
    count = metric_variable([], dtypes.float32, name="count")
    values = cast(values, dtypes.float32)
    if weights is not None:
        weights = convert_to_tensor(weights)
        if weights.shape.ndims not in (None, 0, values.shape.ndims):
            raise ValueError(f"weights must be a scalar or have the rank of the values ({values.shape.ndims}), "
                             f"got shape {weights.shape}")
        values = math_api.multiply(values, cast(weights, dtypes.float32))
    value = identity(count)
    update_op = assign_add(count, reduce_sum(values))
    add_to_collections(metrics_collections, value)
    add_to_collections(updates_collections, update_op)
    return value, update_op


def _counter(default_name, label_value, prediction_value, doc):
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
        with variable_scope(name, default_name, [predictions, labels, weights]):
            predictions, labels, weights = squeeze_or_expand(cast(convert_to_tensor(predictions), dtypes.bool),
                                                             cast(convert_to_tensor(labels), dtypes.bool), weights)
            hit = math_api.logical_and(math_api.equal(labels, label_value),
                                       math_api.equal(predictions, prediction_value))
            return _count_condition(hit, weights, metrics_collections, updates_collections)
    metric.__name__, metric.__doc__ = default_name, doc
    return metric


true_positives = _counter("true_positives", True, True, "Weighted count of ``labels & predictions``.")
false_positives = _counter("false_positives", False, True, "Weighted count of ``~labels & predictions``.")
true_negatives = _counter("true_negatives", False, False, "Weighted count of ``~labels & ~predictions``.")
false_negatives = _counter("false_negatives", True, False, "Weighted count of ``labels & ~predictions``.")


def _ratio_metric(default_name, other):
    """``precision`` (other = false positives) or ``recall`` (other = false negatives)."""
    def metric(labels, predictions, weights=None, metrics_collections=None, updates_collections=None, name=None):
        with variable_scope(name, default_name, [predictions, labels, weights]):
            predictions, labels, weights = squeeze_or_expand(cast(convert_to_tensor(predictions), dtypes.bool),
                                                             cast(convert_to_tensor(labels), dtypes.bool), weights)
            tp, tp_update = true_positives(labels, predictions, weights)
            rest, rest_update = other(labels, predictions, weights)

            def ratio(a, b, op_name):
                return where(math_api.greater(a + b, 0.0), math_api.divide(a, a + b), 0.0, name=op_name)
            value, update_op = ratio(tp, rest, "value"), ratio(tp_update, rest_update, "update_op")
            add_to_collections(metrics_collections, value)
            add_to_collections(updates_collections, update_op)
            return value, update_op
    metric.__name__ = default_name
    return metric


precision = _ratio_metric("precision", false_positives)
precision.__doc__ = "``tp / (tp + fp)`` over everything seen (0 while nothing was predicted positive)."
recall = _ratio_metric("recall", false_negatives)
recall.__doc__ = "``tp / (tp + fn)`` over everything seen (0 while no label was positive)."


def confusion_at_thresholds(labels, predictions, thresholds, weights=None, includes=("tp", "fn", "tn", "fp")):
    """Variables and update ops of the confusion counts at each threshold (``prediction > t``)."""
    names = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives", "fp": "false_positives"}
    for key in includes:
        if key not in names:
            raise ValueError(f"Invalid key: {key}")
    predictions, labels, weights = squeeze_or_expand(cast(convert_to_tensor(predictions), dtypes.float32),
                                                     cast(convert_to_tensor(labels), dtypes.bool), weights)
    n = len(thresholds)
    pred_is_pos = math_api.greater(reshape(predictions, [1, -1]), constant([[float(t)] for t in thresholds],
                                                                           dtypes.float32))
    label_is_pos = reshape(labels, [1, -1])
    cases = {"tp": (label_is_pos, pred_is_pos), "fn": (label_is_pos, math_api.logical_not(pred_is_pos)),
             "tn": (math_api.logical_not(label_is_pos), math_api.logical_not(pred_is_pos)),
             "fp": (math_api.logical_not(label_is_pos), pred_is_pos)}
    weights_row = None
    if weights is not None:
        weights_row = reshape(broadcast_weights(cast(weights, dtypes.float32), predictions), [1, -1])
    values, updates = {}, {}
    for key in ("tp", "fn", "tn", "fp"):
        if key in includes:
            var = metric_variable([n], dtypes.float32, name=names[key])
            hits = cast(math_api.logical_and(*cases[key]), dtypes.float32)
            if weights_row is not None:
                hits = hits * weights_row
            updates[key] = assign_add(var, reduce_sum(hits, 1))
            values[key] = convert_to_tensor(var)
    return values, updates


def _at_thresholds(default_name, key):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None, updates_collections=None,
               name=None):
        with variable_scope(name, default_name, [predictions, labels, weights]):
            values, updates = confusion_at_thresholds(labels, predictions, thresholds, weights, includes=(key,))
            value = identity(values[key])
            add_to_collections(metrics_collections, value)
            add_to_collections(updates_collections, updates[key])
            return value, updates[key]
    metric.__name__ = default_name + "_at_thresholds"
    metric.__doc__ = f"``{default_name}`` at each threshold (``prediction > threshold``), a vector."
    return metric


true_positives_at_thresholds = _at_thresholds("true_positives", "tp")
false_positives_at_thresholds = _at_thresholds("false_positives", "fp")
true_negatives_at_thresholds = _at_thresholds("true_negatives", "tn")
false_negatives_at_thresholds = _at_thresholds("false_negatives", "fn")


def _rate_at_thresholds(default_name, other):
    def metric(labels, predictions, thresholds, weights=None, metrics_collections=None, updates_collections=None,
               name=None):
        with variable_scope(name, default_name, [predictions, labels, weights]):
            values, updates = confusion_at_thresholds(labels, predictions, thresholds, weights, includes=("tp", other))

            def rate(c, op_name):
                prefix = default_name.split("_")[0]
                return math_api.divide(c["tp"], _KEPSILON + c["tp"] + c[other], name=f"{prefix}_{op_name}")
            value, update_op = rate(values, "value"), rate(updates, "update_op")
            add_to_collections(metrics_collections, value)
            add_to_collections(updates_collections, update_op)
            return value, update_op
    metric.__name__ = default_name
    return metric


precision_at_thresholds = _rate_at_thresholds("precision_at_thresholds", "fp")
precision_at_thresholds.__doc__ = "``tp / (1e-7 + tp + fp)`` at each threshold."
recall_at_thresholds = _rate_at_thresholds("recall_at_thresholds", "fn")
recall_at_thresholds.__doc__ = "``tp / (1e-7 + tp + fn)`` at each threshold."


def _auc_thresholds(num_thresholds, thresholds=None, top=1.0 + _KEPSILON):
    if thresholds is not None:
        inner = sorted(float(t) for t in thresholds)
    else:
        inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - _KEPSILON] + inner + [top]


def _interpolate_pr_auc(tp, fp, fn, n):
    """PR-AUC integrating precision over recall with TP and FP linear between thresholds
    (Davis & Goadrich, 2006): the ``careful_interpolation`` summation."""
    dtp = tp[:n - 1] - tp[1:]
    p = tp + fp
    slope = div_no_nan(dtp, math_api.maximum(p[:n - 1] - p[1:], 0.0))
    intercept = tp[1:] - slope * p[1:]
    both = math_api.logical_and(math_api.greater(p[:n - 1], 0.0), math_api.greater(p[1:], 0.0))
    ratio = where(both, div_no_nan(p[:n - 1], math_api.maximum(p[1:], 0.0)), ones_like(p[1:]))
    return reduce_sum(div_no_nan(slope * (dtp + intercept * math_api.log(ratio)),
                                 math_api.maximum(tp[1:] + fn[1:], 0.0)), name="interpolate_pr_auc")


def _compute_auc(c, n, curve, summation_method, name):
    if curve == "PR" and summation_method == "careful_interpolation":
        return _interpolate_pr_auc(c["tp"], c["fp"], c["fn"], n)
    eps = 1e-6
    rec = math_api.divide(c["tp"] + eps, c["tp"] + c["fn"] + eps)
    if curve == "ROC":
        x, y = math_api.divide(c["fp"], c["fp"] + c["tn"] + eps), rec
    else:
        x, y = rec, math_api.divide(c["tp"] + eps, c["tp"] + c["fp"] + eps)
    heights = {"trapezoidal": lambda a, b: (a + b) / 2.0, "careful_interpolation": lambda a, b: (a + b) / 2.0,
               "minoring": math_api.minimum, "majoring": math_api.maximum}[summation_method]
    return reduce_sum((x[:n - 1] - x[1:]) * heights(y[:n - 1], y[1:]), name=name)


def auc(labels, predictions, weights=None, num_thresholds=200, metrics_collections=None, updates_collections=None,
        curve="ROC", name=None, summation_method="trapezoidal", thresholds=None):
    """Area under the ROC or PR curve from confusion counts at ``num_thresholds`` thresholds spread
    over [0, 1] (or the given ``thresholds``). ``summation_method``: ``trapezoidal`` (TF1's default),
    ``careful_interpolation`` (PR: interpolates precision properly; ROC: trapezoidal),
    ``minoring``/``majoring`` (lower/upper Riemann sums). Predictions must lie in [0, 1]."""
    with variable_scope(name, "auc", [labels, predictions, weights]):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
        if summation_method not in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
            raise ValueError(f"Invalid summation_method: {summation_method} summation_method should be "
                             f"'trapezoidal', 'careful_interpolation', 'minoring', or 'majoring'.")
        ts = _auc_thresholds(num_thresholds, thresholds)
        values, updates = confusion_at_thresholds(labels, predictions, ts, weights)
        value = _compute_auc(values, len(ts), curve, summation_method, "value")
        update_op = _compute_auc(updates, len(ts), curve, summation_method, "update_op")
        add_to_collections(metrics_collections, value)
        add_to_collections(updates_collections, update_op)
        return value, update_op


def _check_unit(value, what):
    if value < 0 or value > 1:
        raise ValueError(f"`{what}` must be in the range [0, 1]. Currently, `{what}` got {value}.")


def sensitivity_at_specificity(labels, predictions, specificity, weights=None, num_thresholds=200,
                               metrics_collections=None, updates_collections=None, name=None):
    """The recall at the threshold whose specificity ``tn / (tn + fp)`` is closest to ``specificity``."""
    _check_unit(specificity, "specificity")
    with variable_scope(name, "sensitivity_at_specificity", [predictions, labels, weights]):
        values, updates = confusion_at_thresholds(labels, predictions, _auc_thresholds(num_thresholds), weights)

        def compute(c, op_name):
            specificities = math_api.divide(c["tn"], c["tn"] + c["fp"] + _KEPSILON)
            i = cast(argmin(math_api.abs(specificities - specificity), 0), dtypes.int32)
            return math_api.divide(c["tp"][i], c["tp"][i] + c["fn"][i] + _KEPSILON, name=op_name)
        value, update_op = compute(values, "value"), compute(updates, "update_op")
        add_to_collections(metrics_collections, value)
        add_to_collections(updates_collections, update_op)
        return value, update_op


def specificity_at_sensitivity(labels, predictions, sensitivity, weights=None, num_thresholds=200,
                               metrics_collections=None, updates_collections=None, name=None):
    """The specificity at the last threshold whose sensitivity is closest to ``sensitivity``."""
    _check_unit(sensitivity, "sensitivity")
    with variable_scope(name, "specificity_at_sensitivity", [predictions, labels, weights]):
        ts = _auc_thresholds(num_thresholds, top=1.0 - _KEPSILON)
        values, updates = confusion_at_thresholds(labels, predictions, ts, weights)

        def compute(c, op_name):
            gap = math_api.abs(math_api.divide(c["tp"], c["tp"] + c["fn"] + _KEPSILON) - sensitivity)
            at_min = cumsum(cast(math_api.equal(gap, reduce_min(gap)), dtypes.int64))
            i = cast(argmax(at_min, 0), dtypes.int32)
            return math_api.divide(c["tn"][i], c["tn"][i] + c["fp"][i] + _KEPSILON, name=op_name)
        value, update_op = compute(values, "value"), compute(updates, "update_op")
        add_to_collections(metrics_collections, value)
        add_to_collections(updates_collections, update_op)
        return value, update_op
