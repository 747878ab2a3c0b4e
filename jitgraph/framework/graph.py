"""``Graph``: ops in creation order, unique names, name/control/device scopes, collections.

A graph is append-only: once added, an op never changes, so plans compiled for a graph are never
invalidated by adding more ops.
"""

import contextlib
import re
import threading

from jitgraph.framework.device import merge_device
from jitgraph.framework.tensor import Operation, Tensor

_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


class GraphKeys:
    """Standard collection names."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    VARIABLES = GLOBAL_VARIABLES


class Graph:
    """A TF1 dataflow graph. Use ``with g.as_default():`` to build into it."""

    def __init__(self):
        self._ops = []
        self._ops_by_name = {}
        self._names_in_use = {}
        self._name_stack = ""
        self._control_stack = []     # list of lists of Operations; None entry clears outer deps
        self._device_stack = []      # strings, callables or None
        self._collections = {}
        self._finalized = False
        self._seed = None
        self._attachments = {}       # per-graph state owned by other modules (variable scopes, …)
        self._lock = threading.RLock()

    # ---- ops ---------------------------------------------------------------------------------
    def _add_op(self, op):
        with self._lock:
            self._check_not_finalized()
            op._id = len(self._ops)
            self._ops.append(op)
            self._ops_by_name[op.name] = op

    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolve a Tensor, Operation, name string or object with ``_as_graph_element``."""
        if hasattr(obj, "_as_graph_element") and not isinstance(obj, (Tensor, Operation)):
            obj = obj._as_graph_element()
        if isinstance(obj, str):
            if ":" in obj:
                op_name, _, idx = obj.rpartition(":")
                if not allow_tensor:
                    raise ValueError(f"Name '{obj}' appears to refer to a Tensor, not a Operation.")
                try:
                    idx = int(idx)
                except ValueError:
                    raise ValueError(f"The name '{obj}' looks a like a Tensor name, but is not a valid one.") from None
                if op_name not in self._ops_by_name:
                    raise KeyError(f"The name '{obj}' refers to a Tensor which does not exist. "
                                   f"The operation, '{op_name}', does not exist in the graph.")
                outs = self._ops_by_name[op_name].outputs
                if not 0 <= idx < len(outs):
                    raise KeyError(f"The name '{obj}' refers to a Tensor which does not exist. The operation, "
                                   f"'{op_name}', exists but only has {len(outs)} outputs.")
                return outs[idx]
            if not allow_operation:
                raise ValueError(f"The name '{obj}' refers to an Operation, not a Tensor. "
                                 f"Tensor names must be of the form \"<op_name>:<output_index>\".")
            if obj not in self._ops_by_name:
                raise KeyError(f"The name '{obj}' refers to an Operation not in the graph.")
            return self._ops_by_name[obj]
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    def finalize(self):
        """Make the graph read-only: adding an op raises ``RuntimeError``."""
        self._finalized = True

    finalized = property(lambda self: self._finalized)
    version = property(lambda self: len(self._ops))
    building_function = False

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value):
        self._seed = value

    @property
    def _last_id(self):
        return len(self._ops)

    def _attachment(self, key, factory):
        """Per-graph state owned by another module (e.g. the variable store)."""
        if key not in self._attachments:
            self._attachments[key] = factory()
        return self._attachments[key]

    # ---- naming ------------------------------------------------------------------------------
    def unique_name(self, name, mark_as_used=True):
        """TF's naming: prefix the name scope, then append ``_1``, ``_2``… (case-insensitively)."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def get_name_scope(self):
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """Open a name scope; a name ending in ``/`` re-enters that exact scope; ``""``/None resets."""
        if name:
            pattern = _VALID_SCOPE_NAME if self._name_stack else _VALID_OP_NAME
            if not pattern.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
        old = self._name_stack
        if not name:
            new = ""
        elif name[-1] == "/":
            new = name[:-1]
        else:
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield new + "/" if new else ""
        finally:
            self._name_stack = old

    # ---- control dependencies ---------------------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run after ``control_inputs``; ``None`` clears outer dependencies."""
        if control_inputs is None:
            entry = None
        else:
            entry = []
            for c in control_inputs:
                el = self.as_graph_element(c)
                entry.append(el.op if isinstance(el, Tensor) else el)
        self._control_stack.append(entry)
        try:
            yield
        finally:
            self._control_stack.pop()

    def _current_control_inputs(self):
        out = []
        for entry in reversed(self._control_stack):
            if entry is None:
                break
            out[:0] = entry
        seen, dedup = set(), []
        for op in out:
            if id(op) not in seen:
                seen.add(id(op))
                dedup.append(op)
        return dedup

    # ---- devices -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def device(self, device_name_or_function):
        """Place ops created inside on a device (string merged field-wise, or a function of the op)."""
        self._device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _apply_device(self, op):
        dev = ""
        for spec in self._device_stack:
            if spec is None:
                dev = ""
            elif callable(spec):
                op._set_device(dev)
                dev = merge_device(dev, spec(op) or "")
            else:
                dev = merge_device(dev, spec)
        op._set_device(dev)

    # ---- collections -------------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._check_not_finalized()
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        names = (names,) if isinstance(names, str) else set(names)
        for name in names:
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of the collection, filtered by ``re.match(scope, item.name)`` if scope is given."""
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        regex = re.compile(scope)
        return [it for it in items if hasattr(it, "name") and regex.match(it.name)]

    def get_all_collection_keys(self):
        return [k for k in self._collections if isinstance(k, str)]

    def clear_collection(self, name):
        self._collections.pop(name, None)

    # ---- default graph -----------------------------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        """Make this the default graph inside the ``with`` block."""
        _stack().append(self)
        try:
            yield self
        finally:
            _stack().pop()

    def as_graph_def(self, from_version=None, add_shapes=False):
        """This graph as TensorFlow's ``GraphDef`` proto (see ``jitgraph.framework.graph_def``)."""
        from jitgraph.framework.graph_def import as_graph_def
        return as_graph_def(self, from_version, add_shapes)

    def __repr__(self):
        return f"<jitgraph.Graph with {len(self._ops)} ops at {id(self):#x}>"


_local = threading.local()
_global_default = [Graph()]


def _stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def get_default_graph():
    stack = _stack()
    return stack[-1] if stack else _global_default[0]


def reset_default_graph():
    """Install a fresh global default graph (not allowed inside a ``with g.as_default()``)."""
    if _stack():
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If you need "
                             "a cleared graph, exit the nesting and create a new graph.")
    from jitgraph.runtime import session as _session
    _session._clear_default_session_stack()
    _global_default[0] = Graph()


def graph_of(values, default=None):
    """The one graph that all graph elements in ``values`` belong to (``ValueError`` if several)."""
    inner = get_default_graph()
    if inner.building_function:   # tracing a loop/cond body: outer values are captured into it
        return inner.graph_for(values)
    graph = None
    for v in values:
        g = _graph_of_value(v)
        if g is None:
            continue
        if graph is None:
            graph = g
        elif g is not graph:
            raise ValueError(f"{v!r} must be from the same graph as {values[0]!r} (graphs are "
                             f"{g!r} and {graph!r}).")
    return graph or default or get_default_graph()


def _graph_of_value(v):
    if isinstance(v, (Tensor, Operation)):
        return v.graph
    g = getattr(v, "graph", None)
    return g if isinstance(g, Graph) else None
