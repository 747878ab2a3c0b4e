"""TF1 queues: ``tf.FIFOQueue``, ``tf.RandomShuffleQueue``, ``tf.PaddingFIFOQueue`` (also under
``tf.queue``) and their graph ops.

    q = tf.FIFOQueue(capacity=32, dtypes=[tf.float32, tf.int32], shapes=[[28, 28], []])
    enq = q.enqueue([image, label])          # run by a tf.train.QueueRunner thread
    images, labels = q.dequeue_many(64)      # blocks until 64 elements are there

Ops (all stateful, never fused, folded or merged; run as NumPy steps in compiled plans): the queue
op itself (``FIFOQueueV2`` …, a scalar ``resource`` handle) and ``QueueEnqueueV2``,
``QueueEnqueueManyV2``, ``QueueDequeueV2``, ``QueueDequeueManyV2``, ``QueueDequeueUpToV2``,
``QueueSizeV2``, ``QueueIsClosedV2``, ``QueueCloseV2``, each taking the handle as input 0. The
contents live in the session (see ``jitgraph.ops.queue_state`` for where, and for how a blocking
op waits without holding the session lock).

Semantics as TF's: enqueue waits while the queue is full, dequeue while it has too few elements
(a ``RandomShuffleQueue`` also keeps ``min_after_dequeue`` elements until it is closed). Once
closed, enqueues fail with ``CancelledError`` and dequeues that cannot be served fail with
``OutOfRangeError`` ("FIFOQueue 'q' is closed and has insufficient elements (requested 4,
current size 2)"); ``dequeue_up_to`` then returns what is left. ``RandomShuffleQueue`` order is
seeded by ``(seed, graph seed)`` per session but is not TF's random stream.
"""

import numpy as np

from jitgraph import dtypes as _dtypes, errors
from jitgraph.api_graph import get_seed
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import no_gradient, op_scope
from jitgraph.ops.queue_state import queue_of
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["QueueBase", "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue"]

_KW = dict(stateful=True, grad=no_gradient)
_SCALAR = TensorShape([])


def _handle_run(ctx, op, ins):
    queue_of(ctx, op)
    return [np.array(op.name.encode(), dtype=object)]


for _t in ("FIFOQueueV2", "RandomShuffleQueueV2", "PaddingFIFOQueueV2"):
    define_op(_t, lambda ins, a: [(_dtypes.resource, _SCALAR)], run=_handle_run, **_KW)


def _queue(ctx, op):
    return queue_of(ctx, op.inputs[0].op)


def _copy(v):
    return np.array(v, copy=True)


def _enqueue_run(ctx, op, ins):
    _queue(ctx, op).enqueue([tuple(_copy(v) for v in ins[1:])], ctx)
    return []


def _enqueue_many_run(ctx, op, ins):
    comps = [np.asarray(v) for v in ins[1:]]
    n = {c.shape[0] if c.ndim else None for c in comps}
    if None in n or len(n) != 1:
        raise errors.InvalidArgumentError(None, None, "Shape mismatch in tuple component: enqueue_many needs "
                                                      f"components with one leading size, got {[c.shape for c in comps]}")
    count = n.pop()
    _queue(ctx, op).enqueue([tuple(_copy(c[i]) for c in comps) for i in range(count)], ctx)
    return []


def _dequeue_run(ctx, op, ins):
    return _queue(ctx, op).dequeue(None, ctx=ctx)


def _dequeue_many_run(up_to):
    def run(ctx, op, ins):
        n = int(np.asarray(ins[1]))
        out = _queue(ctx, op).dequeue(n, up_to=up_to, ctx=ctx)
        if not out:   # n == 0
            out = [np.zeros((0,) + tuple(t.shape.as_list()[1:]), t.dtype.as_np) for t in op.outputs]
        return out
    return run


def _components_infer(ins, a):
    return list(zip(a["component_types"], a["output_shapes"]))


