"""TensorFlow's histogram summaries: default buckets, the bucket count, the proto.

Buckets (TF's ``histogram.cc``): limits growing by 10% from 1e-12 up to 1e20, mirrored for negative
values around 0, closed by ``±DBL_MAX``; a value goes into the first bucket whose limit is greater
than it. The proto lists each non-empty bucket and collapses each run of empty buckets into one
(``bucket_limit`` = the run's last limit, count 0). ``min``/``max`` of no values are ``±DBL_MAX``.

``count_reference`` is the NumPy oracle; ``count_fast`` runs the Numba kernel of
``histogram_jit`` (one pass: binary search per value, min, max, sum and sum of squares in double, in
TF's order, so the sums match TF bit for bit). Both raise ``ValueError`` on NaN or Inf, which the op
turns into TF's ``InvalidArgumentError``.
"""

import functools
import sys

import numpy as np

DBL_MAX = sys.float_info.max


@functools.lru_cache(maxsize=1)
def default_bucket_limits():
    positive = []
    v = 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    positive.append(DBL_MAX)
    limits = np.array([-x for x in reversed(positive)] + [0.0] + positive, dtype=np.float64)
    limits.flags.writeable = False
    return limits


def count_reference(values):
    """``(counts, min, max, num, sum, sum_squares)`` of ``values`` over the default buckets."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(v)):
        raise ValueError("non-finite value")
    limits = default_bucket_limits()
    idx = np.minimum(np.searchsorted(limits, v, side="right"), len(limits) - 1)
    counts = np.bincount(idx, minlength=len(limits)).astype(np.float64)
    if v.size == 0:
        return counts, DBL_MAX, -DBL_MAX, 0, 0.0, 0.0
    return counts, float(v.min()), float(v.max()), v.size, float(np.cumsum(v)[-1]), float(np.cumsum(v * v)[-1])


def count_fast(values):
    """``count_reference`` by the Numba kernel (C-contiguous numeric input; else the reference)."""
    a = np.asarray(values)
    if a.dtype.kind not in "fiu" or a.dtype.itemsize > 8:
        return count_reference(a)
    from jitgraph.summary import histogram_jit   # imports Numba: not at ``import jitgraph`` time
    counts = np.zeros(len(default_bucket_limits()), dtype=np.float64)
    stats = np.empty(4, dtype=np.float64)
    if not histogram_jit.count(np.ascontiguousarray(a).reshape(-1), default_bucket_limits(), counts, stats):
        raise ValueError("non-finite value")
    return counts, stats[0], stats[1], a.size, stats[2], stats[3]


def histogram_proto(counted):
    """A ``HistogramProto`` from ``count_*``'s result, with TF's empty-bucket collapsing."""
    from jitgraph.framework.tf_protos import protos
    counts, lo, hi, num, total, squares = counted
    limits = default_bucket_limits()
    nonempty = counts > 0
    keep = nonempty | np.append(nonempty[1:], True)       # non-empty, or the last of an empty run
    p = protos().summary.HistogramProto(min=lo, max=hi, num=num, sum=total, sum_squares=squares)
    p.bucket_limit.extend(limits[keep].tolist())
    p.bucket.extend(counts[keep].tolist())
    return p
