"""``tf.contrib.layers``' layer functions, as TF 1.15 had them, built on ``tf.layers``:
``fully_connected``, ``conv2d`` (``convolution`` and its 1-D/3-D forms), ``max_pool2d``,
``avg_pool2d``, ``flatten``, ``dropout``, ``one_hot_encoding`` and ``layer_norm``
(``batch_norm`` is in ``normalization.py``).

Contrib's conventions, which differ from ``tf.layers``': ``activation_fn`` defaults to
``tf.nn.relu``; weights are ``<scope>/weights`` and ``<scope>/biases`` (Xavier-uniform and zeros),
in ``GraphKeys.MODEL_VARIABLES`` too; scopes are CamelCase (``Conv``, ``Conv_1``, ``MaxPool2D``)
except ``fully_connected``; ``normalizer_fn(outputs, **normalizer_params)`` replaces the biases::

    h = tf.contrib.layers.fully_connected(x, 256, normalizer_fn=tf.contrib.layers.batch_norm,
                                          normalizer_params={"is_training": training})
"""

import functools

from jitgraph import dtypes
from jitgraph.api_graph import name_scope
from jitgraph.contrib.layers.initializers import xavier_initializer
from jitgraph.contrib.layers.utils import (add_variable_to_collections, apply_activation, collect_named_outputs,
                                           model_variable, model_variable_getter, variable_collections)
from jitgraph.layers.convolutional import Conv1D, Conv2D, Conv3D
from jitgraph.layers.core import Dense, Dropout
from jitgraph.layers.core import flatten as _layers_flatten
from jitgraph.layers.utils import normalize_padding, normalize_tuple
from jitgraph.ops import nn_ops
from jitgraph.ops.array_ops import one_hot
from jitgraph.ops.composite_ops import moments
from jitgraph.ops.composite_ops import elu as _elu
from jitgraph.ops.math_api import relu as _relu
from jitgraph.ops.math_api import relu6 as _relu6
from jitgraph.ops.math_ops import cast
from jitgraph.ops.nn_batchnorm import batch_normalization
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.variables.initializers import Ones, Zeros
from jitgraph.variables.scopes import variable_scope

__all__ = ["fully_connected", "convolution", "convolution1d", "convolution2d", "convolution3d", "conv1d", "conv2d",
           "conv3d", "max_pool2d", "avg_pool2d", "flatten", "dropout", "one_hot_encoding", "layer_norm", "linear",
           "relu", "relu6", "elu"]

_WEIGHTS_NAMES = {"kernel": "weights", "bias": "biases"}
_CONV_FORMATS = (None, "NWC", "NCW", "NHWC", "NCHW", "NDHWC", "NCDHW")


def _weighted_layer(layer, variables_collections, outputs, normalizer_fn, normalizer_params, activation_fn):
    """The end every weighted contrib layer shares: collections, normalizer, activation."""
    add_variable_to_collections(layer.kernel, variables_collections, "weights")
    if layer.bias is not None:
        add_variable_to_collections(layer.bias, variables_collections, "biases")
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    return apply_activation(outputs, activation_fn)


