"""``tf.losses`` cases recorded from TensorFlow by ``record_losses.py`` and replayed on jitgraph by
``tests/losses/test_losses_oracle.py``. Inputs: ``name -> (shape, kind)``; kinds are ``float``
(normal), ``prob`` (in (0, 1)), ``binary`` (0/1), ``onehot``, ``label`` (int class ids < 3),
``weight`` (>= 0 with zeros), ``unit`` (unit rows) and ``float64``."""

R = ("none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size", "weighted_sum_by_nonzero_weights")

CASES = {
    **{f"mse_{r}": ({"y": ((4, 3), "float"), "p": ((4, 3), "float"), "w": ((4, 1), "weight")},
                    (lambda r: lambda tf, y, p, w: tf.losses.mean_squared_error(y, p, w, reduction=r))(r)) for r in R},
    "absolute_difference_scalar_weight": ({"y": ((4, 3), "float"), "p": ((4, 3), "float")},
                                          lambda tf, y, p: tf.losses.absolute_difference(y, p, 2.0)),
    "absolute_difference_full_weight": ({"y": ((4, 3), "float"), "p": ((4, 3), "float"), "w": ((4, 3), "weight")},
                                        lambda tf, y, p, w: tf.losses.absolute_difference(y, p, w)),
    "huber_loss": ({"y": ((4, 3), "float"), "p": ((4, 3), "float"), "w": ((4, 3), "weight")},
                   lambda tf, y, p, w: tf.losses.huber_loss(y, p, w, delta=0.5,
                                                            reduction=tf.losses.Reduction.SUM_OVER_BATCH_SIZE)),
    "log_loss": ({"y": ((4, 3), "binary"), "p": ((4, 3), "prob"), "w": ((1, 3), "weight")},
                 lambda tf, y, p, w: tf.losses.log_loss(y, p, w)),
    "hinge_loss": ({"y": ((4, 3), "binary"), "x": ((4, 3), "float")},
                   lambda tf, y, x: tf.losses.hinge_loss(y, x, reduction=tf.losses.Reduction.SUM)),
    "cosine_distance": ({"y": ((4, 3), "unit"), "p": ((4, 3), "unit"), "w": ((4, 1), "weight")},
                        lambda tf, y, p, w: tf.losses.cosine_distance(y, p, axis=1, weights=w)),
    "cosine_distance_none": ({"y": ((4, 3), "unit"), "p": ((4, 3), "unit")},
                             lambda tf, y, p: tf.losses.cosine_distance(y, p, axis=1, reduction="none")),
    "mean_pairwise_squared_error": ({"y": ((4, 3), "float"), "p": ((4, 3), "float"), "w": ((4, 1), "weight")},
                                    lambda tf, y, p, w: tf.losses.mean_pairwise_squared_error(y, p, w)),
    "mean_pairwise_squared_error_rank3": ({"y": ((3, 2, 2), "float"), "p": ((3, 2, 2), "float")},
                                          lambda tf, y, p: tf.losses.mean_pairwise_squared_error(y, p, 0.5)),
    "sigmoid_cross_entropy_smoothing": ({"y": ((4, 3), "binary"), "x": ((4, 3), "float"), "w": ((4, 1), "weight")},
                                        lambda tf, y, x, w: tf.losses.sigmoid_cross_entropy(y, x, w, 0.1)),
    "softmax_cross_entropy": ({"y": ((4, 3), "onehot"), "x": ((4, 3), "float")},
                              lambda tf, y, x: tf.losses.softmax_cross_entropy(y, x)),
    "softmax_cross_entropy_smoothing": ({"y": ((4, 3), "onehot"), "x": ((4, 3), "float"), "w": ((4,), "weight")},
                                        lambda tf, y, x, w: tf.losses.softmax_cross_entropy(
                                            y, x, w, label_smoothing=0.2, reduction=tf.losses.Reduction.MEAN)),
    "sparse_softmax_cross_entropy": ({"y": ((4,), "label"), "x": ((4, 3), "float"), "w": ((4,), "weight")},
                                     lambda tf, y, x, w: tf.losses.sparse_softmax_cross_entropy(y, x, w)),
    "sparse_softmax_cross_entropy_column": ({"y": ((4, 1), "label"), "x": ((4, 3), "float"), "w": ((4, 1), "weight")},
                                            lambda tf, y, x, w: tf.losses.sparse_softmax_cross_entropy(y, x, w)),
    "compute_weighted_loss_mean": ({"l": ((2, 3), "float"), "w": ((2, 1), "weight")},
                                   lambda tf, l, w: tf.losses.compute_weighted_loss(l, w, reduction="weighted_mean")),
    "compute_weighted_loss_float64": ({"l": ((2, 3), "float64"), "w": ((1, 3), "weight")},
                                      lambda tf, l, w: tf.losses.compute_weighted_loss(l, w)),
}
