"""Programs written with ``tf.contrib`` learn: a ``fully_connected`` MLP with contrib batch norm,
dropout and an l2 regularizer on sklearn's digits; a ``static_rnn`` over ``BasicLSTMCell`` trained
with ``sequence_loss``; and the compiled path trains exactly as the NumPy reference does."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    data = datasets.load_digits()
    x = (data.data / 16.0).astype(np.float32)
    return x[:1200], data.target[:1200].astype(np.int64), x[1200:], data.target[1200:].astype(np.int64)


def _mlp(x, training):
    L = tf.contrib.layers
    h = L.fully_connected(x, 32, normalizer_fn=L.batch_norm, normalizer_params={"is_training": training},
                          weights_regularizer=L.l2_regularizer(1e-4))
    h = L.dropout(h, keep_prob=0.8, is_training=training)
    return L.fully_connected(h, 10, activation_fn=None, weights_regularizer=L.l2_regularizer(1e-4))


def test_fully_connected_mlp_with_batch_norm_learns_digits(reference):
    xs, ys, xt, yt = _digits()
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 64])
        y = tf.placeholder(tf.int64, [None])
        training = tf.placeholder_with_default(False, [])
        logits = _mlp(x, training)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        total = loss + tf.add_n(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            train = tf.train.AdamOptimizer(0.01).minimize(total)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
        moving_mean = tf.get_collection(tf.GraphKeys.MODEL_VARIABLES, "fully_connected/BatchNorm/moving_mean")[0]
        rng = np.random.default_rng(0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run([loss, accuracy], {x: xt, y: yt})
            for _ in range(150):
                idx = rng.integers(0, len(xs), 64)
                sess.run(train, {x: xs[idx], y: ys[idx], training: True})
            after = sess.run([loss, accuracy], {x: xt, y: yt})
            mm = sess.run(moving_mean)
    assert after[0] < 0.3 * before[0]
    assert after[1] > 0.85 > 0.3 > before[1]
    assert np.all(mm != 0)          # evaluation used moving statistics that UPDATE_OPS moved


VOCAB, STEPS = 6, 7


def _counting_batch(rng, n):
    """Sequences counting up mod VOCAB from a random start; the target is the next number, and the
    shorter ones are padded (weight 0 past their length)."""
    start = rng.integers(0, VOCAB, (n, 1))
    seq = (start + np.arange(STEPS + 1)) % VOCAB
    lengths = rng.integers(3, STEPS + 1, n)
    weights = (np.arange(STEPS) < lengths[:, None]).astype(np.float32)
    return seq[:, :-1].astype(np.int32), seq[:, 1:].astype(np.int32), weights


def test_static_lstm_with_sequence_loss_learns_to_count(reference):
    rng = np.random.default_rng(1)
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        tokens = tf.placeholder(tf.int32, [None, STEPS])
        targets = tf.placeholder(tf.int32, [None, STEPS])
        weights = tf.placeholder(tf.float32, [None, STEPS])
        inputs = tf.unstack(tf.contrib.layers.one_hot_encoding(tokens, VOCAB), axis=1)
        outputs, _ = tf.contrib.rnn.static_rnn(tf.contrib.rnn.BasicLSTMCell(16), inputs, dtype=tf.float32)
        logits = tf.contrib.layers.fully_connected(tf.stack(outputs, 1), VOCAB, activation_fn=None)
        loss = tf.contrib.seq2seq.sequence_loss(logits, targets, weights)
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        correct = tf.cast(tf.equal(tf.argmax(logits, 2, output_type=tf.int32), targets), tf.float32)
        accuracy = tf.reduce_sum(correct * weights) / tf.reduce_sum(weights)
        test = dict(zip((tokens, targets, weights), _counting_batch(rng, 64)))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(loss, test)
            for _ in range(60):
                sess.run(train, dict(zip((tokens, targets, weights), _counting_batch(rng, 32))))
            after, acc = sess.run([loss, accuracy], test)
    assert after < 0.2 * before
    assert acc > 0.95


def _train_losses(mode):
    """Ten steps of a contrib CNN (conv2d, the layer-path batch norm with a training tensor,
    max_pool2d, flatten, fully_connected) and a static GRU branch, in compile ``mode``."""
    prev, strict = config.set_compile_mode(mode), config.set_strict(mode == "eager")
    try:
        rng = np.random.default_rng(3)
        images = rng.standard_normal((8, 6, 6, 2)).astype(np.float32)
        target = rng.integers(0, 3, 8).astype(np.int64)
        with tf.Graph().as_default():
            tf.set_random_seed(2)
            x = tf.placeholder(tf.float32, [None, 6, 6, 2])
            y = tf.placeholder(tf.int64, [None])
            training = tf.placeholder(tf.bool, [])
            L = tf.contrib.layers
            h = L.conv2d(x, 4, 3, normalizer_fn=L.batch_norm, normalizer_params={"is_training": training,
                                                                                   "decay": 0.5})
            h = L.flatten(L.max_pool2d(h, 2))
            rows, _ = tf.contrib.rnn.static_rnn(tf.contrib.rnn.GRUCell(3), tf.unstack(x[:, :, :, 0], axis=1),
                                                dtype=tf.float32)
            logits = L.fully_connected(tf.concat([h, rows[-1]], 1), 3, activation_fn=None)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([train, loss], {x: images, y: target, training: True})[1] for _ in range(10)]
                losses.append(sess.run(loss, {x: images, y: target, training: False}))
        return np.array(losses)
    finally:
        config.set_compile_mode(prev)
        config.set_strict(strict)


def test_compiled_training_matches_reference():
    reference, compiled = _train_losses("never"), _train_losses("eager")
    np.testing.assert_allclose(compiled, reference, rtol=1e-4, atol=1e-5)
    assert reference[9] < 0.7 * reference[0]
