"""``jitgraph/ops/candidate_sampling_ops.py`` and ``sampled_loss_ops.py``: the samplers'
probabilities and expected counts against TF 2.21's, their draws against their distributions,
nce_loss and sampled_softmax_loss (given sampled values) with gradients against TF, and a small
word-embedding model that learns with each loss."""

from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.ops.candidate_sampling_ops import _expected, _log_uniform, _uniform, _unigram
from op_library_checks import evaluate

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "ops.npz")
LABELS2 = TF["nce_true2_hits0/labels"]


@pytest.mark.parametrize("loss", ["nce", "sampled_softmax"])
@pytest.mark.parametrize("num_true", [1, 2])
@pytest.mark.parametrize("hits", [0, 1])
def test_sampled_losses_match_tf_given_sampled_values(loss, num_true, hits):
    key = f"{loss}_true{num_true}_hits{hits}"
    with tf.Graph().as_default():
        w, b, x = (tf.constant(TF[f"sampled/{k}"]) for k in ("weights", "biases", "inputs"))
        fn = tf.nn.nce_loss if loss == "nce" else tf.nn.sampled_softmax_loss
        sampled = (TF["sampled/sampled"], TF[f"{key}/true_expected"], TF[f"{key}/sampled_expected"])
        y = fn(w, b, TF[f"{key}/labels"], x, num_sampled=4, num_classes=12, num_true=num_true,
               sampled_values=sampled, remove_accidental_hits=bool(hits))
        assert y.shape.as_list() == [5] and y.dtype == tf.float32
        out = evaluate([y] + tf.gradients(y, [w, b, x], grad_ys=tf.constant(TF[f"{key}/w"])))
    for got, what in zip(out, ("value", "grad_weights", "grad_biases", "grad_inputs")):
        np.testing.assert_allclose(got, TF[f"{key}/{what}"], rtol=2e-5, atol=2e-6, err_msg=what)


def test_compute_accidental_hits_matches_tf():
    with tf.Graph().as_default():
        out = evaluate(list(tf.nn.compute_accidental_hits(LABELS2, TF["sampled/sampled"], num_true=2)))
    for got, key in zip(out, ("indices", "ids", "weights")):
        np.testing.assert_array_equal(got, TF[f"accidental_hits/{key}"])


@pytest.mark.parametrize("key, prob, unique", [
    ("log_uniform", _log_uniform(20)[0], False), ("uniform", _uniform(20)[0], False),
    ("unigram", _unigram(np.arange(1, 13) ** 0.75)[0], False), ("log_uniform_unique", _log_uniform(20)[0], True),
    ("unigram_unique", _unigram([0, 0] + list(range(1, 13)))[0], True)])
def test_sampler_probabilities_and_expected_counts_match_tf(key, prob, unique):
    """TF's draws differ from ours, but its expected counts follow from the class probabilities
    and (with ``unique``) the number of tries, which we recover from one of them."""
    sampled, true_e, sampled_e = (TF[f"sampler_{key}/{k}"] for k in ("sampled", "true_expected", "sampled_expected"))
    tries = 6
    if unique:
        p0 = prob(sampled[:1])[0]
        tries = int(round(np.log1p(-sampled_e[0]) / np.log1p(-p0)))
        assert len(set(sampled.tolist())) == 6
    np.testing.assert_allclose(_expected(prob(sampled), 6, tries), sampled_e, rtol=1e-5)
    np.testing.assert_allclose(_expected(prob(LABELS2), 6, tries), true_e, rtol=1e-5)


def test_sampler_outputs_shapes_seeds_and_true_expected_counts():
    with tf.Graph().as_default():
        true = tf.constant(LABELS2)
        s = tf.nn.log_uniform_candidate_sampler(true, 2, 6, False, 20, seed=3)
        assert [t.shape.as_list() for t in s] == [[6], [5, 2], [6]]
        assert [t.dtype for t in s] == [tf.int64, tf.float32, tf.float32]
        with tf.Session() as sess:
            first, second = sess.run(list(s)), sess.run(list(s))
        with tf.Session() as sess:
            again = sess.run(list(s))
    np.testing.assert_allclose(first[1], TF["sampler_log_uniform/true_expected"], rtol=1e-6)
    np.testing.assert_array_equal(first[0], again[0])          # same seed, same stream in a new session
    assert not np.array_equal(first[0], second[0])            # a new draw on every run


@pytest.mark.parametrize("make, prob", [
    (lambda t: tf.nn.log_uniform_candidate_sampler(t, 1, 20000, False, 10, seed=1), _log_uniform(10)[0]),
    (lambda t: tf.nn.uniform_candidate_sampler(t, 1, 20000, False, 10, seed=1), _uniform(10)[0]),
    (lambda t: tf.nn.fixed_unigram_candidate_sampler(t, 1, 20000, False, 10, num_reserved_ids=1,
                                                        unigrams=[5, 1, 1, 2, 3, 1, 1, 4, 9], distortion=0.5,
                                                        seed=1),
     _unigram(np.array([0, 5, 1, 1, 2, 3, 1, 1, 4, 9]) ** 0.5)[0])])
def test_sampler_draws_follow_their_distribution(make, prob):
    with tf.Graph().as_default():
        draws = evaluate(make(tf.constant([[0]], tf.int64)).sampled_candidates)
    freq = np.bincount(draws, minlength=10) / draws.size
    p = prob(np.arange(10))
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / draws.size) + 1e-9)


def test_unique_sampler_draws_distinct_classes_and_rejects_a_small_range():
    with tf.Graph().as_default():
        s = tf.nn.log_uniform_candidate_sampler(tf.constant([[1]], tf.int64), 1, 9, True, 10, seed=2)
        draws = evaluate(s.sampled_candidates)
        assert sorted(set(draws.tolist())) == sorted(draws.tolist()) and draws.max() < 10
        with pytest.raises(ValueError, match="smaller than num_sampled"):
            tf.nn.uniform_candidate_sampler(tf.constant([[1]], tf.int64), 1, 11, True, 10)


@pytest.mark.parametrize("loss", [tf.nn.nce_loss, tf.nn.sampled_softmax_loss])
def test_a_word_embedding_model_learns_with_the_sampled_loss(loss):
    """Predict ``(7 * word) % 60`` from ``word``; the full softmax then gets it right."""
    vocab, dim = 60, 16
    words = np.arange(vocab)
    targets = (7 * words) % vocab
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        emb = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0))
        w = tf.Variable(tf.truncated_normal([vocab, dim], stddev=dim ** -0.5))
        b = tf.Variable(tf.zeros([vocab]))
        x = tf.placeholder(tf.int32, [None])
        y = tf.placeholder(tf.int64, [None, 1])
        cost = tf.reduce_mean(loss(w, b, y, tf.nn.embedding_lookup(emb, x), num_sampled=8, num_classes=vocab))
        step = tf.train.AdamOptimizer(0.05).minimize(cost)
        logits = tf.matmul(tf.nn.embedding_lookup(emb, x), w, transpose_b=True) + b
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y[:, 0]), tf.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(acc, {x: words, y: targets[:, None]})
            for _ in range(150):
                sess.run(step, {x: words, y: targets[:, None]})
            after = sess.run(acc, {x: words, y: targets[:, None]})
    assert before < 0.2 and after > 0.9
