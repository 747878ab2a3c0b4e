"""The Numba kernel behind ``HistogramSummary``: one pass over the values (see ``buckets``)."""

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
