"""Where a variable lives: in this worker's process, or in the task (a Ray actor) its device names.

A variable placed on ``/job:ps/task:1`` (by ``tf.device`` or ``replica_device_setter``) lives in
task ``("ps", 1)``; a variable with no job, or with this process's own job and task, is local
(each worker has its own copy, as in TF). Only variables have a home: other ops run where the
distributed session finds it cheapest (their results do not depend on it).
"""

from jitgraph import errors
from jitgraph.framework.device import DeviceSpec


def task_name(task):
    """The Ray actor name of a task ``(job, index)``: ``"ps/task:1"``."""
    return f"{task[0]}/task:{task[1]}"


class Placement:
    """Variable homes for one worker task ``(job_name, task_index)`` of ``cluster``.

    ``allow_soft_placement`` (from the session's ``ConfigProto``) makes a variable placed on a
    job that is not in the cluster local instead of an error, as TF's soft placement does."""

    def __init__(self, cluster, job_name, task_index, allow_soft_placement=False):
        self.cluster, self.job_name, self.task_index = cluster, job_name, task_index
        self._soft = allow_soft_placement
        self._cache = {}

    def home(self, var_op):
        """The task ``(job, index)`` owning ``var_op``, or None when it is local."""
        found = self._cache.get(var_op, False)
        if found is False:
            found = self._cache[var_op] = self._resolve(var_op)
        return found

    def _resolve(self, var_op):
        spec = DeviceSpec.from_string(var_op.device or "")
        if spec.job is None:
            return None
        task = 0 if spec.task is None else spec.task
        if spec.job == self.job_name and (spec.task is None or spec.task == self.task_index):
            return None
        if spec.job not in self.cluster.jobs:
            if self._soft:
                return None
            raise errors.InvalidArgumentError(
                None, var_op, f"Cannot assign a device for operation {var_op.name}: {var_op.device} names job "
                              f"'{spec.job}', which is not in the cluster (jobs: {self.cluster.jobs}). Place it on "
                              f"a job of the ClusterSpec or pass ConfigProto(allow_soft_placement=True)")
        if task not in self.cluster.task_indices(spec.job):
            raise errors.InvalidArgumentError(
                None, var_op, f"Cannot assign a device for operation {var_op.name}: {var_op.device} names task "
                              f"{task} of job '{spec.job}', which has tasks {self.cluster.task_indices(spec.job)}")
        return (spec.job, task)
