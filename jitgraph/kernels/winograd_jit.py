"""Numba kernels of the Winograd convs (``winograd``: F(4x4, 3x3); ``winograd8``:
F(4x4, 5x5); ``winograd_grad``: the filter gradient's dy transform).

They live at module level, not in a factory function: ``cache=True`` keys a closure's cache entry on
its cells, and a cell holding another dispatcher (the inlined 1-D transforms) changed every process,
so every process recompiled (~10 s).

``conv_chunks`` and ``grad_chunks`` run a whole conv (or filter gradient) as one native call per
thread: each call claims chunks of tiles from an atomic counter and runs the transforms and the
per-point GEMMs (``np.dot``: SciPy's BLAS, without the GIL) of each; so the chunk workers share a
conv with no GIL hand-off per chunk, and a worker that wakes late only takes the chunks left
(``blas.run_lent``). They live here, beside the transforms they call: Numba's disk cache of a
function is checked against its own file only, so a change to a transform must invalidate them too.
V, M and U are point-major ([points, tiles, channels]); their tile axis is one longer than a chunk,
so that a tile's 36-64 points are not a power of two apart (they would share L1 sets). The
transforms are inlined into the drivers (``inline="always"``): a driver linking separately
compiled transforms optimized them again, and a cold compile of a 3x3 conv took 7.1 s, 5.7 inlined.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from jitgraph.kernels.atomics import claim, count


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def relu_(y, zero):
    return zero if y < zero else y        # np.maximum's NaN: max() would drop it


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def tile_origin(t, per, tw_, step, top, left):
    """(image, top row, left column) of tile t, tiles laid out per image in rows of tw_, step apart."""
    n = t // per
    r = t - n * per
    th = r // tw_
    return n, th * step - top, (r - th * tw_) * step - left


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def gather_tile(xf, d, n, h0, w0, size, h_, w_, c_):
    """Copy the size x size tile at (h0, w0) of image n (rows of xf are W*C runs) into d's first
    ``size`` rows, zeros outside the image: the border tiles' path (interior tiles are read in place)."""
    run = size * c_
    for a in range(size):
        hh = h0 + a
        da = d[a]
        if hh < 0 or hh >= h_:
            for q in range(run):
                da[q] = 0
            continue
        xr = xf[n, hh]
        for b in range(size):
            ww = w0 + b
            db = da[b * c_:(b + 1) * c_]
            if ww < 0 or ww >= w_:
                for c in range(c_):
                    db[c] = 0
            else:
                xs = xr[ww * c_:(ww + 1) * c_]
                for c in range(c_):
                    db[c] = xs[c]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def bt6(v0, v1, v2, v3, v4, v5, c2, c4, c5):
    """B^T d for one 6-vector of F(4x4, 3x3)."""
    return (c4 * v0 - c5 * v2 + v4, v3 + v4 - c4 * (v1 + v2), c4 * (v1 - v2) - v3 + v4,
            c2 * (v3 - v1) - v2 + v4, c2 * (v1 - v3) - v2 + v4, c4 * v1 - c5 * v3 + v5)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def wino_in(x, V, tc, d, e, t0, th_, tw_, m, top, left, k):
    """V[6a+b, i] = (B^T d B)[a, b] for the 6x6 input tile d of tile t0 + i (zero outside x).
    Rows of a tile are runs of 6*C contiguous values: the first pass is one loop over them;
    interior tiles are read straight from x, border tiles gathered into ``d`` first."""
    n_, h_, w_, c_ = x.shape
    c2, c4, c5 = k[0], k[1], k[2]          # constants in x's dtype (an int literal would promote to float64)
    xf = x.reshape(n_, h_, w_ * c_)
    per = th_ * tw_
    run = 6 * c_
    for i in range(tc):
        n, h0, w0 = tile_origin(t0 + i, per, tw_, m, top, left)
        if h0 >= 0 and h0 + 6 <= h_ and w0 >= 0 and w0 + 6 <= w_:
            lo = w0 * c_
            s0, s1, s2 = xf[n, h0][lo:lo + run], xf[n, h0 + 1][lo:lo + run], xf[n, h0 + 2][lo:lo + run]
            s3, s4, s5 = xf[n, h0 + 3][lo:lo + run], xf[n, h0 + 4][lo:lo + run], xf[n, h0 + 5][lo:lo + run]
        else:
            gather_tile(xf, d, n, h0, w0, 6, h_, w_, c_)
            s0, s1, s2, s3, s4, s5 = d[0], d[1], d[2], d[3], d[4], d[5]
        e0, e1, e2, e3, e4, e5 = e[0], e[1], e[2], e[3], e[4], e[5]
        for q in range(run):
            e0[q], e1[q], e2[q], e3[q], e4[q], e5[q] = bt6(s0[q], s1[q], s2[q], s3[q], s4[q], s5[q], c2, c4, c5)
        for a in range(6):
            ea = e[a]
            u0, u1, u2 = ea[0:c_], ea[c_:2 * c_], ea[2 * c_:3 * c_]
            u3, u4, u5 = ea[3 * c_:4 * c_], ea[4 * c_:5 * c_], ea[5 * c_:6 * c_]
            o0, o1, o2 = V[6 * a, i], V[6 * a + 1, i], V[6 * a + 2, i]
            o3, o4, o5 = V[6 * a + 3, i], V[6 * a + 4, i], V[6 * a + 5, i]
            for c in range(c_):
                o0[c], o1[c], o2[c], o3[c], o4[c], o5[c] = bt6(u0[c], u1[c], u2[c], u3[c], u4[c], u5[c], c2, c4, c5)

