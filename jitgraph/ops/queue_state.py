"""The run-time state of TF1 queues: one ``QueueState`` per queue op per session.

Where it lives. Like a variable's buffer or an iterator, a queue's contents belong to the session
that runs it (two sessions on one graph have independent queues): ``queues(state)`` maps the
queue op's name to its ``QueueState`` for that ``SessionState``, created on first use from the
queue op's attrs.

Threading. Session runs are serialized by ``SessionState.lock`` (an ``RLock``). A queue's two
``threading.Condition`` s (readable, writable) are built on that same lock, so an op that must block (a
dequeue from an empty queue, an enqueue into a full one) *releases the session lock while it
waits*: a queue runner thread can run its enqueue while the main thread's ``sess.run(train_op)``
is blocked in a dequeue, as in TF. While a run waits, other runs of the session may run; on
waking, the waiting run restores its variable-rollback journal (``VariableStore._journal``), so
each run still rolls back only what it wrote. Waits poll every 0.1 s for ``Session.close`` (then
``CancelledError``, as TF cancels blocked runs when their session closes). A compiled run that
waited keeps the variable buffers it loaded before waiting: two threads *training* the same
variables at once (Hogwild) may lose updates, as TF's unlocked updates may; queue runners, which
write no variables but their epoch counters, are unaffected.

Ops record how to undo their effect with ``ctx.on_retry`` (a compiled run redone by the
reference executor puts dequeued elements back and takes enqueued ones out).
"""

import collections
import threading
import weakref

import numpy as np

from jitgraph import errors

_SESSIONS = weakref.WeakKeyDictionary()   # SessionState -> {queue op name: QueueState}
_SESSIONS_LOCK = threading.Lock()
POLL_S = 0.1


def queues(state):
    """``{name: QueueState}`` of one session."""
    with _SESSIONS_LOCK:
        table = _SESSIONS.get(state)
        if table is None:
            table = _SESSIONS[state] = {}
        return table


def queue_of(ctx, queue_op):
    """The ``QueueState`` of ``queue_op`` in the running session (made on first use)."""
    table = queues(ctx.state)
    q = table.get(queue_op.name)
    if q is None:
        a = queue_op.attrs
        rng = ctx.rng(queue_op) if a["kind"] == "RandomShuffleQueue" else None
        shapes = [None if s.ndims is None else tuple(s.as_list()) for s in a["shapes"]]
        q = table[queue_op.name] = QueueState(ctx.state, queue_op.name, a["kind"], a["capacity"],
                                              a["min_after_dequeue"], shapes, rng)
    return q


