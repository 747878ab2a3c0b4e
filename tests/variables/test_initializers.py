"""tf1-semantics.md, "Initializers" (random streams need not match TF, only the distributions)."""

import numpy as np
import pytest

import jitgraph as tf



@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def value(init, shape, dtype=tf.float32):
    v = tf.get_variable("v", shape, dtype=dtype, initializer=init)
    with tf.Session() as sess:
        sess.run(v.initializer)
        return sess.run(v)


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64, tf.float64, tf.bool])
def test_zeros_ones_constant_honor_dtype(dtype):
    z = value(tf.zeros_initializer(), [3], dtype)
    with tf.Graph().as_default():
        o = value(tf.ones_initializer(), [3], dtype)
    with tf.Graph().as_default():
        c = value(tf.constant_initializer(True if dtype == tf.bool else 1), [3], dtype)
    assert z.dtype == dtype.as_numpy_dtype and o.dtype == dtype.as_numpy_dtype and c.dtype == dtype.as_numpy_dtype
    assert list(z) == [0, 0, 0] and list(o) == [1, 1, 1] and list(c) == [1, 1, 1]
    if dtype == tf.bool:
        assert o[0] is np.True_


def test_constant_initializer_reshapes_row_major():
    np.testing.assert_array_equal(value(tf.constant_initializer([1, 2, 3, 4]), [2, 2]), [[1, 2], [3, 4]])


def test_constant_initializer_rejects_bad_value_type():
    with pytest.raises(TypeError):
        tf.constant_initializer({})


def test_initializer_callable_directly():
    t = tf.zeros_initializer()([2, 3])
    u = tf.ones_initializer()([2], dtype=tf.int64)
    g = tf.glorot_uniform_initializer()([4, 4])
    assert isinstance(t, tf.Tensor) and t.shape.as_list() == [2, 3] and t.dtype == tf.float32
    assert u.dtype == tf.int64 and g.shape.as_list() == [4, 4] and g.dtype == tf.float32
    with tf.Session() as sess:
        assert sess.run(t).shape == (2, 3) and list(sess.run(u)) == [1, 1]


def test_random_normal():
    x = value(tf.random_normal_initializer(mean=3.0, stddev=2.0, seed=1), [20000])
    assert x.mean() == pytest.approx(3.0, abs=0.1) and x.std() == pytest.approx(2.0, rel=0.05)
    assert np.abs(x - 3).max() > 4.5      # not truncated


def test_truncated_normal():
    x = value(tf.truncated_normal_initializer(mean=1.0, stddev=2.0, seed=1), [20000])
    assert np.all(np.abs(x - 1.0) <= 4.0)
    assert x.std() == pytest.approx(0.8796 * 2.0, rel=0.05)


def test_random_uniform_floats_and_ints():
    x = value(tf.random_uniform_initializer(seed=1), [10000])
    assert x.min() >= 0 and x.max() < 1 and x.max() > 0.99
    with tf.Graph().as_default():
        y = value(tf.random_uniform_initializer(-2, 3, seed=1), [10000])
    assert y.min() >= -2 and y.max() < 3 and y.min() < -1.99
    with tf.Graph().as_default():
        i = value(tf.random_uniform_initializer(0, 5, seed=1), [2000], tf.int32)
    assert i.dtype == np.int32 and set(i.tolist()) == {0, 1, 2, 3, 4}


def test_glorot_uniform_limit():
    x = value(tf.glorot_uniform_initializer(seed=2), [100, 300])
    limit = np.sqrt(6 / 400)
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit


def test_glorot_normal_std_and_bound():
    x = value(tf.glorot_normal_initializer(seed=2), [100, 300])
    std = np.sqrt(2 / 400)
    assert x.std() == pytest.approx(std, rel=0.05)
    assert np.abs(x).max() <= 2 * std / 0.87962566 + 1e-6


