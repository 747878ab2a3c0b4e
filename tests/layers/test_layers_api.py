"""The ``tf.layers.Layer`` API, scopes and reuse, argument and input errors, dropout's randomness
and ``training`` handling (the TF-recorded values are in test_layers_oracle.py)."""

import numpy as np
import pytest

import jitgraph as tf


pytestmark = pytest.mark.usefixtures("reference")


def test_layer_object_properties(g):
    layer = tf.layers.Conv2D(4, 3, name="conv")
    assert layer.name == "conv" and not layer.built
    with pytest.raises(ValueError, match="has not been used yet"):
        layer.scope_name
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()
    x = tf.placeholder(tf.float32, [None, 6, 6, 2])
    y = layer.apply(x)
    assert layer.built and layer.scope_name == "conv" and y.op.name.startswith("conv/")
    assert layer.count_params() == 3 * 3 * 2 * 4 + 4
    assert layer.variables == layer.weights == layer.trainable_weights
    assert layer.non_trainable_weights == [] and layer.kernel.name == "conv/kernel:0"
    assert layer.compute_output_shape([None, 6, 6, 2]).as_list() == [None, 4, 4, 4]


def test_non_trainable_layer_and_float64(g):
    layer = tf.layers.Dense(3, trainable=False)
    y = layer(tf.placeholder(tf.float64, [2, 5]))
    assert y.dtype == tf.float64 and layer.kernel.dtype.base_dtype == tf.float64
    assert tf.trainable_variables() == [] and layer.trainable_weights == []
    assert [v.name for v in layer.non_trainable_weights] == ["dense/kernel:0", "dense/bias:0"]


def test_names_scopes_and_reuse(g):
    x = tf.placeholder(tf.float32, [2, 3])
    tf.layers.dense(x, 4, name="fc")
    with pytest.raises(ValueError, match="already exists"):
        tf.layers.dense(x, 4, name="fc")
    with pytest.raises(ValueError, match="does not exist"):
        tf.layers.dense(x, 4, name="other", reuse=True)
    with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
        a = tf.layers.dense(x, 2, name="head")
        b = tf.layers.dense(x, 2, name="head")
    assert a.op.name.startswith("shared/head/") and b.op.name.startswith("shared/head_1/")
    pools = [tf.layers.max_pooling1d(tf.ones([1, 4, 1]), 2, 2) for _ in range(2)]
    assert [p.op.name.split("/")[0] for p in pools] == ["max_pooling1d", "max_pooling1d_1"]
    layer = tf.layers.Dense(2)
    layer(x, scope="explicit")
    assert layer.kernel.name == "explicit/kernel:0"
    names = [v.name for v in tf.global_variables()]
    assert names == ["fc/kernel:0", "fc/bias:0", "shared/head/kernel:0", "shared/head/bias:0",
                     "explicit/kernel:0", "explicit/bias:0"]


def test_string_activation_initializer_and_constraint(g):
    clip = lambda w: tf.clip_by_value(w, -0.1, 0.1)  # noqa: E731
    y = tf.layers.dense(tf.ones([2, 3]), 2, activation="relu", kernel_initializer="ones", kernel_constraint=clip)
    assert y.op.type == "Relu" and tf.trainable_variables()[0].constraint is clip
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(y), np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match="Unknown activation"):
        tf.layers.dense(tf.ones([2, 3]), 2, activation="swishy")


@pytest.mark.parametrize("make, match", [
    (lambda: tf.layers.dense(tf.ones([3]), 2), "min_ndim=2"),
    (lambda: tf.layers.dense(tf.placeholder(tf.float32, [2, None]), 2), "last dimension"),
    (lambda: tf.layers.Dense(0), "units"),
    (lambda: tf.layers.conv2d(tf.ones([2, 5, 5]), 2, 3), "min_ndim=4"),
    (lambda: tf.layers.conv2d(tf.ones([1, 5, 5, 2]), 2, 3, padding="full"), "padding"),
    (lambda: tf.layers.conv2d(tf.ones([1, 5, 5, 2]), 2, (3, 3, 3)), "kernel_size"),
    (lambda: tf.layers.conv2d(tf.ones([1, 5, 5, 2]), 2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: tf.layers.conv2d(tf.placeholder(tf.float32, [1, 5, 5, None]), 2, 3), "channel dimension"),
    (lambda: tf.layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), "output padding"),
    (lambda: tf.layers.conv3d_transpose(tf.ones([1, 2, 2, 2]), 2, 2), "ndim=5"),
    (lambda: tf.layers.max_pooling2d(tf.ones([1, 5, 5, 2]), 0, 1), "pool_size"),
    (lambda: tf.layers.average_pooling3d(tf.ones([1, 4, 4, 2]), 2, 2), "ndim=5"),
    (lambda: tf.layers.dropout(tf.ones([2]), rate=1.5), "rate"),
    (lambda: tf.layers.batch_normalization(tf.placeholder(tf.float32, [2, None])), "undefined `axis`"),
    (lambda: tf.layers.batch_normalization(tf.ones([2, 3]), axis=2), "axis"),
])
def test_bad_arguments_and_inputs_raise_value_error(g, make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_second_call_checks_the_built_input_spec(g):
    layer = tf.layers.Conv1D(2, 3)
    layer(tf.ones([1, 5, 3]))
    with pytest.raises(ValueError, match="axis -1"):
        layer(tf.ones([1, 5, 4]))
    with pytest.raises(NotImplementedError, match="renorm"):
        tf.layers.BatchNormalization(renorm=True)


def test_dropout_training_bool_and_tensor(g):
    tf.set_random_seed(4)
    x = tf.ones([400, 50])
    train = tf.layers.dropout(x, 0.25, training=True)
    shared = tf.layers.dropout(x, 0.5, noise_shape=[None, 1], training=True)
    flag = tf.placeholder(tf.bool, [])
    switched = tf.layers.dropout(x, 0.25, training=flag)
    off = tf.layers.dropout(x, 0.25)
    with tf.Session() as sess:
        a, s, off_v = sess.run([train, shared, off])
        on, no = sess.run(switched, {flag: True}), sess.run(switched, {flag: False})
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)} and 0.22 < (a == 0).mean() < 0.28
    assert np.all(s == s[:, :1]) and 0.4 < (s[:, 0] == 0).mean() < 0.6
    assert 0.22 < (on == 0).mean() < 0.28
    np.testing.assert_array_equal(no, np.ones((400, 50)))
    np.testing.assert_array_equal(off_v, np.ones((400, 50)))


