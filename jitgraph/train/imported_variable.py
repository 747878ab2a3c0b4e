"""A variable rebuilt by ``import_meta_graph`` over existing ops, used when ``jitgraph.variables``
offers no ``Variable._from_ops``. It supports what code that did not build the graph needs: reads,
assigns, ``initializer``, ``eval``/``load`` and use as an operand or fetch."""

from jitgraph.framework.tensor import Tensor
from jitgraph.ops import state_ops
from jitgraph.ops.registry import make_op, register_tensor_conversion_function


class ImportedVariable:
    """A ``VariableV2`` op plus the initializer/snapshot ops it was exported with."""

    def __init__(self, op, initializer=None, snapshot=None, initial_value=None, trainable=True):
        self._op = op
        self._initializer = initializer
        self._snapshot = snapshot if isinstance(snapshot, Tensor) else None
        self._initial_value = initial_value
        self.trainable = trainable

    op = property(lambda self: self._op)
    graph = property(lambda self: self._op.graph)
    device = property(lambda self: self._op.device)
    name = property(lambda self: self._op.outputs[0].name)
    dtype = property(lambda self: self._op.outputs[0].dtype)
    shape = property(lambda self: self._op.outputs[0].shape)
    initializer = property(lambda self: self._initializer)
    initial_value = property(lambda self: self._initial_value)

    def get_shape(self):
        return self.shape

    def _ref(self):
        return self._op.outputs[0]

    def value(self):
        if self._snapshot is not None:
            return self._snapshot
        from jitgraph.ops.control_ops import identity
        with self.graph.as_default():
            return identity(self._ref())

    read_value = value

    def _as_graph_element(self):
        return self.value()

    def eval(self, session=None):
        return self.value().eval(session=session)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        with self.graph.as_default():
            return self._assign("Assign", value, name)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        with self.graph.as_default():
            return self._assign("AssignAdd", delta, name)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        with self.graph.as_default():
            return self._assign("AssignSub", delta, name)

    def _assign(self, op_type, value, name):
        ref = self._ref()
        value = state_ops._value_for(ref, value, op_type)
        return make_op(op_type, [ref, value], {"validate_shape": True, "use_locking": False},
                       name or op_type).outputs[0]

    def load(self, value, session=None):
        from jitgraph.runtime.session import _session_for
        sess = _session_for(session, self.graph)
        sess.run(self.assign(value))

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.base_dtype.name}_ref>"


register_tensor_conversion_function(ImportedVariable, lambda v, dtype, name, as_ref: v._ref() if as_ref else v.value())
