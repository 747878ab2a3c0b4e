"""``tf.nn`` forward values against naive NumPy loops, static shape rules and errors, op names."""

import numpy as np
import pytest

import jitgraph as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def _out_size(n, k, s, d, padding):
    eff = (k - 1) * d + 1
    out = -(-n // s) if padding == "SAME" else -(-(n - eff + 1) // s)
    pad = max((out - 1) * s + eff - n, 0) if padding == "SAME" else 0
    return out, pad // 2


def _naive_conv(x, w, s, d, padding):
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    oh, pt = _out_size(h, kh, s[0], d[0], padding)
    ow, pl = _out_size(wd, kw, s[1], d[1], padding)
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * s[0] + a * d[0] - pt, j * s[1] + b * d[1] - pl
                    if 0 <= r < h and 0 <= q < wd:
                        out[:, i, j, :] += x[:, r, q, :] @ w[a, b]
    return out


def _naive_pool(x, k, s, padding, reduce):
    n, h, wd, c = x.shape
    oh, pt = _out_size(h, k[0], s[0], 1, padding)
    ow, pl = _out_size(wd, k[1], s[1], 1, padding)
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(r0, 0):r0 + k[0], max(q0, 0):q0 + k[1], :]
            out[:, i, j, :] = reduce(win, axis=(1, 2))
    return out


@pytest.mark.parametrize("h,w,k,s,d,padding", [
    (7, 6, (3, 3), (1, 1), (1, 1), "SAME"), (7, 6, (3, 2), (2, 3), (1, 1), "SAME"),
    (8, 8, (3, 3), (2, 2), (1, 1), "VALID"), (9, 7, (3, 3), (1, 1), (2, 2), "SAME"),
    (9, 7, (2, 3), (3, 1), (1, 2), "VALID"), (5, 5, (5, 5), (1, 1), (1, 1), "SAME"), (4, 4, (1, 1), (2, 2), (1, 1), "VALID"),
])
def test_conv2d_matches_naive_loops(h, w, k, s, d, padding):
    rng = np.random.default_rng(1)
    x, f = rng.standard_normal((2, h, w, 3)), rng.standard_normal(k + (3, 4))
    with tf.Graph().as_default():
        y = tf.nn.conv2d(tf.constant(x), tf.constant(f), [1, s[0], s[1], 1], padding, dilations=[1, d[0], d[1], 1])
        want = _naive_conv(x, f, s, d, padding)
        assert y.shape.as_list() == list(want.shape)
        np.testing.assert_allclose(_run(y), want, rtol=1e-10, atol=1e-12)
        nchw = tf.nn.conv2d(tf.constant(x.transpose(0, 3, 1, 2)), tf.constant(f), [1, 1, s[0], s[1]], padding,
                            data_format="NCHW", dilations=[1, 1, d[0], d[1]])
        np.testing.assert_allclose(_run(nchw), want.transpose(0, 3, 1, 2), rtol=1e-10, atol=1e-12)


def test_conv2d_float32_partial_shapes_and_name():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 10, 10, 2)).astype(np.float32)
    f = rng.standard_normal((5, 5, 2, 8)).astype(np.float32)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 10, None, 2])
        y = tf.nn.conv2d(p, tf.constant(f), strides=[1, 2, 2, 1], padding="SAME")
        assert y.name == "Conv2D:0" and y.op.type == "Conv2D"
        assert y.shape.as_list() == [None, 5, None, 8]
        out = _run(y, {p: x})
        assert out.dtype == np.float32 and out.shape == (3, 5, 5, 8)
        np.testing.assert_allclose(out, _naive_conv(x, f, (2, 2), (1, 1), "SAME"), rtol=1e-4, atol=1e-4)


def test_conv2d_static_errors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [1, 10, 10, 3])
        with pytest.raises(ValueError, match="Depth of input \\(3\\) is not a multiple of input depth of filter \\(4\\)"):
            tf.nn.conv2d(x, tf.placeholder(tf.float32, [3, 3, 4, 4]), [1, 1, 1, 1], "SAME")
        with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
            tf.nn.conv2d(tf.placeholder(tf.float32, [1, 2, 2, 3]), tf.placeholder(tf.float32, [3, 3, 3, 4]),
                         [1, 1, 1, 1], "VALID")
        with pytest.raises(ValueError, match="rank 4"):
            tf.nn.conv2d(tf.placeholder(tf.float32, [10, 10, 3]), tf.placeholder(tf.float32, [3, 3, 3, 4]), 1, "SAME")
        with pytest.raises(ValueError, match="padding"):
            tf.nn.conv2d(x, tf.placeholder(tf.float32, [3, 3, 3, 4]), 1, "FULL")
        with pytest.raises(ValueError, match="strides in the batch"):
            tf.nn.conv2d(x, tf.placeholder(tf.float32, [3, 3, 3, 4]), [2, 1, 1, 1], "SAME")
        with pytest.raises(TypeError):
            tf.nn.conv2d(x, tf.placeholder(tf.float64, [3, 3, 3, 4]), 1, "SAME")
        with pytest.raises(TypeError):
            tf.nn.conv2d(tf.placeholder(tf.int32, [1, 4, 4, 3]), tf.placeholder(tf.int32, [3, 3, 3, 4]), 1, "SAME")
        for s in (1, [2], [2, 2], [1, 2, 2, 1]):
            want = 10 if s == 1 else 5
            assert tf.nn.conv2d(x, tf.placeholder(tf.float32, [3, 3, 3, 4]), s, "SAME").shape.as_list() == \
                [1, want, want, 4]
        assert len([op for op in tf.get_default_graph().get_operations() if op.type == "Conv2D"]) == 4


