"""Fast conv2d kernels, registered as ``OPS[...].extra["fast"]`` (the compiler calls them for NumPy steps).

The NumPy references in ``nn_conv`` stay the oracle; these give the same values within float
tolerance (``tests/ops/test_nn_conv_fast.py``).

Conv2D forward (NHWC, float32/float64, any strides/dilations, SAME/VALID) is *blocked* im2col +
BLAS: the output pixels are cut into chunks of ``rows`` pixels; for each chunk a Numba loop copies
the patches (zeros for the padding, so the input is never padded or copied) into a small buffer that
stays in L2 (``rows * KH*KW*C`` elements, ~1 MiB), and one ``np.matmul(chunk, W, out=...)``
writes that chunk of the output.  Chunks run on ``_Blas.run``'s workers (one per BLAS thread, each
with single-threaded BLAS; no Numba ``parallel``, so the threading layer does not matter here).
Measured on the 2-core Zen box for W6's shapes, the alternatives lose:

* the reference's whole-batch im2col writes and re-reads a 26 MB patch matrix (W6) — memory bound;
* direct Numba loop nests (dot-product blocking 4 pixels x 2 filters, or outer-product blocking
  over F) reach 10-35 GFLOP/s: Numba arrays give LLVM no way to keep an accumulator tile in
  registers without spills or gathers, while OpenBLAS's sgemm micro-kernel runs at ~75 GFLOP/s a
  core on a [256, 800] x [800, 32] chunk;
* 25 shifted [N*Hp*Wp, C] x [C, F] sgemms (no im2col) and 5 row-im2col sgemms with K = KW*C do
  27% / 12% wasted work on the padded grid and need a second BLAS (scipy's, for beta=1).

Stride-1 3x3 and 5x5 convs with enough channels (``_wino_ok``) use Winograd F(4x4,3x3) /
F(2x2,5x5) instead: per chunk of 128 output tiles a Numba loop transforms the 6x6 input tiles
(B^T d B, vectorized over channels), one batched ``np.matmul`` does the 36 [tiles, C] x [C, F]
products against the transformed filter, and a Numba loop applies A^T M A into the output:
2.25x (5x5) / 4x (3x3) fewer multiplies, at ~8x im2col's rounding error (``JITGRAPH_CONV_WINOGRAD=0``
turns it off).

The gradients reuse the machinery: Conv2DBackpropFilter sums ``cols^T @ dy`` over chunks (one
partial per worker); Conv2DBackpropInput is a forward conv of ``dy`` (zero-dilated by the strides)
with the flipped, transposed filter.

Numba is imported lazily (``import jitgraph`` must not import it); without Numba the patches are
gathered with NumPy strided copies, chunk by chunk (same blocking, slower copy).
"""

import functools
import itertools
import os
import threading

import numpy as np

_ROW_BYTES = 1 << 20             # one patch chunk: 1 MiB measured best (W6 7.5 ms vs 7.7 at 512 KiB, 12 at 8 MiB)
_local = threading.local()       # per-thread scratch buffers: two sessions may run at once
_jit = {}


def _kernels():
    """The Numba kernels, compiled on first use (``cache=True``: later processes load them)."""
    if "im2col" not in _jit:
        try:
            from numba import njit
        except ImportError:              # pragma: no cover - numba is a dependency here
            _jit["im2col"] = None
            return None

        @njit(cache=True, nogil=True, boundscheck=False)
        def im2col_chunk(x, cols, p0, kh_, kw_, sh, sw, dh, dw, ph, pw, oh_, ow_):
            """cols[i] = patch of output pixel p0 + i (row-major over n, oh, ow); zero padding."""
            n_, h_, w_, c_ = x.shape
            xf = x.reshape(n_, h_, w_ * c_)
            rows = cols.shape[0]
            ohw = oh_ * ow_
            for i in range(rows):
                p = p0 + i
                n = p // ohw
                r = p - n * ohw
                oh = r // ow_
                ow = r - oh * ow_
                row = cols[i]
                h0 = oh * sh - ph
                w0 = ow * sw - pw
                for a in range(kh_):
                    h = h0 + a * dh
                    base = a * kw_ * c_
                    if h < 0 or h >= h_:
                        row[base:base + kw_ * c_] = 0
                        continue
                    xr = xf[n, h]
                    if dw == 1 and w0 >= 0 and w0 + kw_ <= w_:
                        d = row[base:base + kw_ * c_]                     # one run of KW*C
                        src = xr[w0 * c_:(w0 + kw_) * c_]
                        for k in range(kw_ * c_):
                            d[k] = src[k]
                        continue
                    for b in range(kw_):
                        wi = w0 + b * dw
                        o = base + b * c_
                        if wi < 0 or wi >= w_:
                            row[o:o + c_] = 0
                        else:
                            d = row[o:o + c_]
                            src = xr[wi * c_:(wi + 1) * c_]
                            for k in range(c_):
                                d[k] = src[k]

        _jit["im2col"] = im2col_chunk
    return _jit["im2col"]


