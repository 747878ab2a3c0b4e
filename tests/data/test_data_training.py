"""A small model fed by a tf.data pipeline (from_tensor_slices -> map -> shuffle -> batch ->
repeat) learns, and its compiled training run takes the same steps as the reference executor's."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


def blobs(n=600, seed=0):
    """Three Gaussian blobs in 2-D; labels 0..2."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = rng.integers(0, 3, n)
    return (centers[labels] + rng.standard_normal((n, 2))).astype(np.float32), labels.astype(np.int64)


def train(mode, steps=150):
    """Softmax regression trained from a pipeline; returns (losses, accuracy on all data)."""
    prev = config.set_compile_mode(mode)
    try:
        with tf.Graph().as_default():
            x, y = blobs()
            ds = tf.data.Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a / 3.0, tf.one_hot(b, 3)))
            features, onehot = ds.shuffle(200, seed=4).batch(32).repeat().make_one_shot_iterator().get_next()
            w = tf.Variable(tf.zeros([2, 3]))
            b = tf.Variable(tf.zeros([3]))
            logits = tf.matmul(features, w) + b
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=onehot, logits=logits))
            step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
            predict = tf.argmax(tf.matmul(tf.constant(x / 3.0), w) + b, 1)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, step])[0] for _ in range(steps)]
                accuracy = float(np.mean(sess.run(predict) == y))
                info = sess.cache_info()
        return np.array(losses), accuracy, info
    finally:
        config.set_compile_mode(prev)


def test_model_fed_by_a_pipeline_learns():
    losses, accuracy, _ = train("never")
    assert losses[0] == pytest.approx(np.log(3.0), rel=1e-5)   # zero weights: uniform predictions
    assert losses[-20:].mean() < 0.25
    assert accuracy > 0.95


@pytest.mark.parametrize("mode", ["eager"])
def test_compiled_training_matches_the_reference(mode):
    ref_losses, ref_acc, _ = train("never", steps=40)
    losses, acc, info = train(mode, steps=40)
    assert info["compiled_plans"] >= 1 and not info["fallbacks"]
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4, atol=1e-6)
    assert acc == pytest.approx(ref_acc)
