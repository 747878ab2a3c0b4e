"""``tf.train.ClusterSpec``: the jobs of a cluster and the network address of each task.

jitgraph keeps the spec as TF does (job name → task index → ``"host:port"``). On Ray the
addresses only name the tasks (``Server.target`` is ``"grpc://" + address``): every process joins
one Ray cluster, and a task's variables live in a Ray actor named after its job and index.
"""

__all__ = ["ClusterSpec"]


class ClusterSpec:
    """A cluster as a set of jobs, each a set of tasks with addresses::

        cluster = tf.train.ClusterSpec({"ps": ["ps0:2222", "ps1:2222"],
                                        "worker": {0: "w0:2222", 3: "w3:2222"}})
        cluster.num_tasks("ps")             # 2
        cluster.task_address("worker", 3)   # "w3:2222"
        cluster.job_tasks("worker")         # ["w0:2222", None, None, "w3:2222"]

    ``cluster`` is a dict (job name → list of addresses, or dict task index → address), another
    ``ClusterSpec``, or a dict-like ``as_cluster_def()`` result.
    """

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            cluster = {job: dict(tasks) for job, tasks in sorted(cluster._jobs.items())}
        if not isinstance(cluster, dict):
            raise TypeError("`cluster` must be a dictionary mapping one or more job names to lists of network "
                            "addresses, or a `ClusterDef` protocol buffer")
        self._jobs = {}
        for job, tasks in cluster.items():
            if not isinstance(job, (str, bytes)):
                raise TypeError(f"Job name {job!r} must be bytes or unicode")
            job = job.decode() if isinstance(job, bytes) else job
            if isinstance(tasks, (list, tuple)):
                tasks = dict(enumerate(tasks))
            elif isinstance(tasks, dict):
                tasks = {int(i): t for i, t in tasks.items()}
            else:
                raise TypeError(f"The tasks for job {job!r} must be a list or a dictionary from integers to "
                                f"strings.")
            for address in tasks.values():
                if not isinstance(address, (str, bytes)):
                    raise TypeError(f"Task address {address!r} must be bytes or unicode")
            self._jobs[job] = {i: a.decode() if isinstance(a, bytes) else a for i, a in tasks.items()}

    def __bool__(self):
        return bool(self._jobs)

    def __eq__(self, other):
        if isinstance(other, ClusterSpec):
            return self._jobs == other._jobs
        return self._jobs == other

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        d = self.as_dict()
        return "ClusterSpec({" + ", ".join(f"{k!r}: {d[k]!r}" for k in sorted(d)) + "})"

    @property
    def jobs(self):
        """The job names, in the order they were given."""
        return list(self._jobs)

    def _job(self, job_name):
        try:
            return self._jobs[job_name]
        except (KeyError, TypeError):
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def num_tasks(self, job_name):
        """How many tasks ``job_name`` has."""
        return len(self._job(job_name))

    def task_indices(self, job_name):
        """The task indices of ``job_name``, sorted."""
        return sorted(self._job(job_name))

    def task_address(self, job_name, task_index):
        """The address of task ``task_index`` of ``job_name``."""
        job = self._job(job_name)
        try:
            return job[task_index]
        except (KeyError, TypeError):
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}") from None

    def job_tasks(self, job_name):
        """The addresses of ``job_name`` as a list indexed by task (None where a task is missing)."""
        job = self._job(job_name)
        out = [None] * (max(job) + 1 if job else 0)
        for i, address in job.items():
            out[i] = address
        return out

    def as_dict(self):
        """``{job: [addresses]}``, or ``{job: {index: address}}`` for a job with gaps in its indices."""
        out = {}
        for job, tasks in self._jobs.items():
            if not tasks:
                out[job] = {}
            elif max(tasks) + 1 == len(tasks):
                out[job] = self.job_tasks(job)
            else:
                out[job] = {i: tasks[i] for i in sorted(tasks)}
        return out

    def as_cluster_def(self):
        """The spec as plain data (``{job: {index: address}}``, sorted): what TF's ClusterDef holds."""
        return {job: {i: tasks[i] for i in sorted(tasks)} for job, tasks in sorted(self._jobs.items())}
