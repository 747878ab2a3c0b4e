"""``Dataset.prefetch``: a background thread runs the input pipeline ahead of the consumer.

The producer thread pulls elements from the upstream pipeline (reading, ``map`` plans, batching)
into a bounded queue while the session runs the training step; compiled kernels and BLAS release
the GIL, so the two overlap. Errors travel through the queue and are raised by the ``get_next``
that reaches them, in order. The thread stops when the consumer is closed, re-initialized or
garbage collected (it polls a stop flag while the queue is full).
"""

import queue
import threading

from jitgraph import errors
from jitgraph.data.dataset import AUTOTUNE, Dataset, arg_tensors, arg_value, scalar_arg
from jitgraph.kernels import denormals

AUTOTUNE_BUFFER = 4     # elements buffered for ``prefetch(AUTOTUNE)``
_ELEMENT, _END, _ERROR = 0, 1, 2
_POLL_S = 0.05


class PrefetchDataset(Dataset):
    def __init__(self, input_ds, buffer_size):
        self._size = scalar_arg(buffer_size, "buffer_size")
        super().__init__(input_ds._spec, [input_ds], arg_tensors(self._size))

    def _iterate(self, env):
        size = arg_value(env, *self._size)
        if size == AUTOTUNE:
            size = AUTOTUNE_BUFFER
        if size < 0:
            raise errors.InvalidArgumentError(None, None, f"buffer_size must be >= 0 or AUTOTUNE, got {size}.")
        source = self._inputs[0]._iterate(env)
        if size == 0:
            return source
        return _prefetched(source, size, env)


def _prefetched(source, size, env):
    q = queue.Queue(maxsize=size)
    stop = threading.Event()
    env.on_close(stop.set)
    thread = threading.Thread(target=_produce, args=(iter(source), q, stop), name="jitgraph-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == _ELEMENT:
                yield value
            elif kind == _END:
                return
            else:
                raise value
    finally:
        stop.set()


def _produce(source, q, stop):
    denormals.flush_this_thread()     # the pipeline's plans run here, as in a session run
    try:
        for element in source:
            if not _put(q, (_ELEMENT, element), stop):
                return
        _put(q, (_END, None), stop)
    except BaseException as e:   # noqa: BLE001 - delivered to the consumer, in order
        _put(q, (_ERROR, e), stop)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()   # stops prefetchers further upstream


def _put(q, item, stop):
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            pass
    return False
