"""Linear algebra (``jitgraph/ops/linalg_ops.py``): matmul in all transpose/batch forms against
NumPy, TF's op names and errors, tensordot, eye."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32)
B = rng.standard_normal((4, 5)).astype(np.float32)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_transposes(ta, tb):
    a, b = (A.T.copy() if ta else A), (B.T.copy() if tb else B)
    with tf.Graph().as_default():
        y = tf.matmul(a, b, transpose_a=ta, transpose_b=tb)
        assert y.op.type == "MatMul" and y.shape.as_list() == [3, 5]
        out = evaluate(y)
    np.testing.assert_allclose(out, A @ B, rtol=1e-5)


def test_batch_matmul_broadcasts_batch_dims_and_accepts_ints():
    x = rng.standard_normal((2, 1, 3, 4)).astype(np.float32)
    y = rng.standard_normal((5, 4, 2)).astype(np.float32)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 1, 3, 4])
        z = tf.matmul(p, y)
        zt = tf.matmul(y, p, adjoint_a=True, adjoint_b=True)
        i = tf.matmul(tf.constant([[1, 2]]), tf.constant([[3], [4]]))
        assert z.op.type == "BatchMatMulV2" and z.shape.as_list() == [None, 5, 3, 2]
        assert zt.shape.as_list() == [None, 5, 2, 3]
        out = evaluate([z, zt, i], {p: x})
    np.testing.assert_allclose(out[0], x @ y, rtol=1e-5)
    np.testing.assert_allclose(out[1], np.swapaxes(y, -1, -2) @ np.swapaxes(x, -1, -2), rtol=1e-5)
    assert out[2].dtype == np.int32 and out[2][0, 0] == 11


def test_matmul_names_follow_tf():
    with tf.Graph().as_default():
        a, b = tf.constant(A), tf.constant(B)
        names = [tf.matmul(a, b).op.name, tf.matmul(a, b).op.name, (a @ b).op.name, tf.tensordot(a, b, 1).op.name]
    assert names == ["MatMul", "MatMul_1", "matmul_2", "Tensordot"]


@pytest.mark.parametrize("build,exc,fragment", [
    (lambda: tf.matmul(tf.zeros([2, 3]), tf.zeros([2, 3])), ValueError, "Dimensions must be equal, but are 3 and 2"),
    (lambda: tf.matmul(tf.zeros([2, 3]), tf.zeros([3, 2], tf.float64)), TypeError, "float64 that does not match"),
    (lambda: tf.matmul(tf.zeros([3]), tf.zeros([3, 2])), ValueError, "at least rank 2"),
    (lambda: tf.matmul(tf.constant([[True]]), tf.constant([[True]])), TypeError, "bool"),
    (lambda: tf.matmul(tf.zeros([2, 2, 3]), tf.zeros([3, 3, 2])), ValueError, "Dimensions must be equal"),
    (lambda: tf.tensordot(tf.zeros([2, 3]), tf.zeros([2, 3]), 1), ValueError, "Dimensions must be equal"),
])
def test_build_time_errors(build, exc, fragment):
    with tf.Graph().as_default():
        with pytest.raises(exc, match=fragment):
            build()


def test_tensordot_forms():
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y = rng.standard_normal((4, 3, 5)).astype(np.float32)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 3, 4])
        r = {"pair": tf.tensordot(p, y, [[1, 2], [1, 0]]), "int": tf.tensordot(p, y, 1), "outer": tf.tensordot(A, B, 0),
             "scalar": tf.tensordot(A, A, 2)}
        assert r["pair"].shape.as_list() == [None, 5] and r["outer"].shape.as_list() == [3, 4, 4, 5]
        out = evaluate(r, {p: x})
    np.testing.assert_allclose(out["pair"], np.tensordot(x, y, [[1, 2], [1, 0]]), rtol=1e-5)
    np.testing.assert_allclose(out["int"], np.tensordot(x, y, 1), rtol=1e-5)
    np.testing.assert_allclose(out["outer"], np.tensordot(A, B, 0), rtol=1e-5)
    np.testing.assert_allclose(out["scalar"], (A * A).sum(), rtol=1e-5)


def test_eye_static_dynamic_and_batched():
    with tf.Graph().as_default():
        n = tf.placeholder(tf.int32, [])
        r = {"sq": tf.eye(3), "rect": tf.eye(2, 3, dtype=tf.int32), "batch": tf.eye(2, batch_shape=[3]),
             "dyn": tf.eye(n), "t": tf.linalg.matrix_transpose(tf.zeros([4, 2, 3]))}
        assert r["sq"].op.type == "Const" and r["dyn"].shape.as_list() == [None, None]
        assert r["t"].shape.as_list() == [4, 3, 2] and tf.linalg.matmul is tf.matmul
        out = evaluate(r, {n: 4})
    np.testing.assert_array_equal(out["sq"], np.eye(3))
    np.testing.assert_array_equal(out["rect"], np.eye(2, 3, dtype=np.int32))
    assert out["batch"].shape == (3, 2, 2) and (out["batch"] == np.eye(2)).all()
    np.testing.assert_array_equal(out["dyn"], np.eye(4))
