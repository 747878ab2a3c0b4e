"""``Operation`` and ``Tensor``: the nodes and edges of a graph. Both are immutable once built."""

from jitgraph.framework.shapes import TensorShape, as_shape


class Operation:
    """A node: ``type`` names its ``OpDef``; ``inputs`` are Tensors, ``outputs`` Tensors it makes.

    Ops are appended to their graph in creation order (``_id``); that order is also the
    program order the executor follows (see ``jitgraph/runtime/reference.py``).
    """

    __slots__ = ("_graph", "_name", "_type", "_inputs", "_control_inputs", "_outputs", "_attrs",
                 "_device", "_id", "_op_def", "_traceback", "_accesses", "__weakref__")

    def __init__(self, graph, name, op_def, inputs, control_inputs, attrs, output_specs):
        self._graph = graph
        self._name = name
        self._op_def = op_def
        self._type = op_def.type
        self._inputs = tuple(inputs)
        self._control_inputs = tuple(control_inputs)
        self._attrs = dict(attrs)
        self._device = ""
        self._id = None
        self._traceback = None
        self._accesses = None     # memo of compiler.order.var_accesses (ops never change)
        self._outputs = tuple(Tensor(self, i, dt, sh) for i, (dt, sh) in enumerate(output_specs))

    name = property(lambda self: self._name)
    type = property(lambda self: self._type)
    graph = property(lambda self: self._graph)
    inputs = property(lambda self: self._inputs)
    control_inputs = property(lambda self: list(self._control_inputs))
    outputs = property(lambda self: list(self._outputs))
    device = property(lambda self: self._device)
    op_def = property(lambda self: self._op_def)
    attrs = property(lambda self: self._attrs)
    traceback = property(lambda self: self._traceback)

    def _set_device(self, device):
        from jitgraph.framework.device import canonical_name
        self._device = canonical_name(device)

    def get_attr(self, name):
        if name not in self._attrs:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.")
        return self._attrs[name]

    def values(self):
        return tuple(self._outputs)

    def run(self, feed_dict=None, session=None):
        """Run this op in ``session`` (or the default session)."""
        from jitgraph.runtime.session import _session_for
        _session_for(session, self._graph).run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Operation '{self._name}' type={self._type}>"


class Tensor:
    """One output of an ``Operation``: a static dtype, a (possibly partial) static shape."""

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "__weakref__")
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = as_shape(shape)

    op = property(lambda self: self._op)
    value_index = property(lambda self: self._value_index)
    dtype = property(lambda self: self._dtype)
    graph = property(lambda self: self._op._graph)
    device = property(lambda self: self._op._device)
    shape = property(lambda self: self._shape)

    @property
    def name(self):
        return f"{self._op._name}:{self._value_index}"

    def get_shape(self):
        return self._shape

    def set_shape(self, shape):
        """Refine the static shape (must be compatible)."""
        self._shape = self._shape.merge_with(shape)

    def consumers(self):
        return [op for op in self.graph.get_operations() if any(t is self for t in op.inputs)]

    def eval(self, feed_dict=None, session=None):
        """Evaluate this tensor in ``session`` (or the default session)."""
        from jitgraph.runtime.session import _session_for
        return _session_for(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={self._dtype.name}>"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __eq__(self, other):  # TF1 graph mode: identity
        return self is other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
                        "instead of `if t:` or TensorFlow ops like tf.cond to execute subgraphs "
                        "conditioned on the value of a tensor.")

    def __iter__(self):
        raise TypeError("Tensor objects are only iterable when eager execution is enabled. "
                        "To iterate over this tensor use tf.unstack or tf.map_fn.")

    def __len__(self):
        raise TypeError(f"len is not well defined for symbolic Tensors ({self.name}). "
                        "Use tf.shape(t) or t.shape instead.")

    def _as_graph_element(self):
        return self


TensorShape = TensorShape  # re-export for convenience
