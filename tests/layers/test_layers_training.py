"""Small models built from ``tf.layers`` learn: a CNN with pooling, batch norm and dropout on
sklearn's digits, and the compiled path trains exactly as the NumPy reference does."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = (data.images / 16.0).astype(np.float32)[..., None]
    return x[:1200], data.target[:1200].astype(np.int64), x[1200:], data.target[1200:].astype(np.int64)


def test_cnn_with_pooling_batchnorm_dropout_learns_digits(reference):
    xs, ys, xt, yt = _digits()
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 8, 8, 1])
        y = tf.placeholder(tf.int64, [None])
        training = tf.placeholder_with_default(False, [])
        h = tf.layers.conv2d(x, 8, 3, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.batch_normalization(h, training=training, momentum=0.9)
        h = tf.layers.separable_conv2d(h, 8, 3, padding="same", activation=tf.nn.relu)
        h = tf.layers.average_pooling2d(h, 2, 2)
        h = tf.layers.dropout(tf.layers.flatten(h), 0.3, training=training)
        logits = tf.layers.dense(h, 10)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.AdamOptimizer(0.01).minimize(loss)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
        moving_mean = [v for v in tf.global_variables() if v.name.endswith("moving_mean:0")][0]
        rng = np.random.default_rng(0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run([loss, accuracy], {x: xt, y: yt})
            for _ in range(100):
                idx = rng.integers(0, len(xs), 64)
                sess.run(train, {x: xs[idx], y: ys[idx], training: True})
            after = sess.run([loss, accuracy], {x: xt, y: yt})
            mm = sess.run(moving_mean)
    assert after[0] < 0.3 * before[0]
    assert after[1] > 0.8 > 0.2 > before[1]
    assert np.all(mm != 0)                  # the moving statistics were updated through UPDATE_OPS


def _train_losses(mode):
    """Twelve gradient steps of a model mixing conv1d, separable conv1d, a transposed conv, batch
    norm with a training tensor and dense layers, in compile ``mode``."""
    prev = config.set_compile_mode(mode)
    try:
        rng = np.random.default_rng(3)
        data = rng.standard_normal((16, 10, 3)).astype(np.float32)
        target = rng.standard_normal((16, 2)).astype(np.float32)
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            x = tf.placeholder(tf.float32, [None, 10, 3])
            t = tf.placeholder(tf.float32, [None, 2])
            training = tf.placeholder(tf.bool, [])
            h = tf.layers.conv1d(x, 4, 3, padding="causal", activation=tf.nn.tanh)
            h = tf.layers.separable_conv1d(h, 4, 3, strides=2)
            h = tf.layers.batch_normalization(h, training=training, momentum=0.5)
            h = tf.layers.conv2d_transpose(tf.expand_dims(h, 2), 2, (2, 1), strides=(2, 1))
            out = tf.layers.dense(tf.layers.flatten(h), 2)
            loss = tf.reduce_mean(tf.square(t - out))
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([train, loss], {x: data, t: target, training: True})[1] for _ in range(12)]
                losses.append(sess.run(loss, {x: data, t: target, training: False}))
        return np.array(losses)
    finally:
        config.set_compile_mode(prev)


def test_compiled_training_matches_reference():
    reference, compiled = _train_losses("never"), _train_losses("eager")
    np.testing.assert_allclose(compiled, reference, rtol=1e-4, atol=1e-5)
    assert reference[11] < 0.7 * reference[0]
