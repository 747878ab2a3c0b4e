"""``tf.layers``: TF 1.15's layers, as classes (``Dense``, ``Conv2D``, ``BatchNormalization`` …) and
functions (``dense``, ``conv2d``, ``batch_normalization`` …), named and collected as TF's."""

from jitgraph.layers.base import InputSpec, Layer
from jitgraph.layers.convolutional import Conv1D, Conv2D, Conv3D, conv1d, conv2d, conv3d
from jitgraph.layers.convolutional_transpose import Conv2DTranspose, Conv3DTranspose, conv2d_transpose, conv3d_transpose
from jitgraph.layers.core import Dense, Dropout, Flatten, dense, dropout, flatten
from jitgraph.layers.normalization import BatchNormalization, batch_normalization
from jitgraph.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, MaxPooling1D, MaxPooling2D,
                                     MaxPooling3D, average_pooling1d, average_pooling2d, average_pooling3d,
                                     max_pooling1d, max_pooling2d, max_pooling3d)
from jitgraph.layers.separable import SeparableConv1D, SeparableConv2D, separable_conv1d, separable_conv2d

__all__ = ["Layer", "InputSpec", "Dense", "Dropout", "Flatten", "dense", "dropout", "flatten",
           "Conv1D", "Conv2D", "Conv3D", "conv1d", "conv2d", "conv3d", "Conv2DTranspose", "Conv3DTranspose",
           "conv2d_transpose", "conv3d_transpose", "SeparableConv1D", "SeparableConv2D", "separable_conv1d",
           "separable_conv2d", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "max_pooling1d", "max_pooling2d", "max_pooling3d",
           "average_pooling1d", "average_pooling2d", "average_pooling3d", "BatchNormalization",
           "batch_normalization"]
