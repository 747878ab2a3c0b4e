"""Row kernels over the last axis: ``extra["fast"]`` of ``Softmax``, ``LogSoftmax``, their
gradients ``SoftmaxGrad`` / ``LogSoftmaxGrad``, ``SoftmaxCrossEntropyWithLogits``,
``SparseSoftmaxCrossEntropyWithLogits`` and ``XentGrad`` (references in ``jitgraph.ops.nn_ops``).

One pass per row instead of NumPy's five to seven temporaries: for W5's [256, 10] logits the
NumPy cross-entropy costs ~120 us a call with cold caches (as between the matmuls of a training
step), its row kernel ~5 us.  The cross-entropies produce the loss and the backprop (softmax -
labels) in the same pass; the sparse one checks its labels in it too (a label outside
[0, classes) falls back to the reference, which raises TF's InvalidArgumentError).

Error: each row is computed in float64 and rounded once on store (the references round every
float32 step), so float32 results are within a few float32 ulps of the reference and float64
ones within a few float64 ulps.  NaN/Inf propagate as in NumPy: the row maximum lets NaN win
(``np.max``), and the special values then flow through the same formulas.  Other layouts (another
axis, non-contiguous, float16 or integer arrays) use the reference.
"""

import numpy as np
from numba import njit

from jitgraph.kernels.blas import FAST_DTYPES


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False, inline="always")
def _row_max(row):
    m = row[0]
    for j in range(1, row.shape[0]):
        v = row[j]
        if m == m and not v <= m:      # np.max: a NaN anywhere wins
            m = v
    return np.float64(m)


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def xent_rows(labels, logits, loss, backprop):
    n, k = logits.shape
    for i in range(n):
        m = _row_max(logits[i])
        s = 0.0
        for j in range(k):
            e = np.exp(np.float64(logits[i, j]) - m)
            s += e
            backprop[i, j] = e               # one exp per logit: softmax = e / s below
        lse = np.log(s)
        inv = 1.0 / s
        acc = 0.0
        for j in range(k):
            logp = (np.float64(logits[i, j]) - m) - lse
            acc -= labels[i, j] * logp
            backprop[i, j] = backprop[i, j] * inv - labels[i, j]
        loss[i] = acc


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def sparse_xent_rows(labels, logits, loss, backprop):
    """Returns the row of the first label outside [0, k), or -1 (then loss/backprop are complete)."""
    n, k = logits.shape
    for i in range(n):
        lab = labels[i]
        if lab < 0 or lab >= k:
            return i
        m = _row_max(logits[i])
        s = 0.0
        for j in range(k):
            e = np.exp(np.float64(logits[i, j]) - m)
            s += e
            backprop[i, j] = e
        lse = np.log(s)
        inv = 1.0 / s
        for j in range(k):
            backprop[i, j] = backprop[i, j] * inv
        backprop[i, lab] -= 1
        loss[i] = lse - (np.float64(logits[i, lab]) - m)
    return -1


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def softmax_rows(x, out, log):
    n, k = x.shape
    for i in range(n):
        m = _row_max(x[i])
        s = 0.0
        for j in range(k):
            e = np.exp(np.float64(x[i, j]) - m)
            s += e
            if not log:
                out[i, j] = e
        if log:
            lse = np.log(s)
            for j in range(k):
                out[i, j] = (np.float64(x[i, j]) - m) - lse
        else:
            inv = 1.0 / s
            for j in range(k):
                out[i, j] = out[i, j] * inv


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def softmax_grad_rows(y, g, out, log):
    """Softmax: (g - sum(g * y)) * y;  LogSoftmax: g - sum(g) * exp(y)."""
    n, k = y.shape
    for i in range(n):
        s = 0.0
        for j in range(k):
            s += np.float64(g[i, j]) * (1.0 if log else np.float64(y[i, j]))
        for j in range(k):
            if log:
                out[i, j] = np.float64(g[i, j]) - s * np.exp(np.float64(y[i, j]))
            else:
                out[i, j] = (np.float64(g[i, j]) - s) * np.float64(y[i, j])


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def scale_rows(g, backprop, out):
    n, k = backprop.shape
    for i in range(n):
        gi = g[i]
        for j in range(k):
            out[i, j] = gi * backprop[i, j]


