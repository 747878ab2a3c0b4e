"""``MatMul`` and ``_FusedMatMul`` (``act(a @ b + bias)``): BLAS by blocks on the chunk workers,
the fused bias and activation applied to each block right after BLAS writes it (``epilogue``)
instead of two more passes over the whole output.

Blocks (at least one per BLAS thread and ``blas.MIN_PARALLEL_CHUNKS``; with an epilogue, at most
``_BLOCK_BYTES`` of output, so that it finds the block in L2; without one, fewer and larger blocks
pack ``b`` fewer times: P1's weight gradient [3136, 128] x [128, 1024] in 25 blocks 5.52-5.88 ms,
in 4 blocks 5.19-5.47, interleaved; P1's step 40.5 / 41.8 -> 39.5 / 40.7 ms) are row blocks, or
column blocks when the output is wider than tall (a dense layer's input gradient [128, 3136]:
row blocks would read all of ``b`` once per block).  They run on ``blas.run_chunks``'s workers,
each with single-threaded BLAS: on this shared 2-core machine OpenBLAS's own threads measured up
to 20x slower when another process keeps one core busy (a thread spin-waits for its descheduled
partner), while a worker that claims blocks from a counter only loses its share.  On a quiet
machine the opposite holds: OpenBLAS's own two threads ran W5's training step in 1.25 ms, the
blocks in 2.45 ms.  So blocks are opt-in (``JITGRAPH_BLOCKED_GEMM=1``, for machines shared with
other work), and taken inside ``blas.owned`` (a plan whose convs use the chunk workers, where
OpenBLAS's spinning threads would take their cores); otherwise, and for products under
``_SMALL_FLOPS``, ``gemm`` is one BLAS call followed by the epilogue.  At least
``blas.MIN_PARALLEL_CHUNKS`` blocks: P1's dense layers' products in 4 blocks on two workers took
4.4-6.2 ms each over two runs, with OpenBLAS's own two threads 4.6-5.0 (2 blocks: within noise of 4).

Values: each block is BLAS's own product of the same rows and columns (the reference is
``np.matmul`` of the whole: the same sums, possibly another kernel's summation order, so float
rounding), then the epilogue's exact bias + activation.
"""

import os

import numpy as np

from jitgraph.kernels import blas, epilogue
from jitgraph.kernels.blas import FAST_DTYPES

_BLOCK_BYTES = 1 << 19
_SMALL_FLOPS = 1 << 23       # multiply-adds; below, one BLAS call (~0.1 ms on one thread)
# Blocks of a product of _SMALL_FLOPS or more take >= ~0.05 ms each, so even two run in parallel:
# P8's dense layer [32, 4096] x [4096, 128] makes two 64-column blocks, 0.40 -> 0.31 ms.
_MIN_PARALLEL_BLOCKS = 2
_FEW_ROWS, _WIDE = 64, 16    # dy @ W.T with m <= _FEW_ROWS, n >= _WIDE * m runs as (W @ dy.T).T ...
# ... when its inner size is at least this (OpenBLAS at one thread in ``blas.owned``, else at its
# own count): below, the transposing copy costs more than it saves (C2's [16, 10] x [10, 1568]:
# 27 us against 12 direct; [64, 16] x [16, 1024]: 74 against 41-53; P8's k = 128: 0.35 against
# 0.63 ms owned, equal at two threads; k = 32: 40 against 42 owned, 36 against 27 at two threads)
_MIN_K_OWNED, _MIN_K = 32, 64
BLOCKED = os.environ.get("JITGRAPH_BLOCKED_GEMM", "0") not in ("", "0")


