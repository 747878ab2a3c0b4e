"""On-disk cache for generated Numba kernel modules.

The code generator produces the *full source text* of a small Python module
(imports: ``numpy``, ``math``, ``numba`` only) whose functions carry literal
``@numba.njit(cache=True, ...)`` decorators.  :func:`load_module` turns that
text into a live module whose compiled machine code survives the process:

1. ``key = sha256(source, CODEGEN_VERSION, numba, llvmlite, sys.version,
   platform.machine())``; the module is named ``jg_<key[:32]>`` and written to
   ``<cache_dir()>/kernels/jg_<key[:32]>.py``.
2. The file is written atomically (unique temp file in the same directory,
   ``fsync``, ``os.replace``) unless it already holds exactly ``source``.  A
   file whose bytes differ (e.g. a truncated write from another tool or a
   crash of an older writer) is rewritten the same way.
3. The module is created with ``importlib.util.spec_from_file_location`` and
   **registered in ``sys.modules`` before its body runs**.  Without that,
   Numba pickles the function environment under the module name
   ``<dynamic>`` and a later process crashes loading it
   (``numba/core/environment.py:_rebuild_env``).  The body is compiled from
   the in-memory ``source`` (whose bytes were just verified to equal the file)
   with ``co_filename`` = the file path, instead of ``loader.exec_module``:
   this skips the ``.pyc`` (whose mtime-in-seconds check could serve a stale
   corrupt version after a same-size rewrite) and any read-after-verify race.
   Numba's locator then finds the real file, stamps its index with the file's
   sha256 and writes ``.nbi``/``.nbc`` into ``kernels/__pycache__/`` (or
   under ``$NUMBA_CACHE_DIR`` when that is set).
4. An in-process memo ``(kernels dir, key) -> module`` makes a kernel shared
   by several plans load once.  Everything is thread-safe (a global lock for
   the memo plus one lock per key, so unrelated kernels load concurrently).

Corruption handling, inter-process locking, fork safety and ``JITGRAPH_CACHE=0`` are explained
in ``docs/disk-cache.md``.

Numba is imported lazily, inside the functions: importing this module (and
``jitgraph``) never imports numba.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import linecache
import logging
import os
import re
import shutil
import sys
import threading
import types
from pathlib import Path

from jitgraph.compiler.numba_cache_guard import (_dispatchers, _guard_dispatcher, _numba_cache_failure,
                                                 _purge_function_files, _purge_numba_files)
from jitgraph.files import atomic_write, file_lock

__all__ = [
    "CODEGEN_VERSION",
    "cache_dir",
    "cache_enabled",
    "kernels_dir",
    "module_key",
    "load_module",
    "compile_lock",
    "clear_cache",
    "cache_stats",
    "reset_stats",
]

#: Version of the code generator's output semantics.  Bump when the code
#: generator's output semantics change (emitters, helper semantics, flag
#: conventions): it is part of every kernel's hash, so old cache entries are
#: simply never looked up again.
CODEGEN_VERSION = "3"   # 3: loop matmuls call kernels.loop_gemm.shared_dot

_log = logging.getLogger(__name__)

_lock = threading.Lock()  # guards _memo, _key_locks, _stats
_memo: dict = {}  # (kernels dir str | None, key) -> module
_key_locks: dict = {}  # (kernels dir str | None, key) -> threading.Lock
_version_salt: str | None = None

_STAT_NAMES = (
    "memory_hits",  # load_module answered from the in-process memo
    "disk_loads",  # .py was already on disk with identical content
    "writes",  # .py was written (new kernel)
    "rewrites",  # .py existed with wrong content and was rewritten
    "memory_loads",  # cache disabled / unwritable: compiled in memory
    "recoveries",  # corrupt numba cache files deleted and recompiled
)
_stats = dict.fromkeys(_STAT_NAMES, 0)

_CACHE_TRUE_RE = re.compile(r"\bcache\s*=\s*True\b")
_FALSY = {"0", "false", "no", "off"}


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


def cache_enabled() -> bool:
    """False when ``$JITGRAPH_CACHE`` is ``0``/``false``/``no``/``off``."""
    return os.environ.get("JITGRAPH_CACHE", "1").strip().lower() not in _FALSY


def cache_dir() -> Path:
    """Root cache directory (read from the environment on every call).

    ``$JITGRAPH_CACHE_DIR`` if set and non-empty, else
    ``$XDG_CACHE_HOME/jitgraph`` or ``~/.cache/jitgraph``.
    """
    env = os.environ.get("JITGRAPH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "jitgraph"


def kernels_dir() -> Path:
    """Directory holding the ``jg_<hash>.py`` kernel modules."""
    return cache_dir() / "kernels"


def disk_kernels_dir() -> Path | None:
    """The absolute kernels directory to load from and write to, or None: the cache is off, or a
    directory it involves is not one the user owns alone (``cache_trust``; warned once)."""
    if not cache_enabled():
        return None
    from jitgraph.compiler.cache_trust import trusted
    root = Path(os.path.abspath(cache_dir()))
    kdir = root / "kernels"
    numba_dir = [os.environ["NUMBA_CACHE_DIR"]] if os.environ.get("NUMBA_CACHE_DIR") else []
    if not trusted(root, kdir, kdir / "__pycache__", root=root) or not trusted(*numba_dir):
        return None
    return kdir


def _salt() -> str:
    global _version_salt
    if _version_salt is None:
        import platform

        _version_salt = "\0".join(
            (CODEGEN_VERSION, _version("numba"), _version("llvmlite"),
             sys.version, platform.machine())
        )
    return _version_salt


def _version(dist: str) -> str:
    """The installed version of ``dist``, read from its metadata: no import (numba's takes 0.3 s,
    and the tiering policy asks for keys before anything needs numba itself)."""
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:   # pragma: no cover - a source checkout of numba
        return __import__(dist).__version__


def module_key(source: str) -> str:
    """Full sha256 hex digest identifying ``source`` in this environment."""
    h = hashlib.sha256(source.encode("utf-8"))
    h.update(b"\0")
    h.update(_salt().encode("utf-8"))
    return h.hexdigest()


# --------------------------------------------------------------------------
# stats
# --------------------------------------------------------------------------


def cache_stats() -> dict:
    """Session counters (see ``_STAT_NAMES``) plus Numba's own totals.

    ``numba_cache_hits`` / ``numba_cache_misses`` sum
    ``dispatcher.stats.cache_hits/misses`` over every dispatcher of the
    modules currently memoized (a miss means Numba compiled that signature).
    """
    with _lock:
        out = dict(_stats)
        mods = list(_memo.values())
    hits = misses = 0
    for mod in mods:
        for disp in _dispatchers(mod):
            st = disp.stats
            hits += sum(st.cache_hits.values())
            misses += sum(st.cache_misses.values())
    out["numba_cache_hits"] = hits
    out["numba_cache_misses"] = misses
    out["modules"] = len(mods)
    return out


def reset_stats() -> None:
    with _lock:
        for k in _stats:
            _stats[k] = 0


def _bump(name: str) -> None:
    with _lock:
        _stats[name] += 1


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def _ensure_file(path: Path, data: bytes) -> None:
    """Make ``path`` hold exactly ``data``; count load/write/rewrite."""
    try:
        with open(path, "rb") as f:
            current = f.read()
    except FileNotFoundError:
        current = None
    if current == data:
        _bump("disk_loads")
        return
    atomic_write(path, [data])
    if current is None:
        _bump("writes")
    else:
        _log.warning("jitgraph: kernel file %s was corrupt; rewritten", path)
        _bump("rewrites")


@contextlib.contextmanager
def compile_lock(module: types.ModuleType):
    """Inter-process lock for compiling more signatures of a cached module.

    Use around ``dispatcher.compile(sig)`` calls on functions of a module
    returned by :func:`load_module` so that concurrent processes compile a
    given signature once (the others then load it from Numba's cache).  Cache
    *saves* are locked anyway; this only avoids duplicate compile work.
    Re-entrant; a no-op for in-memory modules.
    """
    path = getattr(module, "__file__", None)
    if not path or not module.__name__.startswith("jg_") or \
            module.__name__.startswith("jg_mem_"):
        yield
        return
    with file_lock(Path(path).with_suffix(".lock")):
        yield


def _exec_module(name: str, source: str, filename: str,
                 spec=None) -> types.ModuleType:
    """Create module ``name``, register it in sys.modules, run ``source``."""
    if spec is not None:
        mod = importlib.util.module_from_spec(spec)
    else:
        mod = types.ModuleType(name)
        mod.__file__ = filename
    code = compile(source, filename, "exec", dont_inherit=True)
    if spec is None:  # keep tracebacks/inspect working without a file
        lines = source.splitlines(keepends=True)
        linecache.cache[filename] = (len(source), None, lines, filename)
    sys.modules[name] = mod  # must precede execution (numba env pickling)
    try:
        exec(code, mod.__dict__)
    except BaseException:
        if sys.modules.get(name) is mod:
            del sys.modules[name]
        raise
    return mod


def _load_in_memory(source: str, key: str) -> types.ModuleType:
    name = f"jg_mem_{key[:32]}"
    src = _CACHE_TRUE_RE.sub("cache=False", source)
    mod = _exec_module(name, src, f"<jitgraph-kernel {name}>")
    _bump("memory_loads")
    return mod


def _load_from_disk(source: str, key: str, kdir: Path) -> types.ModuleType:
    name = f"jg_{key[:32]}"
    path = kdir / f"{name}.py"
    data = source.encode("utf-8")
    kdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = kdir / f"{name}.lock"
    with file_lock(lock_path):
        _ensure_file(path, data)
        spec = importlib.util.spec_from_file_location(name, path)
        try:
            mod = _exec_module(name, source, str(path), spec)
        except Exception as exc:
            found, cache = _numba_cache_failure(exc)
            if not found:
                raise
            # An eager compile hit a corrupt .nbi/.nbc: drop the failing
            # function's files (all of the module's if it cannot be told
            # apart) and run the module body once more.
            _log.warning(
                "jitgraph: corrupt numba cache for %s (%s: %s); recompiling",
                path, type(exc).__name__, exc,
            )
            del exc
            if cache is not None:
                _purge_function_files(cache)
            else:
                _purge_numba_files(path)
            _bump("recoveries")
            mod = _exec_module(name, source, str(path), spec)
    for disp in _dispatchers(mod):
        _guard_dispatcher(disp, lock_path)
    return mod


def is_loaded(source: str) -> bool:
    """Has this process already loaded the module of ``source`` (no import of numba needed)?"""
    if "numba" not in sys.modules:
        return False
    kdir = disk_kernels_dir()
    with _lock:
        return (None if kdir is None else str(kdir), module_key(source)) in _memo


def has_compiled(source: str) -> bool:
    """Does the disk cache hold ``source``'s module with machine code (a Numba index next to it)?
    A cheap look (two stats and a listing kept while the directory is unchanged) for the tiering
    policy's estimate, not a guarantee."""
    kdir = disk_kernels_dir()
    if kdir is None:
        return False
    name = f"jg_{module_key(source)[:32]}"
    if not (kdir / f"{name}.py").exists():
        return False
    if os.environ.get("NUMBA_CACHE_DIR"):
        return True
    return name in _indexed_modules(kdir / "__pycache__")


_index_listing = (None, None, frozenset())     # (directory, its mtime, module names with a .nbi)


def _indexed_modules(pycache):
    """Names of the modules with a Numba index (``<name>.<function>-<line>.py<ver>.nbi``) in
    ``pycache``: one listing per change of the directory, not a glob per kernel (a cache that a
    test suite filled holds thousands of files, and a glob over them took 4 ms a kernel)."""
    global _index_listing
    try:
        mtime = os.stat(pycache).st_mtime_ns
    except OSError:
        return frozenset()
    where, when, names = _index_listing
    if where != pycache or when != mtime:
        try:
            names = frozenset(f.split(".", 1)[0] for f in os.listdir(pycache) if f.endswith(".nbi"))
        except OSError:
            names = frozenset()
        _index_listing = (pycache, mtime, names)
    return names


def load_module(source: str) -> types.ModuleType:
    """Return the (memoized) module built from generated kernel ``source``.

    With the disk cache enabled the module lives in
    ``<cache_dir()>/kernels/jg_<key[:32]>.py`` and its ``cache=True``
    functions load their machine code from Numba's cache in later processes.
    """
    import numba  # noqa: F401  (lazy: also needed by the module body)

    key = module_key(source)
    # absolute: numba locates its cache from the code object's filename
    kdir = disk_kernels_dir()
    mkey = (str(kdir) if kdir is not None else None, key)
    with _lock:
        mod = _memo.get(mkey)
        if mod is not None:
            _stats["memory_hits"] += 1
            return mod
        klock = _key_locks.setdefault(mkey, threading.Lock())
    with klock:
        with _lock:
            mod = _memo.get(mkey)
            if mod is not None:
                _stats["memory_hits"] += 1
                return mod
        if kdir is None:
            mod = _load_in_memory(source, key)
        else:
            try:
                mod = _load_from_disk(source, key, kdir)
            except OSError as exc:
                _log.warning(
                    "jitgraph: kernel cache dir %s unusable (%s); compiling "
                    "in memory", kdir, exc,
                )
                mod = _load_in_memory(source, key)
        with _lock:
            _memo[mkey] = mod
    return mod


def clear_cache() -> None:
    """Delete ``<cache_dir()>/kernels`` and forget the in-process memo.

    Modules already handed out keep working.  Not safe while another process
    is using the same cache directory.
    """
    kdir = kernels_dir()
    with _lock:
        for mkey, mod in list(_memo.items()):
            if sys.modules.get(mod.__name__) is mod:
                del sys.modules[mod.__name__]
        _memo.clear()
        _key_locks.clear()
    shutil.rmtree(kdir, ignore_errors=True)
