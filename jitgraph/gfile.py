"""``tf.gfile`` (and, under TF2's lower-case names, ``tf.io.gfile``): files and directories on the
local file system, with TF's error classes.

``GFile`` opens lazily, as TF's does: a missing file raises ``errors.NotFoundError`` at the first
read, not when the object is made. ``"r"``/``"w"``/``"a"`` give text (``str``), ``"rb"``/``"wb"``/
``"ab"`` bytes. Failures raise ``NotFoundError``, ``AlreadyExistsError``,
``FailedPreconditionError`` or ``PermissionDeniedError`` where TF does.
"""

import collections
import errno
import glob as _glob
import os
import shutil
import types

from jitgraph import errors

__all__ = ["GFile", "FastGFile", "Open", "Exists", "IsDirectory", "ListDirectory", "Glob", "MakeDirs", "MkDir",
           "Remove", "DeleteRecursively", "Rename", "Copy", "Walk", "Stat"]

FileStatistics = collections.namedtuple("FileStatistics", ["length", "mtime_nsec", "is_directory"])


def _os_error(e, path):
    """The TF error class for an ``OSError`` on ``path``."""
    cls = {errno.ENOENT: errors.NotFoundError, errno.EEXIST: errors.AlreadyExistsError,
           errno.EACCES: errors.PermissionDeniedError, errno.EPERM: errors.PermissionDeniedError,
           errno.ENOTDIR: errors.FailedPreconditionError, errno.EISDIR: errors.FailedPreconditionError,
           errno.ENOTEMPTY: errors.FailedPreconditionError}.get(e.errno, errors.UnknownError)
    return cls(None, None, f"{os.fspath(path)}; {e.strerror or e}")


class GFile:
    """A file object (``read``, ``readline``, iteration, ``write``, ``seek``/``tell``, ``size``),
    usable as a context manager. The file is opened at the first operation."""

    def __init__(self, name, mode="r"):
        if mode not in ("r", "rb", "w", "wb", "a", "ab", "r+", "rb+", "w+", "wb+", "a+", "ab+"):
            raise errors.InvalidArgumentError(None, None, f"mode {mode!r} not supported by GFile")
        self.name = os.fspath(name)
        self.mode = mode
        self._f = None

    def _file(self):
        if self._f is None:
            try:
                self._f = open(self.name, self.mode, **({} if "b" in self.mode else {"encoding": "utf-8"}))
            except OSError as e:
                raise _os_error(e, self.name) from None
        return self._f

    def read(self, n=-1):
        return self._file().read(n)

    def readline(self):
        return self._file().readline()

    def readlines(self):
        return self._file().readlines()

    def write(self, data):
        f = self._file()
        if "b" in self.mode and isinstance(data, str):
            data = data.encode()
        elif "b" not in self.mode and isinstance(data, bytes):
            data = data.decode()
        f.write(data)

    def flush(self):
        if self._f is not None:
            self._f.flush()

    def seek(self, offset=None, whence=0, position=None):
        self._file().seek(position if offset is None else offset, whence)

    def tell(self):
        return self._file().tell()

    def size(self):
        self.flush()
        return Stat(self.name).length

    def seekable(self):
        return True

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    def __iter__(self):
        return iter(self._file())

    def __next__(self):
        return next(self._file())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


FastGFile = Open = GFile


def Exists(filename):  # noqa: N802  (TF's names)
    """Does ``filename`` (a file or directory) exist?"""
    return os.path.exists(filename)


def IsDirectory(dirname):  # noqa: N802
    """Is ``dirname`` a directory?"""
    return os.path.isdir(dirname)


def ListDirectory(dirname):  # noqa: N802
    """The names of the entries of ``dirname`` (not their paths), sorted."""
    if not os.path.isdir(dirname):
        raise errors.NotFoundError(None, None, f"Could not find directory {os.fspath(dirname)}")
    return sorted(os.listdir(dirname))


