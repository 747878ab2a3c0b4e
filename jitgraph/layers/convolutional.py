"""Convolution layers: ``Conv1D``, ``Conv2D``, ``Conv3D`` and their functions. The transposed and
separable convolutions are in ``convolutional_transpose.py`` and ``separable.py``.

A rank-N convolution has ``kernel`` ``[*kernel_size, in_channels, filters]`` and ``bias``
``[filters]``; ``padding`` is ``"valid"`` or ``"same"`` (``"causal"`` too for ``Conv1D``:
the input is padded on the left so output ``t`` sees inputs ``<= t`` only).
"""

from jitgraph.framework.shapes import TensorShape
from jitgraph.layers.base import InputSpec, Layer
from jitgraph.layers.utils import (conv_output_length, get_activation, get_initializer, normalize_data_format,
                                   normalize_padding, normalize_tuple, tf_data_format)
from jitgraph.ops import nn_ops
from jitgraph.ops.nn_conv1d import convolution
from jitgraph.variables.initializers import Zeros


class Conv(Layer):
    """The rank-``rank`` convolution layer that ``Conv1D``/``Conv2D``/``Conv3D`` specialize."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = int(filters) if filters is not None else None
        if self.filters is not None and self.filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding, allow_causal=rank == 1)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        if self.padding == "causal" and self.data_format != "channels_last":
            raise ValueError("Causal padding is only supported for `Conv1D` with `data_format='channels_last'`.")
        self.activation = get_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint
        self.input_spec = InputSpec(min_ndim=rank + 2)

    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape):
        c = input_shape.as_list()[self._channel_axis] if input_shape.ndims is not None else None
        if c is None:
            raise ValueError(f"The channel dimension of the inputs should be defined. The input_shape received is "
                             f"{input_shape}, where axis {self._channel_axis} (0-based) is the channel dimension, "
                             f"which found to be `None`.")
        return c

    def _kernel_shape(self, in_channels):
        return list(self.kernel_size) + [in_channels, self.filters]

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel", self._kernel_shape(c), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis: c})
        self.built = True

    def _convolve(self, inputs):
        if self.padding == "causal":
            from jitgraph.ops.tile_pad_ops import pad
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs = pad(inputs, [[0, 0], [left, 0], [0, 0]])
        padding = "VALID" if self.padding == "causal" else self.padding.upper()
        return convolution(inputs, self.kernel, padding, strides=list(self.strides),
                           dilation_rate=list(self.dilation_rate), data_format=tf_data_format(self.data_format,
                                                                                               self.rank))

    def _finish(self, inputs, outputs):
        if self.bias is not None:
            outputs = _add_channel_bias(outputs, self.bias, self.data_format)
        if inputs.shape.ndims is not None:
            outputs.set_shape(self.compute_output_shape(inputs.shape))
        return self.activation(outputs) if self.activation is not None else outputs

    def call(self, inputs):
        return self._finish(inputs, self._convolve(inputs))

    def _spatial(self, dims):
        return dims[2:] if self.data_format == "channels_first" else dims[1:-1]

    def _with_spatial(self, dims, spatial, channels):
        return [dims[0], channels] + spatial if self.data_format == "channels_first" else [dims[0]] + spatial + [
            channels]

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        spatial = [conv_output_length(n, k, self.padding, s, d) for n, k, s, d in
                   zip(self._spatial(dims), self.kernel_size, self.strides, self.dilation_rate)]
        return TensorShape(self._with_spatial(dims, spatial, self.filters))


def _add_channel_bias(outputs, bias, data_format):
    """``bias_add`` on the channel axis of any-rank outputs."""
    if data_format == "channels_last" or outputs.shape.ndims == 4:
        return nn_ops.bias_add(outputs, bias, data_format="NCHW" if data_format == "channels_first" else "NHWC")
    from jitgraph.ops.array_ops import reshape
    return outputs + reshape(bias, [1, -1] + [1] * (outputs.shape.ndims - 2))


def _conv_class(rank, doc):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        Conv.__init__(self, rank, filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
                      use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                      activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)
    return type(f"Conv{rank}D", (Conv,), {"__init__": __init__, "__doc__": doc})


Conv1D = _conv_class(1, "1-D convolution over ``[batch, steps, channels]``; ``kernel`` [k, in, filters].")
Conv2D = _conv_class(2, "2-D convolution over ``[batch, h, w, channels]``; ``kernel`` [kh, kw, in, filters].")
Conv3D = _conv_class(3, "3-D convolution over ``[batch, d, h, w, channels]``; ``kernel`` [kd, kh, kw, in, filters].")


def _conv_function(cls, default_strides):
    def fn(inputs, filters, kernel_size, strides=default_strides, padding="valid", data_format="channels_last",
           dilation_rate=default_strides, activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=Zeros(), kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
           kernel_constraint=None, bias_constraint=None, trainable=True, name=None, reuse=None):
        layer = cls(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                    dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                    kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                    kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                    activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                    bias_constraint=bias_constraint, trainable=trainable, name=name, _scope=name, _reuse=reuse)
        return layer.apply(inputs)
    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = f"Functional ``{cls.__name__}``: {cls.__doc__}"
    return fn


conv1d = _conv_function(Conv1D, 1)
conv2d = _conv_function(Conv2D, (1, 1))
conv3d = _conv_function(Conv3D, (1, 1, 1))
