"""``kernels.matmul``: ``_FusedMatMul``'s fast kernel (BLAS by row blocks + the in-cache bias and
activation of ``kernels.epilogue``) against its reference."""

import numpy as np
import pytest

from jitgraph.kernels import matmul
from jitgraph.ops import fused_ops
from jitgraph.ops.registry import OPS

FUSED = OPS["_FusedMatMul"]


def _check(a, b, bias, act, ta=False, tb=False):
    attrs = dict(transpose_a=ta, transpose_b=tb, fused_ops=("BiasAdd",) + ((act,) if act else ()))
    with np.errstate(all="ignore"):
        want = FUSED.compute(a, b, bias, **attrs)
        got = FUSED.extra["fast"](a, b, bias, **attrs)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    k = a.shape[0] if ta else a.shape[1]
    tol = (4e-6 if a.dtype == np.float32 else 1e-14) * np.sqrt(k)
    scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isinf(want), 0, want)), initial=0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)


@pytest.mark.parametrize("act", [None] + list(fused_ops.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 7), (17, 33, 10), (128, 300, 64), (200, 64, 1000)])
def test_equals_the_reference(act, dtype, shape):
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    a = (rng.standard_normal((m, k)) * 2).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    _check(a, b, bias, act)
    _check(a.T.copy(), b.T.copy(), bias, act, ta=True, tb=True)
    _check(a, b.T.copy(), bias, act, tb=True)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")          # inf * 0 in BLAS, on a worker thread
def test_row_blocks_and_special_values(monkeypatch):
    """Many blocks (a ragged last one), NaN and infinities flow through the activations as in NumPy."""
    monkeypatch.setattr(matmul, "_BLOCK_BYTES", 512)
    monkeypatch.setattr(matmul, "_SMALL_FLOPS", 0)
    monkeypatch.setattr(matmul, "BLOCKED", True)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((101, 9)).astype(np.float32)
    a[3, 2], a[7, 0], a[50, 4] = np.nan, np.inf, -np.inf
    b = rng.standard_normal((9, 37)).astype(np.float32)
    bias = rng.standard_normal(37).astype(np.float32)
    for act in [None] + list(fused_ops.ACTIVATIONS):
        _check(a, b, bias, act)


def test_other_dtypes_use_the_reference():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    b = np.ones((4, 2), np.int32)
    bias = np.array([1, -100], np.int32)
    attrs = dict(transpose_a=False, transpose_b=False, fused_ops=("BiasAdd", "Relu"))
    np.testing.assert_array_equal(FUSED.extra["fast"](a, b, bias, **attrs), FUSED.compute(a, b, bias, **attrs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (4, 0, 3), (0, 5, 2), (128, 3136 // 8, 1024 // 4), (512, 100, 40),
                                   (128, 1024 // 4, 3136 // 8)])
def test_matmul_equals_the_reference(dtype, shape):
    """MatMul's fast path: row blocks for tall outputs, column blocks for wide ones."""
    m, k, n = shape
    rng = np.random.default_rng(m * 3 + k + n)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    for ta, tb in [(False, False), (True, False), (False, True), (True, True)]:
        aa, bb = (a.T.copy() if ta else a), (b.T.copy() if tb else b)
        want = OPS["MatMul"].compute(aa, bb, transpose_a=ta, transpose_b=tb)
        got = OPS["MatMul"].extra["fast"](aa, bb, transpose_a=ta, transpose_b=tb)
        assert got.dtype == want.dtype and got.shape == want.shape
        tol = (4e-6 if dtype == np.float32 else 1e-14) * np.sqrt(max(k, 1)) * max(1.0, float(np.abs(want).max(initial=0)))
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_matmul_other_dtypes_and_bad_shapes():
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal(OPS["MatMul"].extra["fast"](a, a.T.copy(), transpose_a=False, transpose_b=False),
                                  a @ a.T)
    with pytest.raises(ValueError, match="Matrix size-incompatible"):
        OPS["MatMul"].extra["fast"](np.ones((2, 3)), np.ones((2, 3)), transpose_a=False, transpose_b=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(1, 3, 16), (3, 5, 49), (32, 128, 4096), (64, 7, 1024), (65, 7, 1100)])
def test_wide_input_gradient_equals_the_reference(dtype, m, k, n):
    """dy @ W.T of a small batch and a wide layer runs as (W @ dy.T).T: a new C-contiguous result."""
    rng = np.random.default_rng(m * n)
    dy, w = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((n, k)).astype(dtype)
    dy[0, 0] = np.nan
    got = OPS["MatMul"].extra["fast"](dy, w, transpose_a=False, transpose_b=True)
    want = OPS["MatMul"].compute(dy, w, transpose_a=False, transpose_b=True)
    assert got.flags.c_contiguous and got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    tol = (4e-6 if dtype == np.float32 else 1e-14) * np.sqrt(k) * max(1.0, float(np.nanmax(np.abs(want[1:]), initial=0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
