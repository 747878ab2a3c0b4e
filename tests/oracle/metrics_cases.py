"""``tf.metrics`` cases recorded from TensorFlow by ``record_metrics.py`` (three update batches of
sizes 8, 5, 7, then a reset and one more batch) and replayed on jitgraph by
``tests/metrics/test_metrics_oracle.py``. Inputs: ``name -> (shape after the batch dim, kind)``
with kinds ``int2``/``int3`` (class ids), ``prob``, ``float``, ``weight`` (>= 0 with zeros),
``unit`` (unit rows) and ``normalizer`` (with zeros)."""

BATCHES = (8, 5, 7)
_LP2 = {"l": ((), "int2"), "p": ((), "int2")}
_LP2W = {**_LP2, "w": ((), "weight")}
_LS = {"l": ((), "int2"), "s": ((), "prob")}
_LSW = {**_LS, "w": ((), "weight")}
_T = [0.25, 0.5, 0.75]

CASES = {
    "mean": ({"v": ((), "float")}, lambda tf, v: tf.metrics.mean(v)),
    "mean_weighted_2d": ({"v": ((3,), "float"), "w": ((1,), "weight")}, lambda tf, v, w: tf.metrics.mean(v, w)),
    "mean_tensor": ({"v": ((3,), "float"), "w": ((3,), "weight")}, lambda tf, v, w: tf.metrics.mean_tensor(
        tf.reduce_sum(v, 0), tf.reduce_sum(w, 0))),
    "accuracy": ({"l": ((), "int3"), "p": ((), "int3")}, lambda tf, l, p: tf.metrics.accuracy(l, p)),
    "accuracy_weighted_column_labels": ({"l": ((1,), "int3"), "p": ((), "int3"), "w": ((), "weight")},
                                        lambda tf, l, p, w: tf.metrics.accuracy(l, p, w)),
    "mean_absolute_error": ({"l": ((2,), "float"), "p": ((2,), "float"), "w": ((2,), "weight")},
                            lambda tf, l, p, w: tf.metrics.mean_absolute_error(l, p, w)),
    "mean_squared_error": ({"l": ((2,), "float"), "p": ((2,), "float")},
                           lambda tf, l, p: tf.metrics.mean_squared_error(l, p)),
    "root_mean_squared_error": ({"l": ((2,), "float"), "p": ((2,), "float"), "w": ((1,), "weight")},
                                lambda tf, l, p, w: tf.metrics.root_mean_squared_error(l, p, w)),
    "mean_relative_error": ({"l": ((), "float"), "p": ((), "float"), "n": ((), "normalizer")},
                            lambda tf, l, p, n: tf.metrics.mean_relative_error(l, p, n)),
    "mean_cosine_distance": ({"l": ((3,), "unit"), "p": ((3,), "unit")},
                             lambda tf, l, p: tf.metrics.mean_cosine_distance(l, p, 1)),
    "percentage_below": ({"v": ((), "float")}, lambda tf, v: tf.metrics.percentage_below(v, 0.3)),
    "mean_per_class_accuracy": ({"l": ((), "int3"), "p": ((), "int3"), "w": ((), "weight")},
                                lambda tf, l, p, w: tf.metrics.mean_per_class_accuracy(l, p, 3, w)),
    "mean_iou": ({"l": ((), "int3"), "p": ((), "int3")}, lambda tf, l, p: tf.metrics.mean_iou(l, p, 3)),
    "mean_iou_weighted": ({"l": ((), "int3"), "p": ((), "int3"), "w": ((), "weight")},
                          lambda tf, l, p, w: tf.metrics.mean_iou(l, p, 3, w)),
    "true_positives": (_LP2W, lambda tf, l, p, w: tf.metrics.true_positives(l, p, w)),
    "false_positives": (_LP2, lambda tf, l, p: tf.metrics.false_positives(l, p)),
    "true_negatives": (_LP2W, lambda tf, l, p, w: tf.metrics.true_negatives(l, p, w)),
    "false_negatives": (_LP2, lambda tf, l, p: tf.metrics.false_negatives(l, p)),
    "precision": (_LP2W, lambda tf, l, p, w: tf.metrics.precision(l, p, w)),
    "recall": (_LP2, lambda tf, l, p: tf.metrics.recall(l, p)),
    "true_positives_at_thresholds": (_LSW, lambda tf, l, s, w: tf.metrics.true_positives_at_thresholds(l, s, _T, w)),
    "false_positives_at_thresholds": (_LS, lambda tf, l, s: tf.metrics.false_positives_at_thresholds(l, s, _T)),
    "true_negatives_at_thresholds": (_LS, lambda tf, l, s: tf.metrics.true_negatives_at_thresholds(l, s, _T)),
    "false_negatives_at_thresholds": (_LSW, lambda tf, l, s, w: tf.metrics.false_negatives_at_thresholds(
        l, s, _T, w)),
    "precision_at_thresholds": (_LSW, lambda tf, l, s, w: tf.metrics.precision_at_thresholds(l, s, _T, w)),
    "recall_at_thresholds": (_LS, lambda tf, l, s: tf.metrics.recall_at_thresholds(l, s, _T)),
    "auc_roc": (_LS, lambda tf, l, s: tf.metrics.auc(l, s)),
    "auc_roc_weighted_minoring": (_LSW, lambda tf, l, s, w: tf.metrics.auc(
        l, s, w, num_thresholds=50, summation_method="minoring")),
    "auc_roc_majoring": (_LS, lambda tf, l, s: tf.metrics.auc(l, s, num_thresholds=30, summation_method="majoring")),
    "auc_pr_trapezoidal": (_LS, lambda tf, l, s: tf.metrics.auc(l, s, curve="PR")),
    "auc_pr_careful_interpolation": (_LSW, lambda tf, l, s, w: tf.metrics.auc(
        l, s, w, curve="PR", summation_method="careful_interpolation")),
    "auc_given_thresholds": (_LS, lambda tf, l, s: tf.metrics.auc(l, s, thresholds=[0.7, 0.2, 0.5])),
    "sensitivity_at_specificity": (_LS, lambda tf, l, s: tf.metrics.sensitivity_at_specificity(l, s, 0.7)),
    "specificity_at_sensitivity": (_LSW, lambda tf, l, s, w: tf.metrics.specificity_at_sensitivity(
        l, s, 0.4, w, num_thresholds=50)),
}
