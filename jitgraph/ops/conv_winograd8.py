"""Winograd F(4x4, 5x5) on 8x8 tiles for stride-1 5x5 convs (see ``conv_kernels``/``conv_winograd``).

8 interpolation points 0, +-1, +-2, +-1/2, inf (NNPACK's F(6x6, 3x3) set): 64 products per 4x4 output
tile against F(2x2, 5x5)'s 36 per 2x2 tile, so 2.25x fewer GEMM multiplies, and V/M hold 64/16 = 4
values per output pixel instead of 9 (less memory traffic through the transforms).  The cost is
rounding: the points 2 and 1/2 raise the transforms' constants to 5.25 and 32/45.

Per chunk of tiles a Numba loop applies B^T d B (vectorized over channels), one batched
``np.matmul`` does the 64 [tiles, C] x [C, F] products, and a Numba loop applies A^T M A (plus an
optional bias and ReLU) into the output.
"""

import functools

import numpy as np

from jitgraph.ops.conv_kernels import _Blas, _jit, _scratch

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


def _kernels8():
    if "w8_in" in _jit:
        return _jit["w8_in"], _jit["w8_out"]
    from numba import njit

    @njit(cache=True, nogil=True, boundscheck=False, inline="always")
    def bt8(d0, d1, d2, d3, d4, d5, d6, d7, k525, k425, k025, k125, k05, k25, k2, k4, k5):
        """B^T d for one 8-vector (NNPACK's factorization: 26 flops instead of 50)."""
        t1 = d2 + d6 - k425 * d4
        t2 = d1 + d5 - k425 * d3
        t3 = k025 * d2 + d6 - k125 * d4
        t4 = k05 * d1 - k25 * d3 + k2 * d5
        t5 = k4 * d2 + d6 - k5 * d4
        t6 = k2 * d1 - k25 * d3 + k05 * d5
        return (d0 - d6 + k525 * (d4 - d2), t1 + t2, t1 - t2, t3 + t4, t3 - t4, t5 + t6, t5 - t6,
                d7 - d1 + k525 * (d3 - d5))

    @njit(cache=True, nogil=True, boundscheck=False)
    def w8_in(x, V, d, e, t0, th_, tw_, top, left, k):
        """V[8a+b, i] = (B^T d B)[a, b] for the 8x8 input tile d of tile t0 + i (zero outside x).
        Interior tiles are read straight from x, border tiles gathered into ``d`` first."""
        n_, h_, w_, c_ = x.shape
        xf = x.reshape(n_, h_, w_ * c_)
        per = th_ * tw_
        run = 8 * c_
        k525, k425, k025, k125, k05, k25, k2, k4, k5 = k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8]
        for i in range(V.shape[1]):
            t = t0 + i
            n = t // per
            r = t - n * per
            th = r // tw_
            h0 = th * 4 - top
            w0 = (r - th * tw_) * 4 - left
            if h0 >= 0 and h0 + 8 <= h_ and w0 >= 0 and w0 + 8 <= w_:
                lo = w0 * c_
                s0, s1, s2, s3 = xf[n, h0][lo:lo + run], xf[n, h0 + 1][lo:lo + run], \
                    xf[n, h0 + 2][lo:lo + run], xf[n, h0 + 3][lo:lo + run]
                s4, s5, s6, s7 = xf[n, h0 + 4][lo:lo + run], xf[n, h0 + 5][lo:lo + run], \
                    xf[n, h0 + 6][lo:lo + run], xf[n, h0 + 7][lo:lo + run]
            else:
                for a in range(8):
                    hh = h0 + a
                    da = d[a]
                    if hh < 0 or hh >= h_:
                        for q in range(run):
                            da[q] = 0
                        continue
                    xr = xf[n, hh]
                    for b in range(8):
                        ww = w0 + b
                        db = da[b * c_:(b + 1) * c_]
                        if ww < 0 or ww >= w_:
                            for c in range(c_):
                                db[c] = 0
                        else:
                            xs = xr[ww * c_:(ww + 1) * c_]
                            for c in range(c_):
                                db[c] = xs[c]
                s0, s1, s2, s3, s4, s5, s6, s7 = d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
            e0, e1, e2, e3, e4, e5, e6, e7 = e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]
            for q in range(run):
                v = bt8(s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], s6[q], s7[q], k525, k425, k025, k125, k05, k25, k2, k4, k5)
                e0[q], e1[q], e2[q], e3[q], e4[q], e5[q], e6[q], e7[q] = v
            for a in range(8):
                ea = e[a]
                u0, u1, u2, u3 = ea[0:c_], ea[c_:2 * c_], ea[2 * c_:3 * c_], ea[3 * c_:4 * c_]
                u4, u5, u6, u7 = ea[4 * c_:5 * c_], ea[5 * c_:6 * c_], ea[6 * c_:7 * c_], ea[7 * c_:8 * c_]
                o0, o1, o2, o3 = V[8 * a, i], V[8 * a + 1, i], V[8 * a + 2, i], V[8 * a + 3, i]
                o4, o5, o6, o7 = V[8 * a + 4, i], V[8 * a + 5, i], V[8 * a + 6, i], V[8 * a + 7, i]
                for c in range(c_):
                    v = bt8(u0[c], u1[c], u2[c], u3[c], u4[c], u5[c], u6[c], u7[c], k525, k425, k025, k125, k05, k25, k2, k4, k5)
                    o0[c], o1[c], o2[c], o3[c], o4[c], o5[c], o6[c], o7[c] = v

    @njit(cache=True, nogil=True, boundscheck=False, inline="always")
    def at8(m0, m1, m2, m3, m4, m5, m6, m7, k05, k2, k025, k4, k8, k0125):
        """A^T m for one 8-vector: the 4 outputs."""
        a, b, c, d, e, f = m1 + m2, m1 - m2, m3 + m4, m3 - m4, m5 + m6, m5 - m6
        return m0 + a + c + e, b + k2 * d + k05 * f, a + k4 * c + k025 * e, b + k8 * d + k0125 * f + m7

    @njit(cache=True, nogil=True, boundscheck=False)
    def w8_out(M, out, z, bias, relu, t0, th_, tw_, k):
        """out tile of tile t0 + i = A^T M_i A (+ bias, then max(., 0) if relu), clipped to out."""
        n_, oh_, ow_, f_ = out.shape
        per = th_ * tw_
        zero = k[0] - k[0]
        k05, k2, k025, k4, k8, k0125 = k[4], k[6], k[2], k[7], k[9], k[10]
        for i in range(M.shape[1]):
            t = t0 + i
            n = t // per
            r = t - n * per
            th = r // tw_
            h0 = th * 4
            w0 = (r - th * tw_) * 4
            for b in range(8):
                m0, m1, m2, m3 = M[b, i], M[8 + b, i], M[16 + b, i], M[24 + b, i]
                m4, m5, m6, m7 = M[32 + b, i], M[40 + b, i], M[48 + b, i], M[56 + b, i]
                z0, z1, z2, z3 = z[0, b], z[1, b], z[2, b], z[3, b]
                for f in range(f_):
                    z0[f], z1[f], z2[f], z3[f] = at8(m0[f], m1[f], m2[f], m3[f], m4[f], m5[f], m6[f], m7[f], k05, k2, k025, k4, k8, k0125)
            for a in range(4):
                hh = h0 + a
                if hh >= oh_:
                    break
                m0, m1, m2, m3, m4, m5, m6, m7 = z[a, 0], z[a, 1], z[a, 2], z[a, 3], z[a, 4], z[a, 5], z[a, 6], z[a, 7]
                o = out[n, hh]
                if w0 + 4 <= ow_:
                    o0, o1, o2, o3 = o[w0], o[w0 + 1], o[w0 + 2], o[w0 + 3]
                    if relu:
                        for f in range(f_):
                            y0, y1, y2, y3 = at8(m0[f], m1[f], m2[f], m3[f], m4[f], m5[f], m6[f], m7[f], k05, k2, k025, k4, k8, k0125)
                            bf = bias[f]
                            o0[f], o1[f] = max(y0 + bf, zero), max(y1 + bf, zero)
                            o2[f], o3[f] = max(y2 + bf, zero), max(y3 + bf, zero)
                    else:
                        for f in range(f_):
                            y0, y1, y2, y3 = at8(m0[f], m1[f], m2[f], m3[f], m4[f], m5[f], m6[f], m7[f], k05, k2, k025, k4, k8, k0125)
                            bf = bias[f]
                            o0[f], o1[f], o2[f], o3[f] = y0 + bf, y1 + bf, y2 + bf, y3 + bf
                else:                                   # a tile cut by the right edge
                    for f in range(f_):
                        ys = at8(m0[f], m1[f], m2[f], m3[f], m4[f], m5[f], m6[f], m7[f], k05, k2, k025, k4, k8, k0125)
                        for b in range(ow_ - w0):
                            y = ys[b] + bias[f]
                            o[w0 + b, f] = max(y, zero) if relu else y

    _jit["w8_in"], _jit["w8_out"] = w8_in, w8_out
    return w8_in, w8_out