def fully_connected(inputs, num_outputs, activation_fn=_relu, normalizer_fn=None, normalizer_params=None,
                    weights_initializer=xavier_initializer(), weights_regularizer=None,
                    biases_initializer=Zeros(), biases_regularizer=None, reuse=None, variables_collections=None,
                    outputs_collections=None, trainable=True, scope=None):
    """``activation_fn(normalizer_fn(inputs @ weights) or inputs @ weights + biases)`` in variable
    scope ``scope`` (default a unique ``fully_connected``, ``fully_connected_1`` …): ``weights``
    ``[depth, num_outputs]``, ``biases`` ``[num_outputs]`` unless ``normalizer_fn`` is given or
    ``biases_initializer`` is None. Inputs of rank > 2 are contracted over their last axis.
    ``reuse=True`` needs ``scope``. ``variables_collections``: a list for every variable or a dict
    by ``"weights"``/``"biases"``."""
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, int):
        raise ValueError(f"num_outputs type should be one of [int], got {type(num_outputs)}.")
    with variable_scope(scope, "fully_connected", [inputs], reuse=reuse,
                        custom_getter=model_variable_getter(_WEIGHTS_NAMES)) as sc:
        inputs = convert_to_tensor(inputs)
        layer = Dense(num_outputs, activation=None, use_bias=not normalizer_fn and biases_initializer is not None,
                      kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                      kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                      trainable=trainable, name=sc.name, dtype=inputs.dtype.base_dtype, _scope=sc, _reuse=reuse)
        outputs = layer.apply(inputs)
        outputs = _weighted_layer(layer, variables_collections, outputs, normalizer_fn, normalizer_params,
                                  activation_fn)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def convolution(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
                activation_fn=_relu, normalizer_fn=None, normalizer_params=None,
                weights_initializer=xavier_initializer(), weights_regularizer=None, biases_initializer=Zeros(),
                biases_regularizer=None, reuse=None, variables_collections=None, outputs_collections=None,
                trainable=True, scope=None, conv_dims=None):
    """An N-D convolution (N from the input's rank: 3 → 1-D, 4 → 2-D, 5 → 3-D) in variable scope
    ``scope`` (default ``Conv``, ``Conv_1`` …): ``weights`` ``[*kernel_size, in, num_outputs]``,
    ``biases`` ``[num_outputs]`` unless ``normalizer_fn`` is given; ``padding`` ``'SAME'``
    (default) or ``'VALID'``; ``rate``: the dilation; ``data_format`` ``'NHWC'``-style (default)
    or ``'NCHW'``-style. Then ``normalizer_fn`` and ``activation_fn`` (relu by default)."""
    if data_format not in _CONV_FORMATS:
        raise ValueError(f"Invalid data_format: {data_format!r}")
    with variable_scope(scope, "Conv", [inputs], reuse=reuse,
                        custom_getter=model_variable_getter(_WEIGHTS_NAMES)) as sc:
        inputs = convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        if conv_dims is not None and conv_dims + 2 != rank:
            raise ValueError(f"Convolution expects input with rank {conv_dims + 2}, got {rank}")
        layer_class = {3: Conv1D, 4: Conv2D, 5: Conv3D}.get(rank)
        if layer_class is None:
            raise ValueError(f"Convolution not supported for input with rank {rank}: `inputs` must be 3-D, 4-D "
                             f"or 5-D (shape {inputs.shape})")
        df = "channels_first" if data_format and data_format.startswith("NC") else "channels_last"
        layer = layer_class(num_outputs, kernel_size, strides=stride, padding=padding, data_format=df,
                            dilation_rate=rate, activation=None,
                            use_bias=not normalizer_fn and biases_initializer is not None,
                            kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                            kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                            trainable=trainable, name=sc.name, dtype=inputs.dtype.base_dtype, _scope=sc,
                            _reuse=reuse)
        outputs = layer.apply(inputs)
        outputs = _weighted_layer(layer, variables_collections, outputs, normalizer_fn, normalizer_params,
                                  activation_fn)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _convolution_nd(conv_dims):
    def conv(inputs, num_outputs, kernel_size, stride=1, padding="SAME", data_format=None, rate=1,
             activation_fn=_relu, normalizer_fn=None, normalizer_params=None, weights_initializer=xavier_initializer(),
             weights_regularizer=None, biases_initializer=Zeros(), biases_regularizer=None, reuse=None,
             variables_collections=None, outputs_collections=None, trainable=True, scope=None):
        return convolution(inputs, num_outputs, kernel_size, stride, padding, data_format, rate, activation_fn,
                           normalizer_fn, normalizer_params, weights_initializer, weights_regularizer,
                           biases_initializer, biases_regularizer, reuse, variables_collections, outputs_collections,
                           trainable, scope, conv_dims=conv_dims)
    conv.__name__ = f"convolution{conv_dims}d"
    conv.__doc__ = f"``convolution`` of a rank-{conv_dims + 2} input (a {conv_dims}-D convolution)."
    return conv


convolution1d = conv1d = _convolution_nd(1)
convolution2d = conv2d = _convolution_nd(2)
convolution3d = conv3d = _convolution_nd(3)

# TF's aliases: fully_connected with the activation fixed.
linear = functools.partial(fully_connected, activation_fn=None)
relu = functools.partial(fully_connected, activation_fn=_relu)
relu6 = functools.partial(fully_connected, activation_fn=_relu6)
elu = functools.partial(fully_connected, activation_fn=_elu)


def _pool2d(pooling_type, default_name, inputs, kernel_size, stride, padding, data_format, outputs_collections,
            scope):
    if data_format not in ("NCHW", "NHWC"):
        raise ValueError(f"data_format has to be either NCHW or NHWC; got {data_format!r}.")
    kh, kw = normalize_tuple(kernel_size, 2, "kernel_size")
    sh, sw = normalize_tuple(stride, 2, "stride")
    padding = normalize_padding(padding).upper()
    with name_scope(scope, default_name, [inputs]) as sc:
        inputs = convert_to_tensor(inputs)
        if inputs.shape.ndims not in (None, 4):
            raise ValueError(f"{default_name}: `inputs` must be 4-D ({data_format}), got shape {inputs.shape}")
        ksize, strides = ([1, 1, kh, kw], [1, 1, sh, sw]) if data_format == "NCHW" else ([1, kh, kw, 1],
                                                                                          [1, sh, sw, 1])
        pool = nn_ops.max_pool if pooling_type == "MAX" else nn_ops.avg_pool
        outputs = pool(inputs, ksize, strides, padding, data_format=data_format)
        return collect_named_outputs(outputs_collections, sc, outputs)


