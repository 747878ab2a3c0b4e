"""Compiler knobs, read from the environment once and settable in code.

``JITGRAPH_COMPILE``   ``lazy`` (default): a plan's first run for a feed signature uses the NumPy
                       reference executor, its second run compiles (one-off ``sess.run(v)`` and
                       initializers never pay Numba); ``eager``: compile on the first run;
                       ``never``: always the reference executor.
``JITGRAPH_BACKGROUND``  ``1`` (default): the lazy tier builds plans on a background thread while
                       runs use the reference executor; ``0``: it builds inside the second run.
``JITGRAPH_BUILD``     ``process`` (default): background builds compile in a compile process
                       (``build_worker.py``) and only load here; ``thread``: in the builder thread.
``JITGRAPH_COMPILE_PROCESSES``  how many compile processes one build shares its compiles among
                       (default: half the CPUs, 1 to 4).
``JITGRAPH_DEBUG``     1: pass timings, 2: + the IR after passes, 3: + generated source.
``JITGRAPH_PARALLEL_THRESHOLD``  kernels with at least this many elements use ``prange``.
``JITGRAPH_CACHE_DIR`` / ``JITGRAPH_CACHE``  the disk cache (see ``disk_cache.py``).

Threading layer: Numba's default OpenMP pool spin-waits after each parallel loop and starves
OpenBLAS on small machines (PERF.md: W6 16 ms → 5.7 ms). Before Numba first runs a parallel
kernel, ``ensure_threading`` sets ``OMP_WAIT_POLICY=passive`` unless the user set it or Numba's
threading layer cannot be OpenMP (``workqueue``, ``tbb``); the OpenMP layer stays, because it is
safe to call from several threads at once, unlike ``workqueue``.
"""

import os
import sys

_state = {
    "compile": os.environ.get("JITGRAPH_COMPILE", "lazy").strip().lower() or "lazy",
    "debug": int(os.environ.get("JITGRAPH_DEBUG", "0") or 0),
    "parallel_threshold": int(os.environ.get("JITGRAPH_PARALLEL_THRESHOLD", str(1 << 20))),
    "max_signatures": 8,
    "strict": os.environ.get("JITGRAPH_STRICT", "0") not in ("", "0"),
    "background": os.environ.get("JITGRAPH_BACKGROUND", "1") not in ("", "0"),
    "build_in": os.environ.get("JITGRAPH_BUILD", "process").strip().lower() or "process",
}
MODES = ("eager", "lazy", "never")


def compile_mode():
    return _state["compile"]


def set_compile_mode(mode):
    """``eager`` | ``lazy`` | ``never``; returns the previous mode."""
    if mode not in MODES:
        raise ValueError(f"compile mode must be one of {MODES}, got {mode!r}")
    prev, _state["compile"] = _state["compile"], mode
    return prev


def debug():
    return _state["debug"]


def set_debug(level):
    _state["debug"] = int(level)


def parallel_threshold():
    return _state["parallel_threshold"]


def set_parallel_threshold(n):
    _state["parallel_threshold"] = int(n)


def strict():
    """``JITGRAPH_STRICT=1``: a compile failure raises instead of falling back (for tests)."""
    return _state["strict"]


def set_strict(flag):
    prev, _state["strict"] = _state["strict"], bool(flag)
    return prev


def background():
    """Lazy tier: build plans on a background thread (default) instead of inside the second run."""
    return _state["background"]


def set_background(flag):
    prev, _state["background"] = _state["background"], bool(flag)
    return prev


def build_in():
    """Where background builds compile: ``process`` (a compile process beside this one, sharing
    the disk cache; the default) or ``thread`` (the builder thread itself)."""
    return _state["build_in"]


def set_build_in(where):
    if where not in ("process", "thread"):
        raise ValueError(f"build_in must be 'process' or 'thread', got {where!r}")
    prev, _state["build_in"] = _state["build_in"], where
    return prev


def max_signatures():
    """A plan that sees more feed signatures than this stays on the reference executor."""
    return _state["max_signatures"]


_threading_done = []


def ensure_threading():
    """Pick the threading behaviour before Numba's first parallel launch (see module doc)."""
    if _threading_done:
        return
    if _may_use_openmp():
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    _threading_done.append(True)


def _may_use_openmp():
    """Can Numba's threading layer be OpenMP? The layer Numba read at its import when it is
    imported (a ``NUMBA_THREADING_LAYER`` set after that changes nothing: a benchmark script that
    imported Numba first got OpenMP's spinning pool, P1's step 50 -> 66 ms), else the environment."""
    numba = sys.modules.get("numba")
    layer = getattr(getattr(numba, "config", None), "THREADING_LAYER", None) if numba else None
    if layer is None:
        layer = os.environ.get("NUMBA_THREADING_LAYER", "default")
    return layer.strip().lower() in ("default", "omp", "safe", "threadsafe", "forksafe", "")
