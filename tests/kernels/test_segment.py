"""``kernels.segment``: ``UnsortedSegmentSum``'s fast path gives the reference's bits (it adds in
the same order), falls back for other dtypes, and raises the reference's error for bad ids."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph import errors
from jitgraph.ops.registry import OPS

OP = OPS["UnsortedSegmentSum"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_shape,ids_shape,n", [
    ((1280, 32), (1280,), 500),        # an embedding gradient: many repeated rows
    ((7,), (7,), 3),                   # scalar rows
    ((4, 5, 3, 2), (4, 5), 6),         # 2-d ids, 2-d rows
    ((0, 3), (0,), 4),                 # no rows
    ((3, 0), (3,), 2),                 # empty rows
    ((5, 3), (5,), 0 + 9),             # segments nobody hits stay zero
])
def test_fast_path_is_bitwise_the_reference(dtype, data_shape, ids_shape, n):
    rng = np.random.default_rng(len(data_shape) * 7 + n)
    data = (rng.standard_normal(data_shape) * 1e3).astype(dtype)
    ids = rng.integers(0, max(n // 2, 1), ids_shape).astype(np.int32)
    got, want = OP.extra["fast"](data, ids, n), OP.compute(data, ids, n)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_non_finite_values_and_int64_ids():
    data = np.array([[1.0, np.inf], [np.nan, -0.0], [2.0, -np.inf]], np.float32)
    ids = np.array([1, 1, 0], np.int64)
    np.testing.assert_array_equal(OP.extra["fast"](data, ids, 2), OP.compute(data, ids, 2))


def test_other_dtypes_take_the_reference():
    data = np.arange(12, dtype=np.int32).reshape(6, 2)
    ids = np.array([0, 2, 2, 1, 0, 2])
    np.testing.assert_array_equal(OP.extra["fast"](data, ids, 3), OP.compute(data, ids, 3))


def test_out_of_range_id_is_the_reference_error():
    with pytest.raises(errors.InvalidArgumentError, match=r"segment_ids\[1\] = 5 is not in \[0, 3\)"):
        OP.extra["fast"](np.ones((2, 2), np.float32), np.array([0, 5]), 3)


def test_embedding_gradient_in_a_compiled_plan_matches_the_reference():
    ids0 = np.random.default_rng(1).integers(0, 50, (16, 9))
    out = []
    for mode in ("never", "eager"):
        from jitgraph.compiler import config
        prev = config.set_compile_mode(mode)
        try:
            with tf.Graph().as_default():
                ids = tf.placeholder(tf.int32, [None, 9])
                emb = tf.Variable(np.linspace(-1, 1, 50 * 4, dtype=np.float32).reshape(50, 4))
                loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(emb, ids)))
                step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
                with tf.Session() as sess:
                    sess.run(tf.global_variables_initializer())
                    sess.run(step, {ids: ids0})
                    out.append(sess.run(emb))
        finally:
            config.set_compile_mode(prev)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6, atol=1e-6)   # (the update contracts to FMAs)
    assert not np.allclose(out[0], np.linspace(-1, 1, 200, dtype=np.float32).reshape(50, 4))


# ---- sparse_sgd_in_place: _SparseGradientDescent's row update --------------------------------------
from jitgraph.kernels.segment import sparse_sgd_in_place  # noqa: E402
from jitgraph.ops.fused_ops import _sparse_sgd_rows  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("var_shape,n_ids", [((500, 16), 300), ((40,), 64), ((9, 2, 3), 5), ((3, 1), 1),
                                             ((6, 4), 0)])
def test_sparse_sgd_in_place_is_bitwise_the_reference(dtype, var_shape, n_ids):
    rng = np.random.default_rng(n_ids)
    var = (rng.standard_normal(var_shape) * 10).astype(dtype)
    ids = rng.integers(0, max(var_shape[0] // 3, 1), n_ids)          # many repeats
    data = (rng.standard_normal((n_ids,) + var_shape[1:]) * 1e3).astype(dtype)
    lr = dtype(0.37)
    before = var.copy()
    want_rows, want = _sparse_sgd_rows(before, lr, data, ids)
    rows, old = sparse_sgd_in_place(var, lr, data, ids)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(old, before[rows])
    np.testing.assert_array_equal(var[rows], want)
    dense = np.zeros_like(before)                  # = the chain the op replaces
    np.add.at(dense, ids, data)
    np.testing.assert_array_equal(var, before - lr * dense)


def test_sparse_sgd_in_place_declines_other_dtypes_layouts_and_bad_ids():
    assert sparse_sgd_in_place(np.ones((4, 2), np.float16), np.float16(1), np.ones((1, 2), np.float16),
                               np.array([0])) is None
    assert sparse_sgd_in_place(np.ones((4, 4), np.float32)[:, ::2], np.float32(1), np.ones((1, 2), np.float32),
                               np.array([0])) is None
    var = np.ones((4, 2), np.float32)                 # an id out of range: nothing written
    assert sparse_sgd_in_place(var, np.float32(1), np.ones((3, 2), np.float32), np.array([1, 0, 4])) is None
    np.testing.assert_array_equal(var, 1.0)
