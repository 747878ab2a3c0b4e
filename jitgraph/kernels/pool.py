"""MaxPool / AvgPool and their gradients: ``extra["fast"]`` of ``MaxPool``, ``AvgPool``,
``MaxPoolGrad``, ``AvgPoolGrad`` (references in ``jitgraph.ops.nn_conv``).

NHWC (NCHW is transposed around them), float32/float64, any ksize/strides, SAME/VALID.  Each
kernel walks the output grid once, clips every window to the image (no padded copy of the input)
and runs its innermost loop over the contiguous channels:

* MaxPool: ``out = max(lowest finite, inputs of the window)`` with NaN never winning, as TF.
  Exact (no arithmetic).
* MaxPoolGrad: per output and channel the first maximal input in row-major window order gets the
  gradient, with TF's two rules for NaN and -inf (float32 as oneDNN, float64 as Eigen; see the
  reference ``_max_pool_grad``).  One pass over x's windows and one scatter into dx: the sums of
  overlapping windows' gradients are added in output order, the reference adds them in tap order,
  so with overlapping windows float rounding of those sums may differ (within 1 ulp per add).
* AvgPool: the window's valid inputs summed in row-major tap order, divided by their count:
  bitwise the reference (which sums the same values in the same order).
* AvgPoolGrad: gathers for each input the shares ``g / count`` of the windows that hold it, in the
  reference's tap order: bitwise the reference.

2x2 windows at stride 2 that tile the image exactly (the pool of nearly every CNN) have their
own kernels: the four inputs of a window are compared value by value with the channel loop
innermost, which vectorizes; the generic walk keeps its running max in memory and does not
(measured on [16, 28, 28, 16]: MaxPool 111 -> 28 us, MaxPoolGrad 182 -> 64 us).  Same values.

Each kernel has one driver over a range of images. Over ``_PARALLEL_MIN`` elements
(``_PARALLEL_MIN_2X2`` for the 2x2 kernels) ``over_images`` splits the batch into chunks that the
calling thread and the chunk workers claim (``blas.run_chunks``; the drivers release the GIL).
The kernels are memory bound; two threads measured 1.5-2x one on P1's [128, 28, 28, 32] pool.
Numba's ``prange`` drivers did the same before, as fast, but compiling a ``parallel=True``
function took ~1 s each on a cold start (P1's pool drivers 3.4 -> 0.8 s with their serial twins).
"""

import numpy as np
from numba import njit

from jitgraph.kernels import blas
from jitgraph.ops import nn_conv

_PARALLEL_MIN = 1 << 16    # elements of the larger operand; below, one thread (a launch costs ~10 us)
_PARALLEL_MIN_2X2 = 1 << 20   # the 2x2 kernels: 21 us a [16, 28, 28, 16] pool, a launch ~40 us more
_CHUNKS = 8                   # chunks of images a split batch makes (claimed by whichever thread is free)
_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _window(i, s, pad, k, size):
    """Rows [a, b) of the input that output row i's window reads, clipped to the image."""
    h0 = i * s - pad
    return max(h0, 0), min(h0 + k, size)


@njit(cache=True, nogil=True, boundscheck=False)
def _max_pool_image(x, out, n, kh, kw, sh, sw, top, left, lowest):
    _, h_, w_, c_ = x.shape
    _, oh_, ow_, _ = out.shape
    for i in range(oh_):
        ha, hb = _window(i, sh, top, kh, h_)
        for j in range(ow_):
            wa, wb = _window(j, sw, left, kw, w_)
            o = out[n, i, j]
            for c in range(c_):
                o[c] = lowest
            for h in range(ha, hb):
                for w in range(wa, wb):
                    v = x[n, h, w]
                    for c in range(c_):
                        a, b = v[c], o[c]
                        o[c] = a if a > b else b