def Glob(filename):  # noqa: N802
    """The paths that match the pattern ``filename`` (or any pattern of a list of them), sorted."""
    patterns = [filename] if isinstance(filename, (str, bytes, os.PathLike)) else list(filename)
    return sorted({p for pat in patterns for p in _glob.glob(os.fspath(pat))})


def MakeDirs(dirname):  # noqa: N802
    """Create ``dirname`` and its missing parents; an existing directory is fine."""
    try:
        os.makedirs(dirname, exist_ok=True)
    except FileExistsError:
        raise errors.FailedPreconditionError(None, None, f"{os.fspath(dirname)} exists and is not a directory")
    except OSError as e:
        raise _os_error(e, dirname) from None


def MkDir(dirname):  # noqa: N802
    """Create the directory ``dirname`` (its parent must exist); an existing directory is fine."""
    if os.path.isdir(dirname):
        return
    try:
        os.mkdir(dirname)
    except OSError as e:
        raise _os_error(e, dirname) from None


def Remove(filename):  # noqa: N802
    """Delete the file ``filename``."""
    try:
        os.remove(filename)
    except OSError as e:
        raise _os_error(e, filename) from None


def DeleteRecursively(dirname):  # noqa: N802
    """Delete ``dirname`` and everything under it (or the file ``dirname``)."""
    if not os.path.exists(dirname):
        raise errors.NotFoundError(None, None, f"{os.fspath(dirname)}; No such file or directory")
    try:
        shutil.rmtree(dirname) if os.path.isdir(dirname) else os.remove(dirname)
    except OSError as e:
        raise _os_error(e, dirname) from None


def Rename(oldname, newname, overwrite=False):  # noqa: N802
    """Move ``oldname`` to ``newname``; an existing ``newname`` needs ``overwrite=True``."""
    if not overwrite and os.path.exists(newname):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {os.fspath(newname)}")
    try:
        os.replace(oldname, newname)
    except OSError as e:
        raise _os_error(e, oldname) from None


def Copy(oldpath, newpath, overwrite=False):  # noqa: N802
    """Copy the file ``oldpath`` to ``newpath``; an existing ``newpath`` needs ``overwrite=True``."""
    if not overwrite and os.path.exists(newpath):
        raise errors.AlreadyExistsError(None, None, f"file already exists: {os.fspath(newpath)}")
    try:
        shutil.copyfile(oldpath, newpath)
    except OSError as e:
        raise _os_error(e, oldpath) from None


def Walk(top, in_order=True):  # noqa: N802
    """``(dirname, subdirectory names, file names)`` for ``top`` and each directory under it, parents
    first (``in_order``) or last; nothing if ``top`` does not exist."""
    if not os.path.isdir(top):
        return
    names = ListDirectory(top)
    subdirs = [n for n in names if os.path.isdir(os.path.join(top, n))]
    files = [n for n in names if n not in subdirs]
    if in_order:
        yield os.fspath(top), subdirs, files
    for d in subdirs:
        yield from Walk(os.path.join(top, d), in_order)
    if not in_order:
        yield os.fspath(top), subdirs, files


def Stat(filename):  # noqa: N802
    """``FileStatistics(length, mtime_nsec, is_directory)`` of ``filename``."""
    try:
        st = os.stat(filename)
    except OSError as e:
        raise _os_error(e, filename) from None
    return FileStatistics(st.st_size, st.st_mtime_ns, os.path.isdir(filename))


def _walk_v2(top, topdown=True, onerror=None):
    return Walk(top, in_order=topdown)


io_gfile = types.SimpleNamespace(   # ``tf.io.gfile``: TF2's lower-case names for the same functions
    GFile=GFile, exists=Exists, isdir=IsDirectory, listdir=ListDirectory, glob=Glob, makedirs=MakeDirs, mkdir=MkDir,
    remove=Remove, rmtree=DeleteRecursively, rename=Rename, copy=Copy, walk=_walk_v2, stat=Stat, join=os.path.join,
    get_registered_schemes=lambda: ["file"])
