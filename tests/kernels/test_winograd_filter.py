"""The Winograd filter transform (``kernels/winograd_filter.py``) against NumPy's G w G^T, and its
cache."""

import numpy as np
import pytest

from jitgraph.kernels import winograd, winograd8, winograd_filter


def _want(w, g):
    return np.einsum("ai,ijcf,bj->abcf", g, w.astype(np.float64), g).reshape(g.shape[0] ** 2, *w.shape[2:])


@pytest.mark.parametrize("g", [winograd._wino_g(3), winograd8.wino_g()], ids=["3x3", "5x5"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cf", [(1, 1), (3, 5), (16, 32)])
def test_transform_and_flipped_transform_match_numpy(g, dtype, cf):
    """U = G w G^T, and with ``flipped`` the transform of the input gradient's filter w[::-1, ::-1]
    with its channel axes swapped, without that copy; summed in float64, rounded once."""
    r = g.shape[1]
    w = np.random.default_rng(sum(cf) + r).standard_normal((r, r) + cf).astype(dtype)
    winograd_filter._filters.clear()
    u = winograd_filter.filter_transform(w, g, dtype)
    assert u.dtype == dtype and u.shape == (g.shape[0] ** 2,) + cf
    np.testing.assert_allclose(u, _want(w, g).astype(dtype), rtol=1e-6, atol=1e-6)
    uf = winograd_filter.filter_transform(w, g, dtype, flipped=True)
    wf = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
    assert uf.shape == (g.shape[0] ** 2,) + cf[::-1]
    np.testing.assert_allclose(uf, _want(wf, g).astype(dtype), rtol=1e-6, atol=1e-6)
    assert len(winograd_filter._filters) == 2         # one entry each: the flipped one is not the forward's


def test_read_only_and_strided_filters():
    """A constant's read-only buffer and a strided view transform like their contiguous copies."""
    g = winograd._wino_g(3)
    w = np.random.default_rng(3).standard_normal((3, 3, 8, 10)).astype(np.float32)
    ro = w.copy()
    ro.flags.writeable = False
    view = np.random.default_rng(4).standard_normal((3, 3, 8, 20)).astype(np.float32)[..., ::2]
    for arr in (ro, view):
        np.testing.assert_allclose(winograd_filter.filter_transform(arr, g, np.float32),
                                   _want(np.ascontiguousarray(arr), g), rtol=1e-6, atol=1e-6)


def test_cache_keeps_one_entry_per_filter_array():
    """In training a filter's buffer holds new values every step: its one entry is replaced, not
    joined by stale ones that every later call would compare with; a hit is the kept transform."""
    g = winograd._wino_g(3)
    w = np.random.default_rng(16).standard_normal((3, 3, 4, 5)).astype(np.float32)
    winograd_filter._filters.clear()
    u = winograd_filter.filter_transform(w, g, np.float32)
    assert winograd_filter.filter_transform(w, g, np.float32) is u
    for _ in range(3):
        w += 0.5                                        # an in-place update
        old, u = u, winograd_filter.filter_transform(w, g, np.float32)
        assert u is not old                             # a conv still using the old U keeps it intact
        np.testing.assert_allclose(u, _want(w, g), rtol=1e-6, atol=1e-6)
    assert len(winograd_filter._filters) == 1


def test_a_nan_in_the_filter_is_never_a_cache_hit():
    """NaN != NaN: a filter holding one is transformed again (its U holds NaNs, as the conv's must)."""
    g = winograd._wino_g(3)
    w = np.ones((3, 3, 2, 2), np.float32)
    w[1, 1, 0, 0] = np.nan
    u = winograd_filter.filter_transform(w, g, np.float32)
    assert winograd_filter.filter_transform(w, g, np.float32) is not u
    assert np.isnan(u).any()


@pytest.mark.parametrize("r", [3, 5])
def test_gradient_from_points_sums_the_threads_parts_then_applies_a(r):
    """dW = A'^T (sum of the threads' M) A', in float64, rounded once to the parts' dtype."""
    from jitgraph.kernels import winograd_grad
    at = winograd_grad.grad_at(r)
    n = at.shape[1]
    parts = np.random.default_rng(r).standard_normal((3, n * n, 4, 6)).astype(np.float32)
    m = parts.astype(np.float64).sum(0).reshape(n, n, 4, 6)
    want = np.einsum("ai,bj,ijcf->abcf", at, at, m)
    got = winograd_filter.gradient_from_points(parts, at)
    assert got.dtype == np.float32 and got.shape == (r, r, 4, 6)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)
