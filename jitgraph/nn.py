"""``tf.nn``: neural-network ops."""

from jitgraph.ops.composite_ops import elu, l2_normalize, leaky_relu, log_sigmoid, moments, selu  # noqa: F401
from jitgraph.ops.math_api import relu, relu6, sigmoid, softplus, tanh  # noqa: F401
from jitgraph.ops.nn_ops import *  # noqa: F401,F403
from jitgraph.ops import nn_conv2d_transpose_grad  # noqa: F401,E402
from jitgraph.ops.nn_batchnorm import (batch_norm_with_global_normalization, batch_normalization,  # noqa: F401,E402
                                       fused_batch_norm, normalize_moments, sufficient_statistics,
                                       weighted_moments)
from jitgraph.ops.nn_conv1d import avg_pool1d, conv1d, conv1d_transpose, convolution, max_pool1d, pool  # noqa: F401,E402
from jitgraph.ops.nn_conv3d import avg_pool3d, conv3d, conv3d_transpose, max_pool3d  # noqa: F401,E402
from jitgraph.ops.nn_depthwise import (depthwise_conv2d, depthwise_conv2d_native,  # noqa: F401,E402
                                       depthwise_conv2d_native_backprop_filter,
                                       depthwise_conv2d_native_backprop_input, separable_conv2d)
from jitgraph.ops.embedding_ops import embedding_lookup  # noqa: F401,E402
from jitgraph.ops.sort_ops import in_top_k, top_k  # noqa: F401,E402
from jitgraph.ops.candidate_sampling_ops import (compute_accidental_hits,  # noqa: F401,E402
                                                 fixed_unigram_candidate_sampler, log_uniform_candidate_sampler,
                                                 uniform_candidate_sampler)
from jitgraph.ops.sampled_loss_ops import nce_loss, sampled_softmax_loss  # noqa: F401,E402
from jitgraph.ops.nn_extra_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.array_extra_ops import depth_to_space, space_to_depth  # noqa: F401,E402
from jitgraph.rnn import rnn_cell  # noqa: F401,E402
from jitgraph.rnn.dynamic import (bidirectional_dynamic_rnn, dynamic_rnn, static_bidirectional_rnn,  # noqa: F401,E402
                                  static_rnn)
