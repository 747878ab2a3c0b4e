"""``get_variable`` and ``variable_scope``: variables created and shared by name, TF1's rules.

Per graph there is one variable store (``full name -> Variable``, only ``get_variable`` registers)
and one variable-scope state (the current ``VariableScope`` and the per-name open counts used to
uniquify ``default_name`` scopes).
"""

import contextlib
import inspect
import traceback

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph, graph_of
from jitgraph.framework.shapes import as_shape
from jitgraph.framework.tensor import Tensor
from jitgraph.ops import constant_ops
from jitgraph.variables import initializers as init_ops
from jitgraph.variables.variables import Variable, graph_rollback


class _ReuseMode:
    """``tf.AUTO_REUSE``: create a variable if it is missing, reuse it otherwise."""

    def __repr__(self):
        return "AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


class _ScopeState:
    def __init__(self):
        self.current = VariableScope(False)
        self.counts = {}       # variable scope name -> times opened (for default_name uniquing)

    def open(self, name):
        self.counts[name] = self.counts.get(name, 0) + 1

    def close_subscopes(self, name):
        prefix = name + "/"
        for k in self.counts:
            if k.startswith(prefix):
                self.counts[k] = 0


def _scope_state(graph=None):
    return (graph or get_default_graph())._attachment("jitgraph.variables.scope_state", _ScopeState)


def _store(graph=None):
    return (graph or get_default_graph())._attachment("jitgraph.variables.store", dict)


class VariableScope:
    """Defaults for ``get_variable`` inside a ``variable_scope``: name prefix, reuse, initializer,
    regularizer, dtype, devices, custom getter."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, caching_device=None,
                 partitioner=None, custom_getter=None, name_scope="", dtype=dtypes.float32,
                 use_resource=None, constraint=None):
        self._name, self._reuse, self._initializer = name, reuse, initializer
        self._regularizer, self._caching_device, self._partitioner = regularizer, caching_device, partitioner
        self._custom_getter, self._name_scope, self._dtype = custom_getter, name_scope, dtypes.as_dtype(dtype)
        self._use_resource, self._constraint = use_resource, constraint

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    caching_device = property(lambda self: self._caching_device)
    partitioner = property(lambda self: self._partitioner)
    custom_getter = property(lambda self: self._custom_getter)
    dtype = property(lambda self: self._dtype)
    use_resource = property(lambda self: self._use_resource)
    constraint = property(lambda self: self._constraint)

    def reuse_variables(self):
        """Reuse variables in this scope (for the rest of the ``with`` block)."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtypes.as_dtype(dtype)

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def set_caching_device(self, caching_device):
        self._caching_device = caching_device

    def set_partitioner(self, partitioner):
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter):
        self._custom_getter = custom_getter

    def set_constraint(self, constraint):
        self._constraint = constraint

    def set_use_resource(self, use_resource):
        self._use_resource = use_resource

    def get_collection(self, name):
        """Collection ``name`` filtered to this scope (``scope.name + "/"``; all on the root)."""
        return get_default_graph().get_collection(name, self._name + "/" if self._name else None)

    def trainable_variables(self):
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self):
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self):
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def get_variable(self, var_store, name, shape=None, dtype=None, initializer=None, regularizer=None,
                     reuse=None, trainable=None, collections=None, caching_device=None, partitioner=None,
                     validate_shape=True, use_resource=None, custom_getter=None, constraint=None, **_):
        """``get_variable`` with this scope's defaults filled in."""
        regularizer = self._regularizer if regularizer is None else regularizer
        caching_device = self._caching_device if caching_device is None else caching_device
        partitioner = self._partitioner if partitioner is None else partitioner
        custom_getter = self._custom_getter if custom_getter is None else custom_getter
        reuse = self._reuse if reuse is None else reuse
        full_name = self._name + "/" + name if self._name else name
        if dtype is not None and initializer is not None and not callable(initializer):
            init_dtype = _value_dtype(initializer)
            if init_dtype != dtypes.as_dtype(dtype).base_dtype:
                raise ValueError(f"Initializer type '{init_dtype!r}' and explicit dtype "
                                 f"'{dtypes.as_dtype(dtype)!r}' don't match.")
        initializer = self._initializer if initializer is None else initializer
        constraint = self._constraint if constraint is None else constraint
        dtype = self._dtype if dtype is None else dtype
        graph = get_default_graph()
        with graph.name_scope(None):
            return _get_variable(var_store, full_name, shape, dtype, initializer, regularizer, reuse, trainable,
                                 collections, caching_device, partitioner, validate_shape, custom_getter, constraint)


def _value_dtype(value):
    if isinstance(value, Tensor):
        return value.dtype.base_dtype
    if hasattr(value, "_as_graph_element"):
        return value._as_graph_element().dtype.base_dtype
    return dtypes.as_dtype(constant_ops.to_numpy(value).dtype)


