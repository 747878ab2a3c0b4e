"""The tail of the fused ops: ``act(y + bias)`` in place on a block of a conv / matmul output
(C-contiguous, channels last) while the block is still in cache.

Bias + ReLU / ReLU6 is one Numba pass over the block viewed flat, with the bias tiled to a
multiple of the channel count (``_BIAS_RUN`` values) so the inner loop is long and vectorizes even
for 16 or 32 channels (a loop per pixel over 32 channels stays scalar: Numba turns off LLVM's
SLP vectorizer and the loop vectorizer's 64-wide body never runs).  Tanh and Sigmoid add the
bias the same way, then run NumPy's own ufuncs in place: the same calls as the references of
``Tanh`` (``np.tanh``) and ``Sigmoid`` (``1 / (1 + exp(-x))``), so the values are bitwise theirs;
ReLU / ReLU6 are exact too (NaN kept, as ``np.maximum``).

The bias's gradient (``BiasAddGrad``, channels last: the sum over all but the last axis) uses the
same tiling: one flat pass adds the values into a tiled float64 accumulator, which is folded into
the channels at the end.  NumPy's reference reduces over the leading axes row by row in the
dtype itself (0.29 ms for [16, 28, 28, 16] float32; this pass 0.02 ms); accumulating in float64
makes the float32 result the correctly rounded sum up to the float64 error, at least as accurate
as the reference's (``tests/kernels/test_epilogue.py`` bounds the difference).

These loops compile with Numba's default LLVM options: with the loop vectorizer off (as
``direct_conv``'s straight-line kernels compile) bias + ReLU stayed scalar, 4x slower.
"""

import numpy as np
from numba import njit

_BIAS_RUN = 1024          # values per tiled bias run (a multiple of the channels)
_SUM_RUN = 256            # values per accumulator run of the bias's gradient (measured best of 256 ... 4096)
CODES = {None: 0, "Relu": 1, "Relu6": 2, "Tanh": 0, "Sigmoid": 0}


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _act(v, code, zero, six):
    if code == 1:
        return zero if v < zero else v
    if code == 2:
        return zero if v < zero else (six if v > six else v)
    return v


@njit(cache=True, nogil=True, boundscheck=False)
def bias_act_flat(y, bt, code):
    """y[q] = act(y[q] + bt[q % len(bt)]) for the flat block y (len(bt) a multiple of the channels)."""
    run = bt.size
    zero = bt[0] - bt[0]
    six = zero + 6
    n = y.size
    full = n - n % run
    for s in range(0, full, run):
        block = y[s:s + run]           # a view per block: indexing y[s + q] does not vectorize (7x slower)
        for q in range(run):
            block[q] = _act(block[q] + bt[q], code, zero, six)
    for q in range(n - full):
        y[full + q] = _act(y[full + q] + bt[q], code, zero, six)


@njit(cache=True, nogil=True, boundscheck=False)
def bias_act_2d(y, b, code):
    """y[i, j] = act(y[i, j] + b[j]) for a 2-D block whose rows may be strided (a column block)."""
    zero = b[0] - b[0]
    six = zero + 6
    for i in range(y.shape[0]):
        row = y[i]
        for j in range(row.shape[0]):
            row[j] = _act(row[j] + b[j], code, zero, six)


@njit(cache=True, nogil=True, boundscheck=False)
def _channel_sums(gf, c, acc, out):
    """out[k] = sum of gf[q] over q % c == k (gf flat, ``acc`` float64 of a multiple of c values)."""
    run = acc.size
    acc[:] = 0
    n = gf.size
    full = n - n % run
    for s in range(0, full, run):
        block = gf[s:s + run]          # a view per block: indexing gf[s + q] does not vectorize (6x slower)
        for q in range(run):
            acc[q] += np.float64(block[q])
    for q in range(n - full):
        acc[q] += gf[full + q]
    for k in range(c):
        t = 0.0
        for q in range(k, run, c):
            t += acc[q]
        out[k] = t


def bias_add_grad_fast(g, data_format="NHWC"):
    """``extra["fast"]`` of BiasAddGrad: the sum over all axes but the channels (reference
    ``nn_conv._bias_add_grad``) for float32/float64 with channels last; others use the reference."""
    from jitgraph.ops import nn_conv
    channels_last = data_format != "NCHW" or g.ndim <= 2
    if not (type(g) is np.ndarray and g.dtype in (np.float32, np.float64) and channels_last and g.ndim >= 2
            and g.shape[-1] > 0):
        return nn_conv._bias_add_grad(g, data_format)
    c = g.shape[-1]
    out = np.empty(c, np.float64)
    _channel_sums(np.ascontiguousarray(g).reshape(-1), c, np.empty(max(1, _SUM_RUN // c) * c), out)
    return out.astype(g.dtype)


def tiled_bias(bias):
    """``bias`` (1-d) repeated to about ``_BIAS_RUN`` values (a whole number of copies), by one
    broadcast copy (1.3 us; ``np.tile``'s Python made it 3.4)."""
    n = bias.size
    if n == 0:
        return bias.copy()
    out = np.empty(max(1, _BIAS_RUN // n) * n, bias.dtype)
    out.reshape(-1, n)[...] = bias
    return out


def apply(y, bt, act):
    """``y = act(y + bias)`` in place; ``y`` C-contiguous with the bias's channels last, ``bt`` its
    ``tiled_bias``, ``act`` None or one of ``CODES``."""
    if y.size == 0:
        return
    bias_act_flat(y.reshape(-1), bt, CODES[act])
    _ufunc_act(y, act)


def apply_strided(y, bias, act):
    """``apply`` for a 2-D block of columns of a wider array (``bias`` holds its columns' values)."""
    if y.size == 0:
        return
    bias_act_2d(y, bias, CODES[act])
    _ufunc_act(y, act)


def _ufunc_act(y, act):
    if act == "Tanh":
        np.tanh(y, out=y)
    elif act == "Sigmoid":
        with np.errstate(all="ignore"):
            np.negative(y, out=y)
            np.exp(y, out=y)
            np.add(y, 1, out=y)
            np.divide(1, y, out=y)