class QueueState:
    """Elements (tuples of arrays) of one queue in one session, with TF's blocking rules."""

    def __init__(self, state, name, kind, capacity, min_after_dequeue, shapes, rng):
        self.state, self.name, self.kind = state, name, kind
        self.readable = threading.Condition(state.lock)   # waited on by dequeues
        self.writable = threading.Condition(state.lock)   # waited on by enqueues
        self.capacity = capacity if capacity is not None and capacity >= 0 else None
        self.min_after_dequeue = min_after_dequeue
        self.shapes = shapes
        self.rng = rng
        self.items = collections.deque() if rng is None else []
        self.closed = False
        self.cancelled = False

    # ---- waiting ---------------------------------------------------------------------------
    def _wait(self, cond, ready, on_closed):
        """Wait (the session lock released) until ``ready()``; ``on_closed()`` raises once the
        queue is closed and can never become ready."""
        store = self.state.store
        waited = False
        while not ready():
            if self.closed:
                on_closed(waited)
            if getattr(self.state, "closed", False):
                raise errors.CancelledError(None, None, "Session has been closed.")
            journal = store._journal
            cond.wait(POLL_S)
            store._journal = journal
            waited = True

    def _insufficient(self, n, waited):
        """TF's message. A TF dequeue that waited had already taken the elements above the floor
        (``min_after_dequeue``) out of the queue into its batch when the queue closed; it reports
        what it still lacked and the size without them (then puts them back)."""
        size = len(self.items)
        floor = self.min_after_dequeue if self.rng is not None else 0
        held = min(n - 1, max(0, size - floor)) if waited else 0
        raise errors.OutOfRangeError(
            None, None, f"{self.kind} '{self.name}' is closed and has insufficient elements "
                        f"(requested {n - held}, current size {size - held})")

    def _closed_for_enqueue(self, waited=False):
        if self.cancelled:
            raise errors.CancelledError(None, None, "Enqueue operation was cancelled")
        raise errors.CancelledError(None, None, f"{self.kind} '{self.name}' is closed.")

    # ---- operations ----------------------------------------------------------------------------
    def enqueue(self, elements, ctx=None):
        """Append ``elements`` (tuples of arrays, already copied) one at a time, waiting for room."""
        done = []
        try:
            for e in elements:
                self._check_shapes(e)
                if self.closed:
                    self._closed_for_enqueue()
                self._wait(self.writable, lambda: self.capacity is None or len(self.items) < self.capacity,
                           self._closed_for_enqueue)
                self.items.append(e)
                done.append(e)
                self.readable.notify_all()
        finally:
            if ctx is not None and done:
                ctx.on_retry(lambda: self._take_back(done))

    def _take_back(self, elements):
        ids = {id(e) for e in elements}
        kept = [e for e in self.items if id(e) not in ids]
        self.items.clear()
        self.items.extend(kept)

    def _check_shapes(self, element):
        for i, (v, shape) in enumerate(zip(element, self.shapes)):
            if shape is not None and (len(shape) != v.ndim or any(d is not None and d != s for d, s in
                                                                   zip(shape, v.shape))):
                want = "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
                raise errors.InvalidArgumentError(
                    None, None, f"Shape mismatch in tuple component {i}. Expected {want}, got "
                                f"[{','.join(map(str, v.shape))}]")

    def dequeue(self, n, up_to=False, ctx=None):
        """Remove ``n`` elements (``None``: one, unbatched); ``up_to``: fewer once closed."""
        want = 1 if n is None else n
        floor = self.min_after_dequeue if self.rng is not None else 0

        def ready():
            have = len(self.items)
            if self.closed:
                return have >= want or (up_to and have > 0)
            return have >= want + floor

        self._wait(self.readable, ready, lambda waited: self._insufficient(want, waited))
        count = min(want, len(self.items))
        if self.rng is None:
            taken = [self.items.popleft() for _ in range(count)]
        else:
            taken = []
            for _ in range(count):
                i = int(self.rng.integers(len(self.items)))
                self.items[i], self.items[-1] = self.items[-1], self.items[i]
                taken.append(self.items.pop())
        self.writable.notify_all()
        if ctx is not None:
            ctx.on_retry(lambda: self._put_back(taken))
        if n is None:
            return list(taken[0])
        pad = self.kind == "PaddingFIFOQueue"
        return [_stack([e[c] for e in taken], pad) for c in range(len(taken[0]))] if taken else []

    def _put_back(self, taken):
        if self.rng is None:
            self.items.extendleft(reversed(taken))
        else:
            self.items.extend(taken)

    def close(self, cancel_pending_enqueues):
        self.closed = True
        self.cancelled = self.cancelled or cancel_pending_enqueues
        self.readable.notify_all()
        self.writable.notify_all()


def _stack(values, pad):
    """Stack one component of a batch; a padding queue pads each to the batch's largest shape
    (zeros, empty strings)."""
    if pad and len({v.shape for v in values}) > 1:
        if len({v.ndim for v in values}) == 1:
            big = tuple(max(s) for s in zip(*(v.shape for v in values)))
            fill = b"" if values[0].dtype == object else 0
            out = np.full((len(values),) + big, fill, dtype=values[0].dtype)
            for i, v in enumerate(values):
                out[(i,) + tuple(slice(0, d) for d in v.shape)] = v
            return out
    try:
        return np.stack(values)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, "Shape mismatch in tuple component: dequeue_many needs elements of one shape, got "
                        f"{sorted({v.shape for v in values})}") from None
