"""``kernels.denormals``: a run flushes denormals to zero as TF1's kernels do (FTZ: a tiny result is
0; DAZ: a tiny input counts as 0), and the caller's own NumPy keeps IEEE denormals around it."""

import platform
import threading

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.kernels import blas, denormals

pytestmark = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                                reason="FTZ/DAZ are MXCSR bits: x86-64 only (a no-op elsewhere)")

TINY = np.float32(1e-37)        # normal; TINY * 0.01 = 1e-39 is a denormal float32
DENORMAL = np.float32(1e-39)


def _caller_keeps_denormals():
    return TINY * np.float32(0.01) != 0 and DENORMAL + np.float32(0) != 0


def test_flush_and_restore_switch_the_calling_thread():
    flush, restore = denormals.pair()
    assert not denormals.flushing() and _caller_keeps_denormals()
    code = flush()
    try:
        assert denormals.flushing()
        assert TINY * np.float32(0.01) == 0              # FTZ
        assert DENORMAL + np.float32(0) == 0             # DAZ
        inner = flush()                                  # nested: nothing more to undo
        assert inner == 0
        restore(inner)
        assert denormals.flushing()
    finally:
        restore(code)
    assert not denormals.flushing() and _caller_keeps_denormals()


def test_a_run_flushes_like_tf1_and_leaves_the_caller_as_it_was(mode):
    # TF1 (2.21, compat.v1): x * 0.01 with x = [1e-37, 1e-39, 1] gives [0, 0, 0.01]; x + 0 gives 0
    # for the denormal 1e-39.
    x = tf.placeholder(tf.float32, [3])
    y = x * 0.01
    z = x + 0.0
    feed = {x: np.float32([1e-37, 1e-39, 1.0])}
    with tf.Session() as s:
        for _ in range(2):
            yv, zv = s.run([y, z], feed)
            np.testing.assert_array_equal(yv, np.float32([0, 0, 0.01]))
            np.testing.assert_array_equal(zv, np.float32([1e-37, 0, 1]))
            assert not denormals.flushing() and _caller_keeps_denormals()
        call = s.make_callable([y], feed_list=[x])
        np.testing.assert_array_equal(call(feed[x])[0], np.float32([0, 0, 0.01]))
        assert not denormals.flushing()


def test_a_failing_run_restores_the_callers_mode(mode):
    x = tf.placeholder(tf.float32, [2])
    y = tf.debugging.check_numerics(x * 0.01, "boom")
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="boom"):
            s.run(y, {x: np.float32([1.0, np.inf])})
    assert not denormals.flushing() and _caller_keeps_denormals()


def test_chunk_workers_flush_for_good():
    seen = []
    threads = blas.blas_threads()
    if threads < 2:
        pytest.skip("one BLAS thread: no chunk workers")
    blas._Blas.workers(threads)
    lock = threading.Lock()

    def work(j):
        with lock:
            seen.append((threading.current_thread().name, denormals.flushing()))
    blas._Blas.pool.submit(work, 0).result()
    assert seen and all(f for name, f in seen if name.startswith("jitgraph-conv"))