@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def wino_out(M, tc, out, z, bias, relu, t0, th_, tw_, k):
    """out tile of tile t0 + i = A^T M_i A (F(4,3)) + bias, then ReLU (NaN stays NaN) if relu; clipped to out."""
    n_, oh_, ow_, f_ = out.shape
    c2, c4, c8 = k[0], k[1], k[3]
    zero = c2 - c2
    per = th_ * tw_
    for i in range(tc):
        n, h0, w0 = tile_origin(t0 + i, per, tw_, 4, 0, 0)
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
                        y0, y1, y2, y3 = relu_(y0, zero), relu_(y1, zero), relu_(y2, zero), relu_(y3, zero)
                    o0[f], o1[f], o2[f], o3[f] = y0, y1, y2, y3
            else:                                   # a tile cut by the right edge
                for f in range(f_):
                    p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                    ys = (m0[f] + p + s, q + c2 * u, p + c4 * s, q + c8 * u + m5[f])
                    for b in range(ow_ - w0):
                        y = ys[b] + bias[f]
                        o[w0 + b, f] = relu_(y, zero) if relu else y


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

@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def w8_in(x, V, tc, d, e, t0, th_, tw_, top, left, k):
    """V[8a+b, i] = (B^T d B)[a, b] for the 8x8 input tile d of tile t0 + i (zero outside x).
    Interior tiles are read straight from x, border tiles gathered into ``d`` first."""
    n_, h_, w_, c_ = x.shape
    xf = x.reshape(n_, h_, w_ * c_)
    per = th_ * tw_
    run = 8 * c_
    k525, k425, k025, k125, k05, k25, k2, k4, k5 = k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8]
    for i in range(tc):
        n, h0, w0 = tile_origin(t0 + i, per, tw_, 4, top, left)
        if h0 >= 0 and h0 + 8 <= h_ and w0 >= 0 and w0 + 8 <= w_:
            lo = w0 * c_
            s0, s1, s2, s3 = xf[n, h0][lo:lo + run], xf[n, h0 + 1][lo:lo + run], \
                xf[n, h0 + 2][lo:lo + run], xf[n, h0 + 3][lo:lo + run]
            s4, s5, s6, s7 = xf[n, h0 + 4][lo:lo + run], xf[n, h0 + 5][lo:lo + run], \
                xf[n, h0 + 6][lo:lo + run], xf[n, h0 + 7][lo:lo + run]
        else:
            gather_tile(xf, d, n, h0, w0, 8, h_, w_, c_)
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

