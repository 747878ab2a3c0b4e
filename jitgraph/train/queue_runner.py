"""``tf.train.QueueRunner``, ``tf.train.add_queue_runner``, ``tf.train.start_queue_runners``.

A ``QueueRunner`` holds a queue's enqueue ops; ``create_threads(sess, coord)`` starts one thread per
enqueue op, each running its op in a loop (``sess.run`` from several threads at once is safe: a
run blocked in a queue op does not hold the session, see ``jitgraph.ops.queue_state``). As TF's:

* an enqueue thread that gets ``OutOfRangeError`` (its input is exhausted, e.g. the epochs of a
  producer ran out) ends; the last one to end closes the queue, so readers drain what is left
  and then get ``OutOfRangeError`` themselves;
* any other error is reported to the coordinator (``coord.request_stop(e)``; ``coord.join``
  raises it);
* with a coordinator, one more thread waits for the stop request and then closes the queue with
  ``cancel_pending_enqueues=True``, which ends enqueue threads blocked on a full queue.

Typical use is through ``tf.train.start_queue_runners(sess, coord)``: it starts the threads of
every runner in the graph's ``QUEUE_RUNNERS`` collection (filled by ``tf.train.batch``, the input
producers …) and returns them for ``coord.join``.
"""

import logging
import threading

from jitgraph import errors
from jitgraph.framework.graph import GraphKeys, get_default_graph

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]

logger = logging.getLogger("jitgraph")


class QueueRunner:
    """Threads that run ``enqueue_ops`` (one thread each) to fill ``queue``."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, import_scope=None):
        if queue_runner_def is not None:
            raise NotImplementedError("QueueRunner from a QueueRunnerDef proto is not supported")
        if queue is None or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(cancel_pending_enqueues=True)
        self._queue_closed_exception_types = tuple(queue_closed_exception_types or (errors.OutOfRangeError,))
        self._lock = threading.Lock()
        self._runs_per_session = {}
        self._exceptions_raised = []

    queue = property(lambda self: self._queue)
    enqueue_ops = property(lambda self: self._enqueue_ops)
    close_op = property(lambda self: self._close_op)
    cancel_op = property(lambda self: self._cancel_op)
    queue_closed_exception_types = property(lambda self: self._queue_closed_exception_types)
    name = property(lambda self: self._queue.name)

    @property
    def exceptions_raised(self):
        """Errors of threads started without a coordinator."""
        return self._exceptions_raised

    def _run(self, sess, enqueue_op, coord):
        decremented = False
        try:
            enqueue = sess.make_callable(enqueue_op) if hasattr(sess, "make_callable") else \
                (lambda: sess.run(enqueue_op))
            while True:
                if coord is not None and coord.should_stop():
                    break
                try:
                    enqueue()
                except self._queue_closed_exception_types:
                    with self._lock:   # the last thread of this runner closes the queue
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        if self._runs_per_session[sess] == 0:
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001
                                logger.debug("Ignored exception: %s", e)
                    return
        except Exception as e:  # noqa: BLE001
            if coord is not None:
                coord.request_stop(e)
            else:
                logger.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, coord):
        coord.wait_for_stop()
        try:
            sess.run(self._cancel_op)
        except Exception as e:  # noqa: BLE001
            logger.debug("Ignored exception: %s", e)

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """The threads running this runner's enqueue ops in ``sess`` (plus, with ``coord``, the one
        that closes the queue on a stop request); none if they already run in ``sess``."""
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self.name}-{op.name}") for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(target=self._close_on_stop, args=(sess, coord),
                                            name=f"QueueRunnerThread-{self.name}-close_on_stop"))
        for t in threads:
            if coord is not None:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads


def add_queue_runner(qr, collection=GraphKeys.QUEUE_RUNNERS):
    """Add ``qr`` to the graph's ``collection`` (what ``start_queue_runners`` starts)."""
    get_default_graph().add_to_collection(collection, qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True, collection=GraphKeys.QUEUE_RUNNERS):
    """Start the threads of every ``QueueRunner`` in ``collection`` of ``sess``'s graph; returns
    them (pass them to ``coord.join``). ``sess`` defaults to the default session."""
    from jitgraph.runtime.session import get_default_session
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. Use `with "
                             "sess.as_default()` or pass an explicit session to tf.start_queue_runners(sess=sess)")
    if not hasattr(sess, "run") or not hasattr(sess, "graph"):
        raise TypeError(f"sess must be a `tf.Session` object. Given class: {type(sess)}")
    if type(sess).__name__ in ("MonitoredSession", "SingularMonitoredSession"):
        return []   # they start their queue runners themselves
    graph = sess.graph
    runners = graph.get_collection(collection)
    if not runners:
        logger.warning("`tf.train.start_queue_runners()` was called when no queue runners were defined. You can "
                       "safely remove the call to this deprecated function.")
    threads = []
    with graph.as_default():
        for qr in runners:
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
