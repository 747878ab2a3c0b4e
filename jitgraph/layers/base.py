"""``tf.layers.Layer``: TF1's layer base class (as ``tf_keras``'s legacy layers behave).

A layer owns a variable scope, chosen the first time it is called (or at construction when
``name`` is given to a layer function): ``variable_scope(name)`` if a name was given, else a
unique ``default_name`` scope from the class name (``dense``, ``dense_1``…). Every call re-enters
that scope (with ``reuse`` once the layer is built) and the name scope it opened, so a layer's
variables are ``<scope>/kernel:0`` and its ops ``<scope>/MatMul``, ``<scope>/MatMul_1``…

The first call builds the layer (``build(input_shape)`` creates the weights with ``add_weight``),
then ``call`` computes the outputs. Updates (``add_update``, e.g. batch norm's moving averages)
go into ``GraphKeys.UPDATE_OPS``; weight and activity regularization losses into
``GraphKeys.REGULARIZATION_LOSSES``.
"""

import re

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.losses.weights_broadcast import div_no_nan
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.variables.initialization import global_variables
from jitgraph.variables.scopes import get_variable, variable_scope

_NAME_UIDS = "jitgraph.layers.name_uids"
_KERAS_MODEL_ONLY = {"input_shape", "batch_input_shape", "batch_size", "input_dim", "dynamic", "autocast"}


def to_snake_case(name):
    """``Conv2DTranspose`` → ``conv2d_transpose``, ``BatchNormalization`` → ``batch_normalization``."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique_layer_name(base):
    """Keras' per-graph object names: the first ``Dense`` is ``dense_1``, then ``dense_2``…"""
    uids = get_default_graph()._attachment(_NAME_UIDS, dict)
    uids[base] = uids.get(base, 0) + 1
    return f"{base}_{uids[base]}"