def _wino_kernels():
    """Winograd F(4x4, 3x3) / F(2x2, 5x5) transforms (6x6 input tiles, points 0, +-1, +-2, inf)."""
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
    def wino_out(M, out, z, t0, th_, tw_, m, k):
        """out tile of tile t0 + i = A^T M_i A (m = 4: F(4,3), m = 2: F(2,5)), clipped to out."""
        n_, oh_, ow_, f_ = out.shape
        c2, c4, c8 = k[0], k[1], k[3]
        per = th_ * tw_
        for i in range(M.shape[1]):
            t = t0 + i
            n = t // per
            r = t - n * per
            th = r // tw_
            h0 = th * m
            w0 = (r - th * tw_) * m
            for b in range(6):
                m0, m1, m2, m3, m4, m5 = M[b, i], M[6 + b, i], M[12 + b, i], M[18 + b, i], M[24 + b, i], M[30 + b, i]
                z0, z1 = z[0, b], z[1, b]
                if m == 4:
                    z2, z3 = z[2, b], z[3, b]
                    for f in range(f_):
                        p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                        z0[f] = m0[f] + p + s
                        z1[f] = q + c2 * u
                        z2[f] = p + c4 * s
                        z3[f] = q + c8 * u + m5[f]
                else:
                    for f in range(f_):
                        z0[f] = m0[f] + m1[f] + m2[f] + m3[f] + m4[f]
                        z1[f] = m1[f] - m2[f] + c2 * (m3[f] - m4[f]) + m5[f]
            for a in range(m):
                hh = h0 + a
                if hh >= oh_:
                    break
                m0, m1, m2, m3, m4, m5 = z[a, 0], z[a, 1], z[a, 2], z[a, 3], z[a, 4], z[a, 5]
                o = out[n, hh]
                if m == 4 and w0 + 4 <= ow_:
                    o0, o1, o2, o3 = o[w0], o[w0 + 1], o[w0 + 2], o[w0 + 3]
                    for f in range(f_):
                        p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                        o0[f] = m0[f] + p + s
                        o1[f] = q + c2 * u
                        o2[f] = p + c4 * s
                        o3[f] = q + c8 * u + m5[f]
                elif m == 2 and w0 + 2 <= ow_:
                    o0, o1 = o[w0], o[w0 + 1]
                    for f in range(f_):
                        o0[f] = m0[f] + m1[f] + m2[f] + m3[f] + m4[f]
                        o1[f] = m1[f] - m2[f] + c2 * (m3[f] - m4[f]) + m5[f]
                else:                                   # a tile cut by the right edge
                    for f in range(f_):
                        p, q, s, u = m1[f] + m2[f], m1[f] - m2[f], m3[f] + m4[f], m3[f] - m4[f]
                        for b in range(m):
                            if w0 + b < ow_:
                                if b == 0:
                                    y = m0[f] + p + s
                                elif b == 1:
                                    y = q + c2 * u + (m5[f] if m == 2 else q - q)
                                elif b == 2:
                                    y = p + c4 * s
                                else:
                                    y = q + c8 * u + m5[f]
                                o[w0 + b, f] = y

    _jit["wino_in"], _jit["wino_out"] = wino_in, wino_out
    return wino_in, wino_out


@functools.lru_cache(maxsize=None)
def _wino_g(r):
    """G (6 x r) for the fixed B^T and A^T above: solved once, exact rationals over 24."""
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


def _wino_ok(x, w, sh, sw, dh, dw):
    """Winograd where it measured faster than im2col (single thread, 8x32x32 and 16x56x56 images):
    3x3 from C, F >= 16 (1.1-1.4x; 16x56x56x64: 2.8x), 5x5 from C, F >= 32 (W6: 1.2x; C=F=64: 1.6x);
    below that the 36-point transforms cost more than the multiplies they save."""
    kh, kw, c, f = w.shape
    return (_WINOGRAD and _kernels() is not None and kh == kw and sh == sw == dh == dw == 1 and x.dtype in _FAST_DTYPES
            and min(c, f) >= {3: 16, 5: 32}.get(kh, 1 << 62) and x.shape[1] >= 4 and x.shape[2] >= 4)


