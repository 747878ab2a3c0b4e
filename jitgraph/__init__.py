"""jitgraph: TensorFlow-1-style graph programs, compiled into fused native loops with Numba.

    import jitgraph as tf
    v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
    inc = v.assign_add(1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(inc)   # 1.0

This module is the public surface; everything else is internal.
"""

__version__ = "0.1.0"

from jitgraph import errors  # noqa: F401
from jitgraph import dtypes as _dtypes
from jitgraph.dtypes import (DType, as_dtype, bool, double, float16, float32, float64, half, int8,  # noqa: F401,A004
                             int16, int32, int64, string, uint8, uint16, uint32, uint64)
from jitgraph.framework.device import DeviceSpec  # noqa: F401
from jitgraph.framework.graph import Graph, GraphKeys, get_default_graph, reset_default_graph  # noqa: F401
from jitgraph.framework.shapes import Dimension, TensorShape  # noqa: F401
from jitgraph.framework.tensor import Operation, Tensor  # noqa: F401
from jitgraph import ops as _ops  # noqa: F401  (registers every op)
from jitgraph.ops.array_ops import *  # noqa: F401,F403
from jitgraph.ops.array_ops import shape, stack  # noqa: F401
from jitgraph.ops.constant_ops import (constant, fill, ones, ones_like, placeholder,  # noqa: F401
                                       placeholder_with_default, zeros, zeros_like)
from jitgraph.ops.control_ops import group, identity, no_op, tuple  # noqa: F401,A004
from jitgraph.ops.gradients import *  # noqa: F401,F403
from jitgraph.ops.linalg_ops import *  # noqa: F401,F403
from jitgraph.ops.math_api import *  # noqa: F401,F403
from jitgraph.ops.math_api import abs, pow, round  # noqa: F401,A004
from jitgraph.ops.math_ops import cast, where  # noqa: F401
from jitgraph.ops.random_ops import *  # noqa: F401,F403
from jitgraph.ops.reduction_ops import *  # noqa: F401,F403
from jitgraph.ops.registry import convert_to_tensor, register_tensor_conversion_function  # noqa: F401
from jitgraph.ops.state_ops import assign, assign_add, assign_sub, is_variable_initialized  # noqa: F401
from jitgraph.runtime.session import ConfigProto, InteractiveSession, Session, get_default_session  # noqa: F401
from jitgraph.variables.api import *  # noqa: F401,F403
from jitgraph import debugging, layers, math, nn, train  # noqa: F401,E402
from jitgraph import losses, metrics  # noqa: F401,E402
from jitgraph.ops.confusion_matrix import confusion_matrix  # noqa: F401,E402
from jitgraph.ops.composite_ops import log_sigmoid, reduce_std, reduce_variance  # noqa: F401,E402
from jitgraph.debugging import add_check_numerics_ops, check_numerics  # noqa: F401,E402
from jitgraph.api_graph import *  # noqa: F401,F403,E402
from jitgraph import data  # noqa: F401,E402
from jitgraph.data.parsing import decode_csv  # noqa: F401,E402
from jitgraph import summary  # noqa: F401,E402
from jitgraph.framework.graph_def import import_graph_def  # noqa: F401,E402
from jitgraph.framework import graph_util  # noqa: F401,E402
from jitgraph.framework.tensor_proto import make_ndarray, user_tensor_proto as make_tensor_proto  # noqa: F401,E402
from jitgraph.explain import explain  # noqa: F401,E402


class _V1Namespace:
    """``tf.compat.v1`` is this module itself."""


def disable_v2_behavior():
    """Accepted for compatibility: jitgraph always behaves as TF1 graph mode."""


def disable_eager_execution():
    """Accepted for compatibility: jitgraph is always in graph mode."""


def executing_eagerly():
    return False
