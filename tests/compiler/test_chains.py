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


@pytest.mark.parametrize("shape", [(1000,), (37, 5)])
def test_a_long_chain_runs_in_chunks_of_rows_with_the_bits_of_one_launch(shape, monkeypatch):
    """Over ``SPLIT_MIN_NS`` a chain runs as one chunk of rows per thread (``run_split``): the rows
    of its input, output and a [37, 1] column are sliced, a [5] row broadcast over dim 0 and the
    scalars pass whole; every element runs the same code, so the values are the one launch's."""
    from jitgraph.compiler import chunked_kernels, runner
    from jitgraph.kernels import blas
    feed = np.random.default_rng(2).standard_normal(shape).astype(F32) * 3
    rows = feed.shape[0]
    calls = []

    def spy(kernel, args, sliced):
        calls.append([tuple(args[i].shape) for i in sliced])
        return chunked_kernels.run_split(kernel, args, sliced)

    def build(x):
        y = x
        col = tf.constant(np.linspace(-0.1, 0.1, rows, dtype=F32).reshape((rows,) + (1,) * (len(shape) - 1)))
        row = tf.constant(np.linspace(0.9, 1.1, shape[-1], dtype=F32)) if len(shape) > 1 else tf.constant(F32(1.01))
        for _ in range(20):
            y = tf.tanh(y) * row + col
        return [y]
    monkeypatch.setattr(runner, "run_split", spy)
    monkeypatch.setattr(blas, "blas_threads", lambda: 2)
    monkeypatch.setattr(chains, "SPLIT_MIN_NS", 10 ** 12)
    whole, _ = _run(build, feed)
    assert not calls
    monkeypatch.setattr(chains, "SPLIT_MIN_NS", 0)
    split, compiled = _run(build, feed)
    column = (rows,) + (1,) * (len(shape) - 1)
    assert calls and all(sorted(s) == sorted([shape, column, shape]) for s in calls), calls   # input, column, output
    assert len(_launches(compiled)) == 1
    np.testing.assert_array_equal(split[0], whole[0])
    ref, _ = _run(build, feed, "never")
    np.testing.assert_allclose(split[0], ref[0], rtol=1e-5, atol=1e-6)


def test_run_split_cuts_rows_in_vector_widths():
    """``run_split``: 1-d rows in multiples of ``SPLIT_ALIGN`` (the last chunk takes the rest),
    operands outside ``sliced`` whole; one thread runs the kernel once on everything."""
    from jitgraph.compiler import chunked_kernels
    from jitgraph.kernels import blas
    seen = []

    def kernel(a, k, out):
        seen.append((a.shape[0], k.shape[0]))
        out[:] = a * k[0]
    a, k = np.arange(1000, dtype=F32), np.array([2], F32)
    out = np.empty_like(a)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blas, "blas_threads", lambda: 3)
        chunked_kernels.run_split(kernel, (a, k, out), (0, 2))
    assert sorted(seen) == [(328, 1), (336, 1), (336, 1)]
    np.testing.assert_array_equal(out, a * 2)
    seen.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blas, "blas_threads", lambda: 1)
        chunked_kernels.run_split(kernel, (a, k, out), (0, 2))
    assert seen == [(1000, 1)]
