"""``RayBackend``: tasks as named Ray actors (the ``jitgraph[distributed]`` extra).

Every process joins the Ray cluster named by ``RAY_ADDRESS`` (Ray's standard variable); without
it, ``ray.init()`` connects to a cluster started on this machine (``ray start --head``) or starts
a local one. A task's actor is named ``"<job>/task:<index>"`` in the job's namespace.

Actor lifetime: the actor is owned by the process whose ``tf.train.Server`` serves the task (the
``--job_name=ps`` process) and lives as long as that process: it is not detached, so nothing
outlives a job. If the actor's own process dies, Ray restarts it (``max_restarts=-1``) empty,
calls in flight are retried on the new one (``max_task_retries=-1``), and the chief restores it
from the last checkpoint (see ``parameter_server.py``). The actor reserves no CPU (``num_cpus=0``):
it mostly waits, and on a small machine it must not starve the workers.
"""

import os
import signal
import sys
import threading
import time
import warnings

from jitgraph import errors
from jitgraph.distribute.backend import Backend
from jitgraph.distribute.parameter_server import ParameterServer, RemoteError
from jitgraph.distribute.placement import task_name

_FORWARDED_ENV = ("JITGRAPH_", "NUMBA_", "OMP_", "OPENBLAS_", "MKL_")


def import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("jitgraph's distributed runtime runs on Ray, which is not installed: "
                          "pip install 'jitgraph[distributed]'") from None
    return ray


def connect_ray():
    """Join the Ray cluster (``RAY_ADDRESS``, else a local one); returns the ``ray`` module."""
    ray = import_ray()
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS") or None
        ray.init(address=address, include_dashboard=False, log_to_driver=True)
    return ray


class RayParameterServer(ParameterServer):
    """The actor: a ``ParameterServer`` that knows whether Ray restarted it after a crash. Reads
    are not copied: Ray serializes the result before the actor runs its next method."""

    copy_reads = False

    def __init__(self, name):
        import ray
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reconstructed = ray.get_runtime_context().was_current_actor_reconstructed
        super().__init__(name, reconstructed=reconstructed)


def _actor_env():
    """The actor runs the same jitgraph as this process, with the same jitgraph/Numba knobs."""
    import jitgraph
    root = os.path.dirname(os.path.dirname(os.path.abspath(jitgraph.__file__)))
    env = {k: v for k, v in os.environ.items() if k.startswith(_FORWARDED_ENV)}
    paths = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


class RayBackend(Backend):
    def __init__(self):
        self._ray = connect_ray()
        self._actor_cls = self._ray.remote(RayParameterServer)
        self._methods = {}

    def serve(self, namespace, task):
        return self._actor_cls.options(
            name=task_name(task), namespace=namespace, get_if_exists=True, num_cpus=0, max_restarts=-1,
            max_task_retries=-1, runtime_env={"env_vars": _actor_env()}).remote(task_name(task))

    def connect(self, namespace, task, timeout):
        deadline, pause = time.monotonic() + timeout, 0.05
        while True:
            try:
                return self._ray.get_actor(task_name(task), namespace=namespace)
            except ValueError:
                pass
            if time.monotonic() >= deadline:
                raise errors.UnavailableError(
                    None, None, f"No Ray actor serves /job:{task[0]}/task:{task[1]} in namespace '{namespace}' after "
                                f"{timeout:g} s: start that task (python trainer.py --job_name={task[0]} "
                                f"--task_index={task[1]}) in the same Ray cluster (RAY_ADDRESS)")
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def submit(self, handle, method, args, num_returns=1):
        key = (id(handle), method, num_returns)
        cached = self._methods.get(key)
        if cached is None or cached[0] is not handle:   # (an id may be reused by a new handle)
            fn = getattr(handle, method)
            cached = self._methods[key] = (handle, fn.options(num_returns=num_returns) if num_returns != 1 else fn)
        return cached[1].remote(*args)

    def wait(self, futures, task_of=None):
        ray = self._ray
        try:
            return ray.get(list(futures))
        except Exception:   # noqa: BLE001 - find which call failed, and say so in TF's terms
            pass
        out = []
        for i, f in enumerate(futures):
            task = task_of[i] if task_of else "a task"
            try:
                out.append(ray.get(f))
            except ray.exceptions.RayTaskError as e:
                cause = getattr(e, "cause", e)
                if isinstance(cause, RemoteError):
                    cause.reraise(task)
                raise errors.InternalError(None, None, f"{task}: {cause}") from None
            except ray.exceptions.RayActorError as e:
                raise errors.UnavailableError(None, None, f"{task} is unavailable: {e}") from None
        return out

    def is_future(self, value):
        return isinstance(value, self._ray.ObjectRef)

    def join(self, handle):
        ray = self._ray
        if threading.current_thread() is threading.main_thread():   # SIGTERM ends serving quietly
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            try:
                ray.get(handle.info.remote(), timeout=30)
            except ray.exceptions.GetTimeoutError:
                continue
            except ray.exceptions.RayActorError as e:
                raise errors.UnavailableError(None, None, f"The task's actor died and was not restarted: {e}") from None
            except Exception:   # noqa: BLE001 - the cluster is gone: stop serving
                return
            time.sleep(1.0)

    def stop(self, namespace, task):
        try:
            self._ray.kill(self._ray.get_actor(task_name(task), namespace=namespace), no_restart=True)
        except ValueError:
            pass