def gemm(a, b, out, bt=None, act=None):
    """``out[...] = a @ b`` (then ``act(out + bias)`` when ``bt``, the ``epilogue.tiled_bias``, is
    given), by blocks on the chunk workers.  ``a`` [m, k], ``b`` [k, n] may be transposed views."""
    m, n = out.shape
    k = a.shape[1]
    if not (BLOCKED or blas.is_owned()) or m * n * k < _SMALL_FLOPS or min(m, n) == 0:
        np.matmul(a, b, out=out)
        if bt is not None:
            epilogue.apply(out, bt, act)
        return out
    blocks = max(blas.MIN_PARALLEL_CHUNKS, blas.blas_threads())
    if bt is not None:          # blocks small enough that the epilogue finds them in L2
        blocks = max(blocks, -(-m * n * out.dtype.itemsize // _BLOCK_BYTES))
    if n > m:                                  # column blocks of at least 64 columns
        cols = max(64, -(-n // blocks))

        def block(j):
            c0, c1 = j * cols, min(n, (j + 1) * cols)
            y = out[:, c0:c1]
            np.matmul(a, b[:, c0:c1], out=y)
            if bt is not None:
                epilogue.apply_strided(y, bt[c0:c1], act)
        blas.run_chunks(-(-n // cols), block, _MIN_PARALLEL_BLOCKS)
        return out
    rows = max(16, -(-m // blocks))

    def block(j):
        r0, r1 = j * rows, min(m, (j + 1) * rows)
        y = out[r0:r1]
        np.matmul(a[r0:r1], b, out=y)
        if bt is not None:
            epilogue.apply(y, bt, act)
    blas.run_chunks(-(-m // rows), block, _MIN_PARALLEL_BLOCKS)
    return out


def _operands(a, b, transpose_a, transpose_b, what):
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"{what}: Matrix size-incompatible: In[0]: {list(a.shape)}, In[1]: {list(b.shape)}")
    return a, b


def matmul_fast(a, b, transpose_a, transpose_b, **attrs):
    """``extra["fast"]`` of MatMul (the reference off float32/float64 matrices)."""
    if not (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype in FAST_DTYPES and b.dtype == a.dtype
            and a.ndim == b.ndim == 2):
        from jitgraph.ops import linalg_ops
        return linalg_ops._matmul_compute(a, b, transpose_a, transpose_b)
    a, b = _operands(a, b, transpose_a, transpose_b, "MatMul")
    m, n = a.shape[0], b.shape[1]
    if (transpose_b and not transpose_a and m <= _FEW_ROWS and n >= _WIDE * m
            and a.shape[1] >= (_MIN_K_OWNED if blas.is_owned() else _MIN_K)):
        # a small batch's input gradient of a wide dense layer, dy @ W.T: OpenBLAS is faster at
        # W @ dy.T, even with the transposing copy after it (P8's [32, 128] x [128, 4096]: 0.82 ->
        # 0.53 ms on one thread, 0.68-1.08 -> 0.53-0.69 ms in blocks on two; at P1's batch of 128,
        # [128, 1024] x [1024, 3136], it gained on one thread and lost up to 10% on two)
        return np.ascontiguousarray(gemm(b.T, a.T, np.empty((n, m), a.dtype)).T)
    return gemm(a, b, np.empty((m, n), a.dtype))


def fused_matmul_fast(a, b, bias, transpose_a, transpose_b, fused_ops, **attrs):
    """``extra["fast"]`` of ``_FusedMatMul`` (the reference off float32/float64 matrices)."""
    a, b, bias = np.asarray(a), np.asarray(b), np.asarray(bias)
    dt = a.dtype
    if not (dt in FAST_DTYPES and b.dtype == dt and bias.dtype == dt and a.ndim == b.ndim == 2 and bias.ndim == 1):
        from jitgraph.ops import fused_ops as fused
        return fused._fused_matmul(a, b, bias, transpose_a, transpose_b, fused_ops)
    a, b = _operands(a, b, transpose_a, transpose_b, "_FusedMatMul")
    if bias.shape[0] != b.shape[1]:
        raise ValueError(f"_FusedMatMul: bias has {bias.shape[0]} elements for {b.shape[1]} output channels")
    act = fused_ops[1] if len(fused_ops) > 1 else None
    out = np.empty((a.shape[0], b.shape[1]), dt)
    if out.shape[1] > out.shape[0]:
        bt = np.ascontiguousarray(bias)            # column blocks take their slice of the bias
    else:
        bt = epilogue.tiled_bias(bias)
    return gemm(a, b, out, bt, act)
