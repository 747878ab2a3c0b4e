"""TF1's queue-based batching: ``tf.train.batch``, ``shuffle_batch``, ``batch_join``,
``shuffle_batch_join``.

    image, label = tf.train.slice_input_producer([images, labels], shuffle=False)
    images, labels = tf.train.batch([image, label], batch_size=32)     # shapes [32, ...]

``tensors`` is a list (or tuple) of tensors, a dict of them (the batch is a dict with the same
keys) or one tensor; each run of the result dequeues ``batch_size`` examples from a queue that a
``QueueRunner`` (``num_threads`` threads, each running the enqueue op) fills from ``tensors``. At
the end of the input, ``OutOfRangeError`` — after a last, smaller batch (static batch dimension
``None``) with ``allow_smaller_final_batch=True``. ``enqueue_many=True``: ``tensors`` are batches
whose rows are the examples. ``dynamic_pad=True``: examples of different shapes are padded to the
largest in each batch (a ``PaddingFIFOQueue``). The ``*_join`` forms take a list of such tensor
lists, one enqueue thread per list (e.g. one reader each), and mix their examples.

With one thread and ``shuffle=False`` producers the batches are exactly TF's. ``shuffle_batch``
draws from a ``RandomShuffleQueue`` holding at least ``min_after_dequeue`` examples: with a seed its
order is reproducible but differs from TF's; every example still comes out exactly once.
"""

from jitgraph import dtypes
from jitgraph.api_graph import name_scope
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.queue_ops import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.train.queue_runner import QueueRunner, add_queue_runner

__all__ = ["batch", "shuffle_batch", "batch_join", "shuffle_batch_join"]


def _as_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    if isinstance(tensors, (Tensor,)) or hasattr(tensors, "_as_graph_element"):
        return [tensors]
    return list(tensors)


def _as_original_type(original, dequeued):
    if isinstance(original, dict):
        if not isinstance(dequeued, list):
            dequeued = [dequeued]
        return {k: dequeued[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list):
    tensor_list = [convert_to_tensor(t) for t in tensor_list]
    if not tensor_list:
        raise ValueError("Expected at least one tensor in batch().")
    return tensor_list


def _dtypes(tensor_list_list):
    types = [t.dtype.base_dtype for t in tensor_list_list[0]]
    for tl in tensor_list_list[1:]:
        other = [t.dtype.base_dtype for t in tl]
        if other != types:
            raise TypeError("Expected types to be consistent: %s vs. %s." %
                            (", ".join(x.name for x in types), ", ".join(x.name for x in other)))
    return types


def _shapes(tensor_list_list, shapes, enqueue_many):
    if shapes is not None:
        return shapes
    out = []
    for i in range(len(tensor_list_list[0])):
        merged = None
        for tl in tensor_list_list:
            s = tl[i].shape
            if s.ndims is None:
                raise ValueError(f"Cannot infer Tensor's rank: {tl[i]}")
            if enqueue_many:
                if s.ndims == 0:
                    raise ValueError(f"Shape {s} must have rank at least 1")
                s = TensorShape(s.as_list()[1:])
            merged = s if merged is None else merged.merge_with(s)
        out.append(merged.as_list())
    return out


def _enqueue(queue, tensor_list_list, threads, enqueue_many):
    enqueue = queue.enqueue_many if enqueue_many else queue.enqueue
    if len(tensor_list_list) == 1:
        ops = [enqueue(tensor_list_list[0])] * threads
    else:
        ops = [enqueue(tl) for tl in tensor_list_list]
    add_queue_runner(QueueRunner(queue, ops))


def _full_summary(queue, capacity, min_after_dequeue=None):
    from jitgraph.ops.math_api import maximum
    from jitgraph.ops.math_ops import cast
    from jitgraph.summary.api import scalar
    if min_after_dequeue is None:
        scalar("fraction_of_%d_full" % capacity, cast(queue.size(), dtypes.float32) * (1.0 / capacity))
    else:
        full = cast(maximum(0, queue.size() - min_after_dequeue), dtypes.float32) * \
            (1.0 / (capacity - min_after_dequeue))
        scalar("fraction_over_%d_of_%d_full" % (min_after_dequeue, capacity - min_after_dequeue), full)


def _dequeue(queue, batch_size, allow_smaller_final_batch, name):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _batch_join_impl(tensors_list, batch_size, capacity, enqueue_many, shapes, dynamic_pad,
                     allow_smaller_final_batch, shared_name, name, default_name, threads,
                     min_after_dequeue=None, seed=None):
    lists = [_as_list(t) for t in tensors_list]
    if not lists:
        raise ValueError("Expected at least one input in batch_join().")
    with name_scope(name, default_name, [t for tl in lists for t in tl if isinstance(t, Tensor)]) as scope:
        lists = [_validate(tl) for tl in lists]
        if len({len(tl) for tl in lists}) != 1:
            raise ValueError(f"Expected all inputs to batch_join() to have the same length, got "
                             f"{[len(tl) for tl in lists]}")
        types = _dtypes(lists)
        shapes = _shapes(lists, shapes, enqueue_many)
        if min_after_dequeue is not None:
            if capacity <= min_after_dequeue:
                raise ValueError("capacity %d must be bigger than min_after_dequeue %d." % (capacity, min_after_dequeue))
            queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed,
                                       dtypes=types, shapes=shapes, shared_name=shared_name)
        else:
            queue = (PaddingFIFOQueue if dynamic_pad else FIFOQueue)(
                capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
        _enqueue(queue, lists, threads, enqueue_many)
        _full_summary(queue, capacity, min_after_dequeue)
        return _as_original_type(tensors_list[0], _dequeue(queue, batch_size, allow_smaller_final_batch, scope))


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None, dynamic_pad=False,
          allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches of ``batch_size`` examples of ``tensors`` (see the module docstring)."""
    return _batch_join_impl([tensors], batch_size, capacity, enqueue_many, shapes, dynamic_pad,
                            allow_smaller_final_batch, shared_name, name, "batch", num_threads)


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None, dynamic_pad=False,
               allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches mixing the examples of every tensor list of ``tensors_list`` (one thread each)."""
    return _batch_join_impl(tensors_list, batch_size, capacity, enqueue_many, shapes, dynamic_pad,
                            allow_smaller_final_batch, shared_name, name, "batch_join", 1)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None, enqueue_many=False,
                  shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches of randomly chosen examples; the queue keeps ``min_after_dequeue`` examples to mix."""
    return _batch_join_impl([tensors], batch_size, capacity, enqueue_many, shapes, False,
                            allow_smaller_final_batch, shared_name, name, "shuffle_batch", num_threads,
                            min_after_dequeue, seed)


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None, enqueue_many=False,
                       shapes=None, allow_smaller_final_batch=False, shared_name=None, name=None):
    """``shuffle_batch`` over several tensor lists (one enqueue thread each)."""
    return _batch_join_impl(tensors_list, batch_size, capacity, enqueue_many, shapes, False,
                            allow_smaller_final_batch, shared_name, name, "shuffle_batch_join", 1,
                            min_after_dequeue, seed)
