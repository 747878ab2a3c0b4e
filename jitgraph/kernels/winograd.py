"""Winograd for stride-1 convs (see ``conv``): F(4x4, 3x3) on 6x6 tiles here, F(4x4, 5x5) on
8x8 tiles in ``winograd8``; ``usable`` and ``conv`` pick between them.

Per chunk of output tiles a Numba loop transforms the 6x6 input tiles (B^T d B, vectorized over
channels), 36 GEMMs [tiles, C] x [C, F] multiply them by the transformed filter, and a Numba loop
applies A^T M A (+ bias, ReLU) into the output: all in one native call per thread
(``winograd_jit.conv_chunks``).

5x5 used F(2x2, 5x5) on these 6x6 tiles until F(4x4, 5x5) replaced it: W6's conv took 4.3 ms on one
core (transforms 1.8, GEMMs 2.5) against 2.5 (transforms 0.8, GEMMs 1.2, 2.25x fewer multiplies),
with the same float32 error (4.4e-6 of the output's max).
"""

import functools
import os

import numpy as np

from jitgraph.kernels import blas, winograd8
from jitgraph.kernels.blas import FAST_DTYPES


CONSTS = (2, 4, 5, 8)    # F(4x4, 3x3)'s transform constants (``winograd_jit.wino_in``/``wino_out``)


@functools.lru_cache(maxsize=None)
def _wino_g(r=3):
    """G (6 x r) for the fixed B^T and A^T above (F(7-r, r); only r = 3 runs): exact rationals over 24."""
    bt = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                   [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float)
    at = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], float)
    m = 7 - r
    at = at[:m].copy()
    at[m - 1, 5] = 1
    sys_ = np.einsum("ik,kl->ilk", at, bt).reshape(-1, 6)
    g = np.zeros((6, r))
    for j in range(r):
        shift = np.zeros((m, 6))
        shift[np.arange(m), np.arange(m) + j] = 1
        g[:, j] = np.linalg.lstsq(sys_, shift.reshape(-1), rcond=None)[0]
    return np.round(g * 24) / 24


def usable(x, w, sh, sw, dh, dw):
    """Winograd where it measured faster than im2col (single thread, 8x32x32 and 16x56x56 images):
    3x3 from C, F >= 16 (1.1-1.4x; 16x56x56x64: 2.8x); 5x5 (F(4x4, 5x5)) from C, F >= 8 (8x32x32:
    1.2x at C = F = 8, 1.7x at 16, 2.75x at 32 (W6), 4x at 4x56x56x64); below that the
    transforms cost more than the multiplies they save.  Not where Numba cannot call a BLAS
    (``blas.numba_can_call_blas``): the GEMMs run in the native chunks."""
    kh, kw, c, f = w.shape
    return (_WINOGRAD and blas.numba_can_call_blas() and kh == kw and sh == sw == dh == dw == 1
            and x.dtype in FAST_DTYPES and min(c, f) >= {3: 16, 5: 8}.get(kh, 1 << 62)
            and x.shape[1] >= 4 and x.shape[2] >= 4)


# JITGRAPH_CONV_WINOGRAD=0 keeps every conv on im2col (Winograd's float32 error is ~4e-6 of the
# output's max against ~5e-7 for im2col: fine for training and inference, not bit-for-bit TF).
_WINOGRAD = os.environ.get("JITGRAPH_CONV_WINOGRAD", "1").strip() not in ("0", "false", "no")


def conv(x, w, top, left, oh, ow, out=None, bias=None, relu=False, flipped=False):
    """Stride-1 3x3 or 5x5 conv by Winograd (``usable`` said yes); ``bias`` ([F]) is added and
    ``relu`` applied in the output transform.  3x3: F(4x4, 3x3), 36 GEMMs [tiles, C] x [C, F] per
    chunk instead of one [pixels, 9C] x [9C, F]: 4x fewer multiplies.  ``flipped``: the filter is
    w[::-1, ::-1] with its channel axes swapped (an input gradient's; ``winograd_filter``)."""
    if w.shape[0] == 5:
        return winograd8.conv(x, w, top, left, oh, ow, out, bias, relu, flipped)
    return winograd8.tiled_conv(x, w, _wino_g(3), CONSTS, 6, top, left, oh, ow, out, bias, relu, flipped)
