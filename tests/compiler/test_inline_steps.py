"""Shape steps the runner writes inline (``inline_steps``): static reshapes, expand_dims, squeeze,
shape and size give the reference's values without a NumPy-step call; a reshape whose target
comes from a run-time tensor stays a step and keeps the reference's error."""

import re

import numpy as np
import pytest

import jitgraph as tf

from plan_checks import reference_values

pytestmark = pytest.mark.usefixtures("eager_strict")


def _runner_source(sess):
    return "\n".join(c.runner_source for p in sess._plans._plans.values() for c in p.compiled.values())


def test_static_shape_steps_are_inline_and_match_the_reference():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4, 4, 3])
        w = tf.Variable(np.random.default_rng(0).standard_normal((2, 2, 3, 5)).astype(np.float32))
        h = tf.nn.conv2d(x, w, [1, 1, 1, 1], "VALID")             # a NumPy step: its batch is unknown
        flat = tf.reshape(h, [-1, 45])
        col = tf.expand_dims(tf.reduce_sum(flat, axis=1), -1)
        back = tf.squeeze(tf.expand_dims(col, 0), axis=[0])
        fetches = [flat * 2.0, col + 1.0, back, tf.shape(h), tf.size(h), tf.shape(flat, out_type=tf.int64)]
        grad = tf.gradients(tf.reduce_mean(h, axis=[0, 1, 2]), [w])[0]   # a mean's gradient: ExpandDims
        feeds = {x: np.random.default_rng(1).standard_normal((2, 4, 4, 3)).astype(np.float32)}
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            got = sess.run(fetches + [grad], feeds)
            src = _runner_source(sess)
        want = reference_values(g, fetches + [grad], feeds, init)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert ".reshape((-1, 45))" in src
    assert "np.array(" in src and ".shape, _dt" in src and ".size, _dt" in src


def test_reshape_to_a_fed_shape_stays_a_step_with_the_reference_error():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 6])
        n = tf.placeholder(tf.int32, [])
        y = tf.reshape(x, tf.stack([n, 4])) * 2.0
        with tf.Session() as sess:
            ok = sess.run(y, {x: np.ones((2, 6), np.float32), n: 3})
            assert ok.shape == (3, 4)
            with pytest.raises(tf.errors.InvalidArgumentError, match="Reshape"):
                sess.run(y, {x: np.ones((2, 6), np.float32), n: 2})


def test_squeeze_of_an_unknown_dim_stays_a_step_with_the_reference_error():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, None, 5])
        y = tf.squeeze(x, axis=[1]) * 2.0
        with tf.Session() as sess:
            assert sess.run(y, {x: np.ones((2, 1, 5), np.float32)}).shape == (2, 5)
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(y, {x: np.ones((2, 3, 5), np.float32)})


def test_shape_of_a_variable_is_inline_and_keeps_the_reference_checks():
    """A conv's filter gradient reads ``Shape(filter)`` of the variable itself: inline, the values
    of the reference, and an uninitialized variable still raises naming it."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 6, 6, 3])
        w = tf.Variable(np.random.default_rng(0).standard_normal((3, 3, 3, 4)).astype(np.float32), name="w")
        loss = tf.reduce_sum(tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")))
        grad = tf.gradients(loss, [w])[0]
        fetches = [grad, tf.shape(w), tf.size(w, out_type=tf.int64)]
        feeds = {x: np.random.default_rng(1).standard_normal((2, 6, 6, 3)).astype(np.float32)}
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="w"):
                sess.run(fetches, feeds)
            sess.run(init)
            for _ in range(3):                        # past the lazy tier: the compiled plan
                got = sess.run(fetches, feeds)
            src = _runner_source(sess)
        want = reference_values(g, fetches, feeds, init)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert re.search(r"np\.array\(v\d+\.shape, _dt", src)      # (tf.size reads a snapshot: folded)
