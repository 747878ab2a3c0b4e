"""``tf.contrib.layers.batch_norm``, with TF 1.15's defaults (``decay=0.999``, ``center=True``,
``scale=False``, ``epsilon=0.001``, ``is_training=True``) and its three ways of computing:

* the common case (updates into ``GraphKeys.UPDATE_OPS``, rank other than 2, no
  ``batch_weights``): ``tf.layers.BatchNormalization`` in variable scope ``BatchNorm``, fused (the
  moving variance follows the unbiased batch variance) for 4-D inputs unless ``fused=False``;
* fused by hand, for 2-D and 4-D inputs when ``fused`` (the default) and the input is 2-D or the
  updates go elsewhere (``updates_collections=None`` runs them with the outputs): ``fused_batch_norm``
  on the input seen as ``[N, 1, 1, C]`` for 2-D;
* by hand otherwise (``fused=False`` with other ``updates_collections``, or ``batch_weights``):
  ``tf.nn.moments`` (or ``weighted_moments``) and the biased variance.

Variables: ``BatchNorm/beta`` (if ``center``), ``BatchNorm/gamma`` (if ``scale``), and the
non-trainable ``BatchNorm/moving_mean`` and ``BatchNorm/moving_variance``; all model variables.
Each update is ``moving -= (moving - batch_statistic) * (1 - decay)``::

    h = tf.contrib.layers.batch_norm(h, is_training=training)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = optimizer.minimize(loss)

A bool tensor ``is_training`` selects between the batch and the moving statistics (jitgraph builds
no ``tf.cond`` here: see ``jitgraph/layers/normalization.py``); the updates then move the
averages by zero while it is false, as TF's conditional updates leave them.
"""

from jitgraph import dtypes
from jitgraph.api_graph import control_dependencies
from jitgraph.contrib.layers.utils import (add_variable_to_collections, apply_activation, collect_named_outputs,
                                           model_variable, model_variable_getter, variable_collections)
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.layers.core import select_on_training
from jitgraph.layers.normalization import BatchNormalization, _static_bool, assign_moving_average
from jitgraph.ops.array_ops import reshape, shape
from jitgraph.ops.composite_ops import moments
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.control_ops import identity
from jitgraph.ops.nn_batchnorm import batch_normalization, fused_batch_norm, weighted_moments
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.variables.initializers import Ones, Zeros
from jitgraph.variables.scopes import variable_scope

__all__ = ["batch_norm"]

_FORMATS = ("NHWC", "NCHW")


def batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001, activation_fn=None,
               param_initializers=None, param_regularizers=None, updates_collections=GraphKeys.UPDATE_OPS,
               is_training=True, reuse=None, variables_collections=None, outputs_collections=None, trainable=True,
               batch_weights=None, fused=None, data_format="NHWC", zero_debias_moving_mean=False, scope=None,
               renorm=False, renorm_clipping=None, renorm_decay=0.99, adjustment=None):
    """Batch normalization (Ioffe & Szegedy, 2015) over every axis but the channel one (the last,
    or axis 1 for ``data_format='NCHW'``); see the module doc for the variables, the updates and
    how ``is_training`` (a Python bool or a bool tensor) acts. ``param_initializers`` /
    ``param_regularizers``: dicts by ``"beta"``, ``"gamma"``, ``"moving_mean"``,
    ``"moving_variance"``; ``batch_weights``: a ``[batch]`` vector weighting the examples in the
    moments. ``zero_debias_moving_mean``, ``renorm`` and ``adjustment`` are not supported."""
    for flag, what in ((zero_debias_moving_mean, "zero_debias_moving_mean"), (renorm, "renorm"),
                       (adjustment is not None, "adjustment")):
        if flag:
            raise NotImplementedError(f"tf.contrib.layers.batch_norm: `{what}` is not supported by jitgraph")
    inputs = convert_to_tensor(inputs)
    rank = inputs.shape.ndims
    fused = True if fused is None else fused
    elsewhere = updates_collections != GraphKeys.UPDATE_OPS
    if fused and batch_weights is None and rank in (2, 4) and (rank == 2 or elsewhere):
        return _batch_norm_by_hand(inputs, True, decay, center, scale, epsilon, activation_fn, param_initializers,
                                   param_regularizers, updates_collections, is_training, reuse,
                                   variables_collections, outputs_collections, trainable, None, data_format, scope)
    if data_format not in _FORMATS:
        raise ValueError(f"data_format has to be either NCHW or NHWC; got {data_format!r}.")
    if batch_weights is None and not elsewhere:
        return _batch_norm_layer(inputs, decay, center, scale, epsilon, activation_fn, param_initializers or {},
                                 param_regularizers or {}, is_training, reuse, variables_collections,
                                 outputs_collections, trainable, fused, data_format, scope)
    return _batch_norm_by_hand(inputs, False, decay, center, scale, epsilon, activation_fn, param_initializers,
                               param_regularizers, updates_collections, is_training, reuse, variables_collections,
                               outputs_collections, trainable, batch_weights, data_format, scope)


