"""Crash-safe file writes and inter-process locks, shared by checkpoints and the kernel cache.

``atomic_write`` writes through a unique temp file in the same directory, fsyncs it, renames it
over the target and fsyncs the directory: a process killed at any moment leaves either the old
complete file or the new complete one. ``file_lock`` is an exclusive ``flock`` that is re-entrant
within a process (a no-op where ``fcntl`` is missing).
"""

import contextlib
import os
import tempfile
import threading

try:  # POSIX advisory locks; the inter-process lock is a no-op elsewhere.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def fsync_dir(directory):
    """Make a rename in ``directory`` durable (skipped where directories can't be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path, chunks):
    """Write the byte-like ``chunks`` to ``path`` so that a crash leaves the old or the new file."""
    directory, base = os.path.split(os.path.abspath(os.fspath(path)))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + base + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


class _ProcessFileLock:
    """Exclusive ``flock`` on one lock file, re-entrant within a thread.

    ``flock`` locks belong to an open file description, so opening the same lock file twice in
    one process and locking both would deadlock; hence one in-process RLock per path guards a
    single fd, with a nesting count.
    """

    def __init__(self, path):
        self.path = path
        self.rlock = threading.RLock()
        self.depth = 0
        self.fd = None

    def __enter__(self):
        self.rlock.acquire()
        if self.depth == 0 and fcntl is not None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
            except BaseException:
                self.rlock.release()
                raise
            self.fd = fd
        self.depth += 1
        return self

    def __exit__(self, *exc):
        self.depth -= 1
        try:
            if self.depth == 0 and self.fd is not None:
                fd, self.fd = self.fd, None
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)
        finally:
            self.rlock.release()
        return False


_locks = {}
_locks_guard = threading.Lock()


def file_lock(lock_path):
    """The process-wide re-entrant exclusive lock on ``lock_path`` (use as a context manager)."""
    key = os.fspath(lock_path)
    with _locks_guard:
        lk = _locks.get(key)
        if lk is None:
            lk = _locks[key] = _ProcessFileLock(key)
    return lk
