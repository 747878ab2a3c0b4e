"""The cases of ``record_extra_ops.py`` (run on TensorFlow) and ``tests/ops/test_extra_ops.py`` (run on
jitgraph): one function builds each case from the ``tf`` module it is given, so both sides build
the same graph. Each case is ``(build, inputs, differentiable)``: ``build(tf, *tensors)`` returns a
tensor; ``inputs`` are NumPy arrays (fed as constants); the gradient is recorded when
``differentiable``."""

import numpy as np

R = np.random.default_rng(31)
X = R.uniform(-0.9, 0.9, (2, 3))
POS = R.uniform(1.5, 3.0, (2, 3))
A = R.standard_normal((2, 3, 3))
V = R.standard_normal((2, 3))
IMG = R.standard_normal((1, 4, 4, 8))
IMG32 = IMG.astype(np.float32)   # lrn is float32-only in TF
D4 = R.standard_normal((2, 3, 2, 3))


def cases():
    return {
        "tan": (lambda tf, x: tf.math.tan(x), [X], True),
        "sinh": (lambda tf, x: tf.math.sinh(x), [X], True),
        "cosh": (lambda tf, x: tf.math.cosh(x), [X], True),
        "asin": (lambda tf, x: tf.math.asin(x), [X], True),
        "acos": (lambda tf, x: tf.math.acos(x), [X], True),
        "atan": (lambda tf, x: tf.math.atan(x), [X], True),
        "asinh": (lambda tf, x: tf.math.asinh(x), [X], True),
        "acosh": (lambda tf, x: tf.math.acosh(x), [POS], True),
        "atanh": (lambda tf, x: tf.math.atanh(x), [X], True),
        "erf": (lambda tf, x: tf.math.erf(x), [X], True),
        "erfc": (lambda tf, x: tf.math.erfc(x), [X], True),
        "rint": (lambda tf, x: tf.math.rint(x * 3), [X], False),
        "div_no_nan": (lambda tf, x, y: tf.math.divide_no_nan(x, y * tf.cast(y > 0, y.dtype)), [X, V[:, None, :]],
                       True),
        "multiply_no_nan": (lambda tf, x, y: tf.math.multiply_no_nan(x, tf.nn.relu(y)), [X, V[0]], True),
        "reciprocal_no_nan": (lambda tf, x: tf.math.reciprocal_no_nan(tf.nn.relu(x) + tf.nn.relu(x)), [X], False),
        "xlogy": (lambda tf, x, y: tf.math.xlogy(tf.nn.relu(x), y), [X, POS], True),
        "xdivy": (lambda tf, x, y: tf.math.xdivy(tf.nn.relu(x), y), [X, POS], True),
        "softsign": (lambda tf, x: tf.nn.softsign(x), [X], True),
        "euclidean_norm": (lambda tf, x: tf.math.reduce_euclidean_norm(x, 1), [X], True),
        "zero_fraction": (lambda tf, x: tf.math.zero_fraction(tf.nn.relu(x)), [X], False),
        "scalar_mul": (lambda tf, x: tf.math.scalar_mul(2.5, x), [X], True),
        "polyval": (lambda tf, x: tf.math.polyval([np.float64(1.0), np.float64(-2.0), np.float64(0.5)], x), [X], True),
        "bincount": (lambda tf: tf.math.bincount(tf.constant([1, 1, 4, 0, 1])), [], False),
        "bincount_weights": (lambda tf: tf.math.bincount(tf.constant([1, 1, 4]), weights=tf.constant([0.5, 1.0, 2.0]),
                                                         minlength=7), [], False),
        "bincount_max": (lambda tf: tf.math.bincount(tf.constant([1, 1, 4, 0]), maxlength=3), [], False),
        "confusion": (lambda tf: tf.math.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1]), [], False),
        "confusion_weights": (lambda tf: tf.math.confusion_matrix([0, 1], [1, 1], num_classes=3,
                                                                  weights=[2.0, 3.0], dtype=tf.float32), [], False),
        "invert_permutation": (lambda tf: tf.math.invert_permutation([3, 0, 2, 1]), [], False),
        "non_decreasing": (lambda tf: tf.stack([tf.math.is_non_decreasing([1, 1, 2]),
                                                tf.math.is_strictly_increasing([1, 1, 2]),
                                                tf.math.is_strictly_increasing([[1, 2], [3, 4]])]), [], False),
        "clip_by_average_norm": (lambda tf, x: tf.clip_by_average_norm(x, 0.1), [X.astype(np.float32)], True),
        "matrix_diag": (lambda tf, v: tf.linalg.diag(v), [V], True),
        "matrix_diag_part": (lambda tf, a: tf.linalg.diag_part(a), [A], True),
        "matrix_set_diag": (lambda tf, a, v: tf.linalg.set_diag(a, v), [A, V], True),
        "band_part": (lambda tf, a: tf.linalg.band_part(a, 1, 0), [A], True),
        "band_part_upper": (lambda tf, a: tf.linalg.band_part(a, 0, -1), [A], True),
        "trace": (lambda tf, a: tf.linalg.trace(a), [A], True),
        "diag": (lambda tf, v: tf.diag(v), [V], True),
        "diag_part": (lambda tf, a: tf.diag_part(a), [D4], True),
        "cross": (lambda tf, a, b: tf.linalg.cross(a, b), [V, V[::-1].copy()], True),
        "matvec": (lambda tf, a, v: tf.linalg.matvec(a, v), [A, V], True),
        "linspace": (lambda tf: tf.linspace(-1.0, 2.0, 7), [], False),
        "lin_space_one": (lambda tf: tf.lin_space(3.0, 5.0, 1), [], False),
        "meshgrid_xy": (lambda tf: tf.stack(tf.meshgrid([1, 2, 3], [4, 5], [6, 7, 8, 9])), [], False),
        "meshgrid_ij": (lambda tf: tf.stack(tf.meshgrid([1, 2, 3], [4, 5], indexing="ij")), [], False),
        "roll": (lambda tf, x: tf.roll(x, [1, -2], [0, 1]), [X], True),
        "space_to_depth": (lambda tf, x: tf.nn.space_to_depth(x, 2), [IMG], True),
        "depth_to_space": (lambda tf, x: tf.nn.depth_to_space(x, 2), [IMG], True),
        "xw_plus_b": (lambda tf, x, w, b: tf.nn.xw_plus_b(x, w, b), [X, A[0], V[0]], True),
        "relu_layer": (lambda tf, x, w, b: tf.nn.relu_layer(x, w, b), [X, A[0], V[0]], True),
        "crelu": (lambda tf, x: tf.nn.crelu(x), [X], True),
        "swish": (lambda tf, x: tf.nn.swish(x), [X], True),
        "lrn": (lambda tf, x: tf.nn.lrn(x), [IMG32], True),
        "lrn_params": (lambda tf, x: tf.nn.local_response_normalization(x, 2, 0.5, 0.3, 0.75), [IMG32], True),
        "log_poisson": (lambda tf, x, z: tf.nn.log_poisson_loss(z, x), [X, POS - 1], True),
        "log_poisson_full": (lambda tf, x, z: tf.nn.log_poisson_loss(z, x, compute_full_loss=True), [X, POS - 1],
                             True),
        "weighted_xent": (lambda tf, x, z: tf.nn.weighted_cross_entropy_with_logits(
            labels=tf.sigmoid(z), logits=x, pos_weight=2.5), [X, V], True),
        "arg_max": (lambda tf, x: tf.arg_max(x, 1), [X], False),
        "arg_min": (lambda tf, x: tf.arg_min(x, 0), [X], False),
        "to_float": (lambda tf: tf.to_float(tf.constant([1, 2])), [], False),
        "to_int64": (lambda tf, x: tf.to_int64(x * 10), [X], False),
        "saturate_cast": (lambda tf, x: tf.saturate_cast(x * 300, tf.uint8), [X], False),
        "identity_n": (lambda tf, x: tf.identity_n([x, x * 2])[1], [X], True),
        "where_v2": (lambda tf, x: tf.where_v2(x > 0, x, tf.zeros([3], tf.float64)), [X], True),
    }
