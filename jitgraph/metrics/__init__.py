"""``tf.metrics``: TF1's streaming metrics, each a ``(value, update_op)`` pair over local variables.

    acc, acc_update = tf.metrics.accuracy(labels, predictions)
    sess.run(tf.local_variables_initializer())      # resets every metric
    for batch in batches:
        sess.run(acc_update, feed(batch))
    sess.run(acc)                                    # accuracy over all batches
"""

from jitgraph.metrics.basic import (accuracy, mean, mean_absolute_error, mean_cosine_distance, mean_iou,
                                    mean_per_class_accuracy, mean_relative_error, mean_squared_error, mean_tensor,
                                    percentage_below, root_mean_squared_error)
from jitgraph.metrics.confusion import (auc, false_negatives, false_negatives_at_thresholds, false_positives,
                                        false_positives_at_thresholds, precision, precision_at_thresholds, recall,
                                        recall_at_thresholds, sensitivity_at_specificity, specificity_at_sensitivity,
                                        true_negatives, true_negatives_at_thresholds, true_positives,
                                        true_positives_at_thresholds)

__all__ = ["accuracy", "auc", "false_negatives", "false_negatives_at_thresholds", "false_positives",
           "false_positives_at_thresholds", "mean", "mean_absolute_error", "mean_cosine_distance", "mean_iou",
           "mean_per_class_accuracy", "mean_relative_error", "mean_squared_error", "mean_tensor", "percentage_below",
           "precision", "precision_at_thresholds", "recall", "recall_at_thresholds", "root_mean_squared_error",
           "sensitivity_at_specificity", "specificity_at_sensitivity", "true_negatives", "true_negatives_at_thresholds",
           "true_positives", "true_positives_at_thresholds"]
