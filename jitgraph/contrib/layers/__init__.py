"""``tf.contrib.layers``: TF 1.15's contrib layer functions (``fully_connected``, ``conv2d``,
``batch_norm``, ``flatten`` …), initializers (``xavier_initializer`` …) and regularizers
(``l2_regularizer`` …), built on ``tf.layers`` and named as TF names them."""

from jitgraph.contrib.layers.initializers import (variance_scaling_initializer, xavier_initializer,
                                                  xavier_initializer_conv2d)
from jitgraph.contrib.layers.layers import (avg_pool2d, conv1d, conv2d, conv3d, convolution, convolution1d,
                                            convolution2d, convolution3d, dropout, elu, flatten, fully_connected,
                                            layer_norm, linear, max_pool2d, one_hot_encoding, relu, relu6)
from jitgraph.contrib.layers.normalization import batch_norm
from jitgraph.contrib.layers.regularizers import (apply_regularization, l1_l2_regularizer, l1_regularizer,
                                                  l2_regularizer, sum_regularizer)

__all__ = ["avg_pool2d", "batch_norm", "conv1d", "conv2d", "conv3d", "convolution", "convolution1d", "convolution2d",
           "convolution3d", "dropout", "elu", "flatten", "fully_connected", "layer_norm", "linear", "max_pool2d",
           "one_hot_encoding", "relu", "relu6", "xavier_initializer", "xavier_initializer_conv2d",
           "variance_scaling_initializer", "l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer",
           "apply_regularization"]