_TILES = 64          # tiles per chunk: V and M are 64 x 64 x C (512 KiB each at C = 32)


_filters = []          # [(w copy, G, U)], newest last: a graph's filters are usually constant between runs
_FILTERS_KEPT = 8


def filter_transform(w, g, dtype):
    """U[n*a+b] = (G w G^T)[a, b] as [n*n, C, F] in ``dtype`` for G (n x r), computed in float64
    (two matmuls: 0.12 ms for W6's 5x5x32x32, einsum took 0.33), and reused while ``w`` holds the
    same values (a 7 us compare): a graph's filters are usually constant between runs."""
    dtype = np.dtype(dtype)
    for wk, gk, u in _filters[::-1]:            # a copy: another thread may append
        if gk is g and wk.shape == w.shape and wk.dtype == w.dtype and u.dtype == dtype and np.array_equal(wk, w):
            return u
    r, _, c, f = w.shape
    n = g.shape[0]
    t1 = np.matmul(g, np.asarray(w, np.float64).reshape(r, r * c * f)).reshape(n, r, c * f)
    u = np.matmul(g, t1).astype(dtype).reshape(n * n, c, f)        # u[a, b] = sum_ij g[a,i] w[i,j] g[b,j]
    u.flags.writeable = False
    _filters.append((np.array(w, copy=True), g, u))
    del _filters[:-_FILTERS_KEPT]
    return u