# JITGRAPH_CONV_WINOGRAD=0 keeps every conv on im2col (Winograd's float32 error is ~4e-6 of the
# output's max against ~5e-7 for im2col: fine for training and inference, not bit-for-bit TF).
_WINOGRAD = os.environ.get("JITGRAPH_CONV_WINOGRAD", "1").strip() not in ("0", "false", "no")


def _winograd(x, w, top, left, oh, ow, out=None):
    """Stride-1 conv by Winograd F(m x m, r x r), m = 7 - r: 36 GEMMs [tiles, C] x [C, F] per chunk
    instead of one [pixels, r*r*C] x [r*r*C, F]: 2.25x (r=3: 4x) fewer multiplies."""
    n, h, wd, c = x.shape
    r, _, _, f = w.shape
    m = 7 - r
    wi, wo = _wino_kernels()
    g = _wino_g(r)
    gw = np.tensordot(g, w.astype(np.float64), axes=(1, 0))                      # [6, r, C, F]
    u = np.tensordot(g, gw, axes=(1, 1)).transpose(1, 0, 2, 3)                     # [6, 6, C, F]
    u = np.ascontiguousarray(u.reshape(36, c, f), dtype=x.dtype)
    th, tw = -(-oh // m), -(-ow // m)
    total = n * th * tw
    k = np.array([2, 4, 5, 8], x.dtype)
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
        wi(x, v, d[0], d[1], t0, th, tw, m, top, left, k)
        np.matmul(v, u, out=mm)
        wo(mm, out, z, t0, th, tw, m, k)
    _Blas.run(-(-total // _TILES), chunk)
    return out


def _scratch(rows, k, dtype, tag=""):
    """A per-thread [rows, k] buffer, reused across calls (``tag`` tells apart same-shaped buffers)."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    key = (rows, k, np.dtype(dtype).str, tag)
    buf = bufs.get(key)
    if buf is None:
        if len(bufs) > 16:
            bufs.clear()
        buf = bufs[key] = np.empty((rows, k), dtype)
    return buf


def _np_im2col_chunk(xp, cols, p0, kh, kw, sh, sw, dh, dw, oh, ow):
    """NumPy fallback: gather the patches of pixels p0..p0+rows from the padded input ``xp``."""
    rows = cols.shape[0]
    c = xp.shape[3]
    n_idx, r = np.divmod(np.arange(p0, p0 + rows), oh * ow)
    oh_idx, ow_idx = np.divmod(r, ow)
    view = cols.reshape(rows, kh, kw, c)
    for a in range(kh):
        for b in range(kw):
            view[:, a, b] = xp[n_idx, oh_idx * sh + a * dh, ow_idx * sw + b * dw]


class _Blas:
    """Parallel chunk runner: ``workers`` threads (the BLAS's own thread count) claim chunks from a
    shared counter, each running single-threaded BLAS on an L2-sized chunk.

    Why not OpenBLAS's own threads on each chunk: a [256, 800] x [800, 32] sgemm takes ~0.2 ms, so
    a fork/join per chunk costs more than it gains, and on a shared 2-core box a descheduled BLAS
    worker stalls every call (measured: 2-thread chunks 1.4-3x *slower* than 1 thread under load).
    Claiming chunks dynamically means a starved helper thread costs at most one chunk.
    While a conv runs, the BLAS is set to 1 thread (threadpoolctl's handle; restored after).
    """
    lock = threading.Lock()
    ctl = None
    pool = None

    @classmethod
    def setup(cls):
        if cls.ctl is None:
            with cls.lock:
                if cls.ctl is None:
                    libs = []
                    try:
                        from threadpoolctl import ThreadpoolController
                        libs = [c for c in ThreadpoolController().lib_controllers
                                if c.user_api == "blas" and "numpy" in c.filepath.replace("\\", "/")]
                        libs = libs or [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
                    except Exception:
                        libs = []
                    cls.ctl = libs
        return cls.ctl

    @classmethod
    def run(cls, nchunks, work):
        """Call ``work(j)`` for j in range(nchunks), in parallel when the BLAS has >1 thread."""
        libs = cls.setup() if nchunks > 1 else []
        threads = min([c.get_num_threads() for c in libs] or [1])
        if threads <= 1 or not cls.lock.acquire(blocking=False):   # one parallel conv at a time
            for j in range(nchunks):
                work(j)
            return
        try:
            if cls.pool is None:
                from concurrent.futures import ThreadPoolExecutor
                cls.pool = ThreadPoolExecutor(max(1, threads - 1), thread_name_prefix="jitgraph-conv")
            counter = itertools.count()

            def worker():
                for j in counter:
                    if j >= nchunks:
                        return
                    work(j)
            for c in libs:
                c.set_num_threads(1)
            futs = []
            try:
                futs = [cls.pool.submit(worker) for _ in range(min(threads, nchunks) - 1)]
                worker()
            finally:
                for f in futs:
                    f.result()
                for c in libs:
                    c.set_num_threads(threads)
        finally:
            cls.lock.release()


def _after_fork():
    _Blas.pool = None                 # the pool's threads do not exist in a forked child
    _Blas.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _patches(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, work):
    """Run ``work(p0, m, cols)`` over chunks of output pixels, ``cols`` holding their [m, KH*KW*C]
    patches (zero outside ``x``; ``top``/``left`` pad before, as much as needed after)."""
    n, h, wd, c = x.shape
    k = kh * kw * c
    total = n * oh * ow
    rows = max(16, min(total, _ROW_BYTES // (k * x.dtype.itemsize)))
    fill = _kernels()
    xp = None
    if fill is None:
        bottom = max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h - top)
        right = max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - wd - left)
        xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))

    def chunk(j):
        p0 = j * rows
        m = min(rows, total - p0)
        buf = _scratch(rows, k, x.dtype)[:m]
        if fill is not None:
            fill(x, buf, p0, kh, kw, sh, sw, dh, dw, top, left, oh, ow)
        else:
            _np_im2col_chunk(xp, buf, p0, kh, kw, sh, sw, dh, dw, oh, ow)
        work(p0, m, buf)
    _Blas.run(-(-total // rows), chunk)


def _conv_core(x, w, sh, sw, dh, dw, top, left, oh, ow, out=None):
    """out[n, i, j] = sum_{a,b} x[n, i*sh + a*dh - top, j*sw + b*dw - left] @ w[a, b] (zero outside x)."""
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    x = np.ascontiguousarray(x)
    w2 = np.ascontiguousarray(w).reshape(kh * kw * c, f)
    if out is None:
        out = np.empty((n, oh, ow, f), x.dtype)
    total = n * oh * ow
    flat = out.reshape(total, f)
    if total == 0 or f == 0:
        return out
    if kh * kw * c == 0:
        flat[...] = 0
        return out
    if kh == kw == sh == sw == 1 and top == left == 0 and oh == h and ow == wd:
        np.matmul(x.reshape(total, c), w2, out=flat)      # a 1x1 conv is one matmul
        return out

    if _wino_ok(x, w, sh, sw, dh, dw):
        return _winograd(x, w, top, left, oh, ow, out)

    def work(p0, m, cols):
        np.matmul(cols, w2, out=flat[p0:p0 + m])
    _patches(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, work)
    return out


def conv2d_nhwc(x, w, strides, dilations, padding, out=None):
    """NHWC conv2d by blocked im2col + BLAS; ``strides``/``dilations`` are NHWC 4-lists."""
    from jitgraph.ops.nn_conv import _geom
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = _geom(x.shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(x.dtype, w.dtype)
    return _conv_core(np.asarray(x, dtype), np.asarray(w, dtype), strides[1], strides[2], dilations[1],
                      dilations[2], ph[0], pw[0], oh, ow, out)


def conv2d_backprop_filter_nhwc(x, w_shape, dy, strides, dilations, padding):
    """dW[a, b, c, f] = sum over output pixels of patch(x)[a, b, c] * dy[f]: per chunk cols^T @ dy,
    summed over per-thread partials."""
    from jitgraph.ops.nn_conv import _geom
    kh, kw, c, f = w_shape
    oh, ow, ph, pw = _geom(x.shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(x.dtype, dy.dtype)
    x = np.ascontiguousarray(x, dtype)
    dyf = np.ascontiguousarray(dy, dtype).reshape(-1, f)
    k = kh * kw * c
    parts = {}

    def work(p0, m, cols):
        acc = parts.get(threading.get_ident())
        if acc is None:
            parts[threading.get_ident()] = cols.T @ dyf[p0:p0 + m]
        else:
            acc += cols.T @ dyf[p0:p0 + m]
    if dyf.shape[0] and k and f:
        _patches(x, kh, kw, strides[1], strides[2], dilations[1], dilations[2], ph[0], pw[0], oh, ow, work)
    dw = sum(parts.values()) if parts else np.zeros((k, f), dtype)
    return np.asarray(dw, dtype).reshape(kh, kw, c, f)


def conv2d_backprop_input_nhwc(x_shape, w, dy, strides, dilations, padding):
    """dx as a forward conv of dy (zero-dilated by the strides) with the flipped, transposed filter:
    dx[h] = sum_a dyd[h + P - a*dh] w[a]  where P = pad before, so with w'[a'] = w[KH-1-a'] it is a
    correlation of dyd padded by (KH-1)*dh - P."""
    from jitgraph.ops.nn_conv import _geom
    kh, kw, c, f = w.shape
    n, h, wd, _ = x_shape
    sh, sw, dh, dw = strides[1], strides[2], dilations[1], dilations[2]
    oh, ow, ph, pw = _geom(x_shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(w.dtype, dy.dtype)
    dy = np.asarray(dy, dtype)
    if sh > 1 or sw > 1:
        dyd = np.zeros((n, (oh - 1) * sh + 1 if oh else 0, (ow - 1) * sw + 1 if ow else 0, f), dtype)
        dyd[:, ::sh, ::sw] = dy
    else:
        dyd = dy
    wf = np.ascontiguousarray(np.asarray(w, dtype)[::-1, ::-1].transpose(0, 1, 3, 2))
    if oh == 0 or ow == 0:
        return np.zeros((n, h, wd, c), dtype)
    return _conv_core(dyd, wf, 1, 1, dh, dw, (kh - 1) * dh - ph[0], (kw - 1) * dw - pw[0], h, wd)


_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def conv2d_fast(x, w, strides, padding, data_format, dilations, **attrs):
    """``extra["fast"]`` for Conv2D: same arguments and result as the reference ``compute``."""
    from jitgraph.ops import nn_conv
    x, w = np.asarray(x), np.asarray(w)
    if x.dtype not in _FAST_DTYPES or w.dtype != x.dtype or x.ndim != 4 or w.ndim != 4:
        return nn_conv._conv2d(x, w, strides, padding, data_format, dilations, **attrs)
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    y = conv2d_nhwc(nn_conv._to_nhwc(x, data_format), w, s, d, padding)
    return nn_conv._from_nhwc_arr(y, data_format)


def _supported(*arrays):
    return all(a.ndim == 4 and a.dtype in _FAST_DTYPES and a.dtype == arrays[0].dtype for a in arrays)


def conv2d_backprop_input_fast(sizes, w, dy, strides, padding, data_format, dilations, **attrs):
    """``extra["fast"]`` for Conv2DBackpropInput (same arguments and result as the reference)."""
    from jitgraph.ops import nn_conv
    w, dy = np.asarray(w), np.asarray(dy)
    if not _supported(w, dy):
        return nn_conv._conv_bp_input(sizes, w, dy, strides, padding, data_format, dilations, **attrs)
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    xs = nn_conv._nhwc_seq([int(v) for v in np.asarray(sizes).reshape(-1)], data_format)
    dx = conv2d_backprop_input_nhwc(xs, w, nn_conv._to_nhwc(dy, data_format), s, d, padding)
    return nn_conv._from_nhwc_arr(dx, data_format)


def conv2d_backprop_filter_fast(x, sizes, dy, strides, padding, data_format, dilations, **attrs):
    """``extra["fast"]`` for Conv2DBackpropFilter (same arguments and result as the reference)."""
    from jitgraph.ops import nn_conv
    x, dy = np.asarray(x), np.asarray(dy)
    if not _supported(x, dy):
        return nn_conv._conv_bp_filter(x, sizes, dy, strides, padding, data_format, dilations, **attrs)
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    w_shape = [int(v) for v in np.asarray(sizes).reshape(-1)]
    return conv2d_backprop_filter_nhwc(nn_conv._to_nhwc(x, data_format), w_shape, nn_conv._to_nhwc(dy, data_format),
                                       s, d, padding)


def register():
    """Attach the fast kernels to their ops (called when ``jitgraph.ops.nn_conv`` is imported)."""
    from jitgraph.ops.registry import OPS
    OPS["Conv2D"].extra["fast"] = conv2d_fast
    OPS["Conv2DBackpropInput"].extra["fast"] = conv2d_backprop_input_fast
    OPS["Conv2DBackpropFilter"].extra["fast"] = conv2d_backprop_filter_fast
