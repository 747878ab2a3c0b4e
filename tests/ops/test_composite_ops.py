"""Composite functions (built from other ops) against NumPy, and the tf.math / tf.nn namespaces."""

import numpy as np
import pytest

import jitgraph as tf

X = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], np.float32)

CASES = [
    ("reduce_variance", lambda x: tf.math.reduce_variance(x), lambda x: x.var()),
    ("reduce_variance_axis", lambda x: tf.math.reduce_variance(x, 1, keepdims=True), lambda x: x.var(1, keepdims=True)),
    ("reduce_std", lambda x: tf.math.reduce_std(x, 0), lambda x: x.std(0)),
    ("log_sigmoid", lambda x: tf.math.log_sigmoid(x), lambda x: -np.logaddexp(0, -x)),
    ("l2_normalize", lambda x: tf.nn.l2_normalize(x, 1), lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)),
    ("elu", lambda x: tf.nn.elu(x), lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", lambda x: tf.nn.selu(x), lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    ("leaky_relu", lambda x: tf.nn.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    ("moments_mean", lambda x: tf.nn.moments(x, [0])[0], lambda x: x.mean(0)),
    ("moments_var", lambda x: tf.nn.moments(x, [0], keep_dims=True)[1], lambda x: x.var(0, keepdims=True)),
]


@pytest.mark.parametrize("name,build,ref", CASES, ids=[c[0] for c in CASES])
def test_composite_matches_numpy(name, build, ref):
    with tf.Graph().as_default():
        y = build(tf.constant(X))
        with tf.Session() as sess:
            out = sess.run(y)
    np.testing.assert_allclose(out, ref(X.astype(np.float64)), rtol=1e-5, atol=1e-6)
    assert np.shape(out) == np.shape(ref(X))


def test_composites_are_differentiable():
    with tf.Graph().as_default():
        x = tf.constant(X)
        g, = tf.gradients(tf.reduce_sum(tf.nn.elu(x)), x)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(g), np.where(X > 0, 1.0, np.exp(X)), rtol=1e-6)


def test_math_namespace_has_the_reductions_and_elementwise_ops():
    for name in ("reduce_sum", "reduce_mean", "argmax", "cumsum", "add_n", "squared_difference", "floormod",
                 "is_nan", "reduce_logsumexp", "unsorted_segment_sum", "log1p"):
        assert callable(getattr(tf.math, name)), name
