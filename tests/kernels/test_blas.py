"""``kernels.blas``: ``owned`` holds the BLAS at one thread for jitgraph's own threads (nested and
concurrent blocks share one count), and ``matmul.gemm`` runs blocks on the workers inside it."""

import contextlib
import threading

import numpy as np
import pytest

from jitgraph.kernels import blas, matmul


def _live_threads():
    return min([c.get_num_threads() for c in blas._Blas.setup()] or [1])


@contextlib.contextmanager
def _blas_threads(n):
    """The BLAS at ``n`` threads for the block (the test skips where threadpoolctl finds none)."""
    libs = blas._Blas.setup()
    if not libs:
        pytest.skip("threadpoolctl finds no BLAS here")
    before = _live_threads()
    for c in libs:
        c.set_num_threads(n)
    try:
        yield
    finally:
        for c in libs:
            c.set_num_threads(before)


@pytest.fixture
def two_blas_threads():
    with _blas_threads(2):
        yield


def test_owned_holds_one_thread_and_restores(two_blas_threads):
    assert not blas.is_owned() and blas.blas_threads() == 2
    with blas.owned() as threads:
        assert threads == 2 and blas.is_owned()
        assert _live_threads() == 1 and blas.blas_threads() == 2    # the workers keep the cores' count
        with blas.owned() as inner:                                 # nested: no change, one count
            assert inner == 2 and _live_threads() == 1
        assert _live_threads() == 1 and blas.is_owned()
    assert not blas.is_owned() and _live_threads() == 2


def test_owned_restores_after_an_error(two_blas_threads):
    with pytest.raises(ZeroDivisionError):
        with blas.owned():
            1 / 0
    assert not blas.is_owned() and _live_threads() == 2


def test_spare_core_holds_one_thread_fewer_and_restores(two_blas_threads):
    with blas.spare_core():
        assert _live_threads() == 1 and not blas.is_owned()
        with pytest.raises(ZeroDivisionError):
            with blas.spare_core():        # nested: one fewer than it found, at least one
                assert _live_threads() == 1
                1 / 0
        assert _live_threads() == 1
    assert _live_threads() == 2


def test_spare_core_leaves_a_core_to_each_compile_process():
    with _blas_threads(4):
        with blas.spare_core(2):
            assert _live_threads() == 2
        with blas.spare_core(8):               # at least one
            assert _live_threads() == 1
        assert _live_threads() == 4


def test_spare_core_changes_nothing_off_the_main_thread_or_when_owned(two_blas_threads):
    seen = []

    def other():
        with blas.spare_core():
            seen.append(_live_threads())
    t = threading.Thread(target=other)
    t.start()
    t.join()
    with blas.owned():
        with blas.spare_core():
            seen.append(_live_threads())
    assert seen == [2, 1] and _live_threads() == 2


def test_a_second_thread_changes_nothing_and_the_owner_restores(two_blas_threads):
    """The main thread and another overlap (main enters, B enters, main leaves, B leaves): B gets
    one thread (its chunks run on it) and changes nothing; main, which set one thread, restores
    two when it leaves, B still inside.  (Only the main thread sets the count: in P8's process a
    count once set from the background builder left every later run's BLAS at two threads.)"""
    b_in, main_out = threading.Event(), threading.Event()
    seen = {}

    def b():
        with blas.owned() as n:
            seen["b"] = n
            b_in.set()
            main_out.wait(5)
        seen["after_b"] = _live_threads()
    t = threading.Thread(target=b)
    with blas.owned() as n:
        seen["main"], seen["main_live"] = n, _live_threads()
        t.start()
        b_in.wait(5)
    seen["after_main"] = _live_threads()
    main_out.set()
    t.join(10)
    assert seen == {"main": 2, "main_live": 1, "b": 1, "after_main": 2, "after_b": 2}
    assert not blas.is_owned()


