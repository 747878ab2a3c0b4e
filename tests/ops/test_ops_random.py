"""Random ops (``jitgraph/ops/random_ops.py``): distributions, seeding rules (same seeds → same
values across sessions and rebuilt graphs; each run draws anew), names, dtypes, errors."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, reference_executor


def _draws(build, runs=2, seed=7):
    """Values of ``build()`` over ``runs`` runs in a new graph with graph seed ``seed``."""
    with tf.Graph().as_default():
        if seed is not None:
            tf.set_random_seed(seed)
        t = build()
        with reference_executor(), tf.Session() as sess:
            return [sess.run(t) for _ in range(runs)]


def test_distributions():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        r = {"normal": tf.random_normal([20000], 2.0, 3.0), "trunc": tf.truncated_normal([20000], 1.0, 2.0),
             "uniform": tf.random_uniform([20000], -1.0, 3.0), "int": tf.random_uniform([20000], 2, 6, dtype=tf.int64),
             "unit": tf.random_uniform([1000])}
        out = evaluate(r)
    assert abs(out["normal"].mean() - 2) < 0.1 and abs(out["normal"].std() - 3) < 0.1
    assert np.abs(out["trunc"] - 1).max() <= 4 and abs(out["trunc"].std() - 0.8796 * 2) < 0.05
    assert out["uniform"].min() >= -1 and out["uniform"].max() < 3 and abs(out["uniform"].mean() - 1) < 0.05
    assert out["int"].dtype == np.int64 and set(np.unique(out["int"])) == {2, 3, 4, 5}
    assert 0 <= out["unit"].min() and out["unit"].max() < 1
    assert all(out[k].dtype == np.float32 for k in ("normal", "trunc", "uniform"))


@pytest.mark.parametrize("build", [lambda: tf.random_normal([5]), lambda: tf.truncated_normal([5], seed=3),
                                   lambda: tf.random_uniform([5], 0, 10, dtype=tf.int32),
                                   lambda: tf.random_shuffle(tf.range(10)),
                                   lambda: tf.multinomial([[0.0, 0.0, 0.0]], 8)],
                         ids=["normal", "truncated", "uniform_int", "shuffle", "multinomial"])
def test_same_seeds_same_values_across_sessions_new_values_per_run(build):
    first, second = _draws(build), _draws(build)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])


def test_op_seed_alone_is_reproducible_and_unseeded_ops_differ():
    a = _draws(lambda: tf.random_normal([8], seed=5), runs=1, seed=None)[0]
    b = _draws(lambda: tf.random_normal([8], seed=5), runs=1, seed=None)[0]
    c = _draws(lambda: tf.random_normal([8]), runs=1, seed=None)[0]
    d = _draws(lambda: tf.random_normal([8]), runs=1, seed=None)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(c, d)
    with tf.Graph().as_default():   # two ops with the same (graph seed, op seed) draw the same values
        tf.set_random_seed(3)
        x, y = tf.random_uniform([6], seed=9), tf.random_uniform([6], seed=9)
        out = evaluate([x, y])
    np.testing.assert_array_equal(out[0], out[1])


def test_names_shapes_dtypes_like_tf():
    with tf.Graph().as_default():
        n = tf.random_normal([2, 3])
        u = tf.random_uniform(tf.constant([4]), dtype=tf.float64)
        i = tf.random_uniform([2], 0, 5, dtype=tf.int32)
        h = tf.truncated_normal((), dtype=tf.float16)
        m = tf.random.categorical(tf.zeros([3, 4]), 5)
        s = tf.random_shuffle(tf.zeros([4, 2]))
        assert (n.name, u.name, i.name, h.name, m.name, s.name) == (
            "random_normal:0", "random_uniform:0", "random_uniform_1:0", "truncated_normal:0", "categorical:0",
            "RandomShuffle:0")
        assert n.op.type == "Add" and i.op.type == "RandomUniformInt" and m.dtype == tf.int64
        assert (n.shape.as_list(), u.shape.as_list(), h.shape.as_list(), m.shape.as_list()) == ([2, 3], [4], [], [3, 5])
        out = evaluate([u, h, m, s])
    assert out[0].dtype == np.float64 and out[1].dtype == np.float16 and out[1].shape == ()
    assert out[2].shape == (3, 5) and out[2].max() < 4 and out[3].shape == (4, 2)


def test_shuffle_and_multinomial_values():
    with tf.Graph().as_default():
        sh = tf.random_shuffle(tf.reshape(tf.range(12), [6, 2]), seed=1)
        mn = tf.multinomial(tf.log([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]), 400, seed=2)
        out = evaluate([sh, mn])
    assert sorted(out[0][:, 0].tolist()) == list(range(0, 12, 2)) and (out[0][:, 1] == out[0][:, 0] + 1).all()
    assert (out[1][0] == 1).all() and set(np.unique(out[1][1])) == {0, 2}


def test_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Must specify maxval"):
            tf.random_uniform([2], 0, None, dtype=tf.int32)
        with pytest.raises(TypeError, match="dtype"):
            tf.random_normal([2], dtype=tf.int32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="minval < maxval"):
            evaluate(tf.random_uniform([2], 5, 5, dtype=tf.int32))
