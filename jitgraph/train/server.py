"""``tf.train.Server``: one task of a cluster, as TF1's between-graph programs create it.

    cluster = tf.train.ClusterSpec({"ps": ["localhost:2222"], "worker": ["localhost:2223"]})
    server = tf.train.Server(cluster, job_name=FLAGS.job_name, task_index=FLAGS.task_index)
    if FLAGS.job_name == "ps":
        server.join()                                    # serves this task's variables
    else:
        with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device=...)):
            ...                                          # variables land on /job:ps/task:k
        with tf.train.MonitoredTrainingSession(master=server.target, is_chief=...) as sess: ...

The default protocol (``"grpc"``, as in TF) runs on Ray (``jitgraph[distributed]``): the process
joins the cluster named by ``RAY_ADDRESS`` (else a local one), and a ``ps`` task's variables live in
a Ray actor named ``"ps/task:<k>"`` created when its server starts (other jobs' tasks serve only
when they call ``join()``). ``protocol="in_process"`` keeps every task in this process (tests,
debugging). The addresses in the ``ClusterSpec`` only name tasks: no port is opened.

Tasks meet in a namespace: ``JITGRAPH_RAY_NAMESPACE`` if set (the launcher sets it per launch),
else one derived from the cluster spec, so that processes started with the same spec meet.
"""

import hashlib
import itertools
import json
import os
import threading

from jitgraph.train.cluster import ClusterSpec

__all__ = ["Server"]

PS_JOBS = ("ps",)
_SERVERS = {}
_LOCK = threading.Lock()
_LOCAL_PORTS = itertools.count(1)


def server_for_target(target):
    """The ``Server`` of this process whose ``target`` is ``target`` (ValueError if none)."""
    with _LOCK:
        server = _SERVERS.get(target)
    if server is None:
        raise ValueError(f"No tf.train.Server in this process has target {target!r}: create "
                         f"tf.train.Server(cluster, job_name, task_index) first and pass its .target "
                         f"(servers here: {sorted(_SERVERS)})")
    return server


def _backend(protocol):
    if protocol in (None, "grpc", "ray"):
        from jitgraph.distribute.ray_backend import RayBackend
        return RayBackend()
    if protocol == "in_process":
        from jitgraph.distribute.backend import InProcessBackend
        return InProcessBackend()
    raise ValueError(f"Unknown protocol {protocol!r}: use 'grpc' (Ray) or 'in_process'")


class Server:
    """One task ``(job_name, task_index)`` of ``cluster`` (a ``ClusterSpec`` or dict).

    ``job_name``/``task_index`` may be omitted when the cluster has one job / the job one task.
    ``target`` is the master string for ``tf.Session``/``MonitoredTrainingSession`` in this process."""

    def __init__(self, server_or_cluster_def, job_name=None, task_index=None, protocol=None, config=None,
                 start=True):
        cluster = ClusterSpec(server_or_cluster_def)
        if job_name is None:
            if len(cluster.jobs) != 1:
                raise ValueError("Must specify an explicit `job_name`.")
            job_name = cluster.jobs[0]
        if task_index is None:
            indices = cluster.task_indices(job_name)
            if len(indices) != 1:
                raise ValueError("Must specify an explicit `task_index`.")
            task_index = indices[0]
        address = cluster.task_address(job_name, task_index)   # ValueError for an unknown job or task
        self._cluster, self._job_name, self._task_index = cluster, job_name, int(task_index)
        self._protocol, self._config = protocol or "grpc", config
        self._target = "grpc://" + address
        self._backend = None
        self._handle = None
        self.namespace = os.environ.get("JITGRAPH_RAY_NAMESPACE") or "jitgraph-" + hashlib.sha1(
            json.dumps(cluster.as_cluster_def(), sort_keys=True).encode()).hexdigest()[:12]
        with _LOCK:
            _SERVERS[self._target] = self
        if start:
            self.start()

    cluster = property(lambda self: self._cluster)
    job_name = property(lambda self: self._job_name)
    task_index = property(lambda self: self._task_index)
    target = property(lambda self: self._target, doc="The session target of this task: ``grpc://<address>``.")

    @property
    def server_def(self):
        """``{cluster, job_name, task_index, protocol}`` (TF's ServerDef as plain data)."""
        return {"cluster": self._cluster.as_cluster_def(), "job_name": self._job_name,
                "task_index": self._task_index, "protocol": self._protocol}

    @property
    def backend(self):
        if self._backend is None:
            self._backend = _backend(self._protocol)
        return self._backend

    def start(self):
        """Join the engine; a ``ps`` task starts serving its variables."""
        backend = self.backend
        if self._job_name in PS_JOBS and self._handle is None:
            self._handle = backend.serve(self.namespace, (self._job_name, self._task_index))

    def join(self):
        """Serve this task's variables until the process is stopped (as TF, it does not return
        while the cluster runs; it returns when the Ray cluster goes away)."""
        if self._handle is None:
            self._handle = self.backend.serve(self.namespace, (self._job_name, self._task_index))
        self.backend.join(self._handle)

    def stop(self):
        """Stop serving this task (its variables are lost). Not in TF; for tests and launchers."""
        if self._handle is not None:
            self.backend.stop(self.namespace, (self._job_name, self._task_index))
            self._handle = None

    @staticmethod
    def create_local_server(config=None, start=True):
        """A single-task server (job ``localhost``) for in-process use: ``Session(server.target)``
        then runs like a local session (all variables are this task's)."""
        address = f"localhost:{os.getpid()}{next(_LOCAL_PORTS):03d}"   # TF picks a free port; a unique name here
        return Server({"localhost": [address]}, protocol="in_process", config=config, start=start)
