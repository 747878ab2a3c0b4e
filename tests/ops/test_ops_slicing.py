"""Slicing ops (``jitgraph/ops/slicing_ops.py``): ``x[key]`` against NumPy for every kind of key,
``tf.slice``, gathers and scatters, ``tf.where(c)``, ``tf.boolean_mask``; static vs run-time
index errors."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate

X = np.arange(60, dtype=np.int32).reshape(3, 4, 5)

KEYS = [
    ("int", 1), ("negative_int", -1), ("slice", np.s_[1:]), ("step", np.s_[::2]), ("reverse", np.s_[::-1]),
    ("neg_step_bounds", np.s_[2:0:-1]), ("clamped", np.s_[-10:10]), ("empty", np.s_[2:1]),
    ("tuple", np.s_[1, 2:, ::-2]), ("ellipsis", np.s_[..., 1]), ("ellipsis_mid", np.s_[0, ..., ::3]),
    ("newaxis", np.s_[:, None, 1]), ("newaxis_end", np.s_[..., None]), ("all_int", np.s_[2, 3, 4]),
    ("full", np.s_[:]),
]


@pytest.mark.parametrize("key", [k for _, k in KEYS], ids=[i for i, _ in KEYS])
def test_getitem_matches_numpy_with_static_shape(key):
    with tf.Graph().as_default():
        x = tf.constant(X)
        y = x[key]
        out = evaluate(y)
    np.testing.assert_array_equal(out, X[key])
    assert y.shape.as_list() == list(X[key].shape)
    assert y.op.type == "StridedSlice" and y.op.name == "strided_slice"


def test_getitem_with_tensor_indices_and_unknown_dims():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.int32, [None, 4, 5])
        i = tf.placeholder(tf.int32, [])
        j = tf.placeholder(tf.int64, [])
        y = x[i, 1:j]
        z = x[:, 0]
        assert y.shape.as_list() == [None, 5]
        assert z.shape.as_list() == [None, 5]
        out = evaluate([y, z, tf.shape(x)[0]], {x: X, i: 2, j: 3})
    np.testing.assert_array_equal(out[0], X[2, 1:3])
    np.testing.assert_array_equal(out[1], X[:, 0])
    assert out[2] == 3


def test_strided_slice_and_slice_functions():
    with tf.Graph().as_default():
        x = tf.constant(X)
        ss = tf.strided_slice(x, [0, 1], [3, 4], [2, 2])
        sl = tf.slice(x, [1, 0, 2], [-1, 2, 3])
        assert ss.shape.as_list() == [2, 2, 5] and sl.shape.as_list() == [2, 2, 3]
        assert sl.op.name == "Slice" and "Slice/begin" in [op.name for op in tf.get_default_graph().get_operations()]
        out = evaluate([ss, sl])
    np.testing.assert_array_equal(out[0], X[0:3:2, 1:4:2])
    np.testing.assert_array_equal(out[1], X[1:, 0:2, 2:5])


def test_index_errors_static_at_build_dynamic_at_run():
    with tf.Graph().as_default():
        x = tf.constant([1, 2, 3])
        with pytest.raises(ValueError, match="slice index 5 of dimension 0 out of bounds"):
            x[5]
        with pytest.raises(ValueError, match="Index out of range"):
            x[0, 1]
        with pytest.raises(TypeError, match="Only integers, slices"):
            x[1.0]
        with pytest.raises(TypeError, match="Only integers, slices"):
            x[[0, 1]]
        with pytest.raises(ValueError, match="Multiple ellipses"):
            tf.constant(X)[..., 1, ...]
        with pytest.raises(ValueError, match="exceed"):
            tf.slice(x, [2], [2])
        p = tf.placeholder(tf.int32, [None])
        with pytest.raises(tf.errors.InvalidArgumentError, match="strided_slice"):
            evaluate(p[5], {p: [1, 2]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Slice"):
            evaluate(tf.slice(p, [1], [3]), {p: [1, 2]})


def test_gather_variants():
    with tf.Graph().as_default():
        x = tf.constant(X)
        p = tf.placeholder(tf.int32, [None, 4, 5])
        out = evaluate({"g0": tf.gather(x, [2, 0]), "g1": tf.gather(x, [[3], [1]], axis=1),
                        "gneg": tf.gather(x, 4, axis=-1), "gdyn": tf.gather(p, [0], axis=2),
                        "nd": tf.gather_nd(x, [[0, 1], [2, 3]]), "nd_full": tf.gather_nd(x, [[2, 3, 4]])}, {p: X})
    np.testing.assert_array_equal(out["g0"], X[[2, 0]])
    np.testing.assert_array_equal(out["g1"], np.take(X, [[3], [1]], axis=1))
    np.testing.assert_array_equal(out["gneg"], X[..., 4])
    np.testing.assert_array_equal(out["gdyn"], X[..., [0]])
    np.testing.assert_array_equal(out["nd"], X[[0, 2], [1, 3]])
    np.testing.assert_array_equal(out["nd_full"], [59])


@pytest.mark.parametrize("bad", [[3], [-1]])
def test_gather_out_of_range_is_invalid_argument(bad):
    with tf.Graph().as_default():
        y = tf.gather(tf.constant([1, 2, 3]), tf.constant(bad), name="pick")
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"not in \[0, 3\).*pick"):
            evaluate(y)


def test_scatter_nd_and_unsorted_segment_sum_accumulate_duplicates():
    with tf.Graph().as_default():
        sc = tf.scatter_nd([[0], [2], [0]], tf.constant([1.0, 2.0, 3.0]), [4])
        seg = tf.unsorted_segment_sum(tf.constant([[1, 2], [3, 4], [5, 6]]), [1, 0, 1], 3)
        assert sc.shape.as_list() == [4] and seg.shape.as_list() == [3, 2]
        out = evaluate([sc, seg])
        with pytest.raises(tf.errors.InvalidArgumentError, match="segment_ids"):
            evaluate(tf.unsorted_segment_sum([1.0], [5], 2))
    np.testing.assert_array_equal(out[0], [4, 0, 2, 0])
    np.testing.assert_array_equal(out[1], [[3, 4], [6, 8], [0, 0]])


def test_where_indices_and_boolean_mask():
    with tf.Graph().as_default():
        x = tf.constant(X)
        w = tf.where(tf.equal(x % 7, 0))
        m = tf.boolean_mask(x, x[:, :, 0] > 20)
        m1 = tf.boolean_mask(x, [True, False, True, False, True], axis=2)
        assert w.dtype == tf.int64 and w.shape.as_list() == [None, 3]
        assert m.shape.as_list() == [None, 5] and m1.shape.as_list() == [3, 4, None]
        assert m.op.name == "boolean_mask"
        out = evaluate([w, m, m1])
        with pytest.raises(ValueError, match="incompatible"):
            tf.boolean_mask(x, [True, False])
    np.testing.assert_array_equal(out[0], np.argwhere(X % 7 == 0))
    np.testing.assert_array_equal(out[1], X[X[:, :, 0] > 20])
    np.testing.assert_array_equal(out[2], X[:, :, [0, 2, 4]])
