"""A compile process: background builds compile kernels here, into the shared disk cache.

Why a process: Numba's compile is mostly Python (typing, lowering), so a compile thread holds the
GIL much of the time and the training loop that keeps running on the reference executor meanwhile
slows down 2-5x (a 43 ms reference step of the C2 CNN took 90-400 ms beside a compile thread). A
second process compiles on the other core without touching the loop; when it is done, the
plan's build only *loads* the kernels from the disk cache (milliseconds each).

Protocol: the parent writes pickled requests to the child's stdin, one at a time, and reads one
pickled reply per request from its stdout (4-byte length prefix each way; both sides are this
module, so pickle carries only our own tuples):
  ``("kernel", source, [(dtype str, ndim), ...])`` compile a generated kernel for those argument
  types (``disk_cache.load_module`` writes the module file, Numba's ``cache=True`` the code);
  ``("warm", op_type, attrs, [array, ...])`` call that op's fast path once on those arguments
  (zeros, or the first run's shape and axis values), which compiles (and caches) its
  module-level Numba kernels;
  ``("loop", source, (numba type, ...))`` compile a native loop's module (``compiler/loops.py``)
  for the argument types of its first call;
each answered by ``("ok", seconds)`` or ``("error", message)``. A warm request that succeeded is
recorded as an empty file in the cache (``warmed/<warm_key>``), so later processes skip it: its
Numba functions are on disk then, and the builder's own warm-up only loads them.

``worker()`` returns the process's client, started on first use; None when the disk cache is off
(nothing could be shared) or the process cannot start: callers then compile in their own process.
"""

import atexit
import functools
import os
import pickle
import struct
import subprocess
import sys
import threading
import time

_lock = threading.Lock()
_client = []          # [Worker] once started, [None] if it could not be
_extra = []           # more compile processes for one build's independent requests (``workers``)


def worker():
    """The compile process's client (started on first call), or None."""
    from jitgraph.compiler import config
    from jitgraph.compiler.disk_cache import cache_dir, disk_kernels_dir
    if disk_kernels_dir() is None or config.build_in() != "process":
        return None
    with _lock:
        if not _client or (_client[0] is not None and not _client[0].alive()):
            try:
                _client[:] = [Worker(str(cache_dir()))]
            except OSError:
                _client[:] = [None]
        return _client[0]


def processes():
    """How many compile processes one build may use: ``JITGRAPH_COMPILE_PROCESSES``, else half the
    CPUs this process may use (the other half is the run's, which goes on beside the build), at
    least one, at most four. On a 2-core VM a second process finished P8's first build sooner
    (18.5 s against 22.9) but slowed the reference steps beside it (step 200 at 15.2 s against
    11.9), so two CPUs get one."""
    env = os.environ.get("JITGRAPH_COMPILE_PROCESSES", "").strip()
    if env:
        return max(1, int(env))
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus // 2))


def workers(n):
    """Up to ``n`` compile processes' clients, ``worker()`` first (the others started on first
    use); empty where ``worker()`` is None. A Numba compile is mostly Python, one core each: P8's
    first build asks 42 independent compiles (16 s in one process)."""
    first = worker()
    if first is None:
        return []
    from jitgraph.compiler.disk_cache import cache_dir
    with _lock:
        _extra[:] = [w for w in _extra if w.alive()]
        while len(_extra) < n - 1:
            try:
                _extra.append(Worker(str(cache_dir())))
            except OSError:
                break
        return [first] + _extra[:n - 1]


def warm_key(op_type, attrs, specs):
    """The name under which a ``warm`` request for ``op_type`` on inputs ``specs`` ((shape, dtype,
    value) each) is recorded: it covers this environment (``disk_cache``'s salt) and the size and
    time of every module of ``jitgraph.kernels`` and ``jitgraph.ops``, whose Numba functions' disk
    cache entries an edit invalidates."""
    import hashlib
    h = hashlib.sha256(_sources_stamp().encode())
    h.update(repr((op_type, sorted(attrs.items()), specs)).encode())
    return h.hexdigest()


def warmed(key):
    """Did a compile process warm that request (so its fast path's Numba functions are on disk)?"""
    d = _warmed_dir()
    return d is not None and (d / key).exists()


def mark_warmed(key):
    """Record that a compile process warmed that request (``warmed`` then says so)."""
    d = _warmed_dir()
    if d is not None:
        try:
            d.mkdir(exist_ok=True)
            (d / key).touch()
        except OSError:
            pass                          # a read-only cache: warm again next time