def _get_variable(store, name, shape, dtype, initializer, regularizer, reuse, trainable, collections,
                  caching_device, partitioner, validate_shape, custom_getter, constraint):
    if custom_getter is not None and not callable(custom_getter):
        raise ValueError(f"Passed a custom_getter which is not callable: {custom_getter}")
    dtype = dtypes.as_dtype(dtype).base_dtype
    trainable = True if trainable is None else trainable

    def true_getter(name, shape=None, dtype=dtypes.float32, initializer=None, regularizer=None, reuse=None,
                    trainable=None, collections=None, caching_device=None, partitioner=None,
                    validate_shape=True, use_resource=None, constraint=None, **_):
        if partitioner is not None:
            raise NotImplementedError("partitioned variables are not supported by jitgraph (partitioner=None)")
        return _get_single_variable(store, name, shape, dtype, initializer, regularizer, reuse,
                                    True if trainable is None else trainable, collections, caching_device,
                                    validate_shape, constraint)

    kwargs = dict(name=name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                  reuse=reuse, trainable=trainable, collections=collections, caching_device=caching_device,
                  partitioner=partitioner, validate_shape=validate_shape, use_resource=None, constraint=constraint)
    if custom_getter is not None:
        return custom_getter(true_getter, **kwargs)
    return true_getter(**kwargs)


def _user_traceback(op):
    frames = [f for f in reversed(op.traceback or []) if "/jitgraph/" not in f.filename.replace("\\", "/")][:5]
    return "".join(traceback.format_list(frames[::-1]))


def _get_single_variable(store, name, shape, dtype, initializer, regularizer, reuse, trainable,
                         collections, caching_device, validate_shape, constraint):
    from_value = initializer is not None and not callable(initializer)
    if shape is not None and from_value:
        raise ValueError("If initializer is a constant, do not specify shape.")
    if shape is not None:
        shape = as_shape(shape)
    if name in store:
        if reuse is False or reuse is None:
            raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
                             f"reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n"
                             f"{_user_traceback(store[name].op)}")
        found = store[name]
        if shape is not None and not shape.is_compatible_with(found.get_shape()):
            raise ValueError(f"Trying to share variable {name}, but specified shape {shape} and found shape "
                             f"{found.get_shape()}.")
        if not dtype.is_compatible_with(found.dtype):
            raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} and found "
                             f"dtype {found.dtype.name}.")
        return found
    if reuse is True:
        raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). "
                         f"Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
    if initializer is None:
        if shape is None:
            raise ValueError(f"Variable {name} did not get an initializer, so its `shape` argument must be "
                             f"specified.")
        if dtype.is_floating:
            initializer = init_ops.GlorotUniform()
        elif dtype.is_integer or dtype.is_bool or dtype == dtypes.string:
            initializer = init_ops.Zeros()
        else:
            raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")
    if from_value:
        init_val, var_dtype = initializer, None
        if not isinstance(initializer, Tensor) and not hasattr(initializer, "_as_graph_element"):
            constant_ops.to_numpy(initializer)    # TypeError for non-tensor-like values, before any op
    else:
        if inspect.isclass(initializer):
            initializer = initializer()
        if shape is not None and shape.is_fully_defined():
            dims = shape.as_list()
            if "partition_info" in _arg_names(initializer):
                init_val = lambda: initializer(dims, dtype=dtype, partition_info=None)  # noqa: E731
            else:
                init_val = lambda: initializer(dims, dtype=dtype)  # noqa: E731
            var_dtype = dtype
        elif not _arg_names(initializer, required=True):
            init_val, var_dtype = initializer, None
        else:
            raise ValueError("The initializer passed is not valid. It should be a callable with no arguments "
                             "and the shape should not be provided or an instance of `tf.keras.initializers.*' "
                             "and `shape` should be fully defined.")
    graph = get_default_graph()
    with graph_rollback(graph):
        v = Variable(init_val, trainable=trainable, collections=collections, caching_device=caching_device,
                     name=name, dtype=var_dtype, validate_shape=validate_shape, constraint=constraint,
                     shape=shape)
    store[name] = v
    if regularizer:
        with graph.name_scope(name + "/Regularizer/"):
            loss = regularizer(v)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return v


def _arg_names(fn, required=False):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and (not required or p.default is p.empty)]


# ---- the public functions -------------------------------------------------------------------------
def get_variable_scope():
    """The current ``VariableScope`` (the root scope has name ``""`` and reuse False)."""
    return _scope_state().current


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True,
                 use_resource=None, custom_getter=None, constraint=None, synchronization=None,
                 aggregation=None):
    """Get an existing variable or create a new one, named ``<variable scope>/<name>``.

    ``shape`` may be a list, tuple or ``TensorShape``; ``initializer`` an initializer class or
    instance, any ``f(shape, dtype=None, partition_info=None)``, a Tensor or a Python/NumPy value
    (then without ``shape``). Defaults: float32, glorot_uniform for floats, zeros for ints/bools,
    ``b""`` for strings. Reuse follows the enclosing ``variable_scope``. Example::

        with tf.variable_scope("conv1"):
            w = tf.get_variable("weights", [5, 5, 32, 32])     # "conv1/weights:0"
    """
    return get_variable_scope().get_variable(
        _store(), name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        trainable=trainable, collections=collections, caching_device=caching_device, partitioner=partitioner,
        validate_shape=validate_shape, use_resource=use_resource, custom_getter=custom_getter,
        constraint=constraint)


