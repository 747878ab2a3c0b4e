"""``kernels.winograd_grad``: Conv2DBackpropFilter of stride-1 3x3 / 5x5 convs by Winograd
F(r x r, 4 x 4), against the NumPy reference."""

import numpy as np
import pytest

from jitgraph.kernels import winograd, winograd_grad
from jitgraph.ops.registry import OPS

ATTRS = {"strides": [1, 1, 1, 1], "dilations": [1, 1, 1, 1], "data_format": "NHWC", "use_cudnn_on_gpu": True}


@pytest.mark.parametrize("r", [3, 5])
def test_transforms_compute_the_correlation(r):
    """1-D: A'^T[(G' g) * (B^T d)] is the correlation of d (r + 3 values) with g (4), exactly."""
    bt, _ = winograd_grad._points(r + 3)
    rng = np.random.default_rng(r)
    d, g = rng.standard_normal(r + 3), rng.standard_normal(4)
    got = winograd_grad.grad_at(r) @ ((winograd_grad.grad_g(r) @ g) * (bt @ d))
    np.testing.assert_allclose(got, [d[a:a + 4] @ g for a in range(r)], rtol=1e-12, atol=1e-12)


def _check(x, dy, r, padding):
    sizes = np.array([r, r, x.shape[3], dy.shape[3]], np.int32)
    a = dict(ATTRS, padding=padding)
    want = OPS["Conv2DBackpropFilter"].compute(x.astype(np.float64), sizes, dy.astype(np.float64), **a)
    got = OPS["Conv2DBackpropFilter"].extra["fast"](x, sizes, dy, **a)
    assert got.dtype == x.dtype and got.shape == want.shape
    tol = 3e-5 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * np.abs(want).max())


_CASES = [(dtype, r, c, f, padding, hw)
          for dtype in (np.float32, np.float64)
          for r, c, f in [(3, 16, 16), (3, 17, 20), (5, 8, 8), (5, 33, 40)]
          for padding in ("SAME", "VALID")
          for hw in [(4, 4), (7, 9), (13, 6)]
          if padding == "SAME" or min(hw) >= r]


@pytest.mark.parametrize("dtype,r,c,f,padding,hw", _CASES)
def test_equals_the_reference(monkeypatch, dtype, r, c, f, padding, hw):
    monkeypatch.setattr(winograd_grad, "_MIN_TILES", 0)         # small shapes take the Winograd path too
    monkeypatch.setattr(winograd_grad, "_TILES", 5)             # several chunks, a ragged last one
    rng = np.random.default_rng(r + c + hw[0])
    x = rng.standard_normal((2,) + hw + (c,)).astype(dtype)
    oh, ow = (hw if padding == "SAME" else (hw[0] - r + 1, hw[1] - r + 1))
    dy = rng.standard_normal((2, oh, ow, f)).astype(dtype)
    assert winograd_grad.usable(x, (r, r, c, f), 1, 1, 1, 1)
    _check(x, dy, r, padding)


def test_p1_second_layer_takes_it():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((32, 14, 14, 32)).astype(np.float32)      # 512 tiles
    dy = rng.standard_normal((32, 14, 14, 64)).astype(np.float32)
    assert winograd_grad.usable(x, (5, 5, 32, 64), 1, 1, 1, 1)
    _check(x, dy, 5, "SAME")


def test_not_used_off_its_case(monkeypatch):
    x = np.zeros((64, 14, 14, 32), np.float32)
    assert not winograd_grad.usable(x, (5, 5, 32, 64), 2, 2, 1, 1)       # stride 2
    assert not winograd_grad.usable(x, (5, 5, 32, 64), 1, 1, 2, 2)       # dilation
    assert not winograd_grad.usable(x, (3, 5, 32, 64), 1, 1, 1, 1)       # not square
    assert not winograd_grad.usable(x[:, :, :, :4], (5, 5, 4, 64), 1, 1, 1, 1)    # few channels
    assert not winograd_grad.usable(x[:2], (5, 5, 32, 64), 1, 1, 1, 1)   # few tiles
    monkeypatch.setattr(winograd, "_WINOGRAD", False)
    assert not winograd_grad.usable(x, (5, 5, 32, 64), 1, 1, 1, 1)


def test_few_tiles_split_into_uneven_chunks():
    """513 tiles make nine chunks, the last of one tile, shared by the threads; the sum of their
    partials is the whole gradient."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((57, 12, 12, 16)).astype(np.float32)      # 57 x 3 x 3 tiles
    dy = rng.standard_normal((57, 12, 12, 32)).astype(np.float32)
    assert winograd_grad.usable(x, (3, 3, 16, 32), 1, 1, 1, 1)
    _check(x, dy, 3, "SAME")