@njit(cache=True, nogil=True, boundscheck=False)
def _max_pool_grad_image(x, g, dx, n, kh, kw, sh, sw, top, left, first_valid, best, arg):
    _, h_, w_, c_ = x.shape
    _, oh_, ow_, _ = g.shape
    dxf = dx[n].reshape(-1)
    for q in range(dxf.size):
        dxf[q] = 0
    ninf = -np.inf
    for i in range(oh_):
        ha, hb = _window(i, sh, top, kh, h_)
        for j in range(ow_):
            wa, wb = _window(j, sw, left, kw, w_)
            if first_valid:                        # Eigen: the first input inside the image
                v, t = x[n, ha, wa], (ha * w_ + wa) * c_
                for c in range(c_):
                    best[c] = v[c]
                    arg[c] = t + c
            else:                                  # oneDNN: the first tap, -1 if it is padding
                t = (ha * w_ + wa) * c_ if ha == i * sh - top and wa == j * sw - left else -1
                for c in range(c_):
                    best[c] = ninf
                    arg[c] = t + c if t >= 0 else -1
            for h in range(ha, hb):
                for w in range(wa, wb):
                    v, t = x[n, h, w], (h * w_ + w) * c_
                    for c in range(c_):
                        if v[c] > best[c]:
                            best[c] = v[c]
                            arg[c] = t + c
            gr = g[n, i, j]
            for c in range(c_):
                if arg[c] >= 0:
                    dxf[arg[c]] += gr[c]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _count(one, ha, hb, wa, wb):
    """The window's number of inputs in the dtype of ``one`` (a [1] array): float32 / int64
    would divide in float64."""
    one[0] = (hb - ha) * (wb - wa)
    return one[0]


@njit(cache=True, nogil=True, boundscheck=False)
def _avg_pool_image(x, out, n, kh, kw, sh, sw, top, left):
    _, h_, w_, c_ = x.shape
    _, oh_, ow_, _ = out.shape
    one = np.empty(1, out.dtype)
    for i in range(oh_):
        ha, hb = _window(i, sh, top, kh, h_)
        for j in range(ow_):
            wa, wb = _window(j, sw, left, kw, w_)
            o = out[n, i, j]
            for c in range(c_):
                o[c] = 0
            for h in range(ha, hb):
                for w in range(wa, wb):
                    v = x[n, h, w]
                    for c in range(c_):
                        o[c] += v[c]
            cnt = _count(one, ha, hb, wa, wb)
            for c in range(c_):
                o[c] = o[c] / cnt