class InputSpec:
    """What a layer accepts: ``ndim``/``min_ndim``/``max_ndim`` and known sizes of some ``axes``."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = dtypes.as_dtype(dtype).name if dtype is not None else None
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = dict(axes or {})

    def __repr__(self):
        spec = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                         ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                         ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(spec)})"

    def check(self, x, index, layer_name):
        """``ValueError`` naming the layer if ``x`` does not fit this spec."""
        rank = x.shape.ndims
        where = f'Input {index} of layer "{layer_name}" is incompatible with the layer'
        if rank is None:
            return
        for what, bad in (("ndim", self.ndim is not None and rank != self.ndim),
                          ("min_ndim", self.min_ndim is not None and rank < self.min_ndim),
                          ("max_ndim", self.max_ndim is not None and rank > self.max_ndim)):
            if bad:
                raise ValueError(f"{where}: expected {what}={getattr(self, what)}, found ndim={rank}. "
                                 f"Full shape received: {tuple(x.shape.as_list())}")
        dims = x.shape.as_list()
        for axis, size in self.axes.items():
            got = dims[axis] if -rank <= axis < rank else None
            if size is not None and got not in (None, size):
                raise ValueError(f"{where}: expected axis {axis} of input shape to have value {size}, but "
                                 f"received input with shape {tuple(dims)}")


class Layer:
    """Base class of ``tf.layers``: subclasses implement ``build(input_shape)`` (weights) and
    ``call(inputs, ...)`` (the computation)::

        layer = tf.layers.Dense(4)
        y1 = layer(x1)            # builds: dense/kernel, dense/bias
        y2 = layer(x2)            # shares them
        layer.trainable_variables # [dense/kernel:0, dense/bias:0]
    """

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None, _scope=None,
                 _reuse=None, **kwargs):
        if kwargs.get("weights") is not None:
            raise NotImplementedError("Layer(weights=...) is not supported by jitgraph: load values into the "
                                      "layer's variables instead (variable.load(value, session))")
        unknown = set(kwargs) - _KERAS_MODEL_ONLY - {"weights"}
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}")
        self.trainable = trainable
        self.built = False
        self.input_spec = None
        self.activity_regularizer = activity_regularizer
        self._dtype = dtypes.as_dtype(dtype).base_dtype if dtype is not None else None
        self._trainable_weights, self._non_trainable_weights = [], []
        self._updates, self._losses = [], []
        self._reuse = _reuse
        self._base_name = to_snake_case(type(self).__name__)
        if name:
            self._name, self._base_name = name, name
        else:
            self._name = _unique_layer_name(self._base_name)
        self._scope = None
        if _scope:
            with variable_scope(_scope) as captured:
                self._scope = captured
        self._current_scope = None

    # ---- properties ------------------------------------------------------------------------------
    name = property(lambda self: self._name)
    dtype = property(lambda self: self._dtype.name if self._dtype is not None else None)
    updates = property(lambda self: list(self._updates), doc="The update ops made by calls (moving averages).")
    losses = property(lambda self: list(self._losses), doc="Regularization losses made by this layer.")

    @property
    def scope_name(self):
        if self._scope is None:
            raise ValueError(f'No name available for layer scope because the layer "{self._name}" has not been '
                             f"used yet. The scope name is determined the first time the layer instance is "
                             f"called. You must therefore call the layer before querying `scope_name`.")
        return self._scope.name

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self):
        """Trainable then non-trainable weights."""
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self._name}, but the layer isn't built.")
        total = 0
        for v in self.weights:
            n = 1
            for d in v.shape.as_list():
                n *= d
            total += n
        return total

    # ---- what subclasses implement -------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def compute_output_shape(self, input_shape):
        return TensorShape(input_shape)

    def get_config(self):
        return {"name": self._name, "trainable": self.trainable, "dtype": self.dtype}

    # ---- weights, updates, losses ---------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=None,
                   constraint=None, partitioner=None, use_resource=None, synchronization=None, aggregation=None,
                   getter=None, **kwargs):
        """Create (or, when reusing, get) ``<layer scope>/<name>`` with ``get_variable``."""
        trainable = True if trainable is None else trainable
        dtype = dtypes.as_dtype(dtype or self._dtype or dtypes.float32).base_dtype
        self._set_scope(None)
        existing = set(map(id, global_variables()))
        graph = get_default_graph()
        with variable_scope(self._scope, reuse=self.built or self._reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with graph.name_scope(scope.original_name_scope):
                variable = (getter or get_variable)(
                    name, shape=shape, dtype=dtype, initializer=initializer,
                    trainable=trainable and self.trainable, constraint=constraint, partitioner=partitioner)
                if regularizer is not None and id(variable) not in existing:
                    with graph.name_scope(name + "/Regularizer"):
                        loss = regularizer(variable)
                    if loss is not None:
                        self._add_regularization_loss(loss)
        trainable_now = any(v is variable for v in graph.get_collection(GraphKeys.TRAINABLE_VARIABLES))
        (self._trainable_weights if trainable and trainable_now else self._non_trainable_weights).append(variable)
        return variable

    def add_update(self, updates, inputs=None):
        """Record update ops (run them via ``GraphKeys.UPDATE_OPS``); callables are called first."""
        for u in updates if isinstance(updates, (list, tuple)) else [updates]:
            u = u() if callable(u) else u
            self._updates.append(u.op if hasattr(u, "op") and not hasattr(u, "type") else u)

    def add_loss(self, losses, inputs=None):
        """Record regularization losses (also added to ``GraphKeys.REGULARIZATION_LOSSES``)."""
        for loss in losses if isinstance(losses, (list, tuple)) else [losses]:
            loss = loss() if callable(loss) else loss
            if loss is not None:
                self._add_regularization_loss(convert_to_tensor(loss))

    def _add_regularization_loss(self, loss):
        self._losses.append(loss)
        get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)

    # ---- calling ----------------------------------------------------------------------------------
    def _set_scope(self, scope=None):
        if self._scope is None:
            if self._reuse:
                with variable_scope(scope if scope is not None else self._base_name) as captured:
                    self._scope = captured
            else:
                with variable_scope(scope, default_name=self._base_name) as captured:
                    self._scope = captured

    def __call__(self, inputs, *args, **kwargs):
        """Build on the first call, then ``call(inputs, *args, **kwargs)`` in the layer's scopes."""
        self._set_scope(kwargs.pop("scope", None))
        graph = get_default_graph()
        with variable_scope(self._scope, reuse=True if self.built else self._reuse,
                            auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with graph.name_scope(scope.original_name_scope):
                inputs = _to_tensors(inputs)
                if not self.built:
                    self._build_for(inputs)
                self._check_inputs(inputs)
                n_updates = len(self._updates)
                outputs = self.call(inputs, *args, **kwargs)
                if self.activity_regularizer is not None:
                    self._activity_loss(outputs)
        collection = graph.get_collection_ref(GraphKeys.UPDATE_OPS)
        for u in self._updates[n_updates:]:
            if all(u is not c for c in collection):
                collection.append(u)
        return outputs

    def apply(self, inputs, *args, **kwargs):
        """Same as calling the layer."""
        return self(inputs, *args, **kwargs)

    def _build_for(self, inputs):
        first = inputs[0] if isinstance(inputs, list) else inputs
        if self._dtype is None:          # TF1 layers take their dtype from their first input
            self._dtype = first.dtype.base_dtype
        self._check_inputs(inputs)
        self.build(TensorShape(first.shape) if not isinstance(inputs, list) else [t.shape for t in inputs])
        self.built = True

    def _check_inputs(self, inputs):
        if self.input_spec is None:
            return
        specs = self.input_spec if isinstance(self.input_spec, list) else [self.input_spec]
        tensors = inputs if isinstance(inputs, list) else [inputs]
        for i, (spec, x) in enumerate(zip(specs, tensors)):
            spec.check(x, i, self._name)

    def _activity_loss(self, outputs):
        """``regularizer(output) / batch size``, as Keras averages activity losses over the batch."""
        from jitgraph.ops.array_ops import shape
        from jitgraph.ops.math_ops import cast
        with get_default_graph().name_scope("ActivityRegularizer"):
            for out in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
                loss = convert_to_tensor(self.activity_regularizer(out))
                batch = cast(shape(out)[0], loss.dtype.base_dtype)
                self._add_regularization_loss(div_no_nan(loss, batch))


def _to_tensors(inputs):
    if isinstance(inputs, (list, tuple)):
        return [convert_to_tensor(t) for t in inputs]
    return convert_to_tensor(inputs)
