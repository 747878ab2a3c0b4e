"""Kernels over spaces of ``parallel_threshold`` elements or more run their outer loop as a
``prange``; one that reduces across that loop (per-channel sums over [N, H, W, C], as batch norm
and bias gradients make) runs it in chunks, each reducing into a row of its own, combined after.
Both give the reference executor's values, for any batch (one image, fewer images than threads)."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config

from plan_checks import reference_values

pytestmark = pytest.mark.usefixtures("eager_strict")


@pytest.fixture
def low_threshold():
    prev = config.parallel_threshold()
    config.set_parallel_threshold(64)
    yield
    config.set_parallel_threshold(prev)


def _sources(sess):
    return [src for p in sess._plans._plans.values() for c in p.compiled.values() for src in c.sources]


def _batch_norm_like(x):
    mean = tf.reduce_mean(x, axis=[0, 1, 2])
    centered = x - mean
    var = tf.reduce_mean(tf.square(centered), axis=[0, 1, 2], keepdims=True)
    y = tf.nn.relu(centered * tf.rsqrt(var + 1e-3))
    return [mean, var, y, tf.reduce_max(x * 2.0, axis=[0, 2]), tf.reduce_min(x - 1.0, axis=0),
            tf.reduce_sum(tf.abs(x), axis=[0, 1])]


@pytest.mark.parametrize("batch", [1, 3, 17])
def test_reductions_across_the_parallel_loop_match_the_reference(low_threshold, batch):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 5, 6, 7])
        fetches = _batch_norm_like(x)
        feeds = {x: np.random.default_rng(batch).standard_normal((batch, 5, 6, 7)).astype(np.float32)}
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            got = sess.run(fetches, feeds)
            srcs = _sources(sess)
        want = reference_values(g, fetches, feeds, init)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    chunked = [s for s in srcs if "for ch in prange(nch)" in s]
    assert chunked, "no kernel reduced across its parallel loop in chunks"


@pytest.mark.parametrize("front", ["scale", "conv"])
def test_training_through_batch_norm_gradients(low_threshold, front):
    """With a scale the space's dims come from the feed (parallel, chunked); after a conv the plan
    runs on the chunk workers, so its large kernels are cut into chunks for them
    (``chunked_kernels``; [?, 16, 16, 16] has ``MIN_STATIC_ELEMENTS`` without the batch)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 16, 16, 4])
        rng = np.random.default_rng(0)
        if front == "scale":
            w = tf.Variable(rng.standard_normal(4).astype(np.float32))
            h = x * w
        else:
            w = tf.Variable(rng.standard_normal((3, 3, 4, 16)).astype(np.float32) * 0.2)
            h = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        mean, var = tf.nn.moments(h, axes=[0, 1, 2])
        loss = tf.reduce_sum(tf.nn.relu((h - mean) * tf.rsqrt(var + 1e-3)) ** 2)
        grad = tf.gradients(loss, [w])[0]
        feeds = {x: rng.standard_normal((3, 16, 16, 4)).astype(np.float32)}
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            got = sess.run([loss, grad], feeds)
            srcs = _sources(sess)
        want = reference_values(g, [loss, grad], feeds, init)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-4 * np.abs(want[1]).max())
    assert any("for ch in prange(nch)" in s for s in srcs) == (front == "scale")
    if front == "conv":
        assert any("claim(sync, 0)" in s for s in srcs)


def test_below_the_threshold_kernels_stay_serial():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4, 4, 3])
        y = tf.reduce_sum(x * 3.0, axis=[0, 1, 2])
        with tf.Session() as sess:
            sess.run(y, {x: np.ones((2, 4, 4, 3), np.float32)})
            assert not any("prange" in s for s in _sources(sess))
