"""``tf.layers.dense`` / ``tf.layers.conv2d``: variable names, reuse, values, shapes."""

import numpy as np
import pytest

import jitgraph as tf


def test_dense_variables_names_values_and_unique_defaults():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.layers.dense(x, 4, activation=tf.nn.relu)
        y2 = tf.layers.dense(y, 2, use_bias=False)
        names = [v.name for v in tf.trainable_variables()]
        assert names == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0"]
        assert y.shape.as_list() == [None, 4] and y2.shape.as_list() == [None, 2]
        assert y.op.type == "Relu" and y.op.name.startswith("dense/")
        kernel, bias = tf.trainable_variables()[:2]
        assert kernel.shape.as_list() == [3, 4]
        xv = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k, b, out = sess.run([kernel, bias, y], {x: xv})
        np.testing.assert_array_equal(b, np.zeros(4))
        limit = np.sqrt(6 / (3 + 4))               # Glorot uniform
        assert np.all(np.abs(k) <= limit) and np.std(k) > 0
        np.testing.assert_allclose(out, np.maximum(xv @ k + b, 0), rtol=1e-5, atol=1e-6)


def test_dense_reuse_shares_variables():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3])
        a = tf.layers.dense(x, 4, name="fc", kernel_initializer=tf.ones_initializer())
        b = tf.layers.dense(x, 4, name="fc", reuse=True)
        assert len(tf.trainable_variables()) == 2
        with pytest.raises(ValueError):
            tf.layers.dense(x, 4, name="fc")          # exists, no reuse
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            va, vb = sess.run([a, b], {x: np.ones((2, 3))})
        np.testing.assert_array_equal(va, vb)
        np.testing.assert_allclose(va, np.full((2, 4), 3.0))


def test_dense_errors_and_trainable_flag():
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.layers.dense(tf.placeholder(tf.float32, [3]), 2)
        with pytest.raises(ValueError):
            tf.layers.dense(tf.placeholder(tf.float32, [2, None]), 2)
        tf.layers.dense(tf.placeholder(tf.float32, [2, 3]), 2, trainable=False)
        assert tf.trainable_variables() == [] and len(tf.global_variables()) == 2


def test_conv2d_layer():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 8, 8, 3])
        y = tf.layers.conv2d(x, 5, 3, padding="same", activation=tf.nn.relu)
        z = tf.layers.conv2d(y, 4, (3, 2), strides=(2, 2))
        assert [v.name for v in tf.trainable_variables()] == [
            "conv2d/kernel:0", "conv2d/bias:0", "conv2d_1/kernel:0", "conv2d_1/bias:0"]
        assert tf.trainable_variables()[2].shape.as_list() == [3, 2, 5, 4]
        assert y.shape.as_list() == [2, 8, 8, 5] and z.shape.as_list() == [2, 3, 4, 4]
        kernel = tf.trainable_variables()[0]
        xv = np.random.default_rng(1).standard_normal((2, 8, 8, 3)).astype(np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            k, out = sess.run([kernel, y], {x: xv})
        ref = tf.Graph()
        with ref.as_default():
            want = tf.nn.relu(tf.nn.conv2d(tf.constant(xv), tf.constant(k), 1, "SAME"))
            with tf.Session() as sess:
                np.testing.assert_allclose(out, sess.run(want), rtol=1e-5, atol=1e-6)
        with pytest.raises(ValueError):
            tf.layers.conv2d(x, 2, 3, padding="full")
