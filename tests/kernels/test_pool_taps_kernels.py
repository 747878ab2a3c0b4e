"""``kernels.pool_taps``: the 2x2 pool that records its windows' taps, and the gradient from the
taps, against MaxPool and MaxPoolGrad's references (bitwise: no arithmetic but ``g + 0``) and
against ``_MaxPoolTaps``/``_MaxPoolGradTaps``'s own references; ties, NaN, -inf, both dtypes."""

import numpy as np
import pytest

from jitgraph.kernels import pool, pool_taps
from jitgraph.ops import nn_conv, nn_pool_taps
from jitgraph.ops.registry import OPS

ATTRS = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID", "data_format": "NHWC"}


def _inputs(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(dtype)       # small integers: many ties
    flat = x.reshape(-1)
    flat[rng.integers(0, flat.size, 5)] = np.nan
    flat[rng.integers(0, flat.size, 5)] = -np.inf
    x[0, :2, :2, 0] = -np.inf                          # one window of -inf only
    g = rng.standard_normal((shape[0], shape[1] // 2, shape[2] // 2, shape[3])).astype(dtype)
    g[0, 0, 0, -1] = -0.0
    return x, g


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 2, 2, 1), (2, 6, 4, 3), (3, 8, 10, 17), (4, 32, 32, 32)])
def test_same_values_as_max_pool_and_its_gradient(dtype, shape, parallel, monkeypatch):
    if parallel:
        monkeypatch.setattr(pool, "_PARALLEL_MIN_2X2", 0)
    x, g = _inputs(dtype, shape, sum(shape))
    y, taps = pool_taps.max_pool_taps_fast(x, **ATTRS)
    np.testing.assert_array_equal(y, nn_conv._max_pool(x, **ATTRS))
    dx = pool_taps.max_pool_grad_taps_fast(taps, g, **ATTRS)
    want = nn_conv._max_pool_grad(x, y, g, **ATTRS)
    np.testing.assert_array_equal(dx, want)
    assert np.array_equal(np.signbit(dx), np.signbit(want))          # -0 became +0 alike
    ry, rtaps = OPS["_MaxPoolTaps"].compute(x, **ATTRS)
    np.testing.assert_array_equal(taps, rtaps)
    np.testing.assert_array_equal(OPS["_MaxPoolGradTaps"].compute(taps, g, **ATTRS), want)


def test_only_exactly_tiling_2x2_windows():
    assert nn_pool_taps.tiles_2x2([None, 4, 6, 3], ATTRS)
    assert not nn_pool_taps.tiles_2x2([None, 5, 6, 3], ATTRS)
    assert not nn_pool_taps.tiles_2x2([None, None, 6, 3], ATTRS)
    assert not nn_pool_taps.tiles_2x2([None, 4, 6, 3], dict(ATTRS, ksize=[1, 3, 3, 1]))
    assert not nn_pool_taps.tiles_2x2([None, 4, 6, 3], dict(ATTRS, data_format="NCHW"))
