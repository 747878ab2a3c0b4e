"""TF1's queue-based input producers: ``tf.train.string_input_producer``, ``input_producer``,
``range_input_producer``, ``slice_input_producer`` and ``limit_epochs``.

    x, y = tf.train.slice_input_producer([images, labels], num_epochs=2, shuffle=False)
    xb, yb = tf.train.batch([x, y], batch_size=32)

Each producer is a ``FIFOQueue`` filled by a ``QueueRunner`` (in the ``QUEUE_RUNNERS``
collection: start it with ``tf.train.start_queue_runners``) that enqueues the whole input once
per run of its enqueue op, shuffled per epoch if ``shuffle``. ``num_epochs`` counts those runs in
a local variable ``<scope>/limit_epochs/epochs`` (run ``tf.local_variables_initializer()`` first,
as in TF: otherwise the runner fails with ``FailedPreconditionError`` and readers see the queue
closed); after ``num_epochs`` the runner closes the queue and readers get ``OutOfRangeError``
once it is drained. With ``shuffle=False`` the order is TF's; with ``shuffle=True`` each epoch is a
permutation of the input, seeded as TF's ops are, but not TF's permutation.
"""

from jitgraph import dtypes
from jitgraph.api_graph import control_dependencies, name_scope
from jitgraph.framework.graph import GraphKeys
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.array_ops import range as _range, shape as _shape
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.control_ops import identity
from jitgraph.ops.queue_ops import FIFOQueue
from jitgraph.ops.random_ops import random_shuffle
from jitgraph.ops.registry import constant_value, convert_to_tensor
from jitgraph.ops.slicing_ops import gather
from jitgraph.ops.state_ops import count_up_to
from jitgraph.train.queue_runner import QueueRunner, add_queue_runner

__all__ = ["limit_epochs", "input_producer", "string_input_producer", "range_input_producer",
           "slice_input_producer"]


def limit_epochs(tensor, num_epochs=None, name=None):
    """``tensor``, but running it more than ``num_epochs`` times raises ``OutOfRangeError``
    (a local counter ``epochs``: run ``tf.local_variables_initializer()``)."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError("num_epochs must be > 0 not %d." % num_epochs)
    from jitgraph.variables.variables import Variable
    with name_scope(name, "limit_epochs", [tensor]) as scope:
        epochs = Variable(constant(0, dtype=dtypes.int64), name="epochs", trainable=False,
                          collections=[GraphKeys.LOCAL_VARIABLES])
        counter = count_up_to(epochs, num_epochs)
        with control_dependencies([counter]):
            return identity(tensor, name=scope)


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None, capacity=32,
                   shared_name=None, summary_name=None, name=None, cancel_op=None):
    """A queue fed with the rows of ``input_tensor`` (dimension 0), ``num_epochs`` times (None:
    forever), each epoch shuffled if ``shuffle``."""
    with name_scope(name, "input_producer", [input_tensor]):
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        rows = input_tensor.shape
        row_shape = TensorShape(None) if rows.ndims is None else TensorShape(rows.as_list()[1:])
        element_shape = row_shape.merge_with(TensorShape(element_shape) if element_shape is not None
                                             else TensorShape(None))
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or `element_shape` must be "
                             "specified")
        if shuffle:
            input_tensor = random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype], shapes=[element_shape],
                      shared_name=shared_name, name=name)
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        if summary_name is not None:
            _fraction_summary(summary_name, q, capacity)
        return q


def _fraction_summary(summary_name, q, capacity):
    from jitgraph.ops.math_ops import cast
    from jitgraph.summary.api import scalar
    scalar(summary_name, cast(q.size(), dtypes.float32) * (1.0 / capacity))


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None,
                          name=None, cancel_op=None):
    """A queue of the strings (usually file names) of ``string_tensor``, for a reader."""
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not hasattr(string_tensor, "dtype") and not hasattr(string_tensor, "_as_graph_element") and \
            len(string_tensor) == 0:
        raise ValueError(not_null_err)
    with name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = convert_to_tensor(string_tensor, dtype=dtypes.string)
        value = constant_value(string_tensor)
        if value is not None and value.size == 0:
            raise ValueError(not_null_err)
        string_tensor = identity(string_tensor)
        return input_producer(string_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              "fraction_of_%d_full" % capacity, scope, cancel_op)


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None,
                         name=None):
    """A queue of the integers ``0 .. limit-1`` (int32)."""
    with name_scope(name, "input_producer", [limit]) as scope:
        range_tensor = _range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity, shared_name,
                              "fraction_of_%d_full" % capacity, scope)


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None,
                         name=None):
    """One slice (along dimension 0) of every tensor of ``tensor_list`` per run: the same row of
    each. A range queue of row indices is filled by a queue runner; returns the gathered rows."""
    with name_scope(name, "input_producer", list(tensor_list)):
        tensor_list = [convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = _shape(tensor_list[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [gather(t, index) for t in tensor_list]
