"""The narrow adapter between jitgraph's distributed layer and an engine.

A back end hosts tasks (``serve``), finds them by name (``connect``), calls their
``ParameterServer`` methods asynchronously (``submit`` -> futures; futures may be passed as
arguments of later calls, which then wait for them) and collects results (``wait``). Errors
raised on a task come back as ``RemoteError``; a task that is gone raises ``UnavailableError``.

``InProcessBackend`` runs every task in this process (``Server(..., protocol="in_process")``):
the same stages, the same data path, no engine. ``RayBackend`` (``ray_backend.py``) is the real one.
"""

import threading
import time

from jitgraph import errors
from jitgraph.distribute.parameter_server import ParameterServer, RemoteError
from jitgraph.distribute.placement import task_name


class Backend:
    """The engine interface (see the module docstring)."""

    def serve(self, namespace, task):
        """Create (or find, if it already exists) the actor of ``task``; returns its handle."""
        raise NotImplementedError

    def connect(self, namespace, task, timeout):
        """The handle of ``task``, waiting up to ``timeout`` seconds for it to be served."""
        raise NotImplementedError

    def submit(self, handle, method, args, num_returns=1):
        """Call ``handle.method(*args)``; returns one future, or a list of ``num_returns`` > 1."""
        raise NotImplementedError

    def wait(self, futures, task_of=None):
        """The values of ``futures`` (``task_of[i]`` names the task for error messages)."""
        raise NotImplementedError

    def is_future(self, value):
        """Whether ``value`` is a future of this back end (not a plain value)."""
        raise NotImplementedError

    def join(self, handle):
        """Block while the task behind ``handle`` is served."""
        raise NotImplementedError

    def stop(self, namespace, task):
        """Stop serving ``task`` (its variables are lost)."""
        raise NotImplementedError


class _Done:
    """An in-process future: a value or an error."""

    __slots__ = ("value", "error")

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error


_REGISTRY = {}            # (namespace, task name) -> ParameterServer
_REGISTRY_LOCK = threading.Lock()


class InProcessBackend(Backend):
    """Tasks are ``ParameterServer`` objects in this process, found by (namespace, name)."""

    def serve(self, namespace, task):
        with _REGISTRY_LOCK:
            key = (namespace, task_name(task))
            if key not in _REGISTRY:
                _REGISTRY[key] = ParameterServer(task_name(task))
            return _REGISTRY[key]

    def connect(self, namespace, task, timeout):
        deadline = time.monotonic() + timeout
        while True:
            with _REGISTRY_LOCK:
                ps = _REGISTRY.get((namespace, task_name(task)))
            if ps is not None:
                return ps
            if time.monotonic() >= deadline:
                raise errors.UnavailableError(
                    None, None, f"No task serves /job:{task[0]}/task:{task[1]} (waited {timeout:g} s): create its "
                                f"tf.train.Server in this process first")
            time.sleep(0.05)

    def submit(self, handle, method, args, num_returns=1):
        resolved = []
        for a in args:
            if isinstance(a, _Done):
                if a.error is not None:
                    return self._spread(_Done(error=a.error), num_returns)
                a = a.value
            resolved.append(a)
        try:
            value = getattr(handle, method)(*resolved)
        except RemoteError as e:
            return self._spread(_Done(error=e), num_returns)
        if num_returns == 1:
            return _Done(value)
        return [_Done(v) for v in value]

    @staticmethod
    def _spread(done, n):
        return done if n == 1 else [done] * n

    def wait(self, futures, task_of=None):
        out = []
        for i, f in enumerate(futures):
            if f.error is not None:
                f.error.reraise(task_of[i] if task_of else "task")
            out.append(f.value)
        return out

    def is_future(self, value):
        return isinstance(value, _Done)

    def join(self, handle):
        threading.Event().wait()

    def stop(self, namespace, task):
        with _REGISTRY_LOCK:
            _REGISTRY.pop((namespace, task_name(task)), None)
