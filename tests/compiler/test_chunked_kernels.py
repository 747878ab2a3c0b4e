"""Kernels of plans whose library ops run on the chunk workers (a conv here) are cut along dim 0:
the caller and the workers claim chunks from an atomic counter, reductions across dim 0 go
through per-chunk rows merged in chunk order. They give the reference executor's values for any
batch and any number of chunks, and kernels that cannot be cut keep their loop."""

import threading

import numba
import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import chunked_kernels, config
from jitgraph.kernels.atomics import claim, count

from plan_checks import reference_values

pytestmark = pytest.mark.usefixtures("eager_strict")


@numba.njit(nogil=True)
def _claim_all(sync, marks):
    while True:
        i = claim(sync, 0)
        if i >= marks.size:
            return count(sync, 0)
        marks[i] += 1


def test_claims_from_threads_are_unique():
    sync, marks = np.zeros(2, np.int64), np.zeros(200_000, np.int64)
    threads = [threading.Thread(target=_claim_all, args=(sync, marks)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (marks == 1).all()            # every index claimed by exactly one thread
    assert sync[0] == marks.size + 4     # each thread's last, failed claim counted too


@pytest.fixture
def small_chunks(monkeypatch):
    """Cut even small test kernels, into chunks of a few elements (many chunks, some empty)."""
    monkeypatch.setattr(chunked_kernels, "MIN_STATIC_ELEMENTS", 16)
    monkeypatch.setattr(chunked_kernels, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(chunked_kernels, "CHUNK_ELEMENTS", 40)


def _sources(sess):
    return [src for p in sess._plans._plans.values() for c in p.compiled.values() for src in c.sources]


def _compiled_and_reference(graph, fetches, feeds):
    """``fetches`` compiled and on the reference executor, and the compiled plans' kernel sources."""
    init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        got = sess.run(fetches, feeds)
        srcs = _sources(sess)
    return got, reference_values(graph, fetches, feeds, init), srcs


def _conv_batch_norm(x, rng):
    """A conv (its plan runs on the chunk workers), then batch-norm-like kernels over its result."""
    w = tf.Variable(rng.standard_normal((3, 3, 2, 6)).astype(np.float32) * 0.3)
    h = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    mean, var = tf.nn.moments(h, axes=[0, 1, 2])
    y = tf.nn.relu((h - mean) * tf.rsqrt(var + 1e-3))
    loss = tf.reduce_sum(y * y)
    fetches = [mean, var, y, tf.reduce_max(h, axis=[0, 2]), tf.reduce_min(h, axis=0), h * 2.0 + 1.0, loss]
    return w, fetches, loss


@pytest.mark.parametrize("batch", [1, 3, 17])
def test_cut_kernels_match_the_reference(small_chunks, batch):
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(batch)
        x = tf.placeholder(tf.float32, [None, 5, 7, 2])
        w, fetches, loss = _conv_batch_norm(x, rng)
        fetches.append(tf.gradients(loss, [w])[0])
        got, want, srcs = _compiled_and_reference(g, fetches, {x: rng.standard_normal((batch, 5, 7, 2)).astype(np.float32)})
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(b).max())))
    cut = [s for s in srcs if "claim(sync, 0)" in s]
    assert cut, "no kernel was cut into chunks"
    assert any("f[ch, j] = q" in s for s in cut), "no cut kernel reduced across dim 0"


def test_training_with_cut_kernels_keeps_variables_in_step(small_chunks):
    """Assign/Adam updates of a variable inside cut kernels: each element updated once a run."""
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(0)
        x = tf.placeholder(tf.float32, [None, 6, 6, 2])
        w = tf.Variable(rng.standard_normal((3, 3, 2, 4)).astype(np.float32) * 0.3)
        big = tf.Variable(rng.standard_normal((64, 8)).astype(np.float32))
        h = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        loss = tf.reduce_mean(tf.square(h)) + tf.reduce_sum(tf.square(big))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        feeds = {x: rng.standard_normal((4, 6, 6, 2)).astype(np.float32)}
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            for _ in range(3):
                sess.run(train, feeds)
            got = sess.run([w, big])
        prev = config.set_compile_mode("never")
        try:
            with tf.Session() as ref:
                ref.run(init)
                for _ in range(3):
                    ref.run(train, feeds)
                want = ref.run([w, big])
        finally:
            config.set_compile_mode(prev)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any("claim(sync, 0)" in s for s in _sources(sess))


def test_kernels_that_cannot_be_cut_keep_their_loop(small_chunks):
    """A full reduction, and a reduction that keeps dim 0 (rows of the result per image)."""
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(1)
        x = tf.placeholder(tf.float32, [None, 5, 5, 2])
        w = tf.Variable(rng.standard_normal((3, 3, 2, 3)).astype(np.float32))
        h = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        fetches = [tf.reduce_sum(h * 3.0), tf.reduce_sum(h - 1.0, axis=[1, 2, 3])]
        got, want, srcs = _compiled_and_reference(g, fetches, {x: rng.standard_normal((3, 5, 5, 2)).astype(np.float32)})
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
    assert not any("claim(sync, 0)" in s for s in srcs)
