"""``UnsortedSegmentSum``'s fast path, the gradient of ``gather`` and ``embedding_lookup``: each row
of ``data`` added into ``out[segment_ids[i]]`` in index order, the order ``np.add.at`` adds them in,
so the sums are bitwise the reference's. ``np.add.at`` costs ~20 ns an element here (0.8 ms for
the [1280, 32] embedding gradient of a batch of 64 sentences of 20 words); this loop ~1 ns.
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