def _rows(a):
    """``a`` as C-ordered [rows, last dim] when the row kernels take it, else None."""
    if type(a) is not np.ndarray or a.dtype not in FAST_DTYPES or a.ndim < 1 or not a.flags.c_contiguous:
        return None
    return a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a


def _last(axis, a):
    return axis == -1 or axis == a.ndim - 1


def _nn_ops():
    from jitgraph.ops import nn_ops
    return nn_ops


def softmax_fast(x, axis=-1):
    """``extra["fast"]`` of Softmax."""
    r = _rows(x) if _last(axis, x) else None
    if r is None or r.shape[1] == 0:
        return _nn_ops()._softmax_np(x, axis=axis)
    out = np.empty_like(x)
    softmax_rows(r, out.reshape(r.shape), False)
    return out


def log_softmax_fast(x, axis=-1):
    """``extra["fast"]`` of LogSoftmax."""
    r = _rows(x) if _last(axis, x) else None
    if r is None or r.shape[1] == 0:
        return _nn_ops()._log_softmax_np(x, axis=axis)
    out = np.empty_like(x)
    softmax_rows(r, out.reshape(r.shape), True)
    return out


def _grad(y, g, axis, log, reference):
    ry = _rows(y) if _last(axis, y) else None
    rg = _rows(g) if ry is not None and g.shape == y.shape and g.dtype == y.dtype else None
    if rg is None:
        return reference(y, g, axis=axis)
    out = np.empty_like(y)
    softmax_grad_rows(ry, rg, out.reshape(ry.shape), log)
    return out


def softmax_grad_fast(y, g, axis=-1):
    """``extra["fast"]`` of SoftmaxGrad."""
    return _grad(y, g, axis, False, _nn_ops()._softmax_grad_np)


def log_softmax_grad_fast(y, g, axis=-1):
    """``extra["fast"]`` of LogSoftmaxGrad."""
    return _grad(y, g, axis, True, _nn_ops()._log_softmax_grad_np)


def _rows_case(arrays, ranks, axis):
    """True when the row kernels apply: the last axis, one float dtype, C-ordered arrays of ``ranks``."""
    dt = arrays[-1].dtype
    return axis in (-1, 1) and dt in FAST_DTYPES and all(
        type(a) is np.ndarray and a.ndim == r and a.dtype == dt and a.flags.c_contiguous
        for a, r in zip(arrays, ranks))


def xent_fast(labels, logits, axis=-1):
    """``extra["fast"]`` of SoftmaxCrossEntropyWithLogits: ``(loss, backprop)`` in one pass."""
    if not _rows_case((labels, logits), (2, 2), axis):
        return _nn_ops()._xent_np(labels, logits, axis=axis)
    loss = np.empty(logits.shape[0], logits.dtype)
    backprop = np.empty_like(logits)
    xent_rows(labels, logits, loss, backprop)
    return loss, backprop


def sparse_xent_fast(labels, logits, axis=-1):
    """``extra["fast"]`` of SparseSoftmaxCrossEntropyWithLogits: ``(loss, backprop)`` in one pass."""
    ok = (type(labels) is np.ndarray and labels.ndim == 1 and labels.dtype.kind == "i"
          and _rows_case((logits,), (2,), axis) and logits.shape[1] > 0 and labels.shape[0] == logits.shape[0])
    if ok:
        loss = np.empty(logits.shape[0], logits.dtype)
        backprop = np.empty_like(logits)
        if sparse_xent_rows(labels, logits, loss, backprop) < 0:
            return loss, backprop
    return _nn_ops()._sparse_xent_np(labels, logits, axis=axis)      # raises on a bad label


def xent_grad_fast(g, backprop, axis=-1):
    """``extra["fast"]`` of XentGrad: ``g[:, None] * backprop``."""
    if not _rows_case((g, backprop), (1, 2), axis):
        return _nn_ops()._xent_grad_np(g, backprop, axis=axis)
    out = np.empty_like(backprop)
    scale_rows(g, backprop, out)
    return out
