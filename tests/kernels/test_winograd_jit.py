"""``kernels.winograd_jit``'s native chunk drivers: calls on several threads share one conv (or
filter gradient) through the counters in ``sync``, each in its own scratch slot, and give what one
call alone gives (``blas.run_lent`` lends them; ``test_conv``/``test_winograd_grad`` check the ops
against the reference)."""

import threading

import numpy as np
import pytest

from jitgraph.kernels import blas, winograd, winograd8, winograd_filter, winograd_grad, winograd_jit


def _conv_args(x, w, tiles, slots):
    """``conv_chunks``' arguments but ``lead`` for a 3x3 SAME conv of ``x`` with ``w``, bias 0.5, ReLU."""
    n, h, wd, c = x.shape
    f = w.shape[3]
    th, tw = -(-h // 4), -(-wd // 4)
    total = n * th * tw
    u = winograd_filter.filter_transform(w, winograd._wino_g(3), x.dtype)
    out = np.full((n, h, wd, f), np.nan, x.dtype)
    scratch = (np.empty((slots, 36, tiles + 1, c), x.dtype), np.empty((slots, 36, tiles + 1, f), x.dtype),
               np.empty((slots, 2, 6, 6 * c), x.dtype), np.empty((slots, 4, 6, f), x.dtype))
    return (x, u, out, np.full(f, 0.5, x.dtype), True, *scratch, np.zeros(3, np.int64), -(-total // tiles), tiles,
            total, th, tw, 1, 1, winograd8.constants(winograd.CONSTS, x.dtype))


def _together(kernel, args, helpers):
    """``kernel(*args, 0)`` on ``helpers`` threads started first, then ``kernel(*args, 1)`` here."""
    go = threading.Barrier(helpers + 1)
    threads = [threading.Thread(target=lambda: (go.wait(), kernel(*args, 0))) for _ in range(helpers)]
    for t in threads:
        t.start()
    go.wait()
    kernel(*args, 1)
    for t in threads:
        t.join()


@pytest.mark.parametrize("helpers", [0, 1, 3])
def test_conv_chunks_on_several_threads_give_the_one_thread_bits(helpers):
    """Ragged chunks (3 tiles; 2 x 5 x 4 = 40 tiles) shared by up to four calls: every tile is
    written once, by the same arithmetic, whichever call claimed it."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 17, 14, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 24)).astype(np.float32)
    alone = _conv_args(x, w, 3, 1)
    winograd_jit.conv_chunks(*alone, 1)
    want = np.maximum(winograd.conv(x, w, 1, 1, 17, 14, None, np.full(24, 0.5, np.float32), False), 0)
    np.testing.assert_allclose(alone[2], want, rtol=0, atol=1e-4)
    for _ in range(5):
        args = _conv_args(x, w, 3, helpers + 1)
        _together(winograd_jit.conv_chunks, args, helpers)
        np.testing.assert_array_equal(args[2], alone[2])
        assert args[9].tolist() == [args[10] + helpers + 1, args[10], helpers + 1]   # claims, done, slots


@pytest.mark.parametrize("helpers", [0, 1])
def test_grad_chunks_on_two_threads_sum_every_tile_once(helpers, monkeypatch):
    """The filter gradient's per-thread partial sums add up to the one-thread gradient."""
    monkeypatch.setattr(winograd_grad, "_TILES", 3)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 9, 11, 16)).astype(np.float64)
    dy = rng.standard_normal((3, 9, 11, 20)).astype(np.float64)
    monkeypatch.setattr(blas, "lent_slots", lambda nch: 1)
    alone = winograd_grad.filter_grad(x, dy, 3, 1, 1)
    calls = []

    def run_lent(kernel, args, slots):
        calls.append(slots)
        _together(kernel, args, slots - 1)
    monkeypatch.setattr(blas, "lent_slots", lambda nch: helpers + 1)
    monkeypatch.setattr(blas, "run_lent", run_lent)
    got = winograd_grad.filter_grad(x, dy, 3, 1, 1)
    assert calls == [helpers + 1]
    np.testing.assert_allclose(got, alone, rtol=0, atol=1e-12 * np.abs(alone).max())
