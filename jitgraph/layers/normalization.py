"""``BatchNormalization`` and ``batch_normalization``.

Training normalizes with the batch's mean and variance over every axis but ``axis`` and makes
two update ops, ``<scope>/AssignMovingAvg`` and ``AssignMovingAvg_1``, in
``GraphKeys.UPDATE_OPS``::

    moving -= (moving - batch_statistic) * (1 - momentum)

Inference normalizes with the moving statistics and makes no updates. As TF's (fused) kernel,
a 4-D/5-D float32 input with one channel axis updates the moving variance with the unbiased
batch variance (``n/(n-1)``); other inputs use the biased one.

``training`` may be a Python bool or a bool tensor. jitgraph builds no ``tf.cond`` here: for a
tensor, both the batch and the moving statistics are computed and ``tf.where`` picks one, and the
update ops always run but move the averages by ``select(training, delta, 0)`` — so feeding
``training=False`` leaves them exactly unchanged, as TF's conditional updates do.
"""

from jitgraph import dtypes
from jitgraph.layers.base import InputSpec, Layer
from jitgraph.layers.core import select_on_training
from jitgraph.layers.utils import get_initializer
from jitgraph.ops.array_ops import reshape
from jitgraph.ops.math_ops import cast
from jitgraph.ops.nn_batchnorm import batch_normalization as nn_batch_normalization
from jitgraph.ops.reduction_ops import reduce_mean
from jitgraph.ops.registry import constant_value, convert_to_tensor
from jitgraph.ops.state_ops import assign_sub
from jitgraph.variables.initializers import Ones, Zeros


class BatchNormalization(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015) with moving statistics for inference.

    Weights: ``gamma`` (ones, if ``scale``), ``beta`` (zeros, if ``center``), and the
    non-trainable ``moving_mean`` (zeros) and ``moving_variance`` (ones)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer=Zeros(),
                 gamma_initializer=Ones(), moving_mean_initializer=Zeros(), moving_variance_initializer=Ones(),
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None, trainable=True,
                 virtual_batch_size=None, adjustment=None, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        for flag, what in ((renorm, "renorm"), (virtual_batch_size is not None, "virtual_batch_size"),
                           (adjustment is not None, "adjustment")):
            if flag:
                raise NotImplementedError(f"BatchNormalization: `{what}` is not supported by jitgraph")
        if not isinstance(axis, (int, list, tuple)):
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
        self.axis = [axis] if isinstance(axis, int) else list(axis)
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale
        self.beta_initializer, self.gamma_initializer = get_initializer(beta_initializer), get_initializer(
            gamma_initializer)
        self.moving_mean_initializer = get_initializer(moving_mean_initializer)
        self.moving_variance_initializer = get_initializer(moving_variance_initializer)
        self.beta_regularizer, self.gamma_regularizer = beta_regularizer, gamma_regularizer
        self.beta_constraint, self.gamma_constraint = beta_constraint, gamma_constraint
        self.fused = fused

    def build(self, input_shape):
        rank = input_shape.ndims
        if rank is None:
            raise ValueError(f"Input has undefined rank. Received: input_shape={input_shape}.")
        axes = []
        for a in self.axis:
            if not -rank <= a < rank:
                raise ValueError(f"Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with "
                                 f"inputs.rank={rank}). Received: axis={tuple(self.axis)}")
            axes.append(a % rank)
        if len(set(axes)) != len(axes):
            raise ValueError(f"Duplicate axis: {tuple(self.axis)}")
        self.axis = axes
        dims = input_shape.as_list()
        if any(dims[a] is None for a in axes):
            raise ValueError(f"Input has undefined `axis` dimension. Received input with shape {tuple(dims)} and "
                             f"axis={tuple(axes)}")
        self.fused = (self.fused is not False and rank in (4, 5) and len(axes) == 1 and axes[0] in (1, rank - 1)
                      and self._dtype in (dtypes.float16, dtypes.float32))
        self.input_spec = InputSpec(ndim=rank, axes={a: dims[a] for a in axes})
        param_shape = [dims[axes[0]]] if len(axes) == 1 else [dims[i] if i in axes else 1 for i in range(rank)]
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight("gamma", param_shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", param_shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", param_shape, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", param_shape, trainable=False,
                                               initializer=self.moving_variance_initializer)
        self.built = True

    def _broadcast(self, v, rank):
        """A per-channel vector reshaped to broadcast against the input (multi-axis params already do)."""
        if v is None or len(self.axis) > 1 or self.axis[0] == rank - 1:
            return v
        shape = [1] * rank
        shape[self.axis[0]] = -1
        return reshape(v, shape)

    def call(self, inputs, training=False):
        rank = inputs.shape.ndims
        training = _static_bool(training)
        reduction_axes = [i for i in range(rank) if i not in self.axis]
        keep = len(self.axis) > 1
        moving_mean, moving_var = convert_to_tensor(self.moving_mean), convert_to_tensor(self.moving_variance)
        if training is False:
            mean, variance = moving_mean, moving_var
        else:
            x = cast(inputs, self.moving_mean.dtype.base_dtype)
            batch_mean = reduce_mean(x, reduction_axes, keepdims=keep)
            centred = x - self._broadcast(batch_mean, rank)
            batch_var = reduce_mean(centred * centred, reduction_axes, keepdims=keep)
            mean = select_on_training(training, lambda: batch_mean, lambda: moving_mean)
            variance = select_on_training(training, lambda: batch_var, lambda: moving_var)
            update_var = batch_var
            if self.fused:
                n = 1
                for i in reduction_axes:
                    n = None if n is None or inputs.shape[i].value is None else n * inputs.shape[i].value
                update_var = batch_var * _bessel_factor(inputs, n, batch_var.dtype.base_dtype, self.axis[0])
            self.add_update(self._moving_average_update(self.moving_mean, batch_mean, training))
            self.add_update(self._moving_average_update(self.moving_variance, update_var, training))
        dt = inputs.dtype.base_dtype
        scale, offset = self._broadcast(self.gamma, rank), self._broadcast(self.beta, rank)
        outputs = nn_batch_normalization(inputs, cast(self._broadcast(mean, rank), dt),
                                         cast(self._broadcast(variance, rank), dt),
                                         None if offset is None else cast(offset, dt),
                                         None if scale is None else cast(scale, dt), self.epsilon)
        outputs.set_shape(inputs.shape)
        return outputs

    def _moving_average_update(self, variable, value, training):
        return assign_moving_average(variable, value, self.momentum, training).op

    def compute_output_shape(self, input_shape):
        return input_shape


