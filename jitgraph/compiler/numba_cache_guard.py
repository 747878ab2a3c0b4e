"""Numba's cache files of the kernel modules, hardened: where they live, deleting a function's or
a module's, and wrapping a dispatcher's cache so that a corrupt file costs a recompile, never a
crash (the rationale is in ``docs/disk-cache.md``). Used by ``disk_cache``."""

import contextlib
import glob
import logging
import os
import sys
import types
from pathlib import Path

from jitgraph.files import file_lock

_log = logging.getLogger("jitgraph.compiler.disk_cache")


def _bump(name):
    from jitgraph.compiler import disk_cache
    disk_cache._bump(name)


def _numba_cache_dirs(py_path: Path) -> list:
    """Directories where Numba may keep cache files for ``py_path``."""
    dirs = [py_path.parent / "__pycache__"]
    from numba.core import config
    from numba.core.caching import _CacheLocator

    if config.CACHE_DIR:
        sub = _CacheLocator.get_suitable_cache_subpath(str(py_path))
        dirs.insert(0, Path(config.CACHE_DIR) / sub)
    return dirs


def _purge_numba_files(py_path: Path) -> int:
    """Delete every Numba index/data file belonging to module ``py_path``."""
    n = 0
    stem = glob.escape(py_path.stem)
    for d in _numba_cache_dirs(py_path):
        for pattern in (f"{stem}.*.nbi", f"{stem}.*.nbc"):
            for f in glob.glob(os.path.join(glob.escape(str(d)), pattern)):
                with contextlib.suppress(OSError):
                    os.unlink(f)
                    n += 1
    return n


def _dispatchers(mod: types.ModuleType):
    """Numba dispatchers defined at the top level of ``mod``."""
    disp_mod = sys.modules.get("numba.core.dispatcher")
    if disp_mod is None:
        return []
    cls = disp_mod.Dispatcher
    return [v for v in vars(mod).values() if isinstance(v, cls)]


def _purge_function_files(cache) -> None:
    """Delete one function's .nbi and all its .nbc files."""
    cf = cache._cache_file
    index = cf._index_path
    pattern = glob.escape(index[: -len(".nbi")]) + ".*.nbc"
    for f in [index, *glob.glob(pattern)]:
        with contextlib.suppress(OSError):
            os.unlink(f)


def _guard_dispatcher(disp, lock_path) -> None:
    """Harden one dispatcher's Numba cache (per instance, nothing global).

    * ``load_overload``: a cache read that raises (corrupt/truncated/garbage
      ``.nbi``/``.nbc``) deletes the function's cache files and counts as a
      miss, so Numba recompiles.
    * ``save_overload``: runs under the module's inter-process lock, which
      makes Numba's unlocked read-modify-write of the index atomic between
      jitgraph processes (lazily compiled signatures included).
    """
    cache = getattr(disp, "_cache", None)
    if cache is None or getattr(cache, "_jg_guarded", False):
        return
    if not hasattr(cache, "_cache_file"):  # NullCache: cache=False
        return
    original_load = cache.load_overload
    original_save = cache.save_overload

    def load_overload(sig, target_context):
        try:
            return original_load(sig, target_context)
        except Exception as exc:
            _log.warning(
                "jitgraph: corrupt numba cache for %s (%s: %s); recompiling",
                cache._name, type(exc).__name__, exc,
            )
            _purge_function_files(cache)
            _bump("recoveries")
            return None

    def save_overload(sig, data):
        # Never let persisting break a compile that succeeded: a corrupt
        # index appearing since the load, a removed kernels dir
        # (clear_cache), a full disk ... only cost a later recompile.
        try:
            with file_lock(lock_path):
                return original_save(sig, data)
        except Exception as exc:
            _log.warning(
                "jitgraph: could not save numba cache for %s (%s: %s)",
                cache._name, type(exc).__name__, exc,
            )
            if os.path.exists(lock_path):
                _purge_function_files(cache)

    cache.load_overload = load_overload
    cache.save_overload = save_overload
    cache._jg_guarded = True


def _numba_cache_failure(exc: BaseException):
    """If ``exc`` was raised while Numba read its cache, return
    ``(True, cache)`` where ``cache`` is the failing per-function ``Cache``
    object when it can be found in the traceback (else ``None``); otherwise
    ``(False, None)``."""
    found, cache = False, None
    tb = exc.__traceback__
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if fn.endswith("numba/core/caching.py") or fn.endswith(
                "numba/core/serialize.py"):
            found = True
            obj = tb.tb_frame.f_locals.get("self")
            if cache is None and hasattr(obj, "_cache_file") and hasattr(
                    obj, "_impl"):
                cache = obj
        tb = tb.tb_next
    return found, cache
