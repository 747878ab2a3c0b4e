"""Conv3D, 3-D/1-D pooling, depthwise convolution, batch norm: channels-first layouts, gradients
by finite differences, and the build-time errors (TF's values are in test_nn_window_oracle.py)."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, gradient_error

RNG = np.random.default_rng(5)


def _nc(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def test_channels_first_layouts_match_channels_last():
    x3 = RNG.standard_normal((2, 4, 5, 3, 2))
    w3 = RNG.standard_normal((2, 3, 2, 2, 3))
    x2 = RNG.standard_normal((2, 6, 5, 4))
    w2 = RNG.standard_normal((3, 2, 4, 2))
    x1 = RNG.standard_normal((2, 7, 3))
    with tf.Graph().as_default():
        last = [tf.nn.conv3d(x3, w3, [1, 1, 2, 1, 1], "SAME"),
                tf.nn.max_pool3d(x3, [1, 2, 2, 2, 1], [1, 2, 2, 2, 1], "SAME"),
                tf.nn.avg_pool3d(x3, [1, 2, 3, 2, 1], [1, 1, 2, 1, 1], "VALID"),
                tf.nn.depthwise_conv2d(x2, w2, [1, 2, 1, 1], "SAME"),
                tf.nn.max_pool1d(x1, 2, 2, "VALID")]
        first = [tf.nn.conv3d(_nc(x3), w3, [1, 1, 1, 2, 1], "SAME", data_format="NCDHW"),
                 tf.nn.max_pool3d(_nc(x3), [1, 1, 2, 2, 2], [1, 1, 2, 2, 2], "SAME", data_format="NCDHW"),
                 tf.nn.avg_pool3d(_nc(x3), [1, 1, 2, 3, 2], [1, 1, 1, 2, 1], "VALID", data_format="NCDHW"),
                 tf.nn.depthwise_conv2d(_nc(x2), w2, [1, 1, 2, 1], "SAME", data_format="NCHW"),
                 tf.nn.max_pool1d(_nc(x1), 2, 2, "VALID", data_format="NCW")]
        got_last, got_first = evaluate([last, first])
    for a, b in zip(got_last, got_first):
        np.testing.assert_allclose(_nc(a), b, rtol=1e-12, atol=1e-12)


def test_conv1d_channels_first():
    x, w = RNG.standard_normal((2, 7, 3)), RNG.standard_normal((2, 3, 4))
    with tf.Graph().as_default():
        a, b = evaluate([tf.nn.conv1d(x, w, 2, "SAME"), tf.nn.conv1d(_nc(x), w, 2, "SAME", data_format="NCW")])
    np.testing.assert_allclose(_nc(a), b, rtol=1e-12)


@pytest.mark.parametrize("builder,shapes", [
    (lambda dy, w: tf.nn.depthwise_conv2d_native_backprop_input([1, 5, 4, 2], w, dy, [1, 2, 1, 1], "SAME"),
     [(1, 3, 4, 4), (3, 2, 2, 2)]),
    (lambda dy, w: tf.nn.conv3d_transpose(dy, w, [1, 4, 3, 4, 2], [1, 2, 1, 2, 1], "VALID"),
     [(1, 2, 2, 2, 3), (2, 2, 2, 2, 3)]),
    (lambda x: tf.nn.max_pool3d(x, [1, 2, 2, 2, 1], [1, 1, 2, 1, 1], "SAME"), [(1, 3, 3, 3, 2)]),
    (lambda x, s, o: tf.nn.fused_batch_norm(x, s, o)[0], [(3, 2, 2, 2), (2,), (2,)]),
])
def test_gradients_by_finite_differences(builder, shapes):
    values = [RNG.standard_normal(s) for s in shapes]
    assert gradient_error(builder, values) < 1e-6


def test_moments_keep_dims_and_shapes():
    x = RNG.standard_normal((3, 4, 5))
    with tf.Graph().as_default():
        m, v = tf.nn.moments(tf.constant(x), [0, 2], keep_dims=True)
        assert m.shape.as_list() == [1, 4, 1] and v.shape.as_list() == [1, 4, 1]
        m2, v2 = tf.nn.moments(tf.constant(x), [1])
        assert m2.shape.as_list() == [3, 5]
        got = evaluate([m, v, m2, v2])
    np.testing.assert_allclose(got[0], x.mean((0, 2), keepdims=True))
    np.testing.assert_allclose(got[1], x.var((0, 2), keepdims=True))
    np.testing.assert_allclose(got[3], x.var(1))


def test_build_time_errors_name_the_problem():
    with tf.Graph().as_default():
        x5, w5 = tf.ones([1, 4, 4, 4, 2]), tf.ones([2, 2, 2, 2, 3])
        with pytest.raises(ValueError, match="rank 5"):
            tf.nn.conv3d(tf.ones([1, 4, 4, 2]), w5, 1, "SAME")
        with pytest.raises(ValueError, match="padding"):
            tf.nn.conv3d(x5, w5, 1, "FULL")
        with pytest.raises(ValueError, match="depth"):
            tf.nn.conv3d(x5, tf.ones([2, 2, 2, 3, 3]), 1, "SAME")
        with pytest.raises(TypeError, match="float64"):
            tf.nn.conv3d(x5, tf.ones([2, 2, 2, 2, 3], tf.float64), 1, "SAME")
        with pytest.raises(ValueError, match="Negative dimension"):
            tf.nn.max_pool3d(x5, 5, 1, "VALID")
        with pytest.raises(ValueError, match="batch and depth"):
            tf.nn.avg_pool3d(x5, [2, 2, 2, 2, 1], 1, "VALID")
        with pytest.raises(ValueError, match="rate"):
            tf.nn.depthwise_conv2d(tf.ones([1, 5, 5, 2]), tf.ones([2, 2, 2, 1]), [1, 2, 2, 1], "SAME", rate=2)
        with pytest.raises(ValueError, match="pointwise_filter"):
            tf.nn.separable_conv2d(tf.ones([1, 5, 5, 2]), tf.ones([2, 2, 2, 2]), tf.ones([1, 1, 3, 4]), 1, "SAME")
        with pytest.raises(ValueError, match="4-D or 5-D"):
            tf.nn.fused_batch_norm(tf.ones([3, 2]), tf.ones([2]), tf.zeros([2]))
        with pytest.raises(ValueError, match="is_training"):
            tf.nn.fused_batch_norm(tf.ones([3, 2, 2, 2]), tf.ones([2]), tf.zeros([2]), is_training=False)
        with pytest.raises(NotImplementedError, match="dilation"):
            tf.nn.pool(tf.ones([1, 5, 5, 2]), [2, 2], "MAX", "SAME", dilation_rate=[2, 2])
        with pytest.raises(ValueError, match="pooling_type"):
            tf.nn.pool(tf.ones([1, 5, 5, 2]), [2, 2], "MIN", "SAME")


def test_dropout_noise_shape_none_takes_static_dims():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        y = tf.nn.dropout(tf.ones([300, 4]), rate=0.5, noise_shape=[None, 1])
        out = evaluate(y)
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert np.all(out == out[:, :1])                      # one decision per row
    assert 0.35 < (out[:, 0] > 0).mean() < 0.65