def _batch_norm_layer(inputs, decay, center, scale, epsilon, activation_fn, inits, regs, is_training, reuse,
                      variables_collections, outputs_collections, trainable, fused, data_format, scope):
    """``tf.layers.BatchNormalization`` with contrib's names (``BatchNorm/...``, model variables)."""
    with variable_scope(scope, "BatchNorm", [inputs], reuse=reuse, custom_getter=model_variable_getter()) as sc:
        layer = BatchNormalization(
            axis=1 if data_format == "NCHW" else -1, momentum=decay, epsilon=epsilon, center=center, scale=scale,
            beta_initializer=inits.get("beta", Zeros()), gamma_initializer=inits.get("gamma", Ones()),
            moving_mean_initializer=inits.get("moving_mean", Zeros()),
            moving_variance_initializer=inits.get("moving_variance", Ones()), beta_regularizer=regs.get("beta"),
            gamma_regularizer=regs.get("gamma"), trainable=trainable, name=sc.name, _scope=sc, _reuse=reuse,
            fused=fused)
        outputs = layer.apply(inputs, training=is_training)
        for name in ("moving_mean", "moving_variance", "beta", "gamma"):
            if getattr(layer, name) is not None:
                add_variable_to_collections(getattr(layer, name), variables_collections, name)
        outputs = apply_activation(outputs, activation_fn)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _batch_norm_by_hand(inputs, fused, decay, center, scale, epsilon, activation_fn, param_initializers,
                        param_regularizers, updates_collections, is_training, reuse, variables_collections,
                        outputs_collections, trainable, batch_weights, data_format, scope):
    """TF's ``_fused_batch_norm`` (``fused``) and its unfused by-hand ``batch_norm``."""
    if data_format not in _FORMATS:
        raise ValueError(f"data_format has to be either NCHW or NHWC; got {data_format!r}.")
    getter = None if fused else model_variable_getter()
    with variable_scope(scope, "BatchNorm", [inputs], reuse=reuse, custom_getter=getter) as sc:
        original, rank = inputs, inputs.shape.ndims
        if rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        if fused and rank not in (2, 4):
            raise ValueError(f"Inputs {inputs.name} has unsupported rank. Expected 2 or 4 but got {rank}")
        channels = inputs.shape[-1 if data_format == "NHWC" or rank == 2 else 1].value
        if channels is None:
            raise ValueError(f"Inputs {inputs.name} has undefined channels dimension: shape {inputs.shape}.")
        if fused and rank == 2:
            inputs = reshape(inputs, [-1, channels, 1, 1] if data_format == "NCHW" else [-1, 1, 1, channels])
        inits = param_initializers or {}
        regs = (param_regularizers or {}) if fused else {}       # TF's unfused path ignores them
        dtype = dtypes.float32 if fused else inputs.dtype.base_dtype

        def variable(name, init, is_trainable):
            return model_variable(name, [channels], dtype, inits.get(name, init), regularizer=regs.get(name),
                                  trainable=is_trainable,
                                  collections=variable_collections(variables_collections, name))
        beta = variable("beta", Zeros(), trainable) if center else None
        gamma = variable("gamma", Ones(), trainable) if scale else None
        moving_mean = variable("moving_mean", Zeros(), False)
        moving_variance = variable("moving_variance", Ones(), False)
        training = _static_bool(is_training)
        if fused:
            outputs, mean, variance = _fused(inputs, beta, gamma, moving_mean, moving_variance, epsilon,
                                             data_format, training)
        else:
            mean, variance = _moments(inputs, batch_weights, data_format, training, moving_mean, moving_variance)
        if training is not False:
            updates = [assign_moving_average(moving_mean, mean, decay, training),
                       assign_moving_average(moving_variance, variance, decay, training)]
            if updates_collections is None:          # the outputs wait for the updates
                with control_dependencies(updates):
                    if fused:
                        outputs = identity(outputs)
                    else:
                        mean, variance = identity(mean), identity(variance)
            else:
                for u in updates:
                    get_default_graph().add_to_collections(updates_collections, u)
        if not fused:
            if training is not False:
                batch_mean, batch_variance = mean, variance
                mean = select_on_training(training, lambda: batch_mean, lambda: convert_to_tensor(moving_mean))
                variance = select_on_training(training, lambda: batch_variance,
                                              lambda: convert_to_tensor(moving_variance))
            outputs = _normalize(inputs, mean, variance, beta, gamma, epsilon, data_format)
        outputs.set_shape(inputs.shape)
        if fused and rank == 2:
            outputs = _restore_shape(outputs, original)
        outputs = apply_activation(outputs, activation_fn)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _fused(x, beta, gamma, moving_mean, moving_variance, epsilon, data_format, training):
    """``(outputs, mean, variance)`` of ``fused_batch_norm``: in training the batch mean and the
    unbiased batch variance (what the moving averages follow), else the moving statistics."""
    def or_constant(v, fill):          # TF's fused kernel takes constant ones/zeros for absent gamma/beta
        return v if v is not None else constant(fill, dtypes.float32, shape=moving_mean.shape)
    scale, offset = or_constant(gamma, 1.0), or_constant(beta, 0.0)

    def train():
        return fused_batch_norm(x, scale, offset, epsilon=epsilon, data_format=data_format)

    def infer():
        return fused_batch_norm(x, scale, offset, mean=moving_mean, variance=moving_variance, epsilon=epsilon,
                                is_training=False, data_format=data_format)
    if training is True or training is False:
        return train() if training else infer()
    (trained, mean, variance), inferred = train(), infer()
    return select_on_training(training, lambda: trained, lambda: inferred[0]), mean, variance