def get_local_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=False,
                       collections=None, caching_device=None, partitioner=None, validate_shape=True,
                       use_resource=None, custom_getter=None, constraint=None, **kwargs):
    """``get_variable`` into LOCAL_VARIABLES only, never trainable."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, regularizer, False, collections, caching_device,
                        partitioner, validate_shape, use_resource, custom_getter, constraint)


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                   caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                   use_resource=None, constraint=None, auxiliary_name_scope=True):
    """Open a variable scope: prefixes ``get_variable`` names and (by default) op names.

    ``name_or_scope`` is a name (nested under the current scope) or a ``VariableScope`` to re-enter
    (its name is kept as is). ``reuse=True`` or ``tf.AUTO_REUSE`` share variables; reuse is
    inherited by nested scopes and cannot be switched off inside. With ``name_or_scope=None`` the
    scope is named ``default_name`` made unique (``layer``, ``layer_1``…).
    """
    if default_name is None and name_or_scope is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if reuse is False:
        reuse = None     # scopes never turn reuse off
    if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
        raise ValueError("The reuse parameter must be True or False or None.")
    if name_or_scope is not None and not isinstance(name_or_scope, (VariableScope, str)):
        raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
    if not isinstance(auxiliary_name_scope, bool):
        raise TypeError(f"The auxiliary_name_scope must be `True` or `False`, while get {auxiliary_name_scope}")
    if name_or_scope is None and reuse:
        raise ValueError("reuse=True cannot be used without a name_or_scope")
    graph = graph_of(list(values)) if values else get_default_graph()
    overrides = dict(initializer=initializer, regularizer=regularizer, caching_device=caching_device,
                     partitioner=partitioner, dtype=dtype, use_resource=use_resource, constraint=constraint)
    with graph.as_default(), contextlib.ExitStack() as stack:
        if isinstance(name_or_scope, VariableScope):
            ns_name = name_or_scope.name.split("/")[-1]
        else:
            ns_name = default_name if name_or_scope is None else name_or_scope
        entered_ns = None
        if not auxiliary_name_scope:
            ns = graph.get_name_scope()
            entered_ns = stack.enter_context(graph.name_scope(ns + "/" if ns else None))
        elif ns_name:
            entered_ns = stack.enter_context(graph.name_scope(ns_name))
        if name_or_scope is None:
            name_or_scope = _unique_default_scope(graph, default_name)
            old_ns = entered_ns
        elif isinstance(name_or_scope, VariableScope):
            old_ns = name_or_scope.original_name_scope
        else:
            old_ns = entered_ns
        with _pure_variable_scope(graph, name_or_scope, reuse, old_ns, custom_getter, overrides) as scope:
            yield scope


def _unique_default_scope(graph, prefix):
    state, current = _scope_state(graph), _scope_state(graph).current
    name = current.name + "/" + prefix if current.name else prefix
    if state.counts.get(name, 0) == 0:
        return prefix
    idx = 1
    while state.counts.get(f"{name}_{idx}", 0) > 0:
        idx += 1
    return f"{prefix}_{idx}"


@contextlib.contextmanager
def _pure_variable_scope(graph, name_or_scope, reuse, old_name_scope, custom_getter, overrides):
    state = _scope_state(graph)
    old = state.current
    if isinstance(name_or_scope, VariableScope):
        new_name = name_or_scope.name
        saved_counts = dict(state.counts)
        src = name_or_scope
        scope = VariableScope(src.reuse if not reuse else reuse, new_name, src.initializer, src.regularizer,
                              src.caching_device, src.partitioner, src.custom_getter, old_name_scope,
                              src.dtype, src.use_resource, src.constraint)
    else:
        new_name = old.name + "/" + name_or_scope if old.name else name_or_scope
        saved_counts = None
        scope = VariableScope(reuse or old.reuse, new_name, old.initializer, old.regularizer, old.caching_device,
                              old.partitioner, old.custom_getter, name_or_scope if old_name_scope is None else old_name_scope, old.dtype,
                              old.use_resource, old.constraint)
    for key, value in overrides.items():
        if value is not None:
            getattr(scope, "set_" + key)(value)
    if custom_getter is not None:
        scope.set_custom_getter(_wrap_custom_getter(custom_getter, scope.custom_getter))
    state.open(new_name)
    state.current = scope
    try:
        yield scope
    finally:
        state.current = old
        if saved_counts is not None:
            state.counts = saved_counts
        else:
            state.close_subscopes(new_name)


def _wrap_custom_getter(custom_getter, old_getter):
    if old_getter is None:
        return custom_getter

    def wrapped(getter, *args, **kwargs):
        return custom_getter(lambda *a, **k: old_getter(getter, *a, **k), *args, **kwargs)
    return wrapped


def no_regularizer(_):
    """A regularizer that adds nothing (use it to turn off a scope's regularizer)."""
    return None


__all__ = ["AUTO_REUSE", "VariableScope", "get_variable", "get_local_variable", "get_variable_scope",
           "variable_scope", "no_regularizer"]