@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def w8_out(M, tc, out, z, bias, relu, t0, th_, tw_, k):
    """out tile of tile t0 + i = A^T M_i A (+ bias, then ReLU (NaN stays NaN) if relu), clipped to out."""
    n_, oh_, ow_, f_ = out.shape
    per = th_ * tw_
    zero = k[0] - k[0]
    k05, k2, k025, k4, k8, k0125 = k[4], k[6], k[2], k[7], k[9], k[10]
    for i in range(tc):
        n, h0, w0 = tile_origin(t0 + i, per, tw_, 4, 0, 0)
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
                        o0[f], o1[f] = relu_(y0 + bf, zero), relu_(y1 + bf, zero)
                        o2[f], o3[f] = relu_(y2 + bf, zero), relu_(y3 + bf, zero)
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
                        o[w0 + b, f] = relu_(y, zero) if relu else y


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def g4(v0, v1, v2, v3, g):
    """G v for one 4-vector: 8 outputs. G's rows come in pairs at the points +-p (rows 2k-1, 2k:
    the second is the first with its odd columns negated; ``winograd_grad.padded_g`` checks it), so
    each pair is an even and an odd part added and subtracted: 20 operations, not 32 FMAs. Row 0 is
    G[0, 0] v0, row 7 G[7, 3] v3 (F(3, 4), six rows: row 5 is the third pair's sum, v3)."""
    e1, o1 = g[4] * v0 + g[6] * v2, g[5] * v1 + g[7] * v3
    e3, o3 = g[12] * v0 + g[14] * v2, g[13] * v1 + g[15] * v3
    e5, o5 = g[20] * v0 + g[22] * v2, g[21] * v1 + g[23] * v3
    return g[0] * v0, e1 + o1, e1 - o1, e3 + o3, e3 - o3, e5 + o5, e5 - o5, g[31] * v3


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def grad_dy_in(dy, U, tc, gm, nn, t, d, t0, th_, tw_):
    """U[n*a + b, i] = (G g G^T)[a, b] for the 4x4 tile g of dy at tile t0 + i (zero outside
    dy): the "filter" transform of the filter-gradient Winograd F(r, 4) (``winograd_grad``); G is
    the first ``nn`` rows of ``gm`` (8 x 4, zero below).  Two passes like the input transforms: G
    over the tile's 4 rows (runs of 4*F values), then over its 4 columns; ``t`` ([8, 4*F]) holds
    the first pass, ``d`` ([4, 4*F]) a border tile gathered with zeros."""
    n_, oh_, ow_, f_ = dy.shape
    g = (gm[0, 0], gm[0, 1], gm[0, 2], gm[0, 3], gm[1, 0], gm[1, 1], gm[1, 2], gm[1, 3],
         gm[2, 0], gm[2, 1], gm[2, 2], gm[2, 3], gm[3, 0], gm[3, 1], gm[3, 2], gm[3, 3],
         gm[4, 0], gm[4, 1], gm[4, 2], gm[4, 3], gm[5, 0], gm[5, 1], gm[5, 2], gm[5, 3],
         gm[6, 0], gm[6, 1], gm[6, 2], gm[6, 3], gm[7, 0], gm[7, 1], gm[7, 2], gm[7, 3])
    yf = dy.reshape(n_, oh_, ow_ * f_)
    run = 4 * f_
    per = th_ * tw_
    for i in range(tc):
        img, h0, w0 = tile_origin(t0 + i, per, tw_, 4, 0, 0)
        if h0 + 4 <= oh_ and w0 + 4 <= ow_:
            lo = w0 * f_
            s0, s1 = yf[img, h0][lo:lo + run], yf[img, h0 + 1][lo:lo + run]
            s2, s3 = yf[img, h0 + 2][lo:lo + run], yf[img, h0 + 3][lo:lo + run]
        else:
            gather_tile(yf, d, img, h0, w0, 4, oh_, ow_, f_)
            s0, s1, s2, s3 = d[0], d[1], d[2], d[3]
        e0, e1, e2, e3, e4, e5, e6, e7 = t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]
        if nn == 8:
            for q in range(run):
                v = g4(s0[q], s1[q], s2[q], s3[q], g)
                e0[q], e1[q], e2[q], e3[q], e4[q], e5[q], e6[q], e7[q] = v
        else:
            for q in range(run):
                v = g4(s0[q], s1[q], s2[q], s3[q], g)
                e0[q], e1[q], e2[q], e3[q], e4[q], e5[q] = v[0], v[1], v[2], v[3], v[4], v[5]
        for a in range(nn):
            ta = t[a]
            u0, u1, u2, u3 = ta[0:f_], ta[f_:2 * f_], ta[2 * f_:3 * f_], ta[3 * f_:4 * f_]
            o0, o1, o2, o3 = U[nn * a, i], U[nn * a + 1, i], U[nn * a + 2, i], U[nn * a + 3, i]
            if nn == 8:
                o4, o5, o6, o7 = U[nn * a + 4, i], U[nn * a + 5, i], U[nn * a + 6, i], U[nn * a + 7, i]
                for f in range(f_):
                    v = g4(u0[f], u1[f], u2[f], u3[f], g)
                    o0[f], o1[f], o2[f], o3[f], o4[f], o5[f], o6[f], o7[f] = v
            else:
                o4, o5 = U[nn * a + 4, i], U[nn * a + 5, i]
                for f in range(f_):
                    v = g4(u0[f], u1[f], u2[f], u3[f], g)
                    o0[f], o1[f], o2[f], o3[f], o4[f], o5[f] = v[0], v[1], v[2], v[3], v[4], v[5]