define_op("QueueEnqueueV2", lambda ins, a: [], run=_enqueue_run, **_KW)
define_op("QueueEnqueueManyV2", lambda ins, a: [], run=_enqueue_many_run, **_KW)
define_op("QueueDequeueV2", _components_infer, run=_dequeue_run, **_KW)
define_op("QueueDequeueManyV2", _components_infer, run=_dequeue_many_run(False), **_KW)
define_op("QueueDequeueUpToV2", _components_infer, run=_dequeue_many_run(True), **_KW)
define_op("QueueSizeV2", lambda ins, a: [(_dtypes.int32, _SCALAR)],
          run=lambda ctx, op, ins: [np.array(len(_queue(ctx, op).items), np.int32)], **_KW)
define_op("QueueIsClosedV2", lambda ins, a: [(_dtypes.bool, _SCALAR)],
          run=lambda ctx, op, ins: [np.array(_queue(ctx, op).closed)], **_KW)
define_op("QueueCloseV2", lambda ins, a: [],
          run=lambda ctx, op, ins: _queue(ctx, op).close(op.get_attr("cancel_pending_enqueues")) or [], **_KW)


# ---- the Python classes ---------------------------------------------------------------------------
class QueueBase:
    """A queue of tuples of tensors (see the module docstring). ``dtypes``: one DType per
    component; ``shapes``: their static shapes (needed by ``dequeue_many``); ``names``: optional
    component names, then elements are dicts."""

    _kind = "FIFOQueue"

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue",
                 min_after_dequeue=0, seed=None):
        if not isinstance(dtypes, (list, tuple)):
            dtypes = [dtypes]
        self._dtypes = [_dtypes.as_dtype(d) for d in dtypes]
        if shapes is not None:
            if not isinstance(shapes, (list, tuple)) or (shapes and not isinstance(shapes[0], (list, tuple, TensorShape))
                                                         and len(self._dtypes) == 1):
                shapes = [shapes]
            if len(shapes) != len(self._dtypes):
                raise ValueError("Queue shapes must have the same length as dtypes")
            self._shapes = [TensorShape(s) for s in shapes]
        else:
            self._shapes = [TensorShape(None) for _ in self._dtypes]
        if names is not None:
            names = list(names) if isinstance(names, (list, tuple)) else [names]
            if len(names) != len(self._dtypes):
                raise ValueError("Queue names must have the same length as dtypes")
        self._names = names
        self._capacity = capacity
        s1, s2 = get_seed(seed)
        attrs = {"kind": self._kind, "component_types": tuple(self._dtypes), "capacity": int(capacity),
                 "shapes": tuple(self._shapes),
                 "min_after_dequeue": int(min_after_dequeue), "seed": s1 or 0, "seed2": s2 or 0,
                 "shared_name": shared_name or ""}
        self._op = make_op(self._kind + "V2", [], attrs, name or self._kind + "V2", graph=get_default_graph())
        self._queue_ref = self._op.outputs[0]

    queue_ref = property(lambda self: self._queue_ref)
    name = property(lambda self: self._op.name)
    dtypes = property(lambda self: self._dtypes)
    shapes = property(lambda self: self._shapes)
    names = property(lambda self: self._names)

    def _scope(self, name, default):
        return name or f"{self._op.name}_{default}"

    def _components(self, vals):
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of Queue.  Dictionary: "
                                 f"{sorted(vals.keys())},Queue: {sorted(self._names)}")
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        return [convert_to_tensor(v, dtype=d, name=f"component_{i}")
                for i, (v, d) in enumerate(zip(vals, self._dtypes))]

    def enqueue(self, vals, name=None):
        """An op that adds one element (waits while the queue is full)."""
        with op_scope(self._scope(name, "enqueue"), [self._queue_ref]) as scope:
            comps = self._components(vals)
            for t, s in zip(comps, self._shapes):
                s.merge_with(t.shape)   # ValueError: incompatible with the queue's shape
            return make_op("QueueEnqueueV2", [self._queue_ref] + comps, {}, scope)

    def enqueue_many(self, vals, name=None):
        """An op that adds the slices of ``vals`` along dimension 0 as elements."""
        with op_scope(self._scope(name, "EnqueueMany"), [self._queue_ref]) as scope:
            comps = self._components(vals)
            batch = None
            for t, s in zip(comps, self._shapes):
                if t.shape.ndims is None:
                    continue
                if t.shape.ndims == 0:
                    raise ValueError(f"Shape {t.shape} must have rank at least 1")
                dims = t.shape.as_list()
                s.merge_with(TensorShape(dims[1:]))
                if dims[0] is not None:
                    if batch is not None and batch != dims[0]:
                        raise ValueError(f"Components of enqueue_many have different first dimensions "
                                         f"{batch} and {dims[0]}")
                    batch = dims[0]
            return make_op("QueueEnqueueManyV2", [self._queue_ref] + comps, {}, scope)

    def _dequeued(self, op):
        outs = list(op.outputs)
        if self._names:
            return dict(zip(self._names, outs))
        return outs[0] if len(outs) == 1 else outs

    def _attrs(self, lead):
        return {"component_types": tuple(self._dtypes),
                "output_shapes": tuple(TensorShape(lead).concatenate(s) if lead is not None else s
                                       for s in self._shapes)}

    def dequeue(self, name=None):
        """One element (waits until there is one; ``OutOfRangeError`` once closed and empty)."""
        op = make_op("QueueDequeueV2", [self._queue_ref], self._attrs(None), self._scope(name, "Dequeue"))
        return self._dequeued(op)

    def dequeue_many(self, n, name=None):
        """``n`` elements stacked along a new dimension 0 (waits for ``n``)."""
        return self._dequeue_n("QueueDequeueManyV2", n, name, "DequeueMany")

    def dequeue_up_to(self, n, name=None):
        """Like ``dequeue_many``, but after ``close`` returns the last, smaller batch."""
        return self._dequeue_n("QueueDequeueUpToV2", n, name, "DequeueUpTo")

    def _dequeue_n(self, op_type, n, name, default):
        with op_scope(self._scope(name, default), [self._queue_ref]) as scope:
            n_t = convert_to_tensor(n, dtype=_dtypes.int32, name="n")
            nv = constant_value(n_t)
            lead = [None if nv is None or op_type == "QueueDequeueUpToV2" else int(nv)]
            return self._dequeued(make_op(op_type, [self._queue_ref, n_t], self._attrs(lead), scope))

    def close(self, cancel_pending_enqueues=False, name=None):
        """An op that closes the queue: no more enqueues; dequeues drain what is left.
        ``cancel_pending_enqueues``: enqueues waiting for room fail (``CancelledError``)."""
        return make_op("QueueCloseV2", [self._queue_ref], {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
                       self._scope(name, "Close"))

    def is_closed(self, name=None):
        return make_op("QueueIsClosedV2", [self._queue_ref], {}, self._scope(name, "IsClosed")).outputs[0]

    def size(self, name=None):
        """The number of elements in the queue (int32 scalar)."""
        return make_op("QueueSizeV2", [self._queue_ref], {}, self._scope(name, "Size")).outputs[0]


class FIFOQueue(QueueBase):
    """Elements come out in the order they went in."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue"):
        super().__init__(capacity, dtypes, shapes, names, shared_name, name)


class PaddingFIFOQueue(FIFOQueue):
    """A FIFO queue whose ``dequeue_many`` pads elements to the largest shape in the batch (zeros /
    empty strings); ``shapes`` may have ``None`` dimensions."""

    _kind = "PaddingFIFOQueue"

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None, name="padding_fifo_queue"):
        QueueBase.__init__(self, capacity, dtypes, shapes, names, shared_name, name)


class RandomShuffleQueue(QueueBase):
    """Elements come out in random order; until closed, ``min_after_dequeue`` stay in the queue
    (so a dequeue mixes at least that many). The order differs from TF's for the same seed."""

    _kind = "RandomShuffleQueue"

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None, shared_name=None,
                 name="random_shuffle_queue"):
        super().__init__(capacity, dtypes, shapes, names, shared_name, name, min_after_dequeue, seed)
