"""Chunked BLAS work on all cores: ``run_chunks`` runs ``work(j)`` for every chunk j on one worker
per BLAS thread, each with single-threaded BLAS; ``scratch`` gives per-thread reusable buffers.

The conv kernels (im2col + GEMM, Winograd) and the fused matmul cut their work into L2-sized
chunks and run them here.
"""

import contextlib
import functools
import itertools
import os
import threading

import numpy as np

from jitgraph.kernels import denormals

FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Fewer chunks than this run on the calling thread: splitting two or three chunks of ~0.1 ms over
# the workers saved nothing and cost ~0.08 ms a call in wake-ups and hand-offs (the C2 CNN's step,
# whose 16 x 14x14 convs make 1-2 chunks: 2.43 ms with them split, 2.18 ms on one thread; P1's
# convs make 8-32 chunks and stay parallel).
MIN_PARALLEL_CHUNKS = 4
_local = threading.local()       # per-thread scratch buffers: two sessions may run at once


def scratch(rows, k, dtype, tag=""):
    """A per-thread [rows, k] buffer, reused across calls (``tag`` tells apart same-shaped buffers)."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    key = (rows, k, dtype, tag)
    buf = bufs.get(key)
    if buf is None:
        if len(bufs) > 16:
            bufs.clear()
        buf = bufs[key] = np.empty((rows, k), dtype)
    return buf


class _Blas:
    """Parallel chunk runner: ``workers`` threads (the BLAS's own thread count) claim chunks from a
    shared counter, each running single-threaded BLAS on an L2-sized chunk.

    Why not OpenBLAS's own threads on each chunk: a [256, 800] x [800, 32] sgemm takes ~0.2 ms, so
    a fork/join per chunk costs more than it gains, and on a shared 2-core box a descheduled BLAS
    worker stalls every call (measured: 2-thread chunks 1.4-3x *slower* than 1 thread under load).
    Claiming chunks dynamically means a starved helper thread costs at most one chunk.
    While chunks run, the BLAS is held at 1 thread (``owned``).
    """
    lock = threading.Lock()
    pool_lock = threading.Lock()
    ctl = None
    calls = []                # per controller: (get, set) of its thread count
    pool = None

    @classmethod
    def setup(cls):
        if cls.ctl is None:
            with cls.lock:
                if cls.ctl is None:
                    libs = []
                    try:
                        from threadpoolctl import ThreadpoolController
                        libs = [c for c in ThreadpoolController().lib_controllers
                                if c.user_api == "blas" and "numpy" in c.filepath.replace("\\", "/")]
                        libs = libs or [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
                    except Exception:
                        libs = []
                    cls.calls = [_openblas_calls(c) or (c.get_num_threads, c.set_num_threads) for c in libs]
                    cls.ctl = libs
        return cls.ctl

    @classmethod
    def counts(cls):
        """The thread count of each BLAS (``setup``'s controllers, in order)."""
        cls.setup()
        return [get() for get, _ in cls.calls]

    @classmethod
    def set_counts(cls, counts):
        """Set each BLAS (in ``counts``' order) to its count."""
        for (_, put), n in zip(cls.calls, counts):
            put(n)

    @classmethod
    def workers(cls, threads):
        """The chunk workers' pool, its threads steered off the calling thread's CPU (``_Steer``)."""
        if cls.pool is None:
            with cls.pool_lock:
                if cls.pool is None:
                    from jitgraph.kernels.workers import Workers
                    cls.pool = Workers(max(1, threads - 1), _start_worker, "jitgraph-conv")
        _Steer.away_from_caller()
        return cls.pool

    @classmethod
    def run(cls, nchunks, work, min_parallel=MIN_PARALLEL_CHUNKS):
        """Call ``work(j)`` for j in range(nchunks), in parallel when the BLAS has >1 thread."""
        if nchunks > 1 and threading.current_thread() is not threading.main_thread():
            from jitgraph.kernels import side_steps
            if side_steps.offer(nchunks, work):    # a side step's chunks, shared with its joiner
                return
        if nchunks < min_parallel:     # a few chunks run here (see MIN_PARALLEL_CHUNKS)
            for j in range(nchunks):
                work(j)
            return
        with owned() as threads:
            if threads <= 1 or not cls.lock.acquire(blocking=False):   # one parallel conv at a time
                for j in range(nchunks):
                    work(j)
                return
            try:
                cls.workers(threads)
                counter = itertools.count()

                def worker():
                    for j in counter:
                        if j >= nchunks:
                            return
                        work(j)
                futs = []
                try:
                    futs = [cls.pool.submit(worker) for _ in range(min(threads, nchunks) - 1)]
                    cls.pool.entering_native()
                    worker()
                finally:
                    for f in futs:     # a helper not started (the worker runs a side step) is dropped
                        if not f.cancel():
                            f.result()
            finally:
                cls.lock.release()


class _Steer:
    """Keeps the chunk workers off the CPU of the thread that hands them work.

    Why: after the process sat idle for a few milliseconds, Linux woke the worker on the CPU of
    the thread that woke it, though the other CPU was idle (in a VM an idle vCPU reads as
    preempted, and the wake-up placement skips it), and the two then shared one core for the
    whole run: W6 (two 5x5 convs on the chunk workers) 1.9 ms back to back, 3.4-3.6 ms after a
    20-50 ms pause, both threads seen on one CPU. Before work is queued, each worker's affinity
    becomes the caller's allowed CPUs minus the one it runs on (one ``sched_getcpu`` a call,
    0.15 us; ``sched_setaffinity`` only when that CPU changed), so the scheduler must wake the
    worker elsewhere: W6 after a 50 ms pause 3.58 -> 2.02 ms. With a CPU-bound process beside it
    W6 measured 3.2-4.6 ms unsteered, 2.5-3.0 steered, and 2.9-3.9 when a thread that waited
    5 ms for a worker let it onto its own CPU again (so workers stay steered). Linux only; a
    no-op where the calls are missing, fail, or the process may use one CPU only."""
    tids = []                 # native ids of the chunk workers
    cpu = None                # the CPU they were last steered away from
    getcpu = None

    @classmethod
    def register(cls):
        cls.tids.append(threading.get_native_id())
        cls.cpu = None        # steer the new worker at the next hand-off

    @classmethod
    def away_from_caller(cls):
        if cls.getcpu is None:
            cls.getcpu = _libc_getcpu()
        if cls.getcpu is False or not cls.tids:
            return
        cpu = cls.getcpu()
        if cpu == cls.cpu:
            return
        cls.cpu = cpu
        try:
            rest = os.sched_getaffinity(0) - {cpu}
            if rest:
                for tid in list(cls.tids):
                    os.sched_setaffinity(tid, rest)
        except OSError:
            cls.getcpu = False


def _openblas_calls(c):
    """``(get, set)`` of an OpenBLAS controller's thread count as the library's own C functions,
    called without releasing the GIL (threadpoolctl's methods cost ~4 us of Python a call and
    release it, and a plan that runs ``owned`` makes three a run), or None (then its methods are
    used): not OpenBLAS, OpenMP-threaded, or the symbols not found under the names OpenBLAS builds
    use."""
    if getattr(c, "internal_api", None) != "openblas" or getattr(c, "threading_layer", None) == "openmp":
        return None
    try:
        import ctypes
        lib = ctypes.PyDLL(c.filepath)      # the loaded library; its calls keep the GIL (``_libc_getcpu``)
    except (OSError, AttributeError, TypeError):
        return None
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                return get, put
    return None


def _start_worker():
    """A chunk worker's first act: steered (``_Steer``), denormals flushed for good (as in a run)."""
    denormals.flush_this_thread()
    _Steer.register()


def _libc_getcpu():
    """libc's ``sched_getcpu`` (the calling thread's CPU), or False where it or the affinity calls are
    missing. Called through ``ctypes.PyDLL``, which keeps the GIL: a ``CDLL`` call releases it, and
    a chunk worker waiting for the GIL took it there and ran its Python first (the call measured
    6 us inside the C2 CNN's step, 0.3 us alone)."""
    if not hasattr(os, "sched_setaffinity"):
        return False
    try:
        import ctypes
        fn = ctypes.PyDLL(None).sched_getcpu
        fn.restype, fn.argtypes = ctypes.c_int, []
        return fn if fn() >= 0 else False
    except (OSError, AttributeError):
        return False


class _Owner:
    """The thread holding the BLAS at one thread (``owned``), how deep, and the count it found."""
    lock = threading.Lock()
    thread = None
    depth = 0
    threads = 1


@contextlib.contextmanager
def owned():
    """Hold the BLAS at one thread and give jitgraph's own threads the cores it had; yields that
    thread count (the chunk workers' number).

    Why: after a multi-threaded call OpenBLAS's worker threads spin-wait for ~2^28 cycles (~0.1 s)
    for the next one.  On P1's training step (convs on the chunk workers, a 3136 -> 1024 dense
    layer by 2-thread OpenBLAS) that spinning thread took 67 ms of CPU in a 76 ms step, a core
    the convs' chunk workers then shared: the 1 -> 32 conv and its filter gradient ran 2-4x slower
    than alone.  Plans with such kernels run inside ``owned`` (``own_threads``), and their large
    GEMMs go to the chunk workers in blocks (``kernels.matmul.gemm``).

    One thread owns at a time; its nested blocks only count.  Another thread's block meanwhile
    changes nothing: with OpenBLAS 0.3.31 a count set by one thread was ignored when set by another
    while the first was alive (the BLAS stayed at 1 thread), so the thread that sets 1 restores.

    Only the main thread sets the count; elsewhere this yields 1 (the chunks run on the calling
    thread).  OpenBLAS 0.3.31 ignores a count set from another thread, and while such a thread
    lives it ignores the main thread's too: the background builder warming a conv step set it
    once, and from then on every run left OpenBLAS at 2 threads, its worker spinning through the
    steps (P8, the batch-norm CNN, 19 -> 16.5 ms a step without it)."""
    if threading.current_thread() is not threading.main_thread():
        yield 1
        return
    me = threading.get_ident()
    with _Owner.lock:
        mine = _Owner.thread in (None, me)
        if _Owner.thread is None:
            _Owner.threads = min(_Blas.counts() or [1])
            if _Owner.threads > 1:
                _Blas.set_counts([1] * len(_Blas.calls))
            _Owner.thread = me
        if mine:
            _Owner.depth += 1
        threads = _Owner.threads
    try:
        yield threads
    finally:
        if mine:
            with _Owner.lock:
                _Owner.depth -= 1
                if _Owner.depth == 0:
                    _Owner.thread = None
                    if _Owner.threads > 1:
                        _Blas.set_counts([_Owner.threads] * len(_Blas.calls))


@contextlib.contextmanager
def spare_core(cores=1):
    """Hold the BLAS at ``cores`` threads fewer than it has (at least one) for the block, on the
    main thread when no thread ``owned`` it: a reference run beside a background build leaves a
    core to each compile process. (A cold start of P1 on two cores: the compiled steps began after
    15.6-15.8 s instead of 21.9-22.4 s, and the reference steps before them ran faster too, the
    BLAS's second thread no longer fighting the compiler for the core.)"""
    if threading.current_thread() is not threading.main_thread() or _Owner.thread is not None:
        yield
        return
    counts = _Blas.counts()
    _Blas.set_counts([max(1, n - cores) for n in counts])
    try:
        yield
    finally:
        _Blas.set_counts(counts)


def is_owned():
    """Whether some thread holds the BLAS at one thread (``owned``) now."""
    return _Owner.thread is not None


def own_threads(run):
    """``run(state, feeds)`` of a plan whose kernels run on several threads, wrapped in ``owned``."""
    def run_owned(state, feeds):
        with owned():
            return run(state, feeds)
    run_owned.__wrapped__ = run
    return run_owned


def _after_fork():
    _Blas.pool = None                 # the pool's threads do not exist in a forked child
    _Steer.tids, _Steer.cpu = [], None
    _Blas.lock = threading.Lock()
    _Owner.lock = threading.Lock()
    _Owner.depth, _Owner.thread = 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def lend(fn, *args, most=None):
    """Call ``fn(*args)`` once on each chunk worker (one fewer than the BLAS's threads; at most
    ``most``) without waiting for it: ``fn`` shares its work with the caller's own call through
    counters in ``args`` (``compiler/chunked_kernels.py``), so a worker that starts late finds
    nothing left to do. Returns how many calls were queued."""
    threads = blas_threads()
    lent = min(threads - 1, threads if most is None else most)
    if lent > 0:
        pool = _Blas.workers(threads)
        for _ in range(lent):
            pool.post(fn, *args)
        pool.entering_native()      # the caller's own call of ``fn`` follows
    return max(lent, 0)


def lent_slots(nchunks):
    """How many threads a lent native call (``run_lent``) of ``nchunks`` chunks may run on: the
    scratch slots to give it."""
    return max(1, min(blas_threads(), nchunks))


def run_lent(kernel, args, slots):
    """``kernel(*args, 1)`` here and ``kernel(*args, 0)`` on ``slots - 1`` other threads, which share
    its chunks through counters in ``args`` (``winograd_jit.conv_chunks``): the chunk workers, or,
    when this thread runs a side step, the plan thread that joins it (``side_steps.offer_call``).
    The lead call (lead = 1) returns when every chunk is done."""
    hold_numba_blas()
    if slots > 1:
        from jitgraph.kernels import side_steps
        if threading.current_thread() is not threading.main_thread() and side_steps.offer_call(kernel, args):
            return
        lend(kernel, *args, 0, most=slots - 1)
    kernel(*args, 1)


def entering_native():
    """The calling thread enters native code now: a chunk worker waiting for that to take the GIL
    does (``workers.Workers.entering_native``)."""
    if _Blas.pool is not None:
        _Blas.pool.entering_native()


def submit(fn, *args):
    """Queue ``fn(*args)`` for a chunk worker without waiting; False (nothing queued) when the BLAS
    has one thread, so there is no worker."""
    threads = blas_threads()
    if threads <= 1:
        return False
    _Blas.workers(threads).post(fn, *args)
    return True


def run_chunks(nchunks, work, min_parallel=MIN_PARALLEL_CHUNKS):
    """Call ``work(j)`` for j in range(nchunks), in parallel when the BLAS has more than one thread
    and there are at least ``min_parallel`` chunks (fewer run on the calling thread)."""
    _Blas.run(nchunks, work, min_parallel)


# The BLAS that np.dot calls in Numba code (SciPy's, not NumPy's) is set to one thread when the
# first native loop or Winograd chunk runs (their threads split the work: ``compiler/loop_runner``'s
# helpers, ``run_lent``): their matmuls are small ([32, 192] x [192, 512] in W7, [32, C] x [C, F]
# per Winograd point), and a multi-threaded OpenBLAS forks and joins on every call; on a shared
# 2-core machine that made W7's step 1.4 s instead of 57 ms. ``JITGRAPH_LOOP_BLAS_THREADS`` sets
# the count (0: leave that BLAS as it is).
NUMBA_BLAS_THREADS = int(os.environ.get("JITGRAPH_LOOP_BLAS_THREADS", "1"))
_numba_blas = []


def hold_numba_blas():
    """Set the BLAS of Numba-compiled ``np.dot`` to ``NUMBA_BLAS_THREADS``, once per process, from
    the main thread; returns its threadpoolctl controllers ([] before that).

    OpenBLAS ignores a count set from another thread, and the main thread's after it while that
    thread lives (``owned``, where NumPy's BLAS stayed at 2 threads that way): a loop or conv first
    run by the background builder or a chunk worker must not set it. The main thread's first does."""
    if not _numba_blas and threading.current_thread() is not threading.main_thread():
        return []
    if not _numba_blas:
        libs = []
        if NUMBA_BLAS_THREADS > 0:
            try:
                from threadpoolctl import ThreadpoolController
                libs = [c for c in ThreadpoolController().lib_controllers
                        if c.user_api == "blas" and "scipy" in c.filepath.replace("\\", "/").split("/")[-2]]
            except Exception:   # noqa: BLE001 - threadpoolctl is optional
                libs = []
        for c in libs:   # once: switching OpenBLAS's thread count per call costs more than it saves
            c.set_num_threads(NUMBA_BLAS_THREADS)
        _numba_blas.append(libs)
    return _numba_blas[0]


@functools.cache
def numba_can_call_blas():
    """Can Numba-compiled code call ``np.dot``?  Numba calls SciPy's BLAS
    (``scipy.linalg.cython_blas``), a dependency of jitgraph.  Without SciPy a kernel calling it
    fails to compile, and one loaded from a disk cache that an environment with SciPy wrote
    aborts the process; so the native loops leave their matmuls to NumPy instead."""
    try:
        import scipy.linalg.cython_blas  # noqa: F401
    except ImportError:
        return False
    return True


def blas_threads():
    """The BLAS's thread count (1 when threadpoolctl cannot tell); inside ``owned``, the count
    it had before."""
    if _Owner.thread is not None:
        return _Owner.threads
    return min(_Blas.counts() or [1])

