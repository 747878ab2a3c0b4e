"""``Variable``: a TF1 reference variable (op ``VariableV2``, dtype ``float32_ref``)."""

import contextlib

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import state_ops
from jitgraph.ops.control_ops import identity
from jitgraph.ops.math_api import install_operators
from jitgraph.ops.registry import convert_to_tensor, make_op, register_tensor_conversion_function

_BY_OP = "jitgraph.variables.by_op"   # graph attachment: VariableV2 op -> Variable


class Variable:
    """A mutable tensor kept in the session: ``tf.Variable(initial_value, name=..., trainable=...)``.

    ``v.value()`` is the read made when ``v`` was created (``<var>/read:0``); using ``v`` where a
    Tensor is expected (``v * 2``, ``tf.reduce_sum(v)``) or calling ``v.read_value()`` reads the
    variable *at that point of the program*.

    Ordering rule. Within one ``Session.run``, a read of a variable sees exactly the stateful ops
    on that variable (assign, assign_add, assign_sub, initializers) that precede it in program
    (creation) order and are part of the run. So an update made a control dependency is seen::

        v = tf.Variable(1.0)
        inc = v.assign_add(1.0)
        with tf.control_dependencies([inc]):
            y = v * 2          # reads v after inc: sess.run(y) == 4.0, then 6.0, ...
            z = v.read_value() # likewise sees the increment
        w = v.value() * 2      # the snapshot taken at creation: the value at the start of the run

    An update that is not part of the run (not fetched, not a dependency) is not seen, and a read
    never sees an update created after it.

    Fetching the variable itself is not a read inside the graph: ``sess.run([train_op, v])``
    returns ``v``'s value after the run's own updates, as a local TF1 session shows it (so
    ``sess.run([inc, global_step])`` gives the incremented step twice).
    """

    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=None, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):
        if variable_def is not None:
            raise NotImplementedError("Variable(variable_def=...) is not supported by jitgraph")
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        trainable = True if trainable is None else bool(trainable)
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        if not isinstance(collections, (list, tuple, set)):
            raise ValueError(f"collections argument to Variable constructor must be a list, tuple, or set. "
                             f"Got {collections} of type {type(collections)}")
        if constraint is not None and not callable(constraint):
            raise ValueError("The `constraint` argument must be a callable.")
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        dtype = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
        graph = get_default_graph()
        if graph.building_function:   # made inside a loop or cond body: it lives in the outermost graph
            with graph.init_scope():
                return Variable.__init__(self, initial_value, trainable, collections, validate_shape, caching_device,
                                         name, None, dtype, expected_shape, import_scope, constraint, use_resource,
                                         synchronization, aggregation, shape)
        self._trainable, self._constraint, self._caching_device = trainable, constraint, caching_device
        with graph_rollback(graph), graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                start = len(graph._ops)
                with graph.name_scope("Initializer"), graph.device(None):
                    self._initial_value = convert_to_tensor(initial_value(), dtype, name="initial_value")
                init_ops = graph._ops[start:]
            else:
                self._initial_value = convert_to_tensor(initial_value, dtype, name="initial_value")
                init_ops = []
            if shape is None:
                shape = self._initial_value.shape if validate_shape else TensorShape(None)
            self._variable = state_ops.variable_op(shape, self._initial_value.dtype.base_dtype, scope).outputs[0]
            if validate_shape and not self._initial_value.shape.is_fully_defined():
                raise ValueError(f"initial_value must have a shape specified: {self._initial_value}")
            var_op = self._variable.op
            for op in init_ops:   # TF colocates the initializer with the variable
                op._set_device(var_op.device)
            self._guarded_initial_value = _guard_uninitialized_reads(graph, scope, self._initial_value)
            assign = state_ops.assign(self._variable, self._guarded_initial_value, validate_shape=validate_shape,
                                      name="Assign")
            self._initializer_op = assign.op
            self._initializer_op._set_device(var_op.device)
            if caching_device is not None:
                with graph.device(caching_device):
                    self._snapshot = identity(self._variable, name="read")
            else:
                self._snapshot = identity(self._variable, name="read")
                self._snapshot.op._set_device(var_op.device)
        graph._attachment(_BY_OP, dict)[var_op] = self
        graph.add_to_collections(collections, self)

    # ---- identity ----------------------------------------------------------------------------------
    name = property(lambda self: self._variable.name, doc="``'scope/v:0'``")
    op = property(lambda self: self._variable.op, doc="The ``VariableV2`` op.")
    dtype = property(lambda self: self._variable.dtype, doc="A ref dtype: ``float32_ref``.")
    shape = property(lambda self: self._variable.shape)
    device = property(lambda self: self._variable.op.device)
    graph = property(lambda self: self._variable.graph)
    initializer = property(lambda self: self._initializer_op, doc="The ``<var>/Assign`` op.")
    initial_value = property(lambda self: self._initial_value)
    trainable = property(lambda self: self._trainable)
    constraint = property(lambda self: self._constraint)
    caching_device = property(lambda self: self._caching_device)

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    def _ref(self):
        """The ref tensor ``v:0``: an input that reads (or, for assigns, names) the variable."""
        return self._variable

    def _as_graph_element(self):
        return self._variable

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")

    # ---- reading -------------------------------------------------------------------------------------
    def value(self):
        """The snapshot read made when the variable was created (``<var>/read:0``)."""
        return self._snapshot

    def read_value(self):
        """A new read (``read``, ``read_1``… in the current name scope) at this point of the program,
        under the control dependencies active here."""
        return identity(self._variable, name="read")

    def initialized_value(self):
        """The variable's value if it is initialized, else its initial value (``cond/Merge``)."""
        graph = self.graph
        with graph.control_dependencies(None), graph.name_scope("cond"):
            return state_ops.initialized_value(self._variable, self._guarded_initial_value, name="Merge")

    def eval(self, session=None):
        """The variable's value in ``session`` (or the default session)."""
        return self._variable.eval(session=session)

    def load(self, value, session=None):
        """Set the variable to ``value`` (a Python/NumPy value) by running its initializer with it fed."""
        from jitgraph.runtime.session import _session_for
        _session_for(session, self.graph).run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    # ---- writing -------------------------------------------------------------------------------------
    def assign(self, value, use_locking=False, name=None, read_value=True):
        """``v = value``; returns the new value (a tensor) or, with ``read_value=False``, the op."""
        t = state_ops.assign(self._variable, value, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        """``v += delta``; returns the new value."""
        t = state_ops.assign_add(self._variable, delta, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        """``v -= delta``; returns the new value."""
        t = state_ops.assign_sub(self._variable, delta, use_locking=use_locking, name=name)
        return t if read_value else t.op

    def count_up_to(self, limit):
        """``tf.count_up_to(v, limit)``: the value before incrementing; ``OutOfRangeError`` at ``limit``."""
        return state_ops.count_up_to(self._variable, limit)

    def to_proto(self, export_scope=None):
        raise NotImplementedError("jitgraph has no protocol buffers")


VariableV1 = Variable
RefVariable = Variable
install_operators(Variable)


def _to_tensor(v, dtype=None, name=None, as_ref=False):
    if dtype is not None and not dtypes.as_dtype(dtype).is_compatible_with(v.dtype.base_dtype):
        raise ValueError(f"Incompatible type conversion requested to type '{dtypes.as_dtype(dtype).name}' "
                         f"for variable of type '{v.dtype.name}'")
    return v._variable


register_tensor_conversion_function(Variable, _to_tensor)


def variable_for_op(op):
    """The ``Variable`` object whose ``VariableV2`` op is ``op`` (None if unknown)."""
    return op.graph._attachment(_BY_OP, dict).get(op)


@contextlib.contextmanager
def graph_rollback(graph):
    """Undo a failed variable creation: drop the ops it added and the names it reserved."""
    n_ops, names = len(graph._ops), dict(graph._names_in_use)
    try:
        yield
    except BaseException:
        for op in graph._ops[n_ops:]:
            graph._ops_by_name.pop(op.name, None)
        del graph._ops[n_ops:]
        graph._names_in_use = names
        raise


# ---- TF's rewrite of initial values that read other variables ---------------------------------------
_NO_REWRITE = ("IsVariableInitialized", "InitializedValue", "UninitializedNames")


def _guard_uninitialized_reads(graph, scope, tensor):
    """Copy the subgraph of ``tensor``, replacing each read of a (collected) variable by its
    ``initialized_value()``, so initializing in any order works. Ops are named ``<op>_<var>``."""
    suffix = scope.rstrip("/")
    collected = set(map(id, graph.get_collection(GraphKeys.GLOBAL_VARIABLES) +
                        graph.get_collection(GraphKeys.LOCAL_VARIABLES)))
    cache = {}

    def op_copy(op):
        if op in cache:
            return cache[op]
        new = op
        if op.type == "VariableV2":
            var = variable_for_op(op)
            if var is not None and id(var) in collected:
                new = var.initialized_value().op
        elif op.type not in _NO_REWRITE and not op.op_def.ref_inputs:
            inputs = [op_copy(t.op).outputs[t.value_index] for t in op.inputs]
            if any(a is not b for a, b in zip(inputs, op.inputs)):
                with graph.name_scope(None):
                    name = graph.unique_name((op.name + "_" + suffix).replace(":", "_"))
                    new = make_op(op.type, inputs, op.attrs, name + "/")
        cache[op] = new
        return new

    if not _reads_variable(tensor, set()):
        return tensor
    return op_copy(tensor.op).outputs[tensor.value_index]


def _reads_variable(tensor, seen):
    stack = [tensor.op]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type == "VariableV2":
            return True
        stack.extend(t.op for t in op.inputs)
    return False


__all__ = ["Variable", "VariableV1"]