def test_batch_norm_tensor_training_updates_only_when_true(g):
    x = tf.placeholder(tf.float32, [4, 2])
    flag = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, training=flag, momentum=0.5)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    mean = tf.global_variables()[2]
    data = np.arange(8, dtype=np.float32).reshape(4, 2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        infer = sess.run([y] + updates, {x: data, flag: False})[0]
        np.testing.assert_array_equal(sess.run(mean), [0, 0])
        np.testing.assert_allclose(infer, data / np.sqrt(1 + 1e-3), rtol=1e-6)
        sess.run(updates, {x: data, flag: True})
        np.testing.assert_allclose(sess.run(mean), data.mean(0) / 2)


def test_regularization_losses_are_on_the_layer(g):
    layer = tf.layers.Dense(2, kernel_regularizer=lambda w: tf.reduce_sum(w), activity_regularizer=tf.reduce_sum)
    layer(tf.ones([3, 4]))
    layer(tf.ones([3, 4]))
    # one weight loss (made once, when the kernel is created) and one activity loss per call
    assert len(layer.losses) == 3 == len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))


@pytest.mark.parametrize("rank, make", [
    (4, lambda df: tf.layers.Conv2D(3, (3, 2), strides=2, padding="same", data_format=df)),
    (3, lambda df: tf.layers.Conv1D(2, 3, dilation_rate=2, data_format=df)),
    (5, lambda df: tf.layers.Conv3D(2, 2, data_format=df)),
    (4, lambda df: tf.layers.Conv2DTranspose(2, 3, strides=2, padding="same", data_format=df)),
    (4, lambda df: tf.layers.SeparableConv2D(2, 3, depth_multiplier=2, data_format=df)),
    (4, lambda df: tf.layers.MaxPooling2D(2, 1, padding="same", data_format=df)),
    (5, lambda df: tf.layers.AveragePooling3D(2, 2, data_format=df)),
    (4, lambda df: tf.layers.Flatten(data_format=df)),
])
def test_channels_first_equals_channels_last(g, rank, make):
    """TF's CPU kernels have no channels-first convolutions to record; check the layout against
    channels-last with the same weights instead."""
    x = np.random.default_rng(0).standard_normal((2,) + (5,) * (rank - 2) + (3,)).astype(np.float32)
    last_layer, first_layer = make("channels_last"), make("channels_first")
    last = last_layer(tf.constant(x))
    first = first_layer(tf.constant(np.moveaxis(x, -1, 1)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for a, b in zip(last_layer.weights, first_layer.weights):
            b.load(sess.run(a), sess)
        want, got = sess.run([last, first])
    if isinstance(last_layer, tf.layers.Flatten):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    else:
        np.testing.assert_allclose(got, np.moveaxis(want, -1, 1), rtol=1e-5, atol=1e-6)
        assert first.shape.as_list() == list(np.moveaxis(want, -1, 1).shape)


def test_batch_norm_channels_axis_1_equals_last_axis(g):
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    last = tf.layers.batch_normalization(tf.constant(np.moveaxis(x, 1, -1)), training=True)
    first = tf.layers.batch_normalization(tf.constant(x), axis=1, training=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([last, first])
    np.testing.assert_allclose(np.moveaxis(a, -1, 1), b, rtol=1e-5, atol=1e-6)


def test_dtype_comes_from_the_first_input(g):
    with pytest.raises(TypeError, match="non-floating point dtype int32"):
        tf.layers.dense(tf.ones([2, 3], tf.int32), 2)
    pooled = tf.layers.max_pooling1d(tf.ones([1, 4, 2], tf.int32), 2, 2)
    assert pooled.dtype == tf.int32
    with pytest.raises(NotImplementedError, match="weights"):
        tf.layers.Dense(2, weights=[np.ones((3, 2))])
    with pytest.raises(TypeError, match="not understood"):
        tf.layers.Dense(2, kernel_init="ones")
