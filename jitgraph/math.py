"""``tf.math``: the elementwise math, reductions and segment functions under their TF2-style names."""

from jitgraph.ops.clip_ops import count_nonzero, reduce_logsumexp  # noqa: F401
from jitgraph.ops.composite_ops import l2_normalize, log_sigmoid, reduce_std, reduce_variance  # noqa: F401
from jitgraph.ops.math_api import (abs, add, atan2, ceil, cos, divide, equal, exp, expm1, floor,  # noqa: F401,A004
                                   floordiv, floormod, greater, greater_equal, is_finite, is_inf, is_nan,
                                   less, less_equal, log, log1p, logical_and, logical_not, logical_or,
                                   logical_xor, maximum, minimum, mod, multiply, negative, not_equal, pow,
                                   reciprocal, round, rsqrt, sigmoid, sign, sin, softplus, sqrt, square,
                                   squared_difference, subtract, tanh, truediv, truncatediv, truncatemod)
from jitgraph.ops.reduction_ops import (add_n, argmax, argmin, cumprod, cumsum, reduce_all,  # noqa: F401
                                        reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod,
                                        reduce_sum)
from jitgraph.ops.slicing_ops import unsorted_segment_sum  # noqa: F401
from jitgraph.ops.segment_ops import (segment_max, segment_mean, segment_min, segment_prod, segment_sum,  # noqa: F401
                                      unsorted_segment_max, unsorted_segment_mean, unsorted_segment_min,
                                      unsorted_segment_prod, unsorted_segment_sqrt_n)
from jitgraph.ops.sort_ops import in_top_k, top_k  # noqa: F401
from jitgraph.ops.extra_math_ops import *  # noqa: F401,F403
from jitgraph.ops.nn_ops import log_softmax, softmax  # noqa: F401
from jitgraph.ops.confusion_matrix import confusion_matrix  # noqa: F401,E402
