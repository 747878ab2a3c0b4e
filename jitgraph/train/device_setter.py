"""``tf.train.replica_device_setter``: put variables on parameter servers, other ops on workers.

Locally, device strings are annotations (the session runs everything on the CPU); these
functions produce the same placements TF would, so distributed-style graphs build unchanged.
"""

import numpy as np

from jitgraph.framework.device import DeviceSpec
from jitgraph.framework.shapes import TensorShape
from jitgraph.train.cluster import ClusterSpec

STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable", "MutableHashTableV2",
                   "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
                   "MutableDenseHashTableV2", "VarHandleOp", "BoostedTreesEnsembleResourceHandleOp",
                   "BoostedTreesQuantileStreamResourceHandleOp", "ResourceConditionalAccumulator",
                   "DecisionTreeResource")


class _RoundRobinStrategy:
    """Tasks 0, 1, …, n-1, 0, … in the order ops are placed."""

    def __init__(self, num_tasks):
        self._num_tasks = num_tasks
        self._next_task = 0

    def __call__(self, unused_op):
        task = self._next_task
        self._next_task = (self._next_task + 1) % self._num_tasks
        return task


class GreedyLoadBalancingStrategy:
    """Place each op on the parameter-server task with the least load so far (ties: lowest task);
    ``load_fn(op)`` measures an op, e.g. ``byte_size_load_fn``."""

    def __init__(self, num_tasks, load_fn):
        self._num_tasks = num_tasks
        self._load_fn = load_fn
        self._ps_loads = np.zeros(num_tasks)

    def __call__(self, op):
        task = int(np.argmin(self._ps_loads))
        self._ps_loads[task] += self._load_fn(op)
        return task


def byte_size_load_fn(op):
    """The size in bytes of ``op``'s first output (for variables: the variable's size)."""
    if not op.outputs:
        raise ValueError(f"Op {op.name} must have at least one output")
    out = op.outputs[0]
    shape = out.get_shape()
    if not shape.is_fully_defined() and "shape" in op.attrs:
        shape = TensorShape(op.get_attr("shape"))
    if not shape.is_fully_defined():
        raise ValueError(f"Shape {shape} of {op.name} is not fully defined")
    return shape.num_elements() * out.dtype.base_dtype.size


class _ReplicaDeviceChooser:
    def __init__(self, ps_tasks, ps_device, worker_device, merge_devices, ps_ops, ps_strategy):
        self._ps_tasks, self._ps_device, self._worker_device = ps_tasks, ps_device, worker_device
        self._merge_devices, self._ps_ops, self._ps_strategy = merge_devices, ps_ops, ps_strategy

    def device_function(self, op):
        if not self._merge_devices and op.device:
            return op.device
        current = DeviceSpec.from_string(op.device or "")
        if self._ps_tasks and self._ps_device and op.type in self._ps_ops:
            ps = DeviceSpec.from_string(self._ps_device)
            if ps.job and (not current.job or current.job == ps.job):
                ps.task = self._ps_strategy(op)
            return ps.merge_from(current).to_string()
        return DeviceSpec.from_string(self._worker_device or "").merge_from(current).to_string()


def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker", merge_devices=True,
                          cluster=None, ps_ops=None, ps_strategy=None):
    """A device function for ``tf.device``: variable ops go to ``/job:ps/task:k`` (round-robin in
    creation order, or as ``ps_strategy(op)`` chooses), every other op to ``worker_device``.

    ``cluster`` (a dict or ``ClusterSpec``) gives the number of ps tasks. Returns None when there
    are no ps tasks (``tf.device(None)`` then places nothing). Example::

        with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
            w = tf.get_variable("w", [10])      # /job:ps/task:0
            b = tf.get_variable("b", [10])      # /job:ps/task:1
            y = w + b                           # /job:worker
    """
    if cluster is not None:
        spec = ClusterSpec(cluster).as_dict()
        ps_job = DeviceSpec.from_string(ps_device).job
        if ps_job not in spec or spec[ps_job] is None:
            return None
        ps_tasks = len(spec[ps_job])
    if ps_tasks == 0:
        return None
    ps_ops = list(STANDARD_PS_OPS) if ps_ops is None else list(ps_ops)
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")
    return _ReplicaDeviceChooser(ps_tasks, ps_device, worker_device, merge_devices, ps_ops,
                                 ps_strategy).device_function


__all__ = ["replica_device_setter", "ClusterSpec", "GreedyLoadBalancingStrategy", "byte_size_load_fn",
           "STANDARD_PS_OPS"]
