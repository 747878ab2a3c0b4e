"""``ParameterServer``: the variables of one task and the stages that update them.

Engine-independent: the Ray back end runs it as a named actor (``ray_backend.py``), the
in-process back end calls it directly. Calls are serialized (an actor runs one method at a time;
here a lock does the same), so each stage is atomic on its task.

A task that was restarted after a crash (``reconstructed``) starts empty. Until someone restores
or initializes its variables, a run that needs one of them fails with ``AbortedError`` instead of
``FailedPreconditionError``: the signal on which ``MonitoredSession`` recreates its session (the
chief restores the last checkpoint on every task; other workers wait for it).
"""

import os
import threading
import uuid

import numpy as np

from jitgraph import errors
from jitgraph.distribute.stage_program import StageExecutor


class RemoteError(Exception):
    """An error raised on a task, in a form every engine can pickle: the ``tf.errors`` code (or
    None for a non-TF error), its message and the original type name."""

    def __init__(self, code, message, type_name):
        super().__init__(code, message, type_name)
        self.code, self.message, self.type_name = code, message, type_name

    def __str__(self):
        return self.message

    def reraise(self, task):
        """Raise the worker-side error: the ``tf.errors`` class of ``code``, or ``InternalError``."""
        if self.code is not None:
            raise errors.exception_type_from_error_code(self.code)(None, None, self.message) from None
        raise errors.InternalError(None, None, f"{task}: {self.type_name}: {self.message}") from None


def _remote_errors(method):
    def wrapped(self, *args):
        try:
            return method(self, *args)
        except errors.OpError as e:
            raise RemoteError(e.error_code, str(e), type(e).__name__) from None
        except RemoteError:
            raise
        except Exception as e:   # noqa: BLE001 - carried to the worker as InternalError
            raise RemoteError(None, str(e), type(e).__name__) from None
    wrapped.__name__ = method.__name__
    return wrapped


class _Table:
    """The task's variables as the stage executor sees them."""

    def __init__(self, values):
        self.get, self._values = values.get, values

    def put(self, name, value):
        if value is None:
            self._values.pop(name, None)
        else:
            self._values[name] = value


class ParameterServer:
    """Variables by name (``{name: ndarray}``; absent = uninitialized) and cached stage executors."""

    def __init__(self, name, reconstructed=False):
        self.name = name
        self._values = {}
        self._table = _Table(self._values)
        self._stages = {}
        self._blank = bool(reconstructed)
        self._reconstructed = bool(reconstructed)
        self._incarnation = uuid.uuid4().hex
        self._lock = threading.Lock()

    def info(self):
        """``{name, pid, incarnation, reconstructed, blank, variables}``."""
        return {"name": self.name, "pid": os.getpid(), "incarnation": self._incarnation,
                "reconstructed": self._reconstructed, "blank": self._blank, "variables": sorted(self._values)}

    copy_reads = True   # in-process readers share memory with the task; an engine copies anyway

    @_remote_errors
    def read(self, names, exist_names=()):
        """``(blank, [value or None per name], [exists? per exist_name])``; values are snapshots
        that later updates never change."""
        with self._lock:
            values = [self._values.get(n) for n in names]
            if self.copy_reads:
                values = [None if v is None else v.copy() for v in values]
            return self._blank, values, [n in self._values for n in exist_names]

    @_remote_errors
    def run_stage(self, key, program, n_feeds, *args):
        """Run a stage (built from ``program`` the first time ``key`` is seen) with the first
        ``n_feeds`` of ``args`` as feeds (the rest only order this call after other stages).
        Returns its fetched values followed by a ``True`` token."""
        with self._lock:
            executor = self._stages.get(key)
            if executor is None:
                executor = self._stages[key] = StageExecutor(program)
            try:
                out = executor.run(self._table, args[:n_feeds])
            except errors.FailedPreconditionError as e:
                if self._blank:
                    raise errors.AbortedError(
                        None, None, f"Parameter server {self.name} was restarted and has lost its variables; the "
                                    f"session must be recreated and the variables restored ({e})") from None
                raise
            if executor.writes:
                self._blank = False
            return (*out, True)

    @_remote_errors
    def assign_values(self, values):
        """Set variables directly (a restore): ``{name: array}``; each value is copied."""
        with self._lock:
            for name, value in values.items():
                self._values[name] = np.array(value, copy=True, order="C")
            self._blank = False
            return True
