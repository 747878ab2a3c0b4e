"""Winograd F(4x4, 5x5) on 8x8 tiles for stride-1 5x5 convs (see ``conv``/``winograd``).

8 interpolation points 0, +-1, +-2, +-1/2, inf (NNPACK's F(6x6, 3x3) set): 64 products per 4x4 output
tile against F(2x2, 5x5)'s 36 per 2x2 tile, so 2.25x fewer GEMM multiplies, and V/M hold 64/16 = 4
values per output pixel instead of 9 (less memory traffic through the transforms).  The points 2
and 1/2 raise the transforms' constants (5.25, 32/45), yet W6's float32 error measured the same as
F(2x2, 5x5)'s: 4.4e-6 of the output's max (im2col: 6.6e-7).

Per chunk of tiles a Numba loop applies B^T d B (vectorized over channels), 64 GEMMs do the
[tiles, C] x [C, F] products, and a Numba loop applies A^T M A (plus an optional bias and ReLU) into
the output (``tiled_conv``).
"""

import functools

import numpy as np

from jitgraph.kernels import blas, winograd_filter, winograd_jit

# B^T (8 x 8) and A^T (4 x 8) for points 0, 1, -1, 1/2, -1/2, 2, -2, inf (rows of B^T in that order).
_BT = np.array([[1, 0, -21 / 4, 0, 21 / 4, 0, -1, 0],
                [0, 1, 1, -17 / 4, -17 / 4, 1, 1, 0],
                [0, -1, 1, 17 / 4, -17 / 4, -1, 1, 0],
                [0, 1 / 2, 1 / 4, -5 / 2, -5 / 4, 2, 1, 0],
                [0, -1 / 2, 1 / 4, 5 / 2, -5 / 4, -2, 1, 0],
                [0, 2, 4, -5 / 2, -5, 1 / 2, 1, 0],
                [0, -2, 4, 5 / 2, -5, -1 / 2, 1, 0],
                [0, -1, 0, 21 / 4, 0, -21 / 4, 0, 1]])
_AT = np.array([[1, 1, 1, 1, 1, 1, 1, 0],
                [0, 1, -1, 2, -2, 1 / 2, -1 / 2, 0],
                [0, 1, 1, 4, 4, 1 / 4, 1 / 4, 0],
                [0, 1, -1, 8, -8, 1 / 8, -1 / 8, 1]])
_CONSTS = (5.25, 4.25, 0.25, 1.25, 0.5, 2.5, 2.0, 4.0, 5.0, 8.0, 0.125)


@functools.lru_cache(maxsize=None)
def wino_g():
    """G (8 x 5) with A^T[(G g) * (B^T d)] = correlation of d (8) with g (5): solved in float64."""
    sys_ = np.einsum("ik,kl->ilk", _AT, _BT).reshape(-1, 8)
    g = np.zeros((8, 5))
    for j in range(5):
        shift = np.zeros((4, 8))
        shift[np.arange(4), np.arange(4) + j] = 1
        g[:, j] = np.linalg.lstsq(sys_, shift.reshape(-1), rcond=None)[0]
    return g


@functools.lru_cache(maxsize=None)
def constants(consts, dtype):
    """A transform's constants as a tuple of ``dtype`` scalars: its length picks the transforms
    when Numba compiles a driver (``winograd_jit.tile_in``)."""
    return tuple(np.array(consts, dtype))


#: Tiles per chunk (``winograd_jit.conv_chunks``; the forward and the gradients alike). Both threads,
#: one conv after a 0.3 ms pause (how a plan's steps meet it), medians: the C2 CNN's 3x3 16 -> 32 on
#: 16 x 14x14: 16 / 32 / 64 / 128 tiles 299 / 309 / 304 / 312 us (one thread: 394; the Python chunks
#: this replaced: 440); W6's 5x5: 903 / 908 / 907 / 1038 (1110); P1's 5x5 32 -> 64 on 128 x 14x14:
#: 6.67 / 6.37 / 6.60 / 6.95 ms (6.50).
TILES = 32


def conv(x, w, top, left, oh, ow, out=None, bias=None, relu=False, flipped=False):
    """Stride-1 5x5 conv by Winograd F(4x4, 5x5): 64 GEMMs [tiles, C] x [C, F] per chunk of tiles;
    ``bias`` ([F]) is added and ``relu`` applied in the output transform."""
    return tiled_conv(x, w, wino_g(), _CONSTS, 8, top, left, oh, ow, out, bias, relu, flipped)


def tiled_conv(x, w, g, consts, tile, top, left, oh, ow, out, bias, relu, flipped=False):
    """The Winograd driver shared by F(4x4, 5x5) (8x8 tiles) and F(4x4, 3x3) (6x6 tiles): chunks of
    ``TILES`` 4x4 output tiles, each transformed into V (B^T d B), multiplied by the transformed
    filter point by point, and written as A^T M A (+ bias, ReLU) into the output, by
    ``winograd_jit.conv_chunks`` on all threads (``blas.run_lent``). ``flipped``: with the filter
    w[::-1, ::-1] with its channel axes swapped (``winograd_filter``), as an input gradient does."""
    n, h, wd, c = x.shape
    u = winograd_filter.filter_transform(w, g, x.dtype, flipped)
    f = u.shape[2]
    th, tw = -(-oh // 4), -(-ow // 4)
    total = n * th * tw
    nch = -(-total // TILES)
    k = constants(consts, x.dtype)
    bias = np.zeros(f, x.dtype) if bias is None else np.ascontiguousarray(bias, x.dtype)
    if out is None:
        out = np.empty((n, oh, ow, f), x.dtype)
    slots = blas.lent_slots(nch)
    sq = tile * tile
    vs = blas.scratch(slots * sq * (TILES + 1), c, x.dtype, "V").reshape(slots, sq, TILES + 1, c)
    ms = blas.scratch(slots * sq * (TILES + 1), f, x.dtype, "M").reshape(slots, sq, TILES + 1, f)
    ds = blas.scratch(slots * 2 * tile, tile * c, x.dtype, "d").reshape(slots, 2, tile, tile * c)
    zs = blas.scratch(slots * 4 * tile, f, x.dtype, "z").reshape(slots, 4, tile, f)
    sync = np.zeros(3, np.int64)
    blas.run_lent(winograd_jit.conv_chunks, (np.ascontiguousarray(x), u, out, bias, bool(relu), vs, ms, ds, zs, sync,
                                             nch, TILES, total, th, tw, top, left, k), slots)
    return out