@njit(cache=True, nogil=True, boundscheck=False)
def _avg_pool_grad_image(share, dx, n, kh, kw, sh, sw, top, left):
    """dx[n, h, w] = sum over taps (a, b) in order of share[n, (h + top - a) / sh, (w + left - b) / sw];
    windows that do not overlap (ksize <= strides) write their share straight into their inputs."""
    _, h_, w_, c_ = dx.shape
    _, oh_, ow_, _ = share.shape
    if kh <= sh and kw <= sw:
        dxf = dx[n].reshape(-1)
        for q in range(dxf.size):
            dxf[q] = 0
        for i in range(oh_):
            ha, hb = _window(i, sh, top, kh, h_)
            for j in range(ow_):
                wa, wb = _window(j, sw, left, kw, w_)
                sv = share[n, i, j]
                for h in range(ha, hb):
                    for w in range(wa, wb):
                        d = dx[n, h, w]
                        for c in range(c_):
                            d[c] = sv[c] + 0.0          # 0 + share, as the reference adds it (-0 -> +0)
        return
    for h in range(h_):
        for w in range(w_):
            d = dx[n, h, w]
            for c in range(c_):
                d[c] = 0
            for a in range(kh):
                r = h + top - a
                if r < 0 or r % sh or r // sh >= oh_:
                    continue
                for b in range(kw):
                    q = w + left - b
                    if q < 0 or q % sw or q // sw >= ow_:
                        continue
                    s = share[n, r // sh, q // sw]
                    for c in range(c_):
                        d[c] += s[c]


@njit(cache=True, nogil=True, boundscheck=False)
def _avg_shares(g, share, kh, kw, sh, sw, top, left, h_, w_):
    """share = g / (number of the window's inputs inside the image), as the reference divides."""
    n_, oh_, ow_, c_ = g.shape
    one = np.empty(1, g.dtype)
    for n in range(n_):
        for i in range(oh_):
            ha, hb = _window(i, sh, top, kh, h_)
            for j in range(ow_):
                wa, wb = _window(j, sw, left, kw, w_)
                cnt = _count(one, ha, hb, wa, wb)
                for c in range(c_):
                    share[n, i, j, c] = g[n, i, j, c] / cnt


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def window_2x2(x, n, i, j):
    """The four input rows (of C values) of output (i, j)'s 2x2 window in image n, row-major."""
    return x[n, 2 * i, 2 * j], x[n, 2 * i, 2 * j + 1], x[n, 2 * i + 1, 2 * j], x[n, 2 * i + 1, 2 * j + 1]


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def max_2x2(a, b, c, d, lowest):
    """MaxPool's value of a 2x2 window: the largest of ``lowest`` and a, b, c, d (NaN never wins)."""
    m = a if a > lowest else lowest
    m = b if b > m else m
    m = c if c > m else m
    return d if d > m else m


@njit(cache=True, nogil=True, boundscheck=False)
def _max_pool_2x2_image(x, out, n, lowest):
    """2x2 windows at stride 2 tiling the image exactly: four loads and three selects per value,
    the channel loop innermost and vectorized (the generic walk keeps the running max in ``out``
    and runs ~6x slower on [16, 28, 28, 16])."""
    _, oh_, ow_, c_ = out.shape
    for i in range(oh_):
        for j in range(ow_):
            o = out[n, i, j]
            a, b, c, d = window_2x2(x, n, i, j)
            for q in range(c_):
                o[q] = max_2x2(a[q], b[q], c[q], d[q], lowest)


@njit(cache=True, nogil=True, boundscheck=False)
def _max_pool_grad_2x2_image(x, g, dx, n, first_valid, zero, ninf):
    """MaxPoolGrad on exactly tiling 2x2 windows at stride 2, one output row at a time: first the
    tap (0..3, row-major) of each window's first maximal input, then each tap's inputs get
    ``g + 0`` where they won (the reference adds g to a zero: -0 becomes +0) and 0 elsewhere.
    NaN / -inf as ``_max_pool_grad_image``: the running best starts at the first input (Eigen,
    ``first_valid``) or at -inf (oneDNN), the choice at the first tap (``tap_2x2``); then the
    scatter (``scatter_2x2_row``)."""
    _, oh_, ow_, c_ = g.shape
    won = np.empty((ow_, c_), np.int32)
    for i in range(oh_):
        for j in range(ow_):
            a, b, c, d = window_2x2(x, n, i, j)
            k = won[j]
            for q in range(c_):
                k[q] = tap_2x2(a[q], b[q], c[q], d[q], first_valid, ninf)
        scatter_2x2_row(won, g, dx, n, i, zero)


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def tap_2x2(a, b, c, d, first_valid, ninf):
    """The tap (0..3, row-major) of a 2x2 window's first maximal input, by MaxPoolGrad's rules."""
    best = a if (first_valid | (a > ninf)) else ninf
    s = b > best
    best = b if s else best
    t = 1 if s else 0
    s = c > best
    best = c if s else best
    t = 2 if s else t
    return 3 if d > best else t


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def scatter_2x2_row(taps, g, dx, n, i, zero):
    """Output row i of image n: each tap's inputs get ``g + 0`` where they won, 0 elsewhere
    (``taps`` [OW, C]: the row's taps). Two loops with one store each: a single loop storing all
    four taps does not vectorize (2.5-3x slower)."""
    ow_, c_ = g.shape[2], g.shape[3]
    for t in range(4):
        for j in range(ow_):
            dr, k, gr = dx[n, 2 * i + t // 2, 2 * j + t % 2], taps[j], g[n, i, j]
            for q in range(c_):
                dr[q] = gr[q] + zero if k[q] == t else zero


# One driver per kernel over the images [n0, n1); ``over_images`` splits the batch between the
# chunk workers when there is enough work.
@njit(cache=True, nogil=True, boundscheck=False)
def max_pool_2x2_images(x, out, lowest, n0, n1):
    for n in range(n0, n1):
        _max_pool_2x2_image(x, out, n, lowest)


@njit(cache=True, nogil=True, boundscheck=False)
def max_pool_grad_2x2_images(x, g, dx, first_valid, zero, ninf, n0, n1):
    for n in range(n0, n1):
        _max_pool_grad_2x2_image(x, g, dx, n, first_valid, zero, ninf)


@njit(cache=True, nogil=True, boundscheck=False)
def max_pool_images(x, out, kh, kw, sh, sw, top, left, lowest, n0, n1):
    for n in range(n0, n1):
        _max_pool_image(x, out, n, kh, kw, sh, sw, top, left, lowest)


@njit(cache=True, nogil=True, boundscheck=False)
def max_pool_grad_images(x, g, dx, kh, kw, sh, sw, top, left, first_valid, n0, n1):
    best, arg = np.empty(x.shape[3], x.dtype), np.empty(x.shape[3], np.int64)
    for n in range(n0, n1):
        _max_pool_grad_image(x, g, dx, n, kh, kw, sh, sw, top, left, first_valid, best, arg)


@njit(cache=True, nogil=True, boundscheck=False)
def avg_pool_images(x, out, kh, kw, sh, sw, top, left, n0, n1):
    for n in range(n0, n1):
        _avg_pool_image(x, out, n, kh, kw, sh, sw, top, left)


@njit(cache=True, nogil=True, boundscheck=False)
def avg_pool_grad_images(share, dx, kh, kw, sh, sw, top, left, n0, n1):
    for n in range(n0, n1):
        _avg_pool_grad_image(share, dx, n, kh, kw, sh, sw, top, left)


def over_images(driver, n, size, minimum, *args):
    """``driver(*args, n0, n1)`` over the images [0, n): in one call below ``minimum`` elements,
    else in chunks of images on the chunk workers (``blas.run_chunks``; each call releases the GIL)."""
    chunks = min(n, _CHUNKS) if size >= minimum else 1
    if chunks <= 1:
        driver(*args, 0, n)
        return
    per = -(-n // chunks)
    blas.run_chunks(-(-n // per), lambda j: driver(*args, j * per, min(n, (j + 1) * per)), 2)


def _geometry(x_shape, ksize, strides, padding, data_format):
    """(NHWC x shape, kh, kw, sh, sw, top, left, oh, ow)."""
    k, s = nn_conv._nhwc_seq(ksize, data_format), nn_conv._nhwc_seq(strides, data_format)
    xs = nn_conv._nhwc_seq(list(x_shape), data_format)
    oh, ow, ph, pw = nn_conv._geom(xs, k[1], k[2], s, [1, 1, 1, 1], padding)
    return xs, k[1], k[2], s[1], s[2], ph[0], pw[0], oh, ow


def _tiles_2x2(xs, kh, kw, sh, sw, oh, ow):
    """2x2 windows at stride 2 that cover the image exactly (no padding, no clipping)."""
    return kh == kw == sh == sw == 2 and xs[1] == 2 * oh and xs[2] == 2 * ow


def _ok(*arrays):
    dt = arrays[0].dtype
    return all(type(a) is np.ndarray and a.ndim == 4 and a.dtype == dt for a in arrays) and dt in _FAST_DTYPES


def _nhwc(a, data_format):
    return np.ascontiguousarray(nn_conv._to_nhwc(a, data_format))


def max_pool_fast(x, ksize, strides, padding, data_format, **attrs):
    """``extra["fast"]`` of MaxPool (exactly the reference's values)."""
    if not _ok(x):
        return nn_conv._max_pool(x, ksize, strides, padding, data_format, **attrs)
    xs, kh, kw, sh, sw, top, left, oh, ow = _geometry(x.shape, ksize, strides, padding, data_format)
    out = np.empty((xs[0], oh, ow, xs[3]), x.dtype)
    if out.size:
        lowest = np.finfo(x.dtype).min
        if _tiles_2x2(xs, kh, kw, sh, sw, oh, ow):
            over_images(max_pool_2x2_images, xs[0], x.size, _PARALLEL_MIN_2X2, _nhwc(x, data_format), out, lowest)
        else:
            over_images(max_pool_images, xs[0], x.size, _PARALLEL_MIN, _nhwc(x, data_format), out, kh, kw, sh,
                        sw, top, left, lowest)
    return nn_conv._from_nhwc_arr(out, data_format)


def max_pool_grad_fast(x, y, g, ksize, strides, padding, data_format, **attrs):
    """``extra["fast"]`` of MaxPoolGrad (the reference's choice of input; sums of overlapping
    windows' gradients within float rounding)."""
    if not _ok(x, g):
        return nn_conv._max_pool_grad(x, y, g, ksize, strides, padding, data_format, **attrs)
    xs, kh, kw, sh, sw, top, left, oh, ow = _geometry(x.shape, ksize, strides, padding, data_format)
    dx = np.empty(xs, x.dtype)
    if dx.size and g.size and _tiles_2x2(xs, kh, kw, sh, sw, oh, ow):
        over_images(max_pool_grad_2x2_images, xs[0], x.size, _PARALLEL_MIN_2X2, _nhwc(x, data_format),
                    _nhwc(g, data_format), dx, x.dtype != np.float32, x.dtype.type(0), x.dtype.type(-np.inf))
    elif dx.size and g.size:
        over_images(max_pool_grad_images, xs[0], x.size, _PARALLEL_MIN, _nhwc(x, data_format),
                    _nhwc(g, data_format), dx, kh, kw, sh, sw, top, left, x.dtype != np.float32)
    else:
        dx[...] = 0
    return nn_conv._from_nhwc_arr(dx, data_format)


def avg_pool_fast(x, ksize, strides, padding, data_format, **attrs):
    """``extra["fast"]`` of AvgPool (bitwise the reference)."""
    if not _ok(x):
        return nn_conv._avg_pool(x, ksize, strides, padding, data_format, **attrs)
    xs, kh, kw, sh, sw, top, left, oh, ow = _geometry(x.shape, ksize, strides, padding, data_format)
    out = np.empty((xs[0], oh, ow, xs[3]), x.dtype)
    if out.size:
        over_images(avg_pool_images, xs[0], x.size, _PARALLEL_MIN, _nhwc(x, data_format), out, kh, kw, sh, sw,
                    top, left)
    return nn_conv._from_nhwc_arr(out, data_format)


def avg_pool_grad_fast(sizes, g, ksize, strides, padding, data_format, **attrs):
    """``extra["fast"]`` of AvgPoolGrad (bitwise the reference)."""
    if not _ok(g):
        return nn_conv._avg_pool_grad(sizes, g, ksize, strides, padding, data_format, **attrs)
    shape = [int(v) for v in np.asarray(sizes).reshape(-1)]
    xs, kh, kw, sh, sw, top, left, oh, ow = _geometry(shape, ksize, strides, padding, data_format)
    dx = np.empty(xs, g.dtype)
    gn = _nhwc(g, data_format)
    if dx.size and gn.size:
        share = np.empty_like(gn)
        _avg_shares(gn, share, kh, kw, sh, sw, top, left, xs[1], xs[2])
        over_images(avg_pool_grad_images, xs[0], dx.size, _PARALLEL_MIN, share, dx, kh, kw, sh, sw, top, left)
    else:
        dx[...] = 0
    return nn_conv._from_nhwc_arr(dx, data_format)
