"""Numba gathers for the im2col convs (``conv``): patches of an NHWC input, in two layouts.

* ``im2col_rows``: one row of ``KH*KW*C`` values per output pixel (the layout of the filter
  reshaped to [KH*KW*C, F]).  Runs of ``KW*C`` contiguous inputs: the layout for many channels.
* ``im2col_t``: one row of pixels per filter tap (a [KH*KW*C, pixels] block).  For one or a few
  channels a tap's row is a (strided) copy of a row of the image, first copied into a
  zero-bordered buffer so the copies have no bounds checks; the rows layout copies runs of
  KW*C = 3..15 values, one pixel at a time (P1's 5x5 conv on 1 channel: 6.2 ms vs 1.5 ms).
* ``col2im_t``: the adjoint of ``im2col_t`` (adds each tap row back into a zero-bordered
  gradient buffer of one image).

Copies run between row *views* (``dst = cols[row, a:b]``): the same loops over one flat array at
computed offsets did not vectorize, and ``im2col_t`` took 231 us instead of 43 for the C2 CNN's
first layer (16 x 28x28x1, 3x3).

Module-level ``@njit(cache=True)`` functions: Numba's disk cache finds them in the next process.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, boundscheck=False)
def im2col_rows(x, cols, p0, kh_, kw_, sh, sw, dh, dw, ph, pw, oh_, ow_):
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


@njit(cache=True, nogil=True, boundscheck=False)
def pad_image(x, n, pad, top, left):
    """pad[h + top, (w + left)*C + c] = x[n, h, w, c] where it fits; pad's other entries are zero."""
    _, h_, w_, c_ = x.shape
    hp, wpc = pad.shape
    wp = wpc // c_
    pad[...] = 0
    xf = x.reshape(x.shape[0], h_, w_ * c_)
    w_lo, w_hi = max(0, -left), min(w_, wp - left)
    for h in range(max(0, -top), min(h_, hp - top)):
        src, dst = xf[n, h], pad[h + top]
        for q in range(w_lo * c_, w_hi * c_):
            dst[q + left * c_] = src[q]


@njit(cache=True, nogil=True, boundscheck=False)
def _tap_rows(pad, cols, col0, i, kh_, kw_, sh, dh, dw, ow_, step):
    """The tap rows of output row i of an image (columns [col0, col0 + OW) of ``cols``) from its
    bordered copy ``pad``.  Source and destination are sliced to views first: indexing one flat
    array at computed offsets kept LLVM from vectorizing the copy (5x slower)."""
    c_ = cols.shape[0] // (kh_ * kw_)
    for a in range(kh_):
        prow = pad[i * sh + a * dh]
        for b in range(kw_):
            for c in range(c_):
                dst = cols[(a * kw_ + b) * c_ + c, col0:col0 + ow_]
                s0 = b * dw * c_ + c
                if step == 1:                   # a contiguous copy (vectorized)
                    src = prow[s0:s0 + ow_]
                    for j in range(ow_):
                        dst[j] = src[j]
                else:
                    for j in range(ow_):
                        dst[j] = prow[s0 + j * step]


@njit(cache=True, nogil=True, boundscheck=False)
def im2col_t(x, cols, r0, r1, kh_, kw_, sh, sw, dh, dw, top, left, oh_, ow_):
    """cols[(a*KW + b)*C + c, (r - r0)*OW + j] = x[n, i*sh + a*dh - top, j*sw + b*dw - left, c]
    for the output rows r = n*OH + i in [r0, r1) (zero outside x).  Each image is first copied
    into a zero-bordered buffer, so every tap row is one branch-free (strided) copy."""
    c_ = x.shape[3]
    pad = np.empty(((oh_ - 1) * sh + (kh_ - 1) * dh + 1, ((ow_ - 1) * sw + (kw_ - 1) * dw + 1) * c_), x.dtype)
    cur = -1
    for r in range(r0, r1):
        n = r // oh_
        if n != cur:
            pad_image(x, n, pad, top, left)
            cur = n
        _tap_rows(pad, cols, (r - r0) * ow_, r - n * oh_, kh_, kw_, sh, dh, dw, ow_, sw * c_)


@njit(cache=True, nogil=True, boundscheck=False)
def col2im_t(cols, dpad, i0, i1, kh_, kw_, sh, sw, dh, dw, ow_):
    """dpad[i*sh + a*dh, (j*sw + b*dw)*C + c] += cols[(a*KW + b)*C + c, (i - i0)*OW + j] for the
    output rows i in [i0, i1) of one image: the adjoint of ``im2col_t`` on the zero-bordered
    buffer (the caller copies dpad's interior into dx)."""
    wpc = dpad.shape[1]
    c_ = wpc // ((ow_ - 1) * sw + (kw_ - 1) * dw + 1)
    step = sw * c_
    for i in range(i0, i1):
        col0 = (i - i0) * ow_
        for a in range(kh_):
            drow = dpad[i * sh + a * dh]
            for b in range(kw_):
                for c in range(c_):
                    src = cols[(a * kw_ + b) * c_ + c, col0:col0 + ow_]
                    d0 = b * dw * c_ + c
                    if step == 1:                   # views, as in _tap_rows
                        dst = drow[d0:d0 + ow_]
                        for j in range(ow_):
                            dst[j] += src[j]
                    else:
                        for j in range(ow_):
                            drow[d0 + j * step] += src[j]