def test_bias_add_values_names_and_errors():
    with tf.Graph().as_default():
        x = tf.constant(np.arange(12.0).reshape(2, 3, 2))
        y = tf.nn.bias_add(x, [10.0, 20.0])
        assert y.op.name == "BiasAdd"
        np.testing.assert_allclose(_run(y), np.arange(12.0).reshape(2, 3, 2) + [10, 20])
        i = tf.placeholder(tf.float32, [1, 10, 10, 3])
        with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
            tf.nn.bias_add(i, tf.placeholder(tf.float32, [4]))
        with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
            tf.nn.bias_add(i, tf.placeholder(tf.float32, [1, 3]))
        with pytest.raises(ValueError):
            tf.nn.bias_add(i, tf.placeholder(tf.float64, [3]))
        nchw = tf.nn.bias_add(tf.zeros([1, 2, 2, 2]), tf.constant([1.0, 2.0]), data_format="NCHW")
        np.testing.assert_allclose(_run(nchw)[0, :, 0, 0], [1, 2])


@pytest.mark.parametrize("k,s,padding", [((2, 2), (2, 2), "SAME"), ((3, 3), (2, 2), "SAME"), ((3, 2), (1, 2), "VALID"),
                                          ((3, 3), (3, 3), "SAME")])
def test_pools_match_naive_loops(k, s, padding):
    x = np.random.default_rng(3).standard_normal((2, 7, 5, 3))
    with tf.Graph().as_default():
        mp = tf.nn.max_pool(tf.constant(x), [1, *k, 1], [1, *s, 1], padding)
        ap = tf.nn.avg_pool(tf.constant(x), [1, *k, 1], [1, *s, 1], padding)
        assert (mp.op.name, ap.op.name) == ("MaxPool", "AvgPool")
        got_mp, got_ap = _run([mp, ap])
    np.testing.assert_allclose(got_mp, _naive_pool(x, k, s, padding, np.max))
    np.testing.assert_allclose(got_ap, _naive_pool(x, k, s, padding, np.mean), rtol=1e-12)


def test_max_pool_gradient_goes_to_first_max_like_tf():
    with tf.Graph().as_default():
        x = tf.constant(np.array([1.0, 3.0, 3.0, 2.0]).reshape(1, 2, 2, 1))
        g = tf.gradients(tf.nn.max_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID"), x)[0]
        np.testing.assert_allclose(_run(g).reshape(-1), [0, 1, 0, 0])


@pytest.mark.parametrize("k,s", [((2, 2), (2, 2)), ((3, 3), (1, 1)), ((12, 12), (5, 5))])
def test_max_pool_gradient_matches_a_naive_loop_with_ties_and_nan(k, s):
    """float32 (oneDNN's rule): each window's gradient goes to its first strictly largest input,
    NaN never wins, a window without a finite maximum keeps its first tap (dropped if padding).
    12x12 windows have 144 taps, more than an int8 tap index holds."""
    from jitgraph.ops import nn_conv
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, (2, 17, 15, 3)).astype(np.float32)      # many ties
    x.flat[rng.integers(0, x.size, 40)] = np.nan
    x.flat[rng.integers(0, x.size, 40)] = -np.inf
    x[1, :4, :4, 0] = -np.inf                                       # a window of -inf only
    oh, ow, ph, pw = nn_conv._geom(x.shape, k[0], k[1], [1, *s, 1], [1, 1, 1, 1], "SAME")
    g = rng.standard_normal((2, oh, ow, 3)).astype(np.float32)
    want = np.zeros((2, 17 + sum(ph), 15 + sum(pw), 3), np.float32)
    xp = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=-np.inf)
    for n, i, j, c in np.ndindex(2, oh, ow, 3):
        window = xp[n, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1], c].reshape(-1)
        best, tap = -np.inf, 0
        for t, v in enumerate(window):
            if v > best:
                best, tap = v, t
        want[n, i * s[0] + tap // k[1], j * s[1] + tap % k[1], c] += g[n, i, j, c]
    want = want[:, ph[0]:ph[0] + 17, pw[0]:pw[0] + 15]
    with tf.Graph().as_default():
        xt = tf.constant(x)
        y = tf.nn.max_pool(xt, [1, *k, 1], [1, *s, 1], "SAME")
        got = _run(tf.gradients(y, xt, grad_ys=tf.constant(g))[0])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)    # (overlapping windows add in another order)
    assert np.array_equal(got == 0, want == 0)


