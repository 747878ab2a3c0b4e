"""Transposed convolution layers: ``Conv2DTranspose``, ``Conv3DTranspose`` and their functions.

``kernel`` is ``[*kernel_size, filters, in_channels]`` (the transpose of a convolution's); each
output length is ``in * stride`` for ``"same"`` and ``in * stride + max(k - stride, 0)`` for
``"valid"``, or ``(in - 1) * stride + k - 2 * pad + output_padding`` when ``output_padding`` is set.
"""

from jitgraph.framework.shapes import TensorShape
from jitgraph.layers.base import InputSpec
from jitgraph.layers.convolutional import Conv
from jitgraph.layers.utils import deconv_output_length, normalize_tuple, tf_data_format
from jitgraph.ops.array_ops import shape
from jitgraph.ops.concat_ops import stack
from jitgraph.variables.initializers import Zeros


class ConvTranspose(Conv):
    """The rank-``rank`` transposed convolution that ``Conv2DTranspose``/``Conv3DTranspose`` specialize."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, output_padding=None, dilation_rate=1, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, rank, "output_padding", allow_zero=True)
            for stride, pad in zip(self.strides, self.output_padding):
                if pad >= stride:
                    raise ValueError(f"Strides must be greater than output padding. Received strides={self.strides}, "
                                     f"output_padding={self.output_padding}.")
        self.input_spec = InputSpec(ndim=rank + 2)

    def _kernel_shape(self, in_channels):
        return list(self.kernel_size) + [self.filters, in_channels]

    def build(self, input_shape):
        if input_shape.ndims is not None and input_shape.ndims != self.rank + 2:
            raise ValueError(f"Inputs should have rank {self.rank + 2}. Received input_shape={input_shape}.")
        super().build(input_shape)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: self._input_channels(input_shape)})

    def _out_lengths(self, lengths):
        pads = self.output_padding or (None,) * self.rank
        return [deconv_output_length(n, k, self.padding, p, s, d) for n, k, p, s, d in
                zip(lengths, self.kernel_size, pads, self.strides, self.dilation_rate)]

    def call(self, inputs):
        dims = inputs.shape.as_list() if inputs.shape.ndims is not None else [None] * (self.rank + 2)
        dynamic = shape(inputs)
        offset = 2 if self.data_format == "channels_first" else 1
        lengths = [d if d is not None else dynamic[offset + i] for i, d in enumerate(self._spatial(dims))]
        out_shape = stack(self._with_spatial([dynamic[0]], self._out_lengths(lengths), self.filters))
        df = tf_data_format(self.data_format, self.rank)
        strides = [1, 1] + list(self.strides) if df.startswith("NC") else [1] + list(self.strides) + [1]
        dilations = [1, 1] + list(self.dilation_rate) if df.startswith("NC") else [1] + list(self.dilation_rate) + [1]
        padding = self.padding.upper()
        if self.rank == 2:
            from jitgraph.ops.nn_ops import conv2d_backprop_input
            outputs = conv2d_backprop_input(out_shape, self.kernel, inputs, strides, padding, data_format=df,
                                            dilations=dilations)
        else:
            from jitgraph.ops.nn_conv3d import conv3d_transpose
            outputs = conv3d_transpose(inputs, self.kernel, out_shape, strides, padding, data_format=df,
                                       dilations=dilations)
        return self._finish(inputs, outputs)

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        return TensorShape(self._with_spatial(dims, self._out_lengths(self._spatial(dims)), self.filters))


class Conv2DTranspose(ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"): ``kernel`` [kh, kw, filters, in_channels]."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)


class Conv3DTranspose(ConvTranspose):
    """Transposed 3-D convolution: ``kernel`` [kd, kh, kw, filters, in_channels]."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(),
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, trainable=True, name=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, trainable, name, **kwargs)


def _function(cls, default_strides):
    def fn(inputs, filters, kernel_size, strides=default_strides, padding="valid", data_format="channels_last",
           activation=None, use_bias=True, kernel_initializer=None, bias_initializer=Zeros(), kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
           trainable=True, name=None, reuse=None):
        layer = cls(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                    activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                    bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                    bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                    kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                    name=name, _scope=name, _reuse=reuse)
        return layer.apply(inputs)
    fn.__doc__ = f"Functional ``{cls.__name__}``: {cls.__doc__}"
    return fn


conv2d_transpose = _function(Conv2DTranspose, (1, 1))
conv3d_transpose = _function(Conv3DTranspose, (1, 1, 1))
