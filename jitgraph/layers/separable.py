"""Depthwise-separable convolution layers: ``SeparableConv1D``, ``SeparableConv2D`` and their functions.

A depthwise convolution (``depthwise_kernel`` ``[*kernel_size, in, depth_multiplier]``: each
input channel gets its own filters) then a pointwise 1x1 convolution mixing the channels
(``pointwise_kernel`` ``[1.., in * depth_multiplier, filters]``), then the bias.
"""

from jitgraph.layers.base import InputSpec
from jitgraph.layers.convolutional import Conv, _add_channel_bias
from jitgraph.layers.utils import get_initializer
from jitgraph.ops.array_ops import expand_dims, squeeze
from jitgraph.ops import nn_depthwise
from jitgraph.variables.initializers import Zeros


class SeparableConv(Conv):
    """The rank-1 or rank-2 separable convolution that ``SeparableConv1D``/``2D`` specialize."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=Zeros(), depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, None, bias_initializer, None, bias_regularizer, activity_regularizer, None,
                         bias_constraint, trainable, name, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = get_initializer(depthwise_initializer)
        self.pointwise_initializer = get_initializer(pointwise_initializer)
        self.depthwise_regularizer, self.pointwise_regularizer = depthwise_regularizer, pointwise_regularizer
        self.depthwise_constraint, self.pointwise_constraint = depthwise_constraint, pointwise_constraint

    def build(self, input_shape):
        c = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", list(self.kernel_size) + [c, self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", [1] * self.rank + [c * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: c})
        self.built = True

    def call(self, inputs):
        channels_first = self.data_format == "channels_first"
        df = "NCHW" if channels_first else "NHWC"
        x, dw, pw = inputs, self.depthwise_kernel, self.pointwise_kernel
        strides, rate, padding = list(self.strides), list(self.dilation_rate), self.padding
        if self.rank == 1:
            if padding == "causal":
                from jitgraph.ops.tile_pad_ops import pad
                x = pad(x, [[0, 0], [self.dilation_rate[0] * (self.kernel_size[0] - 1), 0], [0, 0]])
                padding = "valid"
            x, dw, pw = expand_dims(x, 2 if channels_first else 1), expand_dims(dw, 0), expand_dims(pw, 0)
            strides, rate = [1] + strides, [1] + rate
        full = [1, 1] + strides if channels_first else [1] + strides + [1]
        outputs = nn_depthwise.separable_conv2d(x, dw, pw, full, padding.upper(), rate=rate, data_format=df)
        if self.rank == 1:
            outputs = squeeze(outputs, [2 if channels_first else 1])
        if self.bias is not None:
            outputs = _add_channel_bias(outputs, self.bias, self.data_format)
        if inputs.shape.ndims is not None:
            outputs.set_shape(self.compute_output_shape(inputs.shape))
        return self.activation(outputs) if self.activation is not None else outputs


def _class(rank, default, doc):
    def __init__(self, filters, kernel_size, strides=default, padding="valid", data_format="channels_last",
                 dilation_rate=default, depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer=None,
                 pointwise_initializer=None, bias_initializer=Zeros(), depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, trainable=True, name=None,
                 **kwargs):
        SeparableConv.__init__(self, rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                               depth_multiplier, activation, use_bias, depthwise_initializer, pointwise_initializer,
                               bias_initializer, depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                               activity_regularizer, depthwise_constraint, pointwise_constraint, bias_constraint,
                               trainable, name, **kwargs)
    return type(f"SeparableConv{rank}D", (SeparableConv,), {"__init__": __init__, "__doc__": doc})


SeparableConv1D = _class(1, 1, "Depthwise-separable 1-D convolution over ``[batch, steps, channels]``.")
SeparableConv2D = _class(2, (1, 1), "Depthwise-separable 2-D convolution over ``[batch, h, w, channels]``.")


def _function(cls, default):
    def fn(inputs, filters, kernel_size, strides=default, padding="valid", data_format="channels_last",
           dilation_rate=default, depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer=None,
           pointwise_initializer=None, bias_initializer=Zeros(), depthwise_regularizer=None, pointwise_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
        layer = cls(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier, activation,
                    use_bias, depthwise_initializer, pointwise_initializer, bias_initializer, depthwise_regularizer,
                    pointwise_regularizer, bias_regularizer, activity_regularizer, depthwise_constraint,
                    pointwise_constraint, bias_constraint, trainable, name, _scope=name, _reuse=reuse)
        return layer.apply(inputs)
    fn.__doc__ = f"Functional ``{cls.__name__}``: {cls.__doc__}"
    return fn


separable_conv1d = _function(SeparableConv1D, 1)
separable_conv2d = _function(SeparableConv2D, (1, 1))
