"""Winograd for stride-1 convs (see ``conv_kernels``): F(4x4, 3x3) on 6x6 tiles here, F(4x4, 5x5) on
8x8 tiles in ``conv_winograd8``; ``usable`` and ``conv`` pick between them.

Per chunk of ``_TILES`` output tiles a Numba loop transforms the 6x6 input tiles (B^T d B,
vectorized over channels), one batched ``np.matmul`` does the 36 [tiles, C] x [C, F] products
against the transformed filter, and a Numba loop applies A^T M A (+ bias, ReLU) into the output.

5x5 used F(2x2, 5x5) on these 6x6 tiles until F(4x4, 5x5) replaced it: W6's conv took 4.3 ms on one
core (transforms 1.8, GEMMs 2.5) against 2.5 (transforms 0.8, GEMMs 1.2, 2.25x fewer multiplies),
with the same float32 error (4.4e-6 of the output's max).
"""

import functools
import os

import numpy as np

from jitgraph.ops import conv_winograd8
from jitgraph.ops.conv_kernels import _FAST_DTYPES, _Blas, _jit, _kernels, _scratch


def _wino_kernels():
    """Winograd F(4x4, 3x3) transforms (6x6 input tiles, points 0, +-1, +-2, inf)."""
    if "wino_in" in _jit:
        return _jit["wino_in"], _jit["wino_out"]
    from numba import njit

    @njit(cache=True, nogil=True, boundscheck=False)
    def wino_in(x, V, d, e, t0, th_, tw_, m, top, left, k):
        """V[6a+b, i] = (B^T d B)[a, b] for the 6x6 input tile d of tile t0 + i (zero outside x).
        Rows of a tile are runs of 6*C contiguous values: the first pass is one loop over them;
        interior tiles are read straight from x, border tiles gathered into ``d`` first."""
        n_, h_, w_, c_ = x.shape
        c2, c4, c5 = k[0], k[1], k[2]          # constants in x's dtype (an int literal would promote to float64)
        xf = x.reshape(n_, h_, w_ * c_)
        per = th_ * tw_
        run = 6 * c_
        for i in range(V.shape[1]):
            t = t0 + i
            n = t // per
            r = t - n * per
            th = r // tw_
            h0 = th * m - top
            w0 = (r - th * tw_) * m - left
            if h0 >= 0 and h0 + 6 <= h_ and w0 >= 0 and w0 + 6 <= w_:
                lo = w0 * c_
                s0, s1, s2 = xf[n, h0][lo:lo + run], xf[n, h0 + 1][lo:lo + run], xf[n, h0 + 2][lo:lo + run]
                s3, s4, s5 = xf[n, h0 + 3][lo:lo + run], xf[n, h0 + 4][lo:lo + run], xf[n, h0 + 5][lo:lo + run]
            else:
                for a in range(6):
                    hh = h0 + a
                    da = d[a]
                    if hh < 0 or hh >= h_:
                        for q in range(run):
                            da[q] = 0
                        continue
                    xr = xf[n, hh]
                    for b in range(6):
                        ww = w0 + b
                        db = da[b * c_:(b + 1) * c_]
                        if ww < 0 or ww >= w_:
                            for c in range(c_):
                                db[c] = 0
                        else:
                            xs = xr[ww * c_:(ww + 1) * c_]
                            for c in range(c_):
                                db[c] = xs[c]
                s0, s1, s2, s3, s4, s5 = d[0], d[1], d[2], d[3], d[4], d[5]
            e0, e1, e2, e3, e4, e5 = e[0], e[1], e[2], e[3], e[4], e[5]
            for q in range(run):
                v0, v1, v2, v3, v4, v5 = s0[q], s1[q], s2[q], s3[q], s4[q], s5[q]
                e0[q] = c4 * v0 - c5 * v2 + v4
                e1[q] = v3 + v4 - c4 * (v1 + v2)
                e2[q] = c4 * (v1 - v2) - v3 + v4
                e3[q] = c2 * (v3 - v1) - v2 + v4
                e4[q] = c2 * (v1 - v3) - v2 + v4
                e5[q] = c4 * v1 - c5 * v3 + v5
            for a in range(6):
                ea = e[a]
                u0, u1, u2 = ea[0:c_], ea[c_:2 * c_], ea[2 * c_:3 * c_]
                u3, u4, u5 = ea[3 * c_:4 * c_], ea[4 * c_:5 * c_], ea[5 * c_:6 * c_]
                o0, o1, o2 = V[6 * a, i], V[6 * a + 1, i], V[6 * a + 2, i]
                o3, o4, o5 = V[6 * a + 3, i], V[6 * a + 4, i], V[6 * a + 5, i]
                for c in range(c_):
                    v0, v1, v2, v3, v4, v5 = u0[c], u1[c], u2[c], u3[c], u4[c], u5[c]
                    o0[c] = c4 * v0 - c5 * v2 + v4
                    o1[c] = v3 + v4 - c4 * (v1 + v2)
                    o2[c] = c4 * (v1 - v2) - v3 + v4
                    o3[c] = c2 * (v3 - v1) - v2 + v4
                    o4[c] = c2 * (v1 - v3) - v2 + v4
                    o5[c] = c4 * v1 - c5 * v3 + v5

    @njit(cache=True, nogil=True, boundscheck=False)
    def wino_out(M, out, z, bias, relu, t0, th_, tw_, k):
        """out tile of tile t0 + i = A^T M_i A (F(4,3)) + bias, then max(., 0) if relu; clipped to out."""
        n_, oh_, ow_, f_ = out.shape
        c2, c4, c8 = k[0], k[1], k[3]
        zero = c2 - c2
        per = th_ * tw_
        for i in range(M.shape[1]):
            t = t0 + i
            n = t // per
            r = t - n * per
            th = r // tw_
            h0 = th * 4
            w0 = (r - th * tw_) * 4
            for b in range(6):
                m0, m1, m2, m3, m4, m5 = M[b, i], M[6 + b, i], M[12 + b, i], M[18 + b, i], M[24 + b, i], M[30 + b, i]
                z0, z1, z2, z3 = z[0, b], z[1, b], z[2, b], z[3, b]
                for f in range(f_):
                    p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                    z0[f] = m0[f] + p + s
                    z1[f] = q + c2 * u
                    z2[f] = p + c4 * s
                    z3[f] = q + c8 * u + m5[f]
            for a in range(4):
                hh = h0 + a
                if hh >= oh_:
                    break
                m0, m1, m2, m3, m4, m5 = z[a, 0], z[a, 1], z[a, 2], z[a, 3], z[a, 4], z[a, 5]
                o = out[n, hh]
                if w0 + 4 <= ow_:
                    o0, o1, o2, o3 = o[w0], o[w0 + 1], o[w0 + 2], o[w0 + 3]
                    for f in range(f_):
                        p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                        bf = bias[f]
                        y0, y1, y2, y3 = m0[f] + p + s + bf, q + c2 * u + bf, p + c4 * s + bf, q + c8 * u + m5[f] + bf
                        if relu:
                            y0, y1, y2, y3 = max(y0, zero), max(y1, zero), max(y2, zero), max(y3, zero)
                        o0[f], o1[f], o2[f], o3[f] = y0, y1, y2, y3
                else:                                   # a tile cut by the right edge
                    for f in range(f_):
                        p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                        ys = (m0[f] + p + s, q + c2 * u, p + c4 * s, q + c8 * u + m5[f])
                        for b in range(ow_ - w0):
                            y = ys[b] + bias[f]
                            o[w0 + b, f] = max(y, zero) if relu else y

    _jit["wino_in"], _jit["wino_out"] = wino_in, wino_out
    return wino_in, wino_out


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


