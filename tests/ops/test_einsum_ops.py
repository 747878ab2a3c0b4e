"""``jitgraph/ops/einsum_ops.py`` (einsum), and ``tensordot``, ``gather_nd``, ``scatter_nd`` and
``sequence_mask``: values and gradients against TF 2.21's recorded values."""

from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, gradient_error

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "ops.npz")
EINSUM = sorted({k.split("/")[0] for k in TF.files if k.startswith("einsum_")})


@pytest.mark.parametrize("key", EINSUM)
def test_einsum_values_and_gradients_match_tf(key):
    eq = str(TF[f"{key}/equation"])
    xs = [TF[f"{key}/x{i}"] for i in range(3) if f"{key}/x{i}" in TF.files]
    with tf.Graph().as_default():
        ts = [tf.constant(x) for x in xs]
        y = tf.einsum(eq, *ts)
        assert y.shape.as_list() == list(TF[f"{key}/value"].shape)
        out = evaluate([y] + tf.gradients(y, ts, grad_ys=tf.constant(TF[f"{key}/w"])))
    np.testing.assert_allclose(out[0], TF[f"{key}/value"], rtol=1e-10, atol=1e-12)
    for i, g in enumerate(out[1:]):
        np.testing.assert_allclose(g, TF[f"{key}/g{i}"], rtol=1e-10, atol=1e-12, err_msg=f"grad {i}")


def test_einsum_gradient_with_repeated_and_summed_letters():
    x = np.random.default_rng(7).standard_normal((3, 3, 2))
    assert gradient_error(lambda a, b: tf.einsum("iij,jk->k", a, b), [x, x[0].T]) < 1e-6


def test_einsum_errors():
    with tf.Graph().as_default():
        a = tf.zeros([2, 3])
        with pytest.raises(ValueError, match="dimension 'j'"):
            tf.einsum("ij,jk->ik", a, a)
        with pytest.raises(ValueError, match="rank 2"):
            tf.einsum("ijk->i", a)
        with pytest.raises(ValueError, match="names 2 inputs"):
            tf.einsum("ij,jk->ik", a)
        with pytest.raises(ValueError, match="do not appear"):
            tf.einsum("ij->iz", a)
        assert tf.einsum("ij,jk->ik", tf.placeholder(tf.float32, [None, 3]), tf.zeros([3, 5])).shape.as_list() == \
            [None, 5]


def test_tensordot_matches_tf():
    a, b = TF["tensordot/a"], TF["tensordot/b"]
    with tf.Graph().as_default():
        ta, tb = tf.constant(a), tf.constant(b)
        y2, yp = tf.tensordot(ta, tb, 2), tf.tensordot(ta, tb, [[1], [0]])
        g2 = tf.gradients(y2, [ta, tb], grad_ys=tf.constant(TF["tensordot/w2"]))
        gp = tf.gradients(yp, [ta, tb], grad_ys=tf.constant(TF["tensordot/w3"]))
        out = evaluate([y2] + g2 + [yp] + gp)
    for got, key in zip(out, ["axes2", "axes2_ga", "axes2_gb", "pairs", "pairs_ga", "pairs_gb"]):
        np.testing.assert_allclose(got, TF[f"tensordot/{key}"], rtol=1e-10, err_msg=key)


def test_gather_nd_and_scatter_nd_match_tf():
    p, gi = TF["gather_nd/params"], TF["gather_nd/indices"]
    with tf.Graph().as_default():
        tp = tf.constant(p)
        g = tf.gather_nd(tp, gi)
        sn = tf.scatter_nd([[1], [3], [1]], tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), [5, 2])
        out = evaluate([g, tf.gradients(g, tp, grad_ys=tf.constant(TF["gather_nd/w"]))[0], sn])
    np.testing.assert_allclose(out[0], TF["gather_nd/value"])
    np.testing.assert_allclose(out[1], TF["gather_nd/grad"])   # a repeated index accumulates
    np.testing.assert_allclose(out[2], TF["scatter_nd/value"])


def test_sequence_mask_matches_tf():
    with tf.Graph().as_default():
        m = tf.sequence_mask([1, 3, 2], 5)
        nested = tf.sequence_mask([[1, 3], [2, 0]], dtype=tf.float32)
        default = tf.sequence_mask(np.array([0, 2], np.int64))
        assert m.shape.as_list() == [3, 5] and nested.dtype == tf.float32 and default.dtype == tf.bool
        out = evaluate([m, nested, default])
        with pytest.raises(ValueError, match="scalar"):
            tf.sequence_mask([1, 2], [3, 4])
    for got, key in zip(out, ["fixed", "nested", "default"]):
        np.testing.assert_array_equal(got, TF[f"sequence_mask/{key}"])
