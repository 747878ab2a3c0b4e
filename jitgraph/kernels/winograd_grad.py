"""Conv2DBackpropFilter of stride-1 3x3 and 5x5 convs by Winograd.

dW[a, b, c, f] = sum over images and output pixels (i, j) of x[n, i + a - top, j + b - left, c] *
dy[n, i, j, f].  Cut the output grid into the 4x4 tiles of the forward Winograd: per tile and
channel pair this is a 2-D correlation of the tile's (r+3) x (r+3) input window (the forward's V
tile) with the 4x4 tile of dy, giving r x r outputs: Winograd F(r x r, 4 x 4) on the same points
as the forward's F(4 x 4, r x r), so the input transform is the forward's (B^T d B), dy's tiles
are transformed by G' (n x 4, ``grad_g``) and the sum over tiles runs in the transformed domain:

    dW[:, :, c, f] = A'^T (sum over tiles of V[tile, c] * U[tile, f]) A'

i.e. n*n GEMMs [C, tiles] x [tiles, F] per chunk of tiles, summed into one partial per thread
(``winograd_jit.grad_chunks``, on all threads), then one small output transform in float64.
P1's second layer (5x5, 32 -> 64 on 14x14, batch 128): 2.6 GFLOP of im2col products become 0.54
GFLOP of GEMMs plus the transforms.

Error: Winograd's transforms add rounding; measured against the float64 reference below 1e-5 of
the gradient's largest magnitude in float32 (im2col + BLAS: ~5e-7).  ``JITGRAPH_CONV_WINOGRAD=0``
turns this off with the forward Winograd.
"""

import functools

import numpy as np

from jitgraph.kernels import blas, winograd, winograd8, winograd_filter, winograd_jit
from jitgraph.kernels.blas import FAST_DTYPES

#: Tiles per chunk (``winograd_jit.grad_chunks``). Both threads, after a 0.3 ms pause, medians (us):
#: 3x3 16 -> 32 on 16 x 14x14 (256 tiles): 32 / 64 / 128 / 256 tiles 278 / 274 / 284 / 334 (im2col
#: 441); P1's 5x5 32 -> 64 on 128 x 14x14: 5928 / 6080 / 6264 / 6950 (im2col 15894).
_TILES = 64
_MIN_TILES = 128      # below, im2col + BLAS measured faster (3x3 16 -> 32, 14x14: 8 images, 128 tiles, even)


def usable(x, w_shape, sh, sw, dh, dw):
    """Stride 1, no dilation, square 3x3 or 5x5 filters, enough channels for the GEMMs to pay for
    the transforms (the forward's thresholds) and enough 4x4 tiles.  Measured on 2 threads (ms,
    Winograd / im2col): P1's 5x5 32 -> 64 on 128 x 14x14: 6.1 / 15.9; 3x3 16 -> 32 on 16 x 14x14:
    0.27 / 0.44.  Not where Numba cannot call a BLAS (``blas.numba_can_call_blas``)."""
    kh, kw, c, f = w_shape
    n, h, wd = x.shape[:3]
    return (winograd._WINOGRAD and blas.numba_can_call_blas() and kh == kw and kh in (3, 5)
            and sh == sw == dh == dw == 1 and x.dtype in FAST_DTYPES and min(c, f) >= {3: 16, 5: 8}[kh]
            and h >= 4 and wd >= 4
            and n * -(-h // 4) * -(-wd // 4) >= _MIN_TILES)


def _points(n):
    """(B^T (n x n), the interpolation points in B^T's row order but the last (inf))."""
    if n == 8:
        return winograd8._BT, np.array([0, 1, -1, 2, -2, 0.5, -0.5])
    bt = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                   [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float)
    return bt, np.array([0, 1, -1, 2, -2])


@functools.lru_cache(maxsize=None)
def grad_at(r):
    """A'^T (r x n): rows p^k (k < r) over the finite points, 1 at the last row for inf."""
    n = r + 3
    _, pts = _points(n)
    at = np.zeros((r, n))
    at[:, :n - 1] = pts[None, :] ** np.arange(r)[:, None]
    at[r - 1, n - 1] = 1
    return at


@functools.lru_cache(maxsize=None)
def grad_g(r):
    """G' (n x 4) with A'^T[(G' g) * (B^T d)] = the correlation of d (n) with g (4): solved in float64."""
    n = r + 3
    bt, _ = _points(n)
    at = grad_at(r)
    sys_ = np.einsum("ik,kl->ilk", at, bt).reshape(-1, n)
    g = np.zeros((n, 4))
    for j in range(4):
        shift = np.zeros((r, n))
        shift[np.arange(r), np.arange(r) + j] = 1
        g[:, j] = np.linalg.lstsq(sys_, shift.reshape(-1), rcond=None)[0]
    return g


@functools.lru_cache(maxsize=None)
def padded_g(r, dtype):
    """G' in ``dtype`` as ``winograd_jit.grad_dy_in`` takes it: 8 rows, the last one (G'[n-1], which
    is (0, 0, 0, 1)) at row 7 for r = 5 or row 5 for r = 3 (``g4``); the rows of each pair of points
    +-p differ in the sign of the odd columns (checked here: ``g4`` computes the second row from the
    first)."""
    n = r + 3
    g = np.zeros((8, 4))
    g[:n] = grad_g(r)
    g[7] = g[n - 1]
    odd = np.array([1, -1, 1, -1])
    for k in (1, 3, 5):
        if k + 1 < n - 1 and not np.allclose(g[k + 1], g[k] * odd, rtol=0, atol=1e-12):
            raise AssertionError(f"G' rows {k}, {k + 1} are not a +-p pair: {g[k]}, {g[k + 1]}")
    return g.astype(dtype)


def filter_grad(x, dy, r, top, left):
    """dW ([r, r, C, F]) of the stride-1 r x r conv of ``x`` (NHWC, padded ``top``/``left`` before)
    whose output gradient is ``dy``."""
    n, h, wd, c = x.shape
    _, oh, ow, f = dy.shape
    nt = r + 3
    sq = nt * nt
    th, tw = -(-oh // 4), -(-ow // 4)
    total = n * th * tw
    k = winograd8.constants(winograd8._CONSTS if nt == 8 else winograd.CONSTS, x.dtype)
    g = padded_g(r, x.dtype)
    nch = -(-total // _TILES)
    slots = blas.lent_slots(nch)
    pad = _TILES + 1
    vs = blas.scratch(slots * sq * pad, c, x.dtype, "V").reshape(slots, sq, pad, c)
    us = blas.scratch(slots * sq * pad, f, x.dtype, "M").reshape(slots, sq, pad, f)
    ds = blas.scratch(slots * 2 * nt, nt * c, x.dtype, "d").reshape(slots, 2, nt, nt * c)
    ts = blas.scratch(slots * 8, 4 * f, x.dtype, "gt").reshape(slots, 8, 4 * f)
    es = blas.scratch(slots * 4, 4 * f, x.dtype, "ge").reshape(slots, 4, 4 * f)
    parts = np.zeros((slots, sq, c, f), x.dtype)            # one partial sum per thread
    sync = np.zeros(3, np.int64)
    blas.run_lent(winograd_jit.grad_chunks, (np.ascontiguousarray(x), np.ascontiguousarray(dy), g, vs, us, ds, ts, es,
                                             parts, sync, nch, _TILES, total, th, tw, top, left, k), slots)
    return winograd_filter.gradient_from_points(parts, grad_at(r))