def conv(x, w, top, left, oh, ow, out=None, bias=None, relu=False):
    """Stride-1 5x5 conv by Winograd F(4x4, 5x5): 64 GEMMs [tiles, C] x [C, F] per chunk of tiles;
    ``bias`` ([F]) is added and ``relu`` applied in the output transform."""
    n, h, wd, c = x.shape
    f = w.shape[3]
    wi, wo = _kernels8()
    u = filter_transform(w, wino_g(), x.dtype)
    th, tw = -(-oh // 4), -(-ow // 4)
    total = n * th * tw
    k = np.array(_CONSTS, x.dtype)
    bias = np.zeros(f, x.dtype) if bias is None else np.ascontiguousarray(bias, x.dtype)
    if out is None:
        out = np.empty((n, oh, ow, f), x.dtype)
    x = np.ascontiguousarray(x)

    def chunk(j):
        t0 = j * _TILES
        tc = min(_TILES, total - t0)
        v = _scratch(64 * tc, c, x.dtype, "V8").reshape(64, tc, c)
        mm = _scratch(64 * tc, f, x.dtype, "M8").reshape(64, tc, f)
        d = _scratch(16, 8 * c, x.dtype, "d8").reshape(2, 8, 8 * c)
        z = _scratch(32, f, x.dtype, "z8").reshape(4, 8, f)
        wi(x, v, d[0], d[1], t0, th, tw, top, left, k)
        np.matmul(v, u, out=mm)
        wo(mm, out, z, bias, bool(relu), t0, th, tw, k)
    _Blas.run(-(-total // _TILES), chunk)
    return out
