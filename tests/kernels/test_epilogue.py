"""``kernels.epilogue``: the bias's gradient (``BiasAddGrad``'s fast path) against exact sums and
the NumPy reference, for odd channel counts, both dtypes, views and the layouts it hands back."""

import math

import numpy as np
import pytest

from jitgraph.ops.registry import OPS

FAST, REF = OPS["BiasAddGrad"].extra["fast"], OPS["BiasAddGrad"].compute


def _exact(g, axis):
    moved = np.moveaxis(g.astype(np.float64), axis, -1).reshape(-1, g.shape[axis])
    return np.array([math.fsum(moved[:, k]) for k in range(moved.shape[1])])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (2, 7, 9, 16), (3, 4, 5, 37), (16, 28, 28, 16), (2, 3, 1030)])
def test_sums_each_channel_correctly_rounded(dtype, shape):
    g = np.random.default_rng(len(shape) * 100 + shape[-1]).standard_normal(shape).astype(dtype)
    got, ref = FAST(g, data_format="NHWC"), REF(g, data_format="NHWC")
    assert got.dtype == ref.dtype == dtype and got.shape == ref.shape == (shape[-1],)
    exact = _exact(g, g.ndim - 1)
    scale = np.abs(g).reshape(-1, shape[-1]).sum(axis=0, dtype=np.float64)
    eps = np.finfo(dtype).eps
    # float64 accumulation: the result's own rounding (plus float64 error, far below it)
    assert np.all(np.abs(got - exact) <= eps * np.abs(exact) + 1e-15 * scale)
    # the reference accumulates in the dtype: n * eps of the absolute sum at worst
    rows = g.size // shape[-1]
    assert np.all(np.abs(got - ref) <= rows * eps * scale + eps * np.abs(exact))


def test_views_nchw_empty_and_other_dtypes_follow_the_reference():
    rng = np.random.default_rng(3)
    g = rng.standard_normal((4, 6, 8, 10)).astype(np.float32)[:, ::2, 1::3]      # strided view
    np.testing.assert_allclose(FAST(g, data_format="NHWC"), _exact(g, 3), rtol=1e-6)
    nchw = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(FAST(nchw, data_format="NCHW"), REF(nchw, data_format="NCHW"))
    empty = np.zeros((0, 7), np.float32)
    np.testing.assert_array_equal(FAST(empty, data_format="NHWC"), np.zeros(7, np.float32))
    ints = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    got = FAST(ints, data_format="NHWC")
    assert got.dtype == np.int32 and np.array_equal(got, REF(ints, data_format="NHWC"))
    special = np.array([[1.0, np.inf], [np.nan, 2.0], [3.0, -np.inf]], np.float32)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(FAST(special, data_format="NHWC"), REF(special, data_format="NHWC"))