def assign_moving_average(variable, value, decay, training=True):
    """``variable -= (variable - value) * (1 - decay)``, as TF's ``assign_moving_average`` (the
    ``AssignMovingAvg`` op, no zero-debiasing): the update tensor. With a bool tensor ``training``
    the variable moves by zero while it is false."""
    from jitgraph.framework.graph import get_default_graph
    from jitgraph.ops.math_ops import where
    with get_default_graph().name_scope("AssignMovingAvg") as scope:
        dt = variable.dtype.base_dtype
        rate = cast(1.0 - decay, dt) if hasattr(decay, "op") else 1.0 - decay
        delta = (convert_to_tensor(variable) - cast(value, dt)) * rate
        if training is not True:
            delta = where(training, delta, delta * 0.0)
        return assign_sub(variable, delta, name=scope)


def _static_bool(training):
    """``training`` as True/False when known while building, else the bool tensor itself."""
    if hasattr(training, "op"):
        value = constant_value(training)
        return training if value is None else bool(value)
    return bool(training)


def _bessel_factor(inputs, n, dtype, channel_axis):
    """``n / (n - 1)`` for the ``n`` values each channel's variance is taken over."""
    if n is None:
        from jitgraph.ops.array_ops import shape, size
        n = cast(size(inputs), dtype) / cast(shape(inputs)[channel_axis], dtype)
        from jitgraph.ops.math_api import maximum
        return n / maximum(n - 1.0, 1.0)
    return n / max(n - 1.0, 1.0)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=Zeros(), gamma_initializer=Ones(), moving_mean_initializer=Zeros(),
                        moving_variance_initializer=Ones(), beta_regularizer=None, gamma_regularizer=None,
                        beta_constraint=None, gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99, fused=None,
                        virtual_batch_size=None, adjustment=None):
    """Functional ``BatchNormalization``. Run the update ops when training::

        y = tf.layers.batch_normalization(x, training=is_training)
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train_op = optimizer.minimize(loss)
    """
    layer = BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                               beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                               moving_mean_initializer=moving_mean_initializer,
                               moving_variance_initializer=moving_variance_initializer,
                               beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                               beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
                               renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
                               trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
                               name=name, _scope=name, _reuse=reuse)
    return layer.apply(inputs, training=training)
