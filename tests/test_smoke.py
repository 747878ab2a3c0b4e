"""A seconds-long end-to-end check: build, feed, fetch."""

import numpy as np

import jitgraph as tf


def test_smoke_feed_and_fetch_structures():
    g = tf.Graph()
    with g.as_default():
        a = tf.constant([1.0, 2.0, 3.0])
        x = tf.placeholder(tf.float32, [None])
        y = a * x + 1
        with tf.Session() as sess:
            out = sess.run({"y": y, "pair": (a, tf.no_op())}, {x: [1, 2, 3]})
    np.testing.assert_allclose(out["y"], [2, 5, 10])
    assert out["pair"][1] is None
    assert y.name == "add:0"
