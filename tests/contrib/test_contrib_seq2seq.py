"""``tf.contrib.seq2seq.sequence_loss`` against a NumPy formula of TF 1.15's reductions (TF 2.21
has no sequence_loss to record from), and its argument errors."""

import itertools

import numpy as np
import pytest

import jitgraph as tf

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((3, 4, 5)).astype(np.float32)
TARGETS = RNG.integers(0, 5, (3, 4)).astype(np.int32)
WEIGHTS = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0.5, 2, 1, 1]], np.float32)


def _crossent(logits, targets):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -np.take_along_axis(logp, targets[..., None], -1)[..., 0]


def _div_no_nan(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def _expected(avg_t, avg_b, sum_t, sum_b, weights=WEIGHTS):
    """TF 1.15's rules: average_* divides by the summed weights, sum_over_* by the count of
    non-zero weights, both over both axes at once when both axes are reduced the same way."""
    ce = _crossent(LOGITS, TARGETS) * weights
    if avg_t and avg_b:
        return _div_no_nan(ce.sum(), weights.sum())
    if sum_t and sum_b:
        return _div_no_nan(ce.sum(), np.count_nonzero(weights))
    if avg_t or avg_b:
        axis = 0 if avg_b else 1
        return _div_no_nan(ce.sum(axis), weights.sum(axis))
    if sum_t or sum_b:
        axis = 0 if sum_b else 1
        return _div_no_nan(ce.sum(axis), np.count_nonzero(weights, axis))
    return ce


FLAGS = [f for f in itertools.product([False, True], repeat=4) if not (f[0] and f[2]) and not (f[1] and f[3])]


@pytest.mark.parametrize("avg_t,avg_b,sum_t,sum_b", FLAGS)
def test_reductions_match_tf_formula(avg_t, avg_b, sum_t, sum_b, reference):
    with tf.Graph().as_default():
        loss = tf.contrib.seq2seq.sequence_loss(tf.constant(LOGITS), tf.constant(TARGETS), tf.constant(WEIGHTS),
                                                average_across_timesteps=avg_t, average_across_batch=avg_b,
                                                sum_over_timesteps=sum_t, sum_over_batch=sum_b)
        want = _expected(avg_t, avg_b, sum_t, sum_b)
        assert loss.shape.ndims == np.ndim(want)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(loss), want, rtol=1e-5, atol=1e-6)


def test_default_is_mean_per_symbol_with_placeholders_compiled(eager):
    with tf.Graph().as_default():
        logits = tf.placeholder(tf.float32, [None, None, 5])
        targets = tf.placeholder(tf.int32, [None, None])
        weights = tf.placeholder(tf.float32, [None, None])
        loss = tf.contrib.seq2seq.sequence_loss(logits, targets, weights, name="seq_loss")
        assert loss.op.name.startswith("seq_loss/")
        grad = tf.gradients(loss, logits)[0]
        with tf.Session() as sess:
            value, g = sess.run([loss, grad], {logits: LOGITS, targets: TARGETS, weights: WEIGHTS})
    np.testing.assert_allclose(value, _expected(True, True, False, False), rtol=1e-5)
    z = np.exp(LOGITS - LOGITS.max(-1, keepdims=True))
    soft = z / z.sum(-1, keepdims=True)
    want_g = (soft - np.eye(5)[TARGETS]) * (WEIGHTS / WEIGHTS.sum())[..., None]
    np.testing.assert_allclose(g, want_g, rtol=1e-4, atol=1e-6)


def test_all_zero_weights_give_zero(reference):
    with tf.Graph().as_default(), tf.Session() as sess:
        zeros = np.zeros((3, 4), np.float32)
        loss = tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, zeros, average_across_batch=False)
        np.testing.assert_array_equal(sess.run(loss), np.zeros(3, np.float32))   # per example


def test_softmax_loss_function_replaces_the_cross_entropy(reference):
    seen = {}

    def loss_fn(labels, logits):
        seen["shapes"] = (labels.shape.as_list(), logits.shape.as_list())
        return tf.reduce_sum(logits, axis=1) * 0.0 + tf.cast(labels, tf.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        loss = tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, softmax_loss_function=loss_fn,
                                                average_across_timesteps=False, average_across_batch=False)
        np.testing.assert_allclose(sess.run(loss), TARGETS * WEIGHTS)
    assert seen["shapes"] == ([12], [12, 5])


@pytest.mark.parametrize("logits,targets,weights,argument", [
    (np.zeros((3, 4), np.float32), TARGETS, WEIGHTS, "logits"),
    (LOGITS, TARGETS.reshape(-1), WEIGHTS, "targets"),
    (LOGITS, TARGETS, WEIGHTS[..., None], "weights"),
])
def test_wrong_ranks_name_the_argument(logits, targets, weights, argument):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=rf"must be a \[batch_size x sequence_length.*`{argument}` has rank"):
            tf.contrib.seq2seq.sequence_loss(logits, targets, weights)


def test_unknown_rank_is_an_error():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="`logits` has unknown rank"):
            tf.contrib.seq2seq.sequence_loss(tf.placeholder(tf.float32), TARGETS, WEIGHTS)


@pytest.mark.parametrize("kwargs,match", [
    (dict(sum_over_timesteps=True), "average_across_timesteps and sum_over_timesteps"),
    (dict(average_across_timesteps=False, sum_over_batch=True), "average_across_batch and sum_over_batch"),
])
def test_average_and_sum_of_one_axis_exclude_each_other(kwargs, match):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=match):
            tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, **kwargs)
