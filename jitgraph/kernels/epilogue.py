"""The tail of the fused ops: ``act(y + bias)`` in place on a block of a conv / matmul output
(C-contiguous, channels last) while the block is still in cache.

Bias + ReLU / ReLU6 is one Numba pass over the block viewed flat, with the bias tiled to a
multiple of the channel count (``_BIAS_RUN`` values) so the inner loop is long and vectorizes even
for 16 or 32 channels (a loop per pixel over 32 channels stays scalar: Numba turns off LLVM's
SLP vectorizer and the loop vectorizer's 64-wide body never runs).  Tanh and Sigmoid add the
bias the same way, then run NumPy's own ufuncs in place: the same calls as the references of
``Tanh`` (``np.tanh``) and ``Sigmoid`` (``1 / (1 + exp(-x))``), so the values are bitwise theirs;
ReLU / ReLU6 are exact too (NaN kept, as ``np.maximum``).
"""

import numpy as np
from numba import njit

_BIAS_RUN = 1024          # values per tiled bias run (a multiple of the channels)
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
        for q in range(run):
            y[s + q] = _act(y[s + q] + bt[q], code, zero, six)
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


def tiled_bias(bias):
    """``bias`` repeated to about ``_BIAS_RUN`` values (a whole number of copies)."""
    return np.tile(bias, max(1, _BIAS_RUN // max(1, bias.size)))


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
