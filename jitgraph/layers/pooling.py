"""Pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D`` and their functions.

``pool_size`` windows moved by ``strides`` (default: ``pool_size``); ``padding`` ``"valid"``
or ``"same"`` (average pooling does not count the padded positions). No variables; each
call still opens its own unique scope (``max_pooling2d``, ``max_pooling2d_1``…) as TF's layers do.
"""

from jitgraph.framework.shapes import TensorShape
from jitgraph.layers.base import InputSpec, Layer
from jitgraph.layers.utils import (conv_output_length, normalize_data_format, normalize_padding, normalize_tuple,
                                   tf_data_format)
from jitgraph.ops.nn_conv1d import pool


class Pooling(Layer):
    """Rank-``rank`` pooling with ``pool_type`` ``"MAX"`` or ``"AVG"``."""

    def __init__(self, rank, pool_type, pool_size, strides=None, padding="valid", data_format="channels_last",
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rank, self.pool_type = rank, pool_type
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = normalize_tuple(pool_size if strides is None else strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs):
        return pool(inputs, list(self.pool_size), self.pool_type, self.padding.upper(), strides=list(self.strides),
                    data_format=tf_data_format(self.data_format, self.rank))

    def compute_output_shape(self, input_shape):
        dims = TensorShape(input_shape).as_list()
        first = self.data_format == "channels_first"
        spatial = dims[2:] if first else dims[1:-1]
        out = [conv_output_length(n, k, self.padding, s) for n, k, s in zip(spatial, self.pool_size, self.strides)]
        return TensorShape([dims[0], dims[1]] + out if first else [dims[0]] + out + [dims[-1]])


def _class(class_name, rank, pool_type, default_strides):
    what = "Max" if pool_type == "MAX" else "Average"

    def __init__(self, pool_size, strides=default_strides, padding="valid", data_format="channels_last", name=None,
                 **kwargs):
        Pooling.__init__(self, rank, pool_type, pool_size, strides, padding, data_format, name, **kwargs)
    doc = f"{what} pooling over {rank}-D windows of ``pool_size`` moved by ``strides``."
    return type(class_name, (Pooling,), {"__init__": __init__, "__doc__": doc})


MaxPooling1D = _class("MaxPooling1D", 1, "MAX", None)
MaxPooling2D = _class("MaxPooling2D", 2, "MAX", None)
MaxPooling3D = _class("MaxPooling3D", 3, "MAX", None)
AveragePooling1D = _class("AveragePooling1D", 1, "AVG", None)
AveragePooling2D = _class("AveragePooling2D", 2, "AVG", None)
AveragePooling3D = _class("AveragePooling3D", 3, "AVG", None)


def _function(cls):
    def fn(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
        return cls(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format,
                   name=name).apply(inputs)
    fn.__doc__ = f"Functional ``{cls.__name__}``: {cls.__doc__}"
    return fn


max_pooling1d = _function(MaxPooling1D)
max_pooling2d = _function(MaxPooling2D)
max_pooling3d = _function(MaxPooling3D)
average_pooling1d = _function(AveragePooling1D)
average_pooling2d = _function(AveragePooling2D)
average_pooling3d = _function(AveragePooling3D)