def max_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC", outputs_collections=None,
               scope=None):
    """2-D max pooling over ``kernel_size`` windows (an int or ``[h, w]``) moved by ``stride``
    (default 2), ``padding`` ``'VALID'`` (default) or ``'SAME'``, in name scope ``MaxPool2D``."""
    return _pool2d("MAX", "MaxPool2D", inputs, kernel_size, stride, padding, data_format, outputs_collections,
                   scope)


def avg_pool2d(inputs, kernel_size, stride=2, padding="VALID", data_format="NHWC", outputs_collections=None,
               scope=None):
    """2-D average pooling (padded positions not counted), as ``max_pool2d``; name scope
    ``AvgPool2D``."""
    return _pool2d("AVG", "AvgPool2D", inputs, kernel_size, stride, padding, data_format, outputs_collections,
                   scope)


def flatten(inputs, outputs_collections=None, scope=None):
    """``[batch, d1, d2, ...]`` → ``[batch, d1*d2*...]`` (``tf.layers.flatten`` in name scope
    ``Flatten``)."""
    with name_scope(scope, "Flatten", [inputs]) as sc:
        outputs = _layers_flatten(convert_to_tensor(inputs))
        return collect_named_outputs(outputs_collections, sc, outputs)


def dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None, scope=None,
            seed=None):
    """Keep each element with probability ``keep_prob`` (a float or a scalar tensor), scaled by
    ``1/keep_prob``, when ``is_training`` (a Python bool, default True, or a bool tensor); the
    identity otherwise. Variable scope ``Dropout``."""
    with variable_scope(scope, "Dropout", [inputs], custom_getter=model_variable_getter()) as sc:
        inputs = convert_to_tensor(inputs)
        layer = Dropout(rate=1 - keep_prob, noise_shape=noise_shape, seed=seed, name=sc.name, _scope=sc)
        outputs = layer.apply(inputs, training=is_training)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def one_hot_encoding(labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None, scope=None):
    """``tf.one_hot(labels, num_classes, on_value, off_value)`` (float32 by default) in name scope
    ``OneHotEncoding``; int32 labels are made int64 first, as TF's."""
    with name_scope(scope, "OneHotEncoding", [labels, num_classes]) as sc:
        labels = convert_to_tensor(labels)
        if labels.dtype.base_dtype == dtypes.int32:
            labels = cast(labels, dtypes.int64)
        outputs = one_hot(labels, num_classes, on_value=on_value, off_value=off_value)
        return collect_named_outputs(outputs_collections, sc, outputs)


def layer_norm(inputs, center=True, scale=True, activation_fn=None, reuse=None, variables_collections=None,
               outputs_collections=None, trainable=True, begin_norm_axis=1, begin_params_axis=-1, scope=None):
    """Layer normalization (Ba et al., 2016): each example normalized by its mean and variance over
    axes ``begin_norm_axis:`` (epsilon 1e-12), then ``* gamma + beta`` with ``gamma``/``beta``
    shaped ``inputs.shape[begin_params_axis:]``, in variable scope ``LayerNorm``."""
    with variable_scope(scope, "LayerNorm", [inputs], reuse=reuse) as sc:
        inputs = convert_to_tensor(inputs)
        shape, rank = inputs.shape, inputs.shape.ndims
        if rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        dtype = inputs.dtype.base_dtype
        if begin_norm_axis < 0:
            begin_norm_axis += rank
        if begin_params_axis >= rank or begin_norm_axis >= rank:
            raise ValueError(f"begin_params_axis ({begin_params_axis}) and begin_norm_axis ({begin_norm_axis}) "
                             f"must be < rank(inputs) ({rank})")
        params_shape = shape[begin_params_axis:]
        if not params_shape.is_fully_defined():
            raise ValueError(f"Inputs {inputs.name}: shape(inputs)[{begin_params_axis}:] is not fully defined: "
                             f"{shape}")
        beta = gamma = None
        if center:
            beta = model_variable("beta", params_shape, dtype, Zeros(), trainable=trainable,
                                  collections=variable_collections(variables_collections, "beta"))
        if scale:
            gamma = model_variable("gamma", params_shape, dtype, Ones(), trainable=trainable,
                                   collections=variable_collections(variables_collections, "gamma"))
        mean, variance = moments(inputs, list(range(begin_norm_axis, rank)), keep_dims=True)
        epsilon = 1e-12 if dtype != dtypes.float16 else 1e-3
        outputs = batch_normalization(inputs, mean, variance, offset=beta, scale=gamma, variance_epsilon=epsilon)
        outputs.set_shape(shape)
        outputs = apply_activation(outputs, activation_fn)
        return collect_named_outputs(outputs_collections, sc.name, outputs)
