"""Allocation limits: refuse an output that cannot fit in memory before allocating it.

A request larger than physical memory plus swap can never succeed; asking the OS for it either
fails (``MemoryError``) or, worse, succeeds lazily and the process is killed when the pages are
touched. Executors call ``check_output_sizes(op)`` before running an op whose static output shapes
are known; it raises ``ResourceExhaustedError`` naming the op. ``JITGRAPH_MAX_ALLOC_BYTES``
overrides the limit (tests use it to provoke the error cheaply).
"""

import os

import numpy as np

from jitgraph import errors

_limit = None


def max_alloc_bytes():
    """The largest single allocation we attempt: env override, else RAM + swap."""
    env = os.environ.get("JITGRAPH_MAX_ALLOC_BYTES")
    if env:
        return int(env)
    global _limit
    if _limit is None:
        try:
            ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            ram = 1 << 46
        swap = 0
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("SwapTotal:"):
                        swap = int(line.split()[1]) * 1024
        except OSError:
            pass
        _limit = ram + swap
    return _limit


def check_nbytes(nbytes, op, what):
    if nbytes > max_alloc_bytes():
        raise errors.ResourceExhaustedError(
            None, op, f"OOM when allocating {what} of {nbytes} bytes for op '{op.name if op else '?'}'"
                      f"{f' ({op.type})' if op else ''}: more than the {max_alloc_bytes()} bytes this machine has")


def _static_bytes(t):
    """Bytes of tensor ``t`` if its static shape is fully known (and it is not a reference), else 0."""
    shape = t.shape
    if shape.ndims is None or not shape.is_fully_defined() or t.dtype.is_ref_dtype:
        return 0
    n = 8 if t.dtype.base_dtype.as_np == np.dtype(object) else t.dtype.base_dtype.as_np.itemsize
    for d in shape.as_list():
        n *= int(d)
    return n


def static_output_bytes(ops):
    """The largest statically known output size (bytes) of ``ops``, or 0: executors work it out once
    per plan and call ``check_output_sizes`` only for ops over the limit of the run."""
    return max((_static_bytes(t) for op in ops for t in op.outputs), default=0)


def check_output_sizes(op):
    """``ResourceExhaustedError`` if a statically known output of ``op`` cannot fit in memory."""
    for t in op.outputs:
        n = _static_bytes(t)
        if n:
            check_nbytes(n, op, f"tensor with shape {t.shape.as_list()} and type {t.dtype.base_dtype.name}")
