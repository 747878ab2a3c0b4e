"""``tf.nn``: neural-network ops."""

from jitgraph.ops.composite_ops import elu, l2_normalize, leaky_relu, log_sigmoid, moments, selu  # noqa: F401
from jitgraph.ops.math_api import relu, relu6, sigmoid, softplus, tanh  # noqa: F401
from jitgraph.ops.nn_ops import *  # noqa: F401,F403
from jitgraph.rnn import rnn_cell  # noqa: F401,E402
from jitgraph.rnn.dynamic import bidirectional_dynamic_rnn, dynamic_rnn, static_rnn  # noqa: F401,E402
