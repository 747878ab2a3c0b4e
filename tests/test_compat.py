"""``jitgraph/compat.py`` and the names added for TF1 programs: every alias is a name TF 2.21's
``tf.compat.v1`` really exports (``tests/oracle/data/compat_v1_names.json``), and the names this
work added resolve in jitgraph (values are checked in ``tests/ops/test_extra_ops.py``)."""

import json
from pathlib import Path

import numpy as np

import jitgraph as tf
from jitgraph import compat

TF_NAMES = set(json.loads((Path(__file__).resolve().parent / "oracle" / "data" / "compat_v1_names.json").read_text()))

ADDED = """tf.arg_max tf.arg_min tf.to_float tf.to_double tf.to_int32 tf.to_int64 tf.div_no_nan tf.saturate_cast
tf.scatter_update tf.scatter_nd_add tf.unique_with_counts tf.sort tf.argsort tf.einsum tf.sequence_mask tf.segment_sum
tf.dynamic_partition tf.dynamic_stitch tf.linspace tf.lin_space tf.meshgrid tf.roll tf.random_crop tf.read_file
tf.write_file tf.Print tf.print tf.py_func tf.numpy_function tf.ensure_shape tf.matching_files tf.identity_n tf.diag
tf.trace tf.matrix_band_part tf.tables_initializer tf.get_logger tf.erf tf.tan tf.acos tf.bincount
tf.confusion_matrix tf.nn.embedding_lookup tf.nn.nce_loss tf.nn.sampled_softmax_loss tf.nn.top_k tf.nn.in_top_k
tf.nn.log_uniform_candidate_sampler tf.nn.compute_accidental_hits tf.nn.xw_plus_b tf.nn.lrn tf.nn.zero_fraction
tf.math.segment_mean tf.math.unsorted_segment_max tf.math.top_k tf.math.xlogy tf.math.bincount tf.math.log_softmax
tf.linalg.einsum tf.linalg.band_part tf.linalg.trace tf.random.uniform_candidate_sampler tf.image.resize_images
tf.image.resize tf.image.decode_jpeg tf.image.encode_png tf.image.random_flip_left_right tf.image.adjust_hue
tf.image.per_image_standardization tf.image.central_crop tf.io.read_file tf.io.gfile.exists tf.gfile.Exists
tf.gfile.FastGFile tf.logging.set_verbosity tf.app.run tf.flags.DEFINE_string tf.app.flags.FLAGS
tf.train.exponential_decay tf.train.piecewise_constant tf.train.cosine_decay_restarts""".split()


def _resolves(name):
    obj = tf
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_aliases_are_tf_names():
    for name in compat.__all__:
        assert f"tf.{name}" in TF_NAMES, name


def test_added_names_exist_in_tf_and_in_jitgraph():
    for name in ADDED:
        assert name in TF_NAMES, name
        assert _resolves(name) is not None


def test_tf1_casts_and_argmax_names():
    with tf.Graph().as_default():
        x = tf.constant([[1, 5], [7, 0]])
        f = tf.to_float(x)
        assert f.dtype == tf.float32 and f.op.name == "ToFloat"
        m = tf.arg_max(x, 1)
        assert m.dtype == tf.int64
        from jitgraph.compiler import config
        prev = config.set_compile_mode("never")
        try:
            with tf.Session() as sess:
                out = sess.run([m, tf.arg_min(x, 0), tf.to_int64(f)])
        finally:
            config.set_compile_mode(prev)
    np.testing.assert_array_equal(out[0], [1, 0])
    np.testing.assert_array_equal(out[1], [0, 1])
    assert out[2].dtype == np.int64
