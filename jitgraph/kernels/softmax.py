"""Numba kernels for softmax cross-entropy on [batch, classes] float arrays (the last axis), the
``extra["fast"]`` of ``SoftmaxCrossEntropyWithLogits`` and ``XentGrad`` (see ``jitgraph.ops.nn_ops``).

One pass per row instead of NumPy's seven temporaries: for W5's [256, 10] logits the NumPy
reference costs ~120 us a call with cold caches (as between the matmuls of a training step), this
~5 us. Imported on first call (``kernels.lazy``), so ``import jitgraph`` does not import Numba. Same values as the
reference within float rounding (computed in float64, rounded once on store; the reference rounds
each float32 step). NaN/Inf propagate as in NumPy (a NaN logit makes its row NaN).
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def xent_rows(labels, logits, loss, backprop):
    n, k = logits.shape
    for i in range(n):
        m = logits[i, 0]
        for j in range(1, k):
            v = logits[i, j]
            if m == m and not v <= m:      # np.max: a NaN anywhere wins
                m = v
        m = np.float64(m)
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
def scale_rows(g, backprop, out):
    n, k = backprop.shape
    for i in range(n):
        gi = g[i]
        for j in range(k):
            out[i, j] = gi * backprop[i, j]


def xent(labels, logits):
    """``(loss, backprop)`` of ``SoftmaxCrossEntropyWithLogits`` along the last axis of 2-D arrays."""
    loss = np.empty(logits.shape[0], logits.dtype)
    backprop = np.empty_like(logits)
    xent_rows(labels, logits, loss, backprop)
    return loss, backprop


def xent_grad(g, backprop):
    out = np.empty_like(backprop)
    scale_rows(g, backprop, out)
    return out


def _rows_case(arrays, ranks, axis):
    """True when the row kernels apply: the last axis, one float dtype, C-ordered arrays of ``ranks``."""
    dt = arrays[-1].dtype
    return axis in (-1, 1) and dt.kind == "f" and all(
        type(a) is np.ndarray and a.ndim == r and a.dtype == dt and a.flags.c_contiguous
        for a, r in zip(arrays, ranks))


def xent_fast(labels, logits, axis=-1):
    """``extra["fast"]`` of SoftmaxCrossEntropyWithLogits (the reference off the row kernels' case)."""
    if _rows_case((labels, logits), (2, 2), axis):
        return xent(labels, logits)
    from jitgraph.ops import nn_ops
    return nn_ops._xent_np(labels, logits, axis=axis)


def xent_grad_fast(g, backprop, axis=-1):
    """``extra["fast"]`` of XentGrad (the reference off the row kernels' case)."""
    if _rows_case((g, backprop), (1, 2), axis):
        return xent_grad(g, backprop)
    from jitgraph.ops import nn_ops
    return nn_ops._xent_grad_np(g, backprop, axis=axis)
