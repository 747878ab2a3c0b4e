"""TF's answers at the edges of constant/fill/zeros (recorded from TF 2.21, tf.compat.v1)."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, gradient_error


def test_empty_python_list_is_float32(g):
    assert tf.constant([]).dtype == tf.float32          # TF: float32
    assert tf.constant([[]]).dtype == tf.float32


def test_fill_takes_int64_dims_and_has_a_gradient(g):
    dims = tf.constant(np.array([2, 3], np.int64))
    assert evaluate(tf.fill(dims, 1.5)).shape == (2, 3)
    # d sum(fill(dims, v) * w) / dv = sum(w)
    err = gradient_error(lambda v: tf.fill([2, 3], tf.reshape(v, [])), [np.array([0.7])])
    assert err < 1e-6


def test_zeros_of_partly_known_shape_is_a_value_error(g):
    with pytest.raises(ValueError, match="partially known"):
        tf.zeros(tf.TensorShape([None, 3]))


def test_zeros_ones_fill_take_shape_lists_holding_tensors():
    """``tf.zeros([tf.shape(x)[0], 10])`` (a batch-sized state or mask): a Fill whose static shape
    keeps the known dims, as TF's ([None, 10]); it raised TypeError."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        n = tf.shape(x)[0]
        outs = [tf.zeros([n, 10]), tf.ones((n, 2), tf.int32), tf.fill([n, 2], 3.5), tf.fill(tf.shape(x), 1.0)]
        assert [o.shape.as_list() for o in outs] == [[None, 10], [None, 2], [None, 2], [None, 3]]
        assert outs[1].dtype == tf.int32
        with tf.Session() as sess:
            got = sess.run(outs, {x: np.ones((4, 3), np.float32)})
    np.testing.assert_array_equal(got[0], np.zeros((4, 10), np.float32))
    np.testing.assert_array_equal(got[1], np.ones((4, 2), np.int32))
    np.testing.assert_array_equal(got[2], np.full((4, 2), 3.5, np.float32))
    np.testing.assert_array_equal(got[3], np.ones((4, 3), np.float32))