def tile_in(x, v, tc, d, e, t0, th_, tw_, top, left, k):
    """``wino_in`` (``k``: F(4x4, 3x3)'s 4 constants) or ``w8_in`` (F(4x4, 5x5)'s 11), picked when
    Numba compiles the caller, so that a 3x3 conv compiles only the 3x3 transforms (~1.5 s each)."""


def tile_out(m, tc, out, z, bias, relu, t0, th_, tw_, k):
    """``wino_out`` or ``w8_out``, picked as ``tile_in`` is."""


def _f43(k):
    return isinstance(k, types.UniTuple) and k.count == 4


@overload(tile_in)
def _tile_in(x, v, tc, d, e, t0, th_, tw_, top, left, k):
    if _f43(k):
        return lambda x, v, tc, d, e, t0, th_, tw_, top, left, k: wino_in(x, v, tc, d, e, t0, th_, tw_, 4, top,
                                                                          left, k)
    return lambda x, v, tc, d, e, t0, th_, tw_, top, left, k: w8_in(x, v, tc, d, e, t0, th_, tw_, top, left, k)


@overload(tile_out)
def _tile_out(m, tc, out, z, bias, relu, t0, th_, tw_, k):
    if _f43(k):
        return lambda m, tc, out, z, bias, relu, t0, th_, tw_, k: wino_out(m, tc, out, z, bias, relu, t0, th_, tw_, k)
    return lambda m, tc, out, z, bias, relu, t0, th_, tw_, k: w8_out(m, tc, out, z, bias, relu, t0, th_, tw_, k)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def next_chunk(sync, nch, per, total):
    """(first tile, tiles) of the chunk this call claims from ``sync[0]``; (0, 0) when none is left."""
    ch = claim(sync, 0)
    if ch >= nch:
        return 0, 0
    t0 = ch * per
    return t0, min(per, total - t0)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def chunks_done(sync, nch, lead):
    """The ``lead`` call waits for the chunks other threads are still running (``sync[1]`` counts
    finished ones); a helper call returns at once."""
    while lead and count(sync, 1) < nch:
        pass


@njit(cache=True, nogil=True, boundscheck=False)
def conv_chunks(x, u, out, bias, relu, vs, ms, ds, zs, sync, nch, per, total, th_, tw_, top, left, k, lead):
    """Winograd conv of ``x`` with the transformed filter ``u`` ([n*n, C, F]; n = 6 for 3x3, 8 for
    5x5) into ``out``, chunks of ``per`` tiles claimed from ``sync[0]`` (``next_chunk``; ``sync[1]``
    counts finished ones, ``sync[2]`` hands each call its scratch slot of ``vs``/``ms``/``ds``/``zs``).
    The ``lead`` call returns when every chunk is done.  ``k``: the transforms' constants (``tile_in``)."""
    slot = claim(sync, 2)
    v, m, d, z = vs[slot], ms[slot], ds[slot], zs[slot]
    while True:
        t0, tc = next_chunk(sync, nch, per, total)
        if tc == 0:
            break
        tile_in(x, v, tc, d[0], d[1], t0, th_, tw_, top, left, k)
        for p in range(u.shape[0]):
            np.dot(v[p, :tc], u[p], m[p, :tc])
        tile_out(m, tc, out, z, bias, relu, t0, th_, tw_, k)
        claim(sync, 1)
    chunks_done(sync, nch, lead)
    return 0


@njit(cache=True, nogil=True, boundscheck=False)
def grad_chunks(x, dy, g, vs, us, ds, ts, es, parts, sync, nch, per, total, th_, tw_, top, left, k, lead):
    """The filter gradient's sums over tiles (``winograd_grad``): ``parts[slot][p]`` += V[p]^T U[p]
    over the chunks this call claims (``conv_chunks``' protocol); ``parts`` starts at zero."""
    slot = claim(sync, 2)
    v, uu, d, t, e, acc = vs[slot], us[slot], ds[slot], ts[slot], es[slot], parts[slot]
    nt = d.shape[1]
    prod = np.empty(acc.shape[1:], acc.dtype)
    while True:
        t0, tc = next_chunk(sync, nch, per, total)
        if tc == 0:
            break
        tile_in(x, v, tc, d[0], d[1], t0, th_, tw_, top, left, k)
        grad_dy_in(dy, uu, tc, g, nt, t, e, t0, th_, tw_)
        for p in range(nt * nt):
            np.dot(v[p, :tc].T, uu[p, :tc], prod)
            ap = acc[p]
            for c in range(prod.shape[0]):
                for f in range(prod.shape[1]):
                    ap[c, f] += prod[c, f]
        claim(sync, 1)
    chunks_done(sync, nch, lead)
    return 0
