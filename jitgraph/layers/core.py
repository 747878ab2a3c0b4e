"""``Dense``, ``Dropout``, ``Flatten`` and their functions ``dense``, ``dropout``, ``flatten``."""

import numbers

from jitgraph.framework.shapes import TensorShape
from jitgraph.layers.base import InputSpec, Layer
from jitgraph.layers.utils import get_activation, get_initializer, normalize_data_format
from jitgraph.ops import nn_ops
from jitgraph.ops.array_ops import reshape, shape, transpose
from jitgraph.ops.control_ops import identity
from jitgraph.ops.linalg_ops import matmul, tensordot
from jitgraph.variables.initializers import Zeros


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``: ``kernel`` [in, units] (the variable scope's
    initializer, else Glorot-uniform), ``bias`` [units] (zeros). Inputs of rank > 2 are contracted
    over their last axis."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = get_initializer(kernel_initializer), get_initializer(
            bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        if not self._dtype.is_floating:
            raise TypeError(f"Unable to build `Dense` layer with non-floating point dtype {self._dtype.name}")
        last = input_shape.as_list()[-1] if input_shape.ndims is not None else None
        if last is None:
            raise ValueError(f"The last dimension of the inputs to a Dense layer should be defined. Found None. "
                             f"Full input shape received: {input_shape}")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.kernel = self.add_weight("kernel", [last, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank == 2 or rank is None:
            outputs = matmul(inputs, self.kernel)
        else:
            outputs = tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape.as_list()[:-1] + [self.units])
        if self.bias is not None:
            outputs = nn_ops.bias_add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return TensorShape(TensorShape(input_shape).as_list()[:-1] + [self.units])


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
          kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """Functional ``Dense``: ``tf.layers.dense(x, 10, activation=tf.nn.relu, name="fc1")``."""
    layer = Dense(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                  bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                  name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs)


def select_on_training(training, when_training, otherwise):
    """``when_training()`` if ``training`` is a Python bool True, ``otherwise()`` if False; for a
    bool tensor both are built and selected elementwise (jitgraph has no ``tf.cond`` here, so
    both branches run; see ``BatchNormalization`` for what that means for its updates)."""
    from jitgraph.ops.math_ops import where
    from jitgraph.ops.registry import constant_value
    if hasattr(training, "op"):
        value = constant_value(training)
        if value is None:
            return where(training, when_training(), otherwise())
        training = bool(value)
    return when_training() if training else otherwise()


class Dropout(Layer):
    """Sets a ``rate`` fraction of the inputs to 0 (scaling the rest by ``1/(1-rate)``) when
    ``training`` (a Python bool or a bool tensor) is true; the identity otherwise."""

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate}")
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        dims = [shape(inputs)[i] if d is None and inputs.shape[i].value is None
                else (inputs.shape[i].value if d is None else d) for i, d in enumerate(self.noise_shape)]
        if any(hasattr(d, "op") for d in dims):
            from jitgraph.ops.concat_ops import stack
            return stack(dims)
        return dims

    def call(self, inputs, training=False):
        if isinstance(self.rate, numbers.Real) and self.rate == 0:
            return identity(inputs)
        return select_on_training(
            training, lambda: nn_ops.dropout(inputs, rate=self.rate, noise_shape=self._noise_shape(inputs),
                                             seed=self.seed),
            lambda: identity(inputs))


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Functional ``Dropout``: ``tf.layers.dropout(x, 0.5, training=is_training)``."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(inputs, training=training)


class Flatten(Layer):
    """``[batch, d1, d2, ...]`` → ``[batch, d1*d2*...]`` (channels-first inputs are made
    channels-last first, so the order matches a channels-last model)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        rank = inputs.shape.ndims
        if self.data_format == "channels_first" and rank is not None and rank > 1:
            inputs = transpose(inputs, [0] + list(range(2, rank)) + [1])
        if rank == 1:
            from jitgraph.ops.array_ops import expand_dims
            return expand_dims(inputs, 1)
        rest = inputs.shape.as_list()[1:] if rank is not None else [None]
        if None not in rest:
            n = 1
            for d in rest:
                n *= d
            outputs = reshape(inputs, [-1, n])
        else:
            from jitgraph.ops.concat_ops import stack
            outputs = reshape(inputs, stack([shape(inputs)[0], -1]))
        outputs.set_shape(self.compute_output_shape(inputs.shape))
        return outputs

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        if len(dims) == 1:
            return TensorShape([dims[0], 1])
        n = 1
        for d in dims[1:]:
            n = None if d is None or n is None else n * d
        return TensorShape([dims[0], n])


def flatten(inputs, name=None, data_format="channels_last"):
    """Functional ``Flatten``."""
    return Flatten(name=name, data_format=data_format).apply(inputs)
