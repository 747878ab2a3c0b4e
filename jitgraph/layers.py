"""``tf.layers``: ``dense`` and ``conv2d`` built on ``variable_scope``/``get_variable``.

Each call opens a variable scope named ``name`` (default ``dense``, ``dense_1``…; ``conv2d``…),
creates ``<scope>/kernel`` and ``<scope>/bias`` (or reuses them with ``reuse=True``), and builds
``MatMul``/``Conv2D``, ``BiasAdd`` and the activation inside it.
"""

from jitgraph.framework.graph import GraphKeys
from jitgraph.ops import nn_ops
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["dense", "conv2d"]


def _pair(v, name):
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(e) for e in v)
    if len(v) != 2:
        raise ValueError(f"The `{name}` argument must be a tuple of 2 integers. Received: {v}")
    return v


def _variables(kernel_shape, dtype, use_bias, kernel_initializer, bias_initializer,
               kernel_regularizer, bias_regularizer, trainable, kernel_constraint=None, bias_constraint=None):
    from jitgraph.variables.initializers import zeros_initializer
    from jitgraph.variables.scopes import get_variable
    kernel = get_variable("kernel", kernel_shape, dtype=dtype, initializer=kernel_initializer,
                          regularizer=kernel_regularizer, trainable=trainable, constraint=kernel_constraint)
    bias = None
    if use_bias:
        bias = get_variable("bias", [kernel_shape[-1]], dtype=dtype, initializer=bias_initializer or zeros_initializer(),
                            regularizer=bias_regularizer, trainable=trainable, constraint=bias_constraint)
    return kernel, bias


def _finish(y, bias, activation, data_format="NHWC"):
    if bias is not None:
        y = nn_ops.bias_add(y, bias, data_format=data_format)
    return activation(y) if activation is not None else y


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
          kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
          bias_constraint=None, trainable=True, name=None, reuse=None):
    """``activation(inputs @ kernel + bias)`` with ``kernel`` [in, units] (Glorot-uniform by default)
    and ``bias`` [units] (zeros). Inputs of rank > 2 are contracted over their last axis."""
    from jitgraph.ops.linalg_ops import matmul, tensordot
    from jitgraph.variables.scopes import variable_scope
    x = convert_to_tensor(inputs)
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(f"Input 0 of layer dense is incompatible with the layer: expected min_ndim=2, "
                         f"found ndim={x.shape.ndims}. Full shape received: {x.shape}")
    in_dim = x.shape.as_list()[-1] if x.shape.ndims is not None else None
    if in_dim is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
    if not x.dtype.base_dtype.is_floating:
        raise TypeError(f"Unable to build `Dense` layer with non-floating point dtype {x.dtype.base_dtype.name}")
    with variable_scope(name, default_name="dense", reuse=reuse, values=[x]):
        kernel, bias = _variables([in_dim, int(units)], x.dtype.base_dtype, use_bias, kernel_initializer,
                                  bias_initializer, kernel_regularizer, bias_regularizer, trainable,
                                  kernel_constraint, bias_constraint)
        y = matmul(x, kernel) if x.shape.ndims == 2 else tensordot(x, kernel, [[x.shape.ndims - 1], [0]])
        y = _finish(y, bias, activation)
        _activity(y, activity_regularizer)
        return y


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None, bias_initializer=None,
           kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """2-D convolution layer: ``kernel`` [kh, kw, in, filters], ``bias`` [filters];
    ``padding`` is ``"valid"`` or ``"same"``, ``data_format`` ``"channels_last"``/``"channels_first"``."""
    from jitgraph.variables.scopes import variable_scope
    x = convert_to_tensor(inputs)
    if x.shape.ndims != 4:
        raise ValueError(f"Input 0 of layer conv2d is incompatible with the layer: expected ndim=4, found "
                         f"ndim={x.shape.ndims}. Full shape received: {x.shape}")
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: {data_format}")
    df = "NHWC" if data_format == "channels_last" else "NCHW"
    in_ch = x.shape.as_list()[3 if df == "NHWC" else 1]
    if in_ch is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    kh, kw = _pair(kernel_size, "kernel_size")
    with variable_scope(name, default_name="conv2d", reuse=reuse, values=[x]):
        kernel, bias = _variables([kh, kw, in_ch, int(filters)], x.dtype.base_dtype, use_bias,
                                  kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                  trainable, kernel_constraint, bias_constraint)
        y = nn_ops.conv2d(x, kernel, list(_pair(strides, "strides")), padding.upper(), data_format=df,
                          dilations=list(_pair(dilation_rate, "dilation_rate")))
        y = _finish(y, bias, activation, df)
        _activity(y, activity_regularizer)
        return y


def _activity(y, regularizer):
    if regularizer is not None:
        loss = regularizer(y)
        if loss is not None:
            y.graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
