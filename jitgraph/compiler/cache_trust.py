"""Trust only a kernel cache the user owns (as ssh trusts only a private ``~/.ssh``).

Numba loads its cache files (``.nbi`` index, ``.nbc`` machine code) with ``pickle``: whoever can
write into a cache directory can run code in every process that uses it. So before jitgraph
loads anything from disk it checks each directory involved — the cache root
(``JITGRAPH_CACHE_DIR``, default ``~/.cache/jitgraph``), its ``kernels/`` and
``kernels/__pycache__/`` (where Numba keeps the pickles), and ``NUMBA_CACHE_DIR`` when set:

* it is a real directory, not a symlink, and resolves inside the cache root;
* it is owned by the current user;
* neither group nor others may write to it.

Directories jitgraph creates get mode 0700. When a check fails, jitgraph warns once (naming the
directory and the reason) and compiles in memory for the rest of the process: it never loads
from, nor writes into, that directory. An untrusted ``NUMBA_CACHE_DIR`` is replaced, before Numba
reads it, by a private temporary directory, so Numba's caching of jitgraph's own library kernels
(conv, softmax ...) cannot load from it either.

Each check is a few ``lstat`` calls, made once per directory and process.
"""

import atexit
import os
import shutil
import stat
import tempfile
import threading
import warnings

_lock = threading.Lock()
_verdicts = {}        # path -> reason it is not trusted, or None


def problem(path, root=None):
    """Why ``path`` must not be trusted, or None. A missing directory is created (mode 0700)."""
    path = os.path.abspath(os.fspath(path))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as e:
        return f"cannot be created or read ({e.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a directory"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"is owned by uid {st.st_uid}, not by you (uid {os.getuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"is writable by {'group and others' if st.st_mode & stat.S_IWOTH and st.st_mode & stat.S_IWGRP else 'others' if st.st_mode & stat.S_IWOTH else 'group'} (mode {stat.S_IMODE(st.st_mode):o})"
    if root is not None:
        real, real_root = os.path.realpath(path), os.path.realpath(root)
        if os.path.commonpath([real, real_root]) != real_root:
            return f"resolves to {real}, outside the cache directory {real_root}"
    return None


def trusted(*paths, root=None):
    """True when every directory in ``paths`` passes ``problem``; otherwise warns once per
    directory and returns False. Verdicts are kept for the process."""
    for p in paths:     # in order, stopping at the first refusal: nothing is created below it
        p = os.path.abspath(os.fspath(p))
        with _lock:
            if p not in _verdicts:
                reason = _verdicts[p] = problem(p, root)
                if reason is not None:
                    warnings.warn(f"jitgraph: not using the kernel cache directory {p}: it {reason}; "
                                  "compiling in memory instead (see 'Security' in the README)",
                                  RuntimeWarning, stacklevel=3)
            if _verdicts[p] is not None:
                return False
    return True


def forget():
    """Drop the remembered verdicts (tests change permissions between checks)."""
    with _lock:
        _verdicts.clear()


def guard_numba_cache_dir():
    """If ``NUMBA_CACHE_DIR`` names an untrusted directory, point Numba at a private temporary
    one instead (before Numba reads the variable, and in its config if it already has)."""
    path = os.environ.get("NUMBA_CACHE_DIR")
    if not path or trusted(path):
        return
    private = tempfile.mkdtemp(prefix="jitgraph-numba-")
    atexit.register(shutil.rmtree, private, True)
    os.environ["NUMBA_CACHE_DIR"] = private
    config = __import__("sys").modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = private
