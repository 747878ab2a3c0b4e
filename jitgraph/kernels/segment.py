"""``UnsortedSegmentSum``'s fast path, the gradient of ``gather`` and ``embedding_lookup``: each row
of ``data`` added into ``out[segment_ids[i]]`` in index order, the order ``np.add.at`` adds them in,
so the sums are bitwise the reference's. ``np.add.at`` costs ~20 ns an element here (0.8 ms for
the [1280, 32] embedding gradient of a batch of 64 sentences of 20 words); this loop ~1 ns.

``sparse_sgd_in_place`` is the same sum for ``_SparseGradientDescent`` (``ops/fused_ops.py``): each
row the ids name becomes ``var[row] - lr * sum`` in the buffer itself, bitwise the reference's (the
ids sorted stably keep each row's summands in index order; no fast-math, so the multiply and the
subtract round separately as NumPy's do), and its old values are returned for the journal.
word2vec's three updates: 0.51 ms with ``np.add.at``, 0.15 ms as a kernel plus NumPy's fancy
indexing, ~0.05 ms in one pass.
"""

import numpy as np
from numba import njit

from jitgraph.kernels.blas import FAST_DTYPES


@njit(cache=True, nogil=True)
def _add_rows(data, ids, out):
    for i in range(ids.shape[0]):
        row = out[ids[i]]
        src = data[i]
        for j in range(src.shape[0]):
            row[j] += src[j]


def unsorted_segment_sum_fast(data, segment_ids, num_segments):
    """``_segment_compute`` (``ops/slicing_ops.py``) for float32/float64 data; other dtypes and
    shapes whose ids are not a prefix of data's go to the reference."""
    from jitgraph.ops.slicing_ops import _check_range, _segment_compute
    data, ids = np.asarray(data), np.asarray(segment_ids)
    if data.dtype not in FAST_DTYPES or data.shape[:ids.ndim] != ids.shape:
        return _segment_compute(data, segment_ids, num_segments)
    n = int(num_segments)
    _check_range(ids, n, "segment_ids")
    inner = data.shape[ids.ndim:]
    out = np.zeros((n,) + inner, data.dtype)
    k = int(np.prod(inner, dtype=np.int64))
    if ids.size and k:
        _add_rows(np.ascontiguousarray(data).reshape(ids.size, k), ids.reshape(-1).astype(np.int64, copy=False),
                  out.reshape(n, k))
    return out


@njit(cache=True, nogil=True)
def _sgd_rows_in_place(data, ids, var, lr):
    n, k = data.shape
    for i in range(n):
        if ids[i] < 0 or ids[i] >= var.shape[0]:
            return i, np.empty(0, np.int64), np.empty((0, k), var.dtype)
    order = np.argsort(ids, kind="mergesort")
    m = 0
    for i in range(n):
        if i == 0 or ids[order[i]] != ids[order[i - 1]]:
            m += 1
    rows = np.empty(m, np.int64)
    old = np.empty((m, k), var.dtype)
    acc = np.zeros(k, var.dtype)
    u = -1
    for i in range(n):
        r = ids[order[i]]
        if u < 0 or r != rows[u]:
            u += 1
            rows[u] = r
            acc[:] = 0
        src = data[order[i]]
        for j in range(k):
            acc[j] += src[j]
        if i == n - 1 or ids[order[i + 1]] != r:
            for j in range(k):
                old[u, j] = var[r, j]
                var[r, j] = var[r, j] - lr * acc[j]
    return -1, rows, old


def sparse_sgd_in_place(var, lr, data, ids):
    """``_SparseGradientDescent``'s update (``ops/fused_ops.py``) written into ``var`` itself, for a
    C-contiguous float32/float64 buffer: ``(rows, their old values)`` for the journal, or None,
    having written nothing (another dtype or layout, or an id out of range: the caller's reference
    path then updates or raises)."""
    if var.dtype not in FAST_DTYPES or data.dtype != var.dtype or not var.flags.c_contiguous or not var.flags.writeable:
        return None
    k = int(np.prod(var.shape[1:], dtype=np.int64))
    bad, rows, old = _sgd_rows_in_place(np.ascontiguousarray(data).reshape(ids.size, k),
                                        ids.astype(np.int64, copy=False), var.reshape(var.shape[0], k),
                                        var.dtype.type(lr))
    return None if bad >= 0 else (rows, old.reshape((rows.size,) + var.shape[1:]))