@pytest.mark.parametrize("mode,n", [("fan_in", 3 * 3 * 16), ("fan_out", 3 * 3 * 32), ("fan_avg", 3 * 3 * 24)])
def test_variance_scaling_modes(mode, n):
    shape = [3, 3, 16, 32]
    tn = value(tf.variance_scaling_initializer(2.0, mode, seed=3), shape)
    assert tn.std() == pytest.approx(np.sqrt(2.0 / n), rel=0.07)
    assert np.abs(tn).max() <= 2 * np.sqrt(2.0 / n) / 0.87962566 + 1e-6
    with tf.Graph().as_default():
        un = value(tf.variance_scaling_initializer(2.0, mode, "untruncated_normal", seed=3), shape)
    assert un.std() == pytest.approx(np.sqrt(2.0 / n), rel=0.07)
    with tf.Graph().as_default():
        uf = value(tf.variance_scaling_initializer(2.0, mode, "uniform", seed=3), shape)
    assert np.abs(uf).max() <= np.sqrt(3 * 2.0 / n) and np.abs(uf).max() > 0.97 * np.sqrt(3 * 2.0 / n)


def test_variance_scaling_defaults_and_errors():
    init = tf.variance_scaling_initializer()
    assert (init.scale, init.mode, init.distribution) == (1.0, "fan_in", "truncated_normal")
    with pytest.raises(ValueError):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError):
        tf.variance_scaling_initializer(scale=-1.0)


def test_orthogonal_and_identity():
    q = value(tf.orthogonal_initializer(gain=2.0, seed=4), [6, 4])
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(4), atol=1e-4)
    with tf.Graph().as_default():
        w = value(tf.orthogonal_initializer(seed=4), [3, 5])
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-4)
    with tf.Graph().as_default():
        e = value(tf.identity_initializer(gain=3.0), [2, 3])
    np.testing.assert_array_equal(e, [[3, 0, 0], [0, 3, 0]])
    with pytest.raises(ValueError):
        tf.identity_initializer()([2, 2, 2])
    with pytest.raises(ValueError):
        tf.orthogonal_initializer()([4])


def test_tf_initializers_namespace():
    ns = tf.initializers
    assert ns.zeros is tf.zeros_initializer and ns.glorot_uniform is tf.glorot_uniform_initializer
    for name in ("ones", "constant", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
                 "orthogonal", "identity", "glorot_normal"):
        assert callable(getattr(ns, name))
    v = tf.get_variable("v", [2], initializer=ns.ones())
    with tf.Session() as sess:
        assert sess.run(ns.global_variables()) is None and list(sess.run(v)) == [1, 1]


def _seeded_values(graph_seed, op_seed, n_runs=1):
    with tf.Graph().as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        v = tf.get_variable("v", [5], initializer=tf.random_normal_initializer(seed=op_seed))
        with tf.Session() as sess:
            out = []
            for _ in range(n_runs):
                sess.run(v.initializer)
                out.append(sess.run(v))
            return out


def test_seeds_repeat_across_sessions_and_rebuilt_graphs():
    a, = _seeded_values(1, 7)
    b, = _seeded_values(1, 7)
    np.testing.assert_array_equal(a, b)
    c, = _seeded_values(1, 8)
    assert not np.array_equal(a, c)


def test_same_seed_pair_gives_identical_ops_and_reruns_give_new_values():
    tf.set_random_seed(5)
    x = tf.get_variable("x", [5], initializer=tf.random_uniform_initializer(seed=3))
    y = tf.get_variable("y", [5], initializer=tf.random_uniform_initializer(seed=3))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first_x, first_y = sess.run([x, y])
        np.testing.assert_array_equal(first_x, first_y)
        sess.run(x.initializer)
        assert not np.array_equal(sess.run(x), first_x)


@pytest.mark.parametrize("name, scale, distribution", [("he_normal", 2.0, "truncated_normal"),
                                                       ("he_uniform", 2.0, "uniform"),
                                                       ("lecun_normal", 1.0, "truncated_normal"),
                                                       ("lecun_uniform", 1.0, "uniform")])
def test_he_and_lecun_initializers_are_tfs_variance_scalings(name, scale, distribution):
    """``tf.initializers.he_normal`` & co.: TF's configs (recorded from TF 2.21) and the fan-in variance."""
    init = getattr(tf.initializers, name)(seed=3)
    assert init.get_config() == {"scale": scale, "mode": "fan_in", "distribution": distribution, "seed": 3,
                                 "dtype": "float32"}
    with tf.Graph().as_default():
        v = tf.get_variable("v", [400, 300], initializer=init)
        with tf.Session() as sess:
            sess.run(v.initializer)
            w = sess.run(v)
    assert abs(w.std() - np.sqrt(scale / 400)) < 0.03 * np.sqrt(scale / 400)
    if distribution == "uniform":
        assert np.abs(w).max() <= np.sqrt(3 * scale / 400)