def test_gemm_in_owned_runs_blocks_on_the_workers(two_blas_threads, monkeypatch):
    calls = []
    run = blas.run_chunks
    monkeypatch.setattr(blas, "run_chunks", lambda n, work, least=2: (calls.append((n, least)), run(n, work, least)))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((128, 600)).astype(np.float32)
    b = rng.standard_normal((300, 600)).astype(np.float32)
    out = np.empty((128, 300), np.float32)
    matmul.gemm(a, b.T, out)
    assert calls == []                                    # outside: one BLAS call, its own threads
    with blas.owned():
        matmul.gemm(a, b.T, out)
    assert calls and calls[0][0] >= calls[0][1] >= 2     # enough blocks to run in parallel
    np.testing.assert_allclose(out, a @ b.T, rtol=0, atol=4e-6 * np.sqrt(600) * np.abs(a @ b.T).max())


def test_chunk_workers_are_steered_off_the_callers_cpu(two_blas_threads):
    """Work is handed to a worker only after its affinity excludes the caller's CPU (so a
    wake-up cannot put both threads on one core)."""
    import os
    if not blas._libc_getcpu() or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs Linux's sched_getcpu and at least two usable CPUs")
    blas._Blas.workers(2).submit(lambda: None).result()     # the worker exists and is registered
    assert blas._Steer.tids
    blas._Blas.workers(2)
    away = blas._Steer.cpu
    allowed = os.sched_getaffinity(0)
    assert away in allowed
    for tid in blas._Steer.tids:
        assert os.sched_getaffinity(tid) == allowed - {away}
    blas._Steer.cpu = None                                   # the caller "moved": steered again
    blas._Blas.workers(2)
    assert blas._Steer.cpu is not None


def test_only_the_main_thread_sets_the_numba_blas(monkeypatch):
    """SciPy's BLAS (what ``np.dot`` calls in native loops and Winograd chunks) is set to one thread
    by the main thread's first use; another thread (the background builder, a chunk worker) never
    sets it, since OpenBLAS ignores a count set there and, while that thread lives, the main
    thread's too."""
    monkeypatch.setattr(blas, "_numba_blas", [])
    calls = []

    class Lib:
        user_api, filepath = "blas", "/site-packages/scipy.libs/libscipy_openblas.so"

        def set_num_threads(self, n):
            calls.append((threading.current_thread() is threading.main_thread(), n))

    class Controller:
        lib_controllers = [Lib()]
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr("threadpoolctl.ThreadpoolController", Controller)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("other", blas.hold_numba_blas()))
    t.start()
    t.join(10)
    assert got["other"] == [] and calls == [] and blas._numba_blas == []
    libs = blas.hold_numba_blas()
    assert len(libs) == 1 and calls == [(True, blas.NUMBA_BLAS_THREADS)]
    assert blas.hold_numba_blas() is libs and len(calls) == 1       # once per process


def test_native_loops_and_winograd_leave_the_chunk_workers_their_threads():
    """Holding Numba's BLAS at one thread leaves NumPy's count, which says how many chunk workers
    there are, as it was."""
    before = blas.blas_threads()
    blas.hold_numba_blas()
    assert blas.blas_threads() == before


def test_thread_counts_and_cpu_queries_keep_the_gil():
    """OpenBLAS's thread count and ``sched_getcpu`` are read through ``ctypes.PyDLL`` functions,
    which keep the GIL (a ``CDLL`` call lets a waiting chunk worker take it), and read what
    threadpoolctl reads."""
    import ctypes
    libs = blas._Blas.setup()
    if not libs:
        pytest.skip("threadpoolctl finds no BLAS here")
    assert blas._Blas.counts() == [c.get_num_threads() for c in libs]
    openblas = [calls for c, calls in zip(libs, blas._Blas.calls) if c.internal_api == "openblas"
                and c.threading_layer != "openmp"]
    for get, put in openblas:
        assert get._flags_ & ctypes._FUNCFLAG_PYTHONAPI and put._flags_ & ctypes._FUNCFLAG_PYTHONAPI
    getcpu = blas._libc_getcpu()
    if getcpu:
        assert getcpu._flags_ & ctypes._FUNCFLAG_PYTHONAPI and getcpu() >= 0
