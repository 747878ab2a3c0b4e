"""``_FusedMatMul``: ``act(a @ b + bias)`` with the bias and activation applied to each block of
rows right after BLAS writes it (``epilogue``), instead of two more passes over the whole output.

Row blocks (at most ``_BLOCK_BYTES`` of output, at least one per BLAS thread) run on
``blas.run_chunks``'s workers, each with single-threaded BLAS: on a shared 2-core machine
OpenBLAS's own threads measured up to 20x slower when one core is busy (they spin-wait for a
descheduled partner), while a worker that claims blocks from a counter only loses its share.
Small products (under ``_SMALL_FLOPS``) are one call.  Values: BLAS's sums (as the reference's
``np.matmul``; a block's rows get the same sums as the whole, up to BLAS's kernel choice) and the
epilogue's exact bias + activation.
"""

import numpy as np

from jitgraph.kernels import blas, epilogue
from jitgraph.kernels.blas import FAST_DTYPES

_BLOCK_BYTES = 1 << 19
_SMALL_FLOPS = 1 << 21


def fused_matmul_fast(a, b, bias, transpose_a, transpose_b, fused_ops, **attrs):
    """``extra["fast"]`` of ``_FusedMatMul`` (the reference off float32/float64 matrices)."""
    a, b, bias = np.asarray(a), np.asarray(b), np.asarray(bias)
    dt = a.dtype
    if not (dt in FAST_DTYPES and b.dtype == dt and bias.dtype == dt and a.ndim == b.ndim == 2 and bias.ndim == 1):
        from jitgraph.ops import fused_ops as fused
        return fused._fused_matmul(a, b, bias, transpose_a, transpose_b, fused_ops)
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    m, n = a.shape[0], b.shape[1]
    if a.shape[1] != b.shape[0] or bias.shape[0] != n:
        raise ValueError(f"_FusedMatMul: shapes {a.shape} x {b.shape} + bias {bias.shape} do not match")
    act = fused_ops[1] if len(fused_ops) > 1 else None
    out = np.empty((m, n), dt)
    bt = epilogue.tiled_bias(bias)
    if m * n * a.shape[1] < _SMALL_FLOPS or m < 16:
        np.matmul(a, b, out=out)
        epilogue.apply(out, bt, act)
        return out
    blocks = max(blas.blas_threads(), -(-m * n * dt.itemsize // _BLOCK_BYTES))
    rows = max(8, -(-m // blocks))

    def block(j):
        r0, r1 = j * rows, min(m, (j + 1) * rows)
        np.matmul(a[r0:r1], b, out=out[r0:r1])
        epilogue.apply(out[r0:r1], bt, act)
    blas.run_chunks(-(-m // rows), block)
    return out
