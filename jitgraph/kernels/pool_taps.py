"""``_MaxPoolTaps`` / ``_MaxPoolGradTaps`` (``ops/nn_pool_taps.py``): the 2x2 stride-2 max pool
that records each window's winning tap, and the gradient scattered from that record.

The forward kernel is ``pool``'s 2x2 max (``max_2x2``) plus ``pool.tap_2x2`` per value (the tap
MaxPoolGrad would choose); the gradient is ``pool.scatter_2x2_row`` over the recorded taps, so it
reads one byte per output instead of the pool's whole input. Same values as MaxPool and
MaxPoolGrad.

Measured hot (the data in cache) on two cores, float32, MaxPool + MaxPoolGrad against the pair:
P8's [32, 32, 32, 32] 0.09 + 0.165 ms -> 0.092 + 0.10 ms; P1's [128, 28, 28, 32] 0.33 + 1.37 ms
-> 0.385 + 0.22 ms. Inside a training step the input is long out of cache when the gradient
runs, which the record avoids reading.
"""

import numpy as np
from numba import njit

from jitgraph.kernels import pool
from jitgraph.ops import nn_pool_taps


@njit(cache=True, nogil=True, boundscheck=False)
def _taps_image(x, out, taps, n, lowest, first_valid, ninf):
    _, oh_, ow_, c_ = out.shape
    for i in range(oh_):
        for j in range(ow_):
            a, b, c, d = pool.window_2x2(x, n, i, j)
            o, k = out[n, i, j], taps[n, i, j]
            for q in range(c_):
                o[q] = pool.max_2x2(a[q], b[q], c[q], d[q], lowest)
                k[q] = pool.tap_2x2(a[q], b[q], c[q], d[q], first_valid, ninf)


@njit(cache=True, nogil=True, boundscheck=False)
def taps_images(x, out, taps, lowest, first_valid, ninf, n0, n1):
    for n in range(n0, n1):
        _taps_image(x, out, taps, n, lowest, first_valid, ninf)


@njit(cache=True, nogil=True, boundscheck=False)
def grad_images(taps, g, dx, zero, n0, n1):
    for n in range(n0, n1):
        for i in range(g.shape[1]):
            pool.scatter_2x2_row(taps[n, i], g, dx, n, i, zero)


def max_pool_taps_fast(x, ksize, strides, padding, data_format, **attrs):
    """``extra["fast"]`` of ``_MaxPoolTaps``: (the pool, the int8 taps)."""
    x = np.asarray(x)
    attrs = {"ksize": ksize, "strides": strides, "data_format": data_format}
    if not (x.dtype in pool._FAST_DTYPES and nn_pool_taps.tiles_2x2(x.shape, attrs)):
        return nn_pool_taps._max_pool_taps(x, ksize, strides, padding, data_format)
    x = np.ascontiguousarray(x)
    shape = (x.shape[0], x.shape[1] // 2, x.shape[2] // 2, x.shape[3])
    out, taps = np.empty(shape, x.dtype), np.empty(shape, np.int8)
    if out.size:
        pool.over_images(taps_images, x.shape[0], x.size, pool._PARALLEL_MIN_2X2, x, out, taps, np.finfo(x.dtype).min,
                         x.dtype != np.float32, x.dtype.type(-np.inf))
    return out, taps


def max_pool_grad_taps_fast(taps, g, **attrs):
    """``extra["fast"]`` of ``_MaxPoolGradTaps``."""
    g, taps = np.asarray(g), np.asarray(taps)
    if g.dtype not in pool._FAST_DTYPES or g.ndim != 4 or taps.shape != g.shape:
        return nn_pool_taps._max_pool_grad_taps(taps, g)
    g, taps = np.ascontiguousarray(g), np.ascontiguousarray(taps)
    dx = np.empty((g.shape[0], 2 * g.shape[1], 2 * g.shape[2], g.shape[3]), g.dtype)
    if dx.size:
        pool.over_images(grad_images, g.shape[0], dx.size, pool._PARALLEL_MIN_2X2, taps, g, dx, g.dtype.type(0))
    return dx
