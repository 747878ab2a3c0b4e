"""Fast conv2d kernels, registered as ``OPS[...].extra["fast"]`` (the compiler calls them for NumPy steps).

The NumPy references in ``jitgraph.ops.nn_conv`` stay the oracle; these give the same values within
float tolerance (``tests/kernels/test_conv.py``).

Conv2D forward (NHWC, float32/float64, any strides/dilations, SAME/VALID) is *blocked* im2col +
BLAS: the output pixels are cut into chunks of ``rows`` pixels; for each chunk a Numba loop copies
the patches (zeros for the padding, so the input is never padded or copied) into a small buffer that
stays in L2 (``rows * KH*KW*C`` elements, ~1 MiB), and one ``np.matmul(chunk, W, out=...)``
writes that chunk of the output.  Chunks run on ``blas.run_chunks``'s workers (one per BLAS thread,
each with single-threaded BLAS; no Numba ``parallel``, so the threading layer does not matter here).
With one to four input channels (the first layer of an image model) the conv and its filter
gradient are ``direct_conv``'s register-tiled loops, no patches at all (P8's 3 -> 32 first layer:
0.88 -> 0.54 ms, its filter gradient 0.91 -> 0.46 ms; P1's 1 -> 32 5x5 filter gradient 1.8 -> 0.9).
Where that path declines (dilated rows, output rows narrower than its pixel block), with one to
``_T_MAX_C`` input channels and output rows of ``_T_MIN_OW`` pixels or more the patches are
gathered one row per filter tap instead
(``im2col.im2col_t``, [KH*KW*C, pixels]: each row a copy of an input row) and the chunk's GEMM reads
them transposed: P1's first layer (5x5, 1 -> 32, batch 128) took 6.2 ms for the gather alone in
the pixel-rows layout, 3.5 in this one, 0.9 since its copies run between row views (one thread;
its GEMM ~2.5 ms more).  TF's oneDNN runs that
layer in ~3 ms: with 25 multiply-adds per output value, gathering patches costs as much as the
product, and a direct loop nest that keeps a pixels x filters tile in registers is not reachable
from Numba here (below).
Measured on the 2-core Zen box for W6's shapes, the alternatives lose:

* the reference's whole-batch im2col writes and re-reads a 26 MB patch matrix (W6) — memory bound;
* direct Numba loop nests (dot-product blocking 4 pixels x 2 filters, or outer-product blocking
  over F) reach 10-35 GFLOP/s: Numba arrays give LLVM no way to keep an accumulator tile in
  registers without spills or gathers (Numba turns LLVM's SLP vectorizer off, and the loop
  vectorizer's 64-float body never runs for F = 16 or 32: a 4-pixel x 32-filter tile for P1's
  first layer took 10-22 ms against 6 for im2col + BLAS), while OpenBLAS's sgemm micro-kernel
  runs at ~75 GFLOP/s a core on a [256, 800] x [800, 32] chunk;
* 25 shifted [N*Hp*Wp, C] x [C, F] sgemms (no im2col) and 5 row-im2col sgemms with K = KW*C do
  27% / 12% wasted work on the padded grid and need a second BLAS (scipy's, for beta=1).

Stride-1 3x3 and 5x5 convs with enough channels (``winograd.usable``) use Winograd instead:
F(4x4,3x3) on 6x6 tiles (``winograd``), F(4x4,5x5) on 8x8 tiles (``winograd8``).  Per
chunk of tiles a Numba loop transforms the input tiles (B^T d B, vectorized over channels), 36/64
GEMMs do the [tiles, C] x [C, F] products against the transformed filter (cached while the filter's
values do not change), and a Numba loop applies A^T M A (+ bias, ReLU: ``conv2d_bias_act_fast``)
into the output, all in one native call per thread (``winograd_jit.conv_chunks``): 4x / 6.25x fewer multiplies than im2col, at ~7x its
float32 rounding error (``JITGRAPH_CONV_WINOGRAD=0`` turns it off).  W6's 5x5x32x32 conv on one
core (2-core Zen 3 VM): im2col 7.2 ms, F(2x2,5x5) on 6x6 tiles 4.3 ms, F(4x4,5x5) 2.5 ms
(input transform 0.6, 64 GEMMs 1.2 at ~56 GFLOP/s, output transform 0.25).  Lost: computing the
8x8 input transform's vertical pass once per row of tiles (tiles overlap by 4 columns) measured
10-40% slower than per tile (its 36 KiB band leaves L1); hand Numba GEMMs for the [T, 32] x [32, 32]
products reached 4-16 GFLOP/s against OpenBLAS's 50-62.

The gradients reuse the machinery.  Conv2DBackpropFilter: stride-1 3x3 / 5x5 with enough tiles by
Winograd (``winograd_grad``), otherwise ``cols^T @ dy`` summed over chunks (one partial per worker).
Conv2DBackpropInput: with few input channels ``W @ dy^T`` per image with the tap rows added back
into dx (``im2col.col2im_t``); with a stride > 1 one stride-1 conv of ``dy`` per phase of dx (the
sub-filter of the taps that reach it: no multiply by the zeros of a dilated ``dy``; a DCGAN
generator's 7x7x64 -> 14x14x32 5x5 ``conv2d_transpose`` step 22.4 -> 19.6 ms, interleaved A/B);
otherwise a forward conv of ``dy`` with the flipped, transposed filter (Winograd at stride 1).

Small problems skip all this: a conv or filter gradient under ``_SMALL_MACS`` multiply-adds, and an
input gradient under ``_SMALL_IMAGE_MACS`` per image, run the reference's code (one im2col + GEMM,
or a GEMM + window adds), which costs less than the chunk workers' dispatch: a text CNN's
[50, 30, 24, 1] input gradient 1.4 -> 0.7 ms, a [16, 40, 6, 1] conv 69 -> 28 us.

Error: im2col + BLAS sums each output's KH*KW*C products in BLAS's order, so against the
reference (same sums, NumPy's BLAS order) the difference is float rounding: measured below
1e-6 of the output's largest magnitude in float32 (tests allow 2e-5 * sqrt(KH*KW*C)); Winograd
adds its transforms' rounding (``winograd``).  The gradients: the same, plus the order in which
overlapping windows' contributions are added.
"""

