"""Reductions (``jitgraph/ops/reduction_ops.py``): values against NumPy for every axis form, TF's
integer and empty-input rules, axis errors, argmax, add_n, cumsum, and the clipping/norm helpers."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate

X = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 11) / 4

REDUCERS = [(tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean), (tf.reduce_max, np.max), (tf.reduce_min, np.min),
            (tf.reduce_prod, np.prod)]
AXES = [None, 0, -1, [0, 2], [2, 0], (1,), []]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=[str(a) for a in AXES])
@pytest.mark.parametrize("tf_fn,np_fn", REDUCERS, ids=[r[1].__name__ for r in REDUCERS])
def test_reduction_matches_numpy(tf_fn, np_fn, axis, keepdims):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4])
        y = tf_fn(x, axis=axis, keepdims=keepdims)
        out = evaluate(y, {x: X})
    np_axis = tuple(np.atleast_1d(axis)) if axis is not None else None
    expected = np_fn(X, axis=np_axis, keepdims=keepdims)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    assert y.shape.is_compatible_with(expected.shape) and y.shape.ndims == expected.ndim


def test_reduction_attrs_are_static_sorted_axes():
    with tf.Graph().as_default():
        y = tf.reduce_sum(tf.zeros([2, 3, 4]), [-1, 0], keep_dims=True)
        assert y.op.get_attr("axis") == (0, 2) and y.op.get_attr("keep_dims") is True
        assert y.op.name == "Sum" and y.op.op_def.kind == "reduction"
        assert tf.reduce_mean(tf.zeros([2]), reduction_indices=[0]).op.get_attr("axis") == (0,)


def test_integer_bool_and_empty_rules_follow_tf():
    with tf.Graph().as_default():
        i = tf.constant([[-7, 2], [3, 4]])
        out = evaluate({"mean": tf.reduce_mean(i), "mean_rows": tf.reduce_mean(i, 1),
                        "sum_i8": tf.reduce_sum(tf.constant([100, 100], tf.int8)),
                        "max_empty": tf.reduce_max(tf.zeros([0])),
                        "max_empty_int": tf.reduce_max(tf.zeros([0], tf.int32)),
                        "mean_empty": tf.reduce_mean(tf.zeros([0])),
                        "all": tf.reduce_all([[True, False], [True, True]], 1), "any": tf.reduce_any([False, False])})
    assert out["mean"] == 0 and out["mean"].dtype == np.int32
    np.testing.assert_array_equal(out["mean_rows"], [-2, 3])        # truncation toward zero
    assert out["sum_i8"] == -56 and out["sum_i8"].dtype == np.int8   # wraps like TF
    assert out["max_empty"] == -np.inf and out["max_empty_int"] == np.iinfo(np.int32).min
    assert np.isnan(out["mean_empty"])
    np.testing.assert_array_equal(out["all"], [False, True])
    assert out["any"] == False  # noqa: E712


@pytest.mark.parametrize("build,exc,fragment", [
    (lambda: tf.reduce_sum(tf.zeros([2, 3]), 2), ValueError, "Invalid reduction dimension 2"),
    (lambda: tf.reduce_sum(tf.zeros([2, 3]), [1, -1]), ValueError, "more than once"),
    (lambda: tf.reduce_sum(tf.constant([True])), TypeError, "bool"),
    (lambda: tf.reduce_all(tf.zeros([2])), TypeError, "float32"),
    (lambda: tf.reduce_sum(tf.zeros([2]), tf.placeholder(tf.int32, [])), ValueError, "known when the graph"),
    (lambda: tf.argmax(tf.zeros([2, 3]), 2), ValueError, "range"),
    (lambda: tf.add_n([]), ValueError, "at least one"),
    (lambda: tf.add_n([tf.zeros([2]), tf.zeros([3])]), ValueError, "shapes"),
    (lambda: tf.add_n([tf.zeros([2]), tf.zeros([2], tf.float64)]), TypeError, "dtype"),
])
def test_build_time_errors(build, exc, fragment):
    with tf.Graph().as_default():
        with pytest.raises(exc, match=fragment):
            build()


def test_argmax_argmin_add_n_cumulative():
    a = np.array([[1, 5, 5], [7, 2, 7]], np.float32)
    with tf.Graph().as_default():
        x = tf.constant(a)
        r = {"amax": tf.argmax(x), "amax1": tf.argmax(x, 1), "amin": tf.argmin(x, axis=-1, output_type=tf.int32),
             "addn": tf.add_n([x, x, x]), "cs": tf.cumsum(x, 1),
             "cs_ex_rev": tf.cumsum([1, 2, 3], exclusive=True, reverse=True),
             "cp": tf.cumprod(x, 0, exclusive=True)}
        assert r["amax"].dtype == tf.int64 and r["amin"].dtype == tf.int32
        assert [r[k].op.name for k in ("amax", "addn", "cs", "cp")] == ["ArgMax", "AddN", "Cumsum", "Cumprod"]
        out = evaluate(r)
    np.testing.assert_array_equal(out["amax"], [1, 0, 1])
    np.testing.assert_array_equal(out["amax1"], [1, 0])        # first index on ties
    np.testing.assert_array_equal(out["amin"], [0, 1])
    np.testing.assert_array_equal(out["addn"], 3 * a)
    np.testing.assert_array_equal(out["cs"], np.cumsum(a, 1))
    np.testing.assert_array_equal(out["cs_ex_rev"], [5, 3, 0])
    np.testing.assert_array_equal(out["cp"], [[1, 1, 1], [1, 5, 5]])


def test_logsumexp_count_nonzero_norm():
    with tf.Graph().as_default():
        big = tf.constant([[1000.0, 1000.0], [-np.inf, 0.0]])
        out = evaluate({"lse": tf.reduce_logsumexp(big, 1), "lse_all": tf.reduce_logsumexp(X),
                        "cnz": tf.count_nonzero([[0, 1], [2, 0]], 0), "norm": tf.norm(X),
                        "norm1": tf.norm(X, 1, axis=1),
                        "ninf": tf.norm(X, np.inf), "gn": tf.global_norm([X, None, X[0]])})
    np.testing.assert_allclose(out["lse"], [1000 + np.log(2), 0.0], rtol=1e-6)
    np.testing.assert_allclose(out["lse_all"], np.log(np.exp(X.astype(np.float64)).sum()), rtol=1e-5)
    np.testing.assert_array_equal(out["cnz"], [1, 1])
    assert out["cnz"].dtype == np.int64
    np.testing.assert_allclose(out["norm"], np.linalg.norm(X), rtol=1e-6)
    np.testing.assert_allclose(out["norm1"], np.abs(X).sum(1), rtol=1e-6)
    np.testing.assert_allclose(out["ninf"], np.abs(X).max())
    np.testing.assert_allclose(out["gn"], np.sqrt((X ** 2).sum() + (X[0] ** 2).sum()), rtol=1e-6)


def test_clipping():
    v = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    with tf.Graph().as_default():
        x = tf.constant(v)
        clipped, gn = tf.clip_by_global_norm([x, None, x * 2], 2.0)
        assert clipped[1] is None
        out = evaluate({"val": tf.clip_by_value(x, 0.5, 3.5), "norm": tf.clip_by_norm(x, 1.0),
                        "rows": tf.clip_by_norm(x, 1.0, axes=[1]), "g0": clipped[0], "gn": gn})
        with pytest.raises(ValueError, match="shape"):
            tf.clip_by_value(x, tf.zeros([3, 2, 2]), 1.0)
    np.testing.assert_array_equal(out["val"], [[3.0, 3.5], [0.5, 0.5]])
    np.testing.assert_allclose(out["norm"], v / 5, rtol=1e-6)
    np.testing.assert_allclose(out["rows"], [[0.6, 0.8], [0, 0]], rtol=1e-6)
    np.testing.assert_allclose(out["gn"], np.sqrt(125), rtol=1e-6)
    np.testing.assert_allclose(out["g0"], v * 2 / np.sqrt(125), rtol=1e-6)