from jitgraph.ops.scatter_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.sort_ops import argsort, sort, unique, unique_with_counts  # noqa: F401,E402
from jitgraph.ops.segment_ops import (dynamic_partition, dynamic_stitch, segment_max, segment_mean,  # noqa: F401,E402
                                      segment_min, segment_prod, segment_sum, unsorted_segment_max,
                                      unsorted_segment_mean, unsorted_segment_min, unsorted_segment_prod,
                                      unsorted_segment_sqrt_n)
from jitgraph.ops.einsum_ops import einsum  # noqa: F401,E402
from jitgraph.ops.sequence_ops import sequence_mask  # noqa: F401,E402
from jitgraph import image  # noqa: F401,E402
from jitgraph.image import random_crop  # noqa: F401,E402
from jitgraph.ops.image_codec_ops import read_file, write_file  # noqa: F401,E402
from jitgraph import gfile  # noqa: F401,E402
from jitgraph import io  # noqa: F401,E402
from jitgraph import python_io  # noqa: F401,E402
from jitgraph.ops.parsing_ops import (FixedLenFeature, VarLenFeature, parse_example,  # noqa: F401,E402
                                      parse_single_example)
from jitgraph.sparse import (SparseTensor, SparseTensorValue, sparse, sparse_tensor_to_dense,  # noqa: F401,E402
                             sparse_to_dense)
from jitgraph.ops.logging_ops import Print, print_v2 as print  # noqa: F401,E402,A004
from jitgraph import app, flags, tf_logging as logging  # noqa: F401,E402
from jitgraph.compat import *  # noqa: F401,F403,E402
from jitgraph.ops.array_extra_ops import *  # noqa: F401,F403,E402
from jitgraph.ops.extra_math_ops import (accumulate_n, acos, acosh, asin, asinh, atan, atanh,  # noqa: F401,E402
                                        bincount, clip_by_average_norm, cosh, div_no_nan, erf, erfc,
                                        invert_permutation, is_non_decreasing, is_strictly_increasing, rint,
                                        scalar_mul, sinh, tan)
from jitgraph.ops.matrix_ops import (cross, diag, diag_part, matrix_band_part, matrix_diag,  # noqa: F401,E402
                                     matrix_diag_part, matrix_set_diag, trace)
from jitgraph.ops.math_ops import where as where_v2  # noqa: F401,E402
from jitgraph.image.color import saturate_cast  # noqa: F401,E402
from jitgraph.tf_logging import get_logger  # noqa: F401,E402
from jitgraph.control_flow import *  # noqa: F401,F403,E402
from jitgraph.control_flow import nest  # noqa: F401,E402  (tf.nest)
from jitgraph.rnn.dynamic import reverse_sequence  # noqa: F401,E402
from jitgraph.dtypes import resource, variant  # noqa: F401,E402
from jitgraph.ops.queue_ops import FIFOQueue, PaddingFIFOQueue, QueueBase, RandomShuffleQueue  # noqa: F401,E402
from jitgraph.ops.state_ops import count_up_to  # noqa: F401,E402
from jitgraph import queue  # noqa: F401,E402  (tf.queue)
from jitgraph.ops.reader_ops import (IdentityReader, ReaderBase, TextLineReader, TFRecordReader,  # noqa: F401,E402
                                     WholeFileReader)
from jitgraph import contrib  # noqa: F401,E402  (tf.contrib)
compat.install()


_PROTO_CLASSES = {"GraphDef": "graph", "NodeDef": "node_def", "AttrValue": "attr_value", "TensorProto": "tensor",
                  "MetaGraphDef": "meta_graph", "RunMetadata": "config", "RunOptions": "config"}


def __getattr__(name):
    """TensorFlow's proto classes (``tf.GraphDef`` …), from the tensorboard extra on first use."""
    if name in _PROTO_CLASSES:
        from jitgraph.framework.tf_protos import protos
        return getattr(getattr(protos(), _PROTO_CLASSES[name]), name)
    raise AttributeError(f"module 'jitgraph' has no attribute {name!r}")