_TILES = 128          # Winograd tiles per chunk: V and M are 36 x 128 x C (576 KiB each at C = 32)


def usable(x, w, sh, sw, dh, dw):
    """Winograd where it measured faster than im2col (single thread, 8x32x32 and 16x56x56 images):
    3x3 from C, F >= 16 (1.1-1.4x; 16x56x56x64: 2.8x); 5x5 (F(4x4, 5x5)) from C, F >= 8 (8x32x32:
    1.2x at C = F = 8, 1.7x at 16, 2.75x at 32 (W6), 4x at 4x56x56x64); below that the
    transforms cost more than the multiplies they save."""
    kh, kw, c, f = w.shape
    return (_WINOGRAD and _kernels() is not None and kh == kw and sh == sw == dh == dw == 1 and x.dtype in _FAST_DTYPES
            and min(c, f) >= {3: 16, 5: 8}.get(kh, 1 << 62) and x.shape[1] >= 4 and x.shape[2] >= 4)


# JITGRAPH_CONV_WINOGRAD=0 keeps every conv on im2col (Winograd's float32 error is ~4e-6 of the
# output's max against ~5e-7 for im2col: fine for training and inference, not bit-for-bit TF).
_WINOGRAD = os.environ.get("JITGRAPH_CONV_WINOGRAD", "1").strip() not in ("0", "false", "no")


def conv(x, w, top, left, oh, ow, out=None, bias=None, relu=False):
    """Stride-1 3x3 or 5x5 conv by Winograd (``usable`` said yes); ``bias`` ([F]) is added and
    ``relu`` applied in the output transform.  3x3: F(4x4, 3x3), 36 GEMMs [tiles, C] x [C, F] per
    chunk instead of one [pixels, 9C] x [9C, F]: 4x fewer multiplies."""
    if w.shape[0] == 5:
        return conv_winograd8.conv(x, w, top, left, oh, ow, out, bias, relu)
    n, h, wd, c = x.shape
    f = w.shape[3]
    wi, wo = _wino_kernels()
    u = conv_winograd8.filter_transform(w, _wino_g(3), x.dtype)
    th, tw = -(-oh // 4), -(-ow // 4)
    total = n * th * tw
    k = np.array([2, 4, 5, 8], x.dtype)
    bias = np.zeros(f, x.dtype) if bias is None else np.ascontiguousarray(bias, x.dtype)
    if out is None:
        out = np.empty((n, oh, ow, f), x.dtype)
    x = np.ascontiguousarray(x)

    def chunk(j):
        t0 = j * _TILES
        tc = min(_TILES, total - t0)
        v = _scratch(36 * tc, c, x.dtype, "V").reshape(36, tc, c)
        mm = _scratch(36 * tc, f, x.dtype, "M").reshape(36, tc, f)
        d = _scratch(12, 6 * c, x.dtype, "d").reshape(2, 6, 6 * c)
        z = _scratch(24, f, x.dtype, "z").reshape(4, 6, f)
        wi(x, v, d[0], d[1], t0, th, tw, 4, top, left, k)
        np.matmul(v, u, out=mm)
        wo(mm, out, z, bias, bool(relu), t0, th, tw, k)
    _Blas.run(-(-total // _TILES), chunk)
    return out
