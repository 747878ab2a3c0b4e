"""Kernel build accounting for this process: how many kernels were compiled by Numba, loaded
from the disk cache, or shared (already compiled for the same types by an equal kernel), and
what each kind cost. The tiering policy (``plan.py``) estimates a plan's build time from these.
"""

import threading

_lock = threading.Lock()
_counts = {"compiled": 0, "loaded": 0, "shared": 0}
_seconds = {"compiled": 0.0, "loaded": 0.0}
# Before anything was measured: a small kernel's Numba compile on a 2-core VM (~0.3 s) and a load
# from the disk cache (~20 ms).
_PRIOR = {"compiled": 0.3, "loaded": 0.02}


def record(kind, seconds=0.0):
    """Count one kernel build of ``kind`` ('compiled', 'loaded' or 'shared')."""
    with _lock:
        _counts[kind] += 1
        if kind in _seconds:
            _seconds[kind] += seconds


def mean_seconds(kind):
    """Mean measured cost of one kernel build of ``kind`` (a prior until one was measured)."""
    with _lock:
        n = _counts[kind]
        return _seconds[kind] / n if n else _PRIOR[kind]


def snapshot():
    """``{'compiled': n, 'loaded': n, 'shared': n, 'compile_s': s, 'load_s': s}``."""
    with _lock:
        return dict(_counts, compile_s=_seconds["compiled"], load_s=_seconds["loaded"])
