"""``HistogramSummary``'s fast path: the bucket count in one Numba pass over the values (binary
search per value; min, max, sum and sum of squares in float64, in order: the same counts and bits
as ``summary.buckets.count_reference``)."""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def count(values, limits, counts, stats):
    """Add each value to ``counts[first limit > value]``; ``stats`` = min, max, sum, sum of squares.
    Returns False (stopping early) at the first NaN or Inf."""
    lo, hi, total, squares = limits[-1], -limits[-1], 0.0, 0.0
    last = len(limits) - 1
    for i in range(values.shape[0]):
        v = np.float64(values[i])
        if not np.isfinite(v):
            return False
        a, b = 0, last                     # upper bound: first index with limits[index] > v
        while a < b:
            m = (a + b) >> 1
            if limits[m] > v:
                b = m
            else:
                a = m + 1
        counts[a] += 1.0
        lo = min(lo, v)
        hi = max(hi, v)
        total += v
        squares += v * v
    stats[0], stats[1], stats[2], stats[3] = lo, hi, total, squares
    return True


def count_fast(values):
    """``buckets.count_reference`` by the Numba kernel (numeric input; else the reference)."""
    from jitgraph.summary import buckets
    a = np.asarray(values)
    if a.dtype.kind not in "fiu" or a.dtype.itemsize > 8:
        return buckets.count_reference(a)
    limits = buckets.default_bucket_limits()
    counts = np.zeros(len(limits), dtype=np.float64)
    stats = np.empty(4, dtype=np.float64)
    if not count(np.ascontiguousarray(a).reshape(-1), limits, counts, stats):
        raise ValueError("non-finite value")
    return counts, stats[0], stats[1], a.size, stats[2], stats[3]


def histogram_summary(tag, values):
    """``extra["fast"]`` of ``HistogramSummary``: its reference with this count."""
    from jitgraph.summary.summary_ops import histogram_summary_with
    return histogram_summary_with(count_fast, tag, values)
