"""Size-1 dims known from the feed signature travel through NumPy layout steps (shapes.py rules),
so compiled broadcasts agree with the reference without falling back."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


pytestmark = pytest.mark.usefixtures("eager_strict")


def _compiled_and_reference(fetch, feeds):
    out = {}
    for m in ("eager", "never"):
        config.set_compile_mode(m)
        with tf.Session() as sess:
            out[m] = (sess.run(fetch, feeds), sess.cache_info())
    config.set_compile_mode("eager")
    return out["eager"], out["never"][0]


def test_transpose_of_size1_feed_broadcasts_like_reference():
    """The signature knows z's dim 0 is 1; Transpose now carries it, so z + z^T is a (2, 2)
    broadcast with no guard (before: 'incompatible shapes: dimension 2 vs 1')."""
    with tf.Graph().as_default():
        z = tf.placeholder(tf.float32, [None, None])
        (got, info), want = _compiled_and_reference(z + tf.transpose(z), {z: [[1., 2.]]})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, [[2., 3.], [3., 4.]])
    assert info["compiles"] == 1 and not info["fallbacks"]


def test_reshape_of_size1_feed_broadcasts_like_reference():
    """reshape(x, [-1]) of a fed (1, 1) is known to be (1,) and broadcasts against y."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, None])
        y = tf.placeholder(tf.float32, [None])
        expanded = tf.expand_dims(tf.reshape(x, [-1]), 0)          # (1, 1)
        fetch = [tf.reshape(x, [-1]) + y, expanded * tf.reshape(y, [-1, 1])]
        (got, info), want = _compiled_and_reference(fetch, {x: [[5.]], y: [1., 2., 3.]})
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[0], [6., 7., 8.])
    assert info["compiles"] == 1 and not info["fallbacks"]
