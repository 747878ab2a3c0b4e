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