import threading

import numpy as np

from jitgraph.kernels import blas, direct_conv, epilogue, im2col, winograd, winograd_grad
from jitgraph.kernels.blas import FAST_DTYPES as _FAST_DTYPES
from jitgraph.ops import fused_ops, nn_conv
from jitgraph.ops.nn_conv import _conv_backprop_filter_nhwc, _conv_backprop_input_nhwc, _conv_nhwc, _geom

_ROW_BYTES = 1 << 20     # one patch chunk: 1 MiB measured best (W6 7.5 ms vs 7.7 at 512 KiB, 12 at 8 MiB)
_T_MAX_C = 4             # input channels up to which patches are gathered one row per tap ...
_T_MIN_OW = 8            # ... when output rows are at least this wide (a tap row of a text CNN's
                         # full-width filter is one pixel: 0.66 ms a [50, 30, 24, 1] conv, pixel rows 0.15)
_SMALL_MACS = 1 << 19    # below, a conv or its filter gradient is the reference's one im2col + GEMM
_SMALL_IMAGE_MACS = 1 << 18   # below (per image), the input gradient is the reference's GEMM + adds


def _chunk_rows(total, per_row_bytes, minimum=1):
    """Rows per chunk so that a chunk's patches take about ``_ROW_BYTES``."""
    return max(minimum, min(total, _ROW_BYTES // max(1, per_row_bytes)))


def _patches(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, work):
    """Run ``work(p0, m, cols)`` over chunks of output pixels, ``cols`` holding their [m, KH*KW*C]
    patches (zero outside ``x``; ``top``/``left`` pad before, as much as needed after)."""
    n, h, wd, c = x.shape
    k = kh * kw * c
    total = n * oh * ow
    rows = _chunk_rows(total, k * x.dtype.itemsize, 16)

    def chunk(j):
        p0 = j * rows
        m = min(rows, total - p0)
        buf = blas.scratch(rows, k, x.dtype)[:m]
        im2col.im2col_rows(x, buf, p0, kh, kw, sh, sw, dh, dw, top, left, oh, ow)
        work(p0, m, buf)
    blas.run_chunks(-(-total // rows), chunk)


def _flat_scratch(k, most, m, dtype):
    """A contiguous [k, m] view of a per-thread buffer of k * most elements (m <= most)."""
    return blas.scratch(1, k * most, dtype, "T")[0, :k * m].reshape(k, m)


def _patches_t(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, work):
    """Run ``work(r0, r1, cols)`` over chunks of output rows r = n*OH + i, ``cols`` holding their
    [KH*KW*C, (r1 - r0)*OW] patches, one row per tap (``im2col.im2col_t``)."""
    n, h, wd, c = x.shape
    k = kh * kw * c
    total = n * oh
    rows = _chunk_rows(total, k * ow * x.dtype.itemsize)

    def chunk(j):
        r0 = j * rows
        r1 = min(total, r0 + rows)
        buf = _flat_scratch(k, rows * ow, (r1 - r0) * ow, x.dtype)
        im2col.im2col_t(x, buf, r0, r1, kh, kw, sh, sw, dh, dw, top, left, oh, ow)
        work(r0, r1, buf)
    blas.run_chunks(-(-total // rows), chunk)


def _conv_core(x, w, sh, sw, dh, dw, top, left, oh, ow, out=None, bias=None, act=None):
    """out[n, i, j] = sum_{a,b} x[n, i*sh + a*dh - top, j*sw + b*dw - left] @ w[a, b] (zero outside x),
    then ``act(out + bias)`` when ``bias`` is given (``epilogue``), block by block as BLAS writes."""
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
    one_by_one = kh == kw == sh == sw == 1 and top == left == 0 and oh == h and ow == wd
    if kh * kw * c and not one_by_one and winograd.usable(x, w, sh, sw, dh, dw):   # stride-1 3x3/5x5
        winograd.conv(x, w, top, left, oh, ow, out, bias, act == "Relu")
        if act not in (None, "Relu"):          # the bias (if any) was added in the output transform
            zeros = epilogue.tiled_bias(np.zeros(f, x.dtype))
            _blocks(flat, lambda y: epilogue.apply(y, zeros, act))
        return out
    bt = None if bias is None else epilogue.tiled_bias(np.ascontiguousarray(bias, x.dtype))
    if kh * kw * c == 0:
        flat[...] = 0
    elif one_by_one:
        np.matmul(x.reshape(total, c), w2, out=flat)      # a 1x1 conv is one matmul
    elif direct_conv.usable(x.dtype, c, f, dw, ow):      # 1-4 input channels (direct_conv)
        return direct_conv.conv(x, w, sh, sw, dh, top, left, oh, ow, out, bt, act)
    elif c <= _T_MAX_C and ow >= _T_MIN_OW:
        def work_t(r0, r1, cols):
            y = flat[r0 * ow:r1 * ow]
            np.matmul(cols.T, w2, out=y)
            if bt is not None:
                epilogue.apply(y, bt, act)
        _patches_t(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, work_t)
        return out
    else:
        def work(p0, m, cols):
            y = flat[p0:p0 + m]
            np.matmul(cols, w2, out=y)
            if bt is not None:
                epilogue.apply(y, bt, act)
        _patches(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, work)
        return out
    if bt is not None:
        _blocks(flat, lambda y: epilogue.apply(y, bt, act))
    return out


def _blocks(flat, fn):
    """``fn`` on blocks of rows of ``flat`` of about ``_ROW_BYTES``, on the chunk workers."""
    rows = _chunk_rows(flat.shape[0], flat.shape[1] * flat.dtype.itemsize)
    blas.run_chunks(-(-flat.shape[0] // rows), lambda j: fn(flat[j * rows:(j + 1) * rows]))


def conv2d_nhwc(x, w, strides, dilations, padding, out=None, bias=None, act=None):
    """NHWC conv2d by blocked im2col + BLAS or Winograd; ``strides``/``dilations`` are NHWC
    4-lists; ``act(... + bias)`` when ``bias`` is given."""
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = _geom(x.shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(x.dtype, w.dtype)
    if out is None and x.shape[0] * oh * ow * w.size < _SMALL_MACS:   # (chunk dispatch would cost more)
        y = np.ascontiguousarray(_conv_nhwc(np.asarray(x, dtype), np.asarray(w, dtype), strides, dilations, padding))
        if bias is not None:
            epilogue.apply(y, epilogue.tiled_bias(np.ascontiguousarray(bias, dtype)), act)
        return y
    return _conv_core(np.asarray(x, dtype), np.asarray(w, dtype), strides[1], strides[2], dilations[1],
                      dilations[2], ph[0], pw[0], oh, ow, out, bias, act)


def conv2d_backprop_filter_nhwc(x, w_shape, dy, strides, dilations, padding):
    """dW[a, b, c, f] = sum over output pixels of patch(x)[a, b, c] * dy[f]: per chunk cols^T @ dy
    (or cols @ dy in the one-row-per-tap layout), summed over per-thread partials."""
    kh, kw, c, f = w_shape
    oh, ow, ph, pw = _geom(x.shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(x.dtype, dy.dtype)
    if x.shape[0] * oh * ow * kh * kw * c * f < _SMALL_MACS:
        return _conv_backprop_filter_nhwc(np.asarray(x, dtype), w_shape, np.asarray(dy, dtype), strides, dilations,
                                          padding)
    x = np.ascontiguousarray(x, dtype)
    dyf = np.ascontiguousarray(dy, dtype).reshape(-1, f)
    k = kh * kw * c
    parts = {}

    def add(prod):
        acc = parts.get(threading.get_ident())
        if acc is None:
            parts[threading.get_ident()] = prod
        else:
            acc += prod
    geo = (kh, kw, strides[1], strides[2], dilations[1], dilations[2], ph[0], pw[0], oh, ow)
    if dyf.shape[0] and k and f and direct_conv.usable(dtype, c, f, geo[5]):
        return direct_conv.filter_grad(x, dyf.reshape(dy.shape), kh, kw, strides[1], strides[2], dilations[1],
                                       ph[0], pw[0])
    if dyf.shape[0] and k and f and winograd_grad.usable(x, w_shape, *geo[2:6]):
        return winograd_grad.filter_grad(x, dyf.reshape(dy.shape), kh, ph[0], pw[0])
    if dyf.shape[0] and k and f:
        if c <= _T_MAX_C and ow >= _T_MIN_OW:
            _patches_t(x, *geo, lambda r0, r1, cols: add(cols @ dyf[r0 * ow:r1 * ow]))
        else:
            _patches(x, *geo, lambda p0, m, cols: add(cols.T @ dyf[p0:p0 + m]))
    dw = sum(parts.values()) if parts else np.zeros((k, f), dtype)
    return np.asarray(dw, dtype).reshape(kh, kw, c, f)


def _backprop_input_t(x_shape, w, dy, sh, sw, dh, dw, top, left, oh, ow):
    """dx for few input channels: per image and block of its output rows, cols = W @ dy^T
    ([KH*KW*C, pixels]) added tap row by tap row into a zero-bordered buffer of the image
    (``im2col.col2im_t``), whose interior is dx[n].  Workers take whole images."""
    n, h, wd, c = x_shape
    kh, kw, _, f = w.shape
    k = kh * kw * c
    w2 = np.ascontiguousarray(w).reshape(k, f)
    dyf = np.ascontiguousarray(dy).reshape(n, oh * ow, f)
    dx = np.empty((n, h, wd, c), dy.dtype)
    rows = _chunk_rows(oh, k * ow * dy.dtype.itemsize)
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    h_hi, w_hi = min(h, hp - top), min(wd, wp - left)

    def image(j):
        dpad = blas.scratch(hp, wp * c, dy.dtype, "dpad")
        dpad[...] = 0
        for i0 in range(0, oh, rows):
            i1 = min(oh, i0 + rows)
            cols = _flat_scratch(k, rows * ow, (i1 - i0) * ow, dy.dtype)
            np.matmul(w2, dyf[j, i0 * ow:i1 * ow].T, out=cols)
            im2col.col2im_t(cols, dpad, i0, i1, kh, kw, sh, sw, dh, dw, ow)
        dx[j] = 0
        dx[j, :h_hi, :w_hi] = dpad.reshape(hp, wp, c)[top:top + h_hi, left:left + w_hi]
    blas.run_chunks(n, image)
    return dx


def _backprop_input_phases(x_shape, w, dy, sh, sw, top, left):
    """dx of a strided, undilated conv as ``sh * sw`` stride-1 convs of ``dy``, one per phase of
    dx (the rows ``i0::sh`` and columns ``j0::sw``): only the taps ``w[rh::sh, rw::sw]`` reach a
    phase, so no multiply meets a zero of a dilated ``dy``. With dx[i] = sum_o dy[o] w[i + P - o*s]
    and i = q*s + r - P, a = r + s*t: dx[q] = sum_t dy[q - t] w[r + s*t], a correlation of ``dy``
    with the flipped sub-filter, padded before by T - 1 - q0 (q0 the phase's first q). None if a
    phase would need a negative padding (the caller then takes another path)."""
    n, h, wd, c = x_shape
    kh, kw, _, f = w.shape
    plans = []
    for axis_pad, s, k, size in ((top, sh, kh, h), (left, sw, kw, wd)):
        axis = []
        for r in range(s):
            first = (r - axis_pad) % s
            count, taps = len(range(first, size, s)), len(range(r, k, s))
            pad = taps - 1 + (r - axis_pad) // s          # T - 1 - q0, q0 = ceil((P - r) / s)
            if count and taps and pad < 0:
                return None
            axis.append((r, first, count, taps, pad))
        plans.append(axis)
    dx = np.empty((n, h, wd, c), dy.dtype)
    for rh, i0, nh, th, pad_h in plans[0]:
        for rw, j0, nw, tw, pad_w in plans[1]:
            if not nh or not nw:
                continue
            if not th or not tw:
                dx[:, i0::sh, j0::sw] = 0
                continue
            wsub = np.ascontiguousarray(w[rh::sh, rw::sw][::-1, ::-1].transpose(0, 1, 3, 2))
            dx[:, i0::sh, j0::sw] = _conv_core(dy, wsub, 1, 1, 1, 1, pad_h, pad_w, nh, nw)
    return dx


def conv2d_backprop_input_nhwc(x_shape, w, dy, strides, dilations, padding):
    """dx by ``_backprop_input_t`` for few input channels; for strides > 1 (undilated) by
    ``_backprop_input_phases`` (one thread, batch 32 32x32 16 -> 32 3x3 stride 2: 1.7 ms against
    1.8 by ``_backprop_input_t`` and 2.3 zero-dilated; in a DCGAN generator's step, interleaved,
    22.4 -> 19.6 ms); otherwise (dilated strides, or the phases decline) ``_backprop_input_t``
    unless the flipped conv below runs as Winograd. Stride 1: a forward conv of dy (zero-dilated
    by the strides when they are > 1) with the flipped, transposed filter:
    dx[h] = sum_a dyd[h + P - a*dh] w[a]  where P = pad before, so with w'[a'] = w[KH-1-a'] it is a
    correlation of dyd padded by (KH-1)*dh - P."""
    kh, kw, c, f = w.shape
    n, h, wd, _ = x_shape
    sh, sw, dh, dw = strides[1], strides[2], dilations[1], dilations[2]
    oh, ow, ph, pw = _geom(x_shape, kh, kw, strides, dilations, padding)
    dtype = np.result_type(w.dtype, dy.dtype)
    w, dy = np.asarray(w, dtype), np.asarray(dy, dtype)
    if oh == 0 or ow == 0 or n * h * wd * c == 0:
        return np.zeros((n, h, wd, c), dtype)
    if oh * ow * kh * kw * c * f < _SMALL_IMAGE_MACS and (c <= _T_MAX_C or n * oh * ow * w.size < _SMALL_MACS):
        return np.ascontiguousarray(_conv_backprop_input_nhwc(x_shape, w, dy, strides, dilations, padding))
    wf = w[::-1, ::-1].transpose(0, 1, 3, 2)                 # a view: Winograd flips w itself
    strided = sh > 1 or sw > 1
    if f and c > _T_MAX_C and strided and dh == dw == 1:
        dx = _backprop_input_phases(x_shape, w, dy, sh, sw, ph[0], pw[0])
        if dx is not None:
            return dx
    if f and (c <= _T_MAX_C or strided and not winograd.usable(dy, wf, 1, 1, dh, dw)):
        return _backprop_input_t(x_shape, w, dy, sh, sw, dh, dw, ph[0], pw[0], oh, ow)
    if strided:
        dyd = np.zeros((n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, f), dtype)
        dyd[:, ::sh, ::sw] = dy
    else:
        dyd = dy
    top, left = (kh - 1) * dh - ph[0], (kw - 1) * dw - pw[0]
    if winograd.usable(dyd, wf, 1, 1, dh, dw):
        return winograd.conv(dyd, w, top, left, h, wd, flipped=True)
    return _conv_core(dyd, np.ascontiguousarray(wf), 1, 1, dh, dw, top, left, h, wd)


def conv2d_fast(x, w, strides, padding, data_format, dilations, **attrs):
    """``extra["fast"]`` for Conv2D: same arguments and result as the reference ``compute``."""
    x, w = np.asarray(x), np.asarray(w)
    if x.dtype not in _FAST_DTYPES or w.dtype != x.dtype or x.ndim != 4 or w.ndim != 4:
        return nn_conv._conv2d(x, w, strides, padding, data_format, dilations, **attrs)
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    y = conv2d_nhwc(nn_conv._to_nhwc(x, data_format), w, s, d, padding)
    return nn_conv._from_nhwc_arr(y, data_format)


def conv2d_bias_act_fast(x, w, bias, strides, padding, data_format, dilations, act=None, **attrs):
    """``act(Conv2D(x, w) + bias)`` with ``bias`` of shape [F] (BiasAdd's broadcast over channels)
    and ``act`` None or one of ``fused_ops.ACTIVATIONS``: ``OPS["Conv2D"].extra["fast_bias_act"]``.
    The bias and activation are applied to each block of the output as BLAS writes it (inside the
    Winograd output transform for ReLU); same values as the unfused ops within the conv's rounding."""
    if act is not None and act not in fused_ops.ACTIVATIONS:
        raise ValueError(f"conv2d_bias_act_fast: unsupported activation {act!r}")
    x, w = np.asarray(x), np.asarray(w)
    b = np.asarray(bias)
    if not (x.dtype in _FAST_DTYPES and w.dtype == x.dtype and b.dtype == x.dtype and x.ndim == w.ndim == 4
            and b.shape == (w.shape[3],)):
        return fused_ops._fused_conv(x, w, b, strides, padding, data_format, dilations,
                                     ("BiasAdd",) + ((act,) if act else ()))
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    y = conv2d_nhwc(nn_conv._to_nhwc(x, data_format), w, s, d, padding, bias=b, act=act)
    return nn_conv._from_nhwc_arr(y, data_format)


def fused_conv2d_fast(x, w, bias, strides, padding, data_format, dilations, fused_ops, **attrs):
    """``extra["fast"]`` for the compiler's ``_FusedConv2D`` (conv + bias [+ activation] in one step)."""
    return conv2d_bias_act_fast(x, w, bias, strides, padding, data_format, dilations,
                                act=fused_ops[1] if len(fused_ops) > 1 else None)


def _supported(*arrays):
    return all(a.ndim == 4 and a.dtype in _FAST_DTYPES and a.dtype == arrays[0].dtype for a in arrays)


def conv2d_backprop_input_fast(sizes, w, dy, strides, padding, data_format, dilations, **attrs):
    """``extra["fast"]`` for Conv2DBackpropInput (same arguments and result as the reference)."""
    w, dy = np.asarray(w), np.asarray(dy)
    if not _supported(w, dy):
        return nn_conv._conv_bp_input(sizes, w, dy, strides, padding, data_format, dilations, **attrs)
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    xs = nn_conv._nhwc_seq([int(v) for v in np.asarray(sizes).reshape(-1)], data_format)
    dx = conv2d_backprop_input_nhwc(xs, w, nn_conv._to_nhwc(dy, data_format), s, d, padding)
    return nn_conv._from_nhwc_arr(dx, data_format)


def conv2d_backprop_filter_fast(x, sizes, dy, strides, padding, data_format, dilations, **attrs):
    """``extra["fast"]`` for Conv2DBackpropFilter (same arguments and result as the reference)."""
    x, dy = np.asarray(x), np.asarray(dy)
    if not _supported(x, dy):
        return nn_conv._conv_bp_filter(x, sizes, dy, strides, padding, data_format, dilations, **attrs)
    s, d = nn_conv._nhwc_seq(strides, data_format), nn_conv._nhwc_seq(dilations, data_format)
    w_shape = [int(v) for v in np.asarray(sizes).reshape(-1)]
    return conv2d_backprop_filter_nhwc(nn_conv._to_nhwc(x, data_format), w_shape, nn_conv._to_nhwc(dy, data_format),
                                       s, d, padding)

