"""Fast conv2d kernels, registered as ``OPS[...].extra["fast"]`` (the compiler calls them for NumPy steps).

The NumPy references in ``jitgraph.ops.nn_conv`` stay the oracle; these give the same values within
float tolerance (``tests/kernels/test_conv.py``).

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

Stride-1 3x3 and 5x5 convs with enough channels (``winograd.usable``) use Winograd instead:
F(4x4,3x3) on 6x6 tiles (``winograd``), F(4x4,5x5) on 8x8 tiles (``winograd8``).  Per
chunk of tiles a Numba loop transforms the input tiles (B^T d B, vectorized over channels), one
batched ``np.matmul`` does the 36/64 [tiles, C] x [C, F] products against the transformed filter
(cached while the filter's values do not change), and a Numba loop applies A^T M A (+ bias, ReLU:
``conv2d_bias_act_fast``) into the output: 4x / 6.25x fewer multiplies than im2col, at ~7x its
float32 rounding error (``JITGRAPH_CONV_WINOGRAD=0`` turns it off).  W6's 5x5x32x32 conv on one
core (2-core Zen 3 VM): im2col 7.2 ms, F(2x2,5x5) on 6x6 tiles 4.3 ms, F(4x4,5x5) 2.5 ms
(input transform 0.6, 64 GEMMs 1.2 at ~56 GFLOP/s, output transform 0.25).  Lost: computing the
8x8 input transform's vertical pass once per row of tiles (tiles overlap by 4 columns) measured
10-40% slower than per tile (its 36 KiB band leaves L1); hand Numba GEMMs for the [T, 32] x [32, 32]
products reached 4-16 GFLOP/s against OpenBLAS's 50-62.

The gradients reuse the machinery: Conv2DBackpropFilter sums ``cols^T @ dy`` over chunks (one
partial per worker); Conv2DBackpropInput is a forward conv of ``dy`` (zero-dilated by the strides)
with the flipped, transposed filter.

Numba is imported lazily (``import jitgraph`` must not import it); without Numba the patches are
gathered with NumPy strided copies, chunk by chunk (same blocking, slower copy).
"""

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

    from jitgraph.kernels import winograd   # the stride-1 3x3/5x5 path (module docstring)
    if winograd.usable(x, w, sh, sw, dh, dw):
        return winograd.conv(x, w, top, left, oh, ow, out)

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


def conv2d_bias_act_fast(x, w, bias, strides, padding, data_format, dilations, act=None, **attrs):
    """``act(Conv2D(x, w) + bias)`` with ``bias`` of shape [F] (BiasAdd's broadcast over channels)
    and ``act`` None or "Relu": ``OPS["Conv2D"].extra["fast_bias_act"]``, for a compiler that finds
    Conv2D -> BiasAdd/Add(bias [F]) -> Relu with no other consumers.  On the Winograd path the bias
    and ReLU run inside the output transform (no second pass over the output); elsewhere after it."""
    from jitgraph.kernels import winograd
    from jitgraph.ops import nn_conv
    if act not in (None, "Relu"):
        raise ValueError(f"conv2d_bias_act_fast: unsupported activation {act!r}")
    x, w = np.asarray(x), np.asarray(w)
    b = np.asarray(bias)
    if (x.dtype in _FAST_DTYPES and w.dtype == x.dtype and b.dtype == x.dtype and x.ndim == w.ndim == 4
            and b.shape == (w.shape[3],)):
        s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
        xn = nn_conv._to_nhwc(x, data_format)
        if winograd.usable(xn, w, s[1], s[2], d[1], d[2]):
            oh, ow, ph, pw = nn_conv._geom(xn.shape, w.shape[0], w.shape[1], s, d, padding)
            y = winograd.conv(np.ascontiguousarray(xn), w, ph[0], pw[0], oh, ow, None, b, act == "Relu")
            return nn_conv._from_nhwc_arr(y, data_format)
    y = np.asarray(conv2d_fast(x, w, strides, padding, data_format, dilations, **attrs))
    y = y + (b.reshape(-1, 1, 1) if data_format == "NCHW" and b.ndim == 1 else b)
    return np.maximum(y, np.zeros((), y.dtype)) if act == "Relu" else y


def fused_conv2d_fast(x, w, bias, strides, padding, data_format, dilations, fused_ops, **attrs):
    """``extra["fast"]`` for the compiler's ``_FusedConv2D`` (conv + bias [+ relu] in one step)."""
    return conv2d_bias_act_fast(x, w, bias, strides, padding, data_format, dilations,
                                act="Relu" if "Relu" in fused_ops else None)


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

