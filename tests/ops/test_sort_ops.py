"""``jitgraph/ops/sort_ops.py``: top_k, in_top_k, sort, argsort, unique against TF 2.21's recorded
values (``tests/oracle/record_ops.py``) and NumPy; top_k's gradient by finite differences."""

from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, gradient_error

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "ops.npz")


def test_top_k_values_indices_and_gradient_match_tf():
    x, w = TF["top_k/x"], TF["top_k/w"]
    with tf.Graph().as_default():
        t = tf.constant(x)
        v, i = tf.nn.top_k(t, 3)
        assert v.shape.as_list() == [4, 3] and i.dtype == tf.int32
        assert v.op.type == "TopKV2" and tf.nn.top_k(t).values.shape.as_list() == [4, 1]
        out = evaluate([v, i, tf.gradients(v, t, grad_ys=tf.constant(w))[0]])
    np.testing.assert_array_equal(out[0], TF["top_k/values"])
    np.testing.assert_array_equal(out[1], TF["top_k/indices"])   # ties: the lower index first
    np.testing.assert_allclose(out[2], TF["top_k/grad"])
    assert gradient_error(lambda a: tf.nn.top_k(a, 2).values, [np.random.default_rng(1).standard_normal((3, 5))]) < 1e-6


def test_top_k_rejects_k_larger_than_the_row():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="at least k columns"):
            tf.nn.top_k(tf.zeros([2, 3]), 4)
        k = tf.placeholder(tf.int32, [])
        v = tf.nn.top_k(tf.zeros([2, 3]), k).values
        assert v.shape.as_list() == [2, None]
        with pytest.raises(tf.errors.InvalidArgumentError, match="at least k columns"):
            evaluate(v, {k: 5})


def test_sort_and_argsort_match_tf_for_floats_and_ints():
    x, xi = TF["sort/x"], TF["sort/xi"]
    with tf.Graph().as_default():
        fx, ix = tf.constant(x), tf.constant(xi)
        out = evaluate([tf.sort(fx), tf.sort(fx, axis=0, direction="DESCENDING"), tf.argsort(fx),
                        tf.argsort(fx, axis=0, direction="DESCENDING"), tf.sort(ix), tf.argsort(ix),
                        tf.sort(ix, direction="DESCENDING"), tf.argsort(ix, direction="DESCENDING")])
    keys = ["asc", "desc0", "arg_asc", "arg_desc0", "int_asc", "int_arg_asc", "int_desc", "int_arg_desc"]
    for got, key in zip(out, keys):
        np.testing.assert_array_equal(got, TF[f"sort/{key}"], err_msg=key)
    np.testing.assert_array_equal(out[2], np.argsort(x, axis=-1, kind="stable"))


def test_sort_gradient_and_bad_direction():
    assert gradient_error(lambda a: tf.sort(a, axis=0), [np.random.default_rng(2).standard_normal((4, 3))]) < 1e-6
    with tf.Graph().as_default(), pytest.raises(ValueError, match="direction"):
        tf.sort([1.0, 2.0], direction="UP")


def test_in_top_k_counts_boundary_ties_in_and_non_finite_rows_out():
    p, t = TF["in_top_k/predictions"], TF["in_top_k/targets"]
    with tf.Graph().as_default():
        out = evaluate([tf.nn.in_top_k(p, t, k) for k in (1, 2, 3)])
        bad = tf.nn.in_top_k(tf.constant(p), tf.constant([9, -1, 0, 0, 0]), 2)
        assert bad.shape.as_list() == [5] and bad.dtype == tf.bool
        out_of_range = evaluate(bad)
    for k, got in zip((1, 2, 3), out):
        np.testing.assert_array_equal(got, TF[f"in_top_k/k{k}"])
    np.testing.assert_array_equal(out_of_range, TF["in_top_k/out_of_range"])


def test_unique_and_unique_with_counts_keep_first_occurrence_order():
    with tf.Graph().as_default():
        a = tf.unique(TF["unique/x"], out_idx=tf.int64)
        b = tf.unique_with_counts(TF["unique/xf"])
        assert a.idx.dtype == tf.int64 and b.count.dtype == tf.int32 and a.y.shape.as_list() == [None]
        c = tf.unique(np.array([1.0, np.nan, np.nan, 1.0]))
        out = evaluate([a.y, a.idx, b.y, b.idx, b.count, c.y, c.idx])
    for got, key in zip(out, ["y", "idx", "yf", "idxf", "countf", "ynan", "idxnan"]):
        np.testing.assert_array_equal(got, TF[f"unique/{key}"], err_msg=key)   # every NaN is its own value
    with tf.Graph().as_default(), pytest.raises(ValueError, match="1D"):
        tf.unique(tf.zeros([2, 2]))


def test_compiled_plan_matches_reference_for_top_k():
    x = np.random.default_rng(3).standard_normal((5, 7)).astype(np.float32)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 7])
        v, i = tf.nn.top_k(tf.nn.relu(p) * 2.0, 3)
        with tf.Session() as sess:
            out = sess.run([v, i], {p: x})
    ref = evaluate_fresh(x)
    np.testing.assert_allclose(out[0], ref[0])
    np.testing.assert_array_equal(out[1], ref[1])


def evaluate_fresh(x):
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 7])
        v, i = tf.nn.top_k(tf.nn.relu(p) * 2.0, 3)
        return evaluate([v, i], {p: x})