def test_softmax_and_log_softmax_values_and_stability():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    with tf.Graph().as_default():
        sm, lsm = tf.nn.softmax(tf.constant(x)), tf.nn.log_softmax(tf.constant(x))
        assert (sm.op.name, lsm.op.name) == ("Softmax", "LogSoftmax")
        a, b = _run([sm, lsm])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(a[0], e / e.sum())
    np.testing.assert_allclose(a[1], [0.5, 0.5, 0])
    np.testing.assert_allclose(b[1, :2], np.log([0.5, 0.5]))
    with tf.Graph().as_default():
        with pytest.raises(TypeError):
            tf.nn.softmax(tf.constant([1, 2]))
        with pytest.raises(ValueError):
            tf.nn.softmax(tf.constant(1.0))


def test_cross_entropies_values():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], np.float32)
    labels = np.array([[1.0, 0.0, 0.0], [0.1, 0.8, 0.1]], np.float32)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    with tf.Graph().as_default():
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        sp = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=logits)
        sg = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        assert v1.shape.as_list() == [2] and sp.shape.as_list() == [2] and v1.dtype == tf.float32
        a, b, c, d = _run([v1, v2, sp, sg])
    np.testing.assert_allclose(a, -(labels * logp).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(b, a)
    np.testing.assert_allclose(c, [-logp[0, 0], -logp[1, 1]], rtol=1e-6)
    sig = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(d, -labels * np.log(sig) - (1 - labels) * np.log(1 - sig), rtol=1e-5)


def test_sparse_xent_errors():
    with tf.Graph().as_default():
        logits = tf.ones([2, 3])
        with pytest.raises(ValueError, match="rank"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([2, 3], tf.int32), logits=logits)
        with pytest.raises(TypeError):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.zeros([2]), logits=logits)
        bad = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 3], logits=logits)
        with pytest.raises(tf.errors.InvalidArgumentError, match="label value of 3 which is outside the valid range"):
            _run(bad)
        neg = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([-1, 0], tf.int64), logits=logits)
        with pytest.raises(tf.errors.InvalidArgumentError):
            _run(neg)
        cast = tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.ones([2, 3], tf.float64), logits=logits)
        assert cast.dtype == tf.float32   # labels are cast to the logits' dtype, as TF


def test_l2_loss():
    with tf.Graph().as_default():
        y = tf.nn.l2_loss(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
        assert y.op.name == "L2Loss" and y.shape.as_list() == []
        assert _run(y) == pytest.approx(15.0)


def test_dropout_scaling_seeding_and_noise_shape():
    x = np.ones((200, 50), np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        p = tf.placeholder(tf.float32, x.shape)
        d = tf.nn.dropout(p, keep_prob=0.25, seed=3)
        shared = tf.nn.dropout(p, rate=0.5, noise_shape=[200, 1], seed=4)
        assert tf.nn.dropout(p, keep_prob=1.0) is p
        with tf.Session() as sess:
            a, s = sess.run([d, shared], {p: x})
            a2 = sess.run(d, {p: x})
        with tf.Session() as sess:
            a3 = sess.run(d, {p: x})
    assert set(np.unique(a)) <= {0.0, 4.0}
    assert 0.2 < (a > 0).mean() < 0.3
    assert not np.array_equal(a, a2)          # a fresh mask per run
    np.testing.assert_array_equal(a, a3)      # same seeds: same stream in a new session
    assert all(len(set(row)) == 1 for row in s)
    with tf.Graph().as_default():
        with pytest.raises(ValueError):
            tf.nn.dropout(tf.ones([2]), keep_prob=0.5, rate=0.5)
        with pytest.raises(ValueError):
            tf.nn.dropout(tf.ones([2], tf.int32), keep_prob=0.5)
        with pytest.raises(ValueError):
            tf.nn.dropout(tf.ones([2]), rate=1.5)
        kp = tf.placeholder(tf.float32, [])
        y = tf.nn.dropout(tf.ones([1000]), keep_prob=kp)
        out = _run(y, {kp: 0.5})
        assert set(np.unique(out)) <= {0.0, 2.0}
        np.testing.assert_allclose(_run(y, {kp: 1.0}), np.ones(1000))
