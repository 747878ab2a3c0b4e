"""Chains of same-form kernels as one launch (compiler/chains.py): a long elementwise chain, cut by
``fuse`` into equal kernels, runs as one kernel looping over the parts, with the bits of separate
launches and the reference's values."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import chains, config
from jitgraph.compiler.schedule import KernelStep

pytestmark = pytest.mark.usefixtures("eager_strict")

F32 = np.float32


def _chain(x, n_tanh, side=None):
    """``y = tanh(y) * 1.01 + 0.01``, ``n_tanh`` times (fuse: four tanh a kernel); ``side(i, y)``
    after the i-th."""
    y, extra = x, []
    for i in range(n_tanh):
        y = tf.tanh(y) * 1.01 + 0.01
        if side is not None:
            extra += side(i, y)
    return y, extra


def _run(build, feed, mode="eager"):
    """Build a fresh graph and run its fetches twice under ``mode``: (values, the plan's steps)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, feed.shape, name="x")
        fetches = build(x)
        prev = config.set_compile_mode(mode)
        try:
            with tf.Session(graph=g) as sess:
                sess.run(fetches, {x: feed})
                values = sess.run(fetches, {x: feed})
                plan = next(iter(sess._plans._plans.values()))
                compiled = next(iter(plan.compiled.values()), None)
        finally:
            config.set_compile_mode(prev)
    return values, compiled


def _launches(compiled):
    return [s for s in compiled.steps if isinstance(s, KernelStep)]


@pytest.mark.parametrize("shape", [(37,), (6, 7), ()])
def test_a_long_chain_is_one_launch_with_the_bits_of_separate_launches(shape, monkeypatch):
    feed = np.random.default_rng(0).standard_normal(shape).astype(F32) * 3

    def build(x):
        return [_chain(x, 20)[0]]
    values, compiled = _run(build, feed)
    launches = _launches(compiled)
    assert len(launches) == 1 and len(launches[0].parts) == 5, [len(s.parts) for s in launches]
    assert "for jg_part in range(5):" in compiled.sources[0]
    ref, _ = _run(build, feed, "never")
    np.testing.assert_allclose(values[0], ref[0], rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(chains, "MIN_PARTS", 10 ** 9)
    apart, compiled_apart = _run(build, feed)
    assert len(_launches(compiled_apart)) == 5 and not any(s.parts for s in _launches(compiled_apart))
    np.testing.assert_array_equal(values[0], apart[0])


@pytest.mark.parametrize("how", ["fetched", "read by another op"])
def test_a_value_used_outside_the_chain_ends_it(how):
    """The output of the third kernel (after 12 tanh) is fetched, or reversed by a NumPy step: two
    chains of three parts, the first writing what the rest of the plan reads."""
    feed = np.linspace(-2, 2, 50, dtype=F32)

    def build(x):
        def side(i, y):
            if i != 11:
                return []
            return [y] if how == "fetched" else [tf.reverse(y, [0])]
        y, extra = _chain(x, 24, side)
        return [y] + extra
    values, compiled = _run(build, feed)
    launches = [s for s in _launches(compiled) if s.parts]
    assert [len(s.parts) for s in launches] == [3, 3]
    ref, _ = _run(build, feed, "never")
    for a, b in zip(values, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_short_runs_stay_separate_launches():
    feed = np.linspace(-2, 2, 50, dtype=F32)
    values, compiled = _run(lambda x: [_chain(x, 8)[0]], feed)
    assert len(_launches(compiled)) == 2 and not any(s.parts for s in _launches(compiled))


def test_a_strided_feed_starts_a_chain():
    """The chain's input arrives as a strided view (another Numba specialization of the kernel):
    the chain's own buffers are contiguous, and the values still match the reference."""
    base = np.random.default_rng(1).standard_normal(80).astype(F32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [40], name="x")
        y, _ = _chain(x, 16)
        with tf.Session() as sess:
            sess.run(y, {x: base[::2].copy()})
            got = sess.run(y, {x: base[::2]})
        prev = config.set_compile_mode("never")
        try:
            with tf.Session() as sess:
                want = sess.run(y, {x: base[::2]})
        finally:
            config.set_compile_mode(prev)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