def _warmed_dir():
    from jitgraph.compiler.disk_cache import disk_kernels_dir
    kdir = disk_kernels_dir()
    return None if kdir is None else kdir / "warmed"


@functools.lru_cache(maxsize=None)
def _sources_stamp():
    """The environment's salt and the size and time of each ``kernels/`` and ``ops/`` module (once a process)."""
    from pathlib import Path

    from jitgraph.compiler.disk_cache import _salt
    root = Path(__file__).resolve().parent.parent
    files = sorted(p for pkg in ("kernels", "ops") for p in (root / pkg).glob("*.py"))
    return _salt() + repr([(p.name, st.st_size, st.st_mtime_ns) for p in files for st in [p.stat()]])


class Worker:
    """Client side: one request at a time (one thread of the background builder at a time)."""

    def __init__(self, cache):
        env = dict(os.environ, JITGRAPH_CACHE_DIR=cache, JITGRAPH_BUILD="thread")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self._proc = subprocess.Popen([sys.executable, "-m", "jitgraph.compiler.build_worker"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        atexit.register(self.close)

    def alive(self):
        return self._proc.poll() is None

    def request(self, *msg):
        """Send one request, wait for its reply; raises OSError if the process died."""
        try:
            _write(self._proc.stdin, msg)
            return _read(self._proc.stdout)
        except (OSError, EOFError, struct.error) as e:
            self.close()
            raise OSError(f"jitgraph compile process failed: {e}") from None

    def close(self):
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def _write(stream, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<I", len(data)) + data)
    stream.flush()


def _read(stream):
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError("compile process closed its pipe")
    (n,) = struct.unpack("<I", head)
    return pickle.loads(stream.read(n))   # noqa: S301 - our own child's tuples


# ---- the child ----------------------------------------------------------------------------------
def signature(arg_specs):
    """Numba argument types of ``[(dtype, ndim), ...]``: C-contiguous arrays; ndim None: an int64
    (a cut kernel's chunk count and role, ``chunked_kernels.py``)."""
    from numba import types
    from numba.np.numpy_support import from_dtype
    import numpy as np
    return tuple(types.int64 if ndim is None else types.Array(from_dtype(np.dtype(dt)), ndim, "C")
                 for dt, ndim in arg_specs)


def compile_module(mod, source, arg_specs, entry="kernel"):
    """Compile a kernel module's ``entry`` for ``arg_specs`` unless it is compiled already."""
    from jitgraph.compiler.disk_cache import compile_lock
    from jitgraph.compiler.llvm_tuning import tuned_for
    fn, sig = getattr(mod, entry), signature(arg_specs)
    if sig not in fn.overloads:
        with compile_lock(mod), tuned_for(source):
            fn.compile(sig)


def _compile_kernel(source, arg_specs):
    from jitgraph.compiler.disk_cache import load_module
    compile_module(load_module(source), source, arg_specs)


def loop_key(source, sig):
    """The name under which a native loop's module compiled for ``sig`` is recorded (``warmed``)."""
    import hashlib

    from jitgraph.compiler.disk_cache import module_key
    return "loop-" + hashlib.sha256((module_key(source) + repr(sig)).encode()).hexdigest()


def _compile_loop(source, sig):
    from jitgraph.compiler.disk_cache import compile_lock, load_module
    from jitgraph.compiler.llvm_tuning import tuned_for
    mod = load_module(source)
    if sig not in mod.loop.overloads:
        with compile_lock(mod), tuned_for(source):
            mod.loop.compile(sig)
    mark_warmed(loop_key(source, sig))


def _warm(op_type, attrs, args):
    import numpy as np

    import jitgraph  # noqa: F401  (registers the ops and their fast paths)
    from jitgraph.ops.registry import get_op_def
    fast = get_op_def(op_type).extra["fast"]
    with np.errstate(all="ignore"):
        fast(*args, **attrs)


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr     # stray prints must not corrupt the protocol
    while True:
        try:
            msg = _read(stdin)
        except EOFError:
            return
        t0 = time.perf_counter()
        try:
            {"kernel": _compile_kernel, "loop": _compile_loop, "warm": _warm}[msg[0]](*msg[1:])
            reply = ("ok", time.perf_counter() - t0)
        except Exception as e:   # noqa: BLE001 - reported to the parent, which compiles itself
            reply = ("error", f"{type(e).__name__}: {e}")
        _write(stdout, reply)


if __name__ == "__main__":
    main()