def _moments(x, batch_weights, data_format, training, moving_mean, moving_variance):
    """The batch mean and (biased) variance per channel; the moving ones when not training."""
    if training is False:
        return convert_to_tensor(moving_mean), convert_to_tensor(moving_variance)
    rank = x.shape.ndims
    axes = [0] + list(range(2, rank)) if data_format == "NCHW" else list(range(rank - 1))
    if batch_weights is not None:
        batch_weights = reshape(convert_to_tensor(batch_weights), [-1] + [1] * (rank - 1))
        mean, variance = weighted_moments(x, axes, batch_weights, keepdims=True)
    else:
        mean, variance = moments(x, axes, keep_dims=True)
    return reshape(mean, [-1]), reshape(variance, [-1])


def _normalize(x, mean, variance, beta, gamma, epsilon, data_format):
    """``tf.nn.batch_normalization`` with per-channel vectors broadcast on the channel axis."""
    if data_format == "NCHW":
        bshape = [1, -1] + [1] * (x.shape.ndims - 2)
        mean, variance = reshape(mean, bshape), reshape(variance, bshape)
        beta = reshape(beta, bshape) if beta is not None else None
        gamma = reshape(gamma, bshape) if gamma is not None else None
    return batch_normalization(x, mean, variance, beta, gamma, epsilon)


def _restore_shape(outputs, original):
    """The 4-D outputs of a 2-D input back in the input's shape."""
    dims = original.shape.as_list()
    if dims.count(None) <= 1:
        return reshape(outputs, [-1 if d is None else d for d in dims])
    return reshape(outputs, shape(original))
