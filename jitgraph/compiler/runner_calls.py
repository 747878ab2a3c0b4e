"""What a generated runner calls at run time (``runner.py`` writes the calls): the guard failure,
buffers kept across runs (``take_pooled``, ``reuse``, ``matmul_into``), allocation with the
reference's limits, the variable-buffer adopter and the NumPy steps' callables."""

import sys

import numpy as np

from jitgraph import errors
from jitgraph.kernels import Lazy
from jitgraph.runtime.limits import check_nbytes, check_output_sizes, max_alloc_bytes
from jitgraph.runtime.reference import call_op


class GuardFailed(Exception):
    """A runtime shape check of a compiled specialization failed (raised inside the runner, which
    restores state and hands the run to ``_fallback``: the reference executor)."""


def _no_fallback(state, feeds, reason):
    raise RuntimeError(f"jitgraph: runtime shape check failed without a fallback: {reason}")


def take_pooled(pool, shape, dtype):
    """A buffer from ``pool`` that nobody else references any more, else a new one."""
    for b in pool:
        if sys.getrefcount(b) <= 3 and b.shape == shape:   # the pool, ``b`` and the call's argument
            return b
    b = np.empty(shape, dtype)
    if len(pool) < 2:
        pool.append(b)
    return b


def _contig(x):
    """What kernels take: a C-contiguous, writeable array (Numba types read-only arrays apart, so a
    read-only one would compile a second specialization behind the plan cache's back)."""
    return x if x.flags.c_contiguous and x.flags.writeable else np.array(x, order="C")


def oom_checker(ops):
    """Raise ``ResourceExhaustedError`` for the first of ``ops`` (in order) whose output cannot fit."""
    def check():
        for op in ops:
            check_output_sizes(op)
    return check


def matmul_into(op, blocked=False):
    """A ``MatMul`` step writing into a buffer kept across runs (reallocated when the shape changes):
    BLAS through ``np.dot(..., out=)``, transposed operands passed as views (BLAS reads them with
    the transpose flag, no copy). Only used where no consumer can keep a view of the result.
    ``np.dot`` rather than ``np.matmul``: the same BLAS call for 2-D operands without the ufunc
    machinery, 0.4 us less a call (a 64-layer MLP's step makes 193 of them, ~3 us each).
    ``blocked`` (plans that run in ``blas.owned``): ``kernels.matmul.gemm``, blocks of a large
    product on the chunk workers."""
    ta, tb = bool(op.attrs.get("transpose_a")), bool(op.attrs.get("transpose_b"))
    if blocked:
        from jitgraph.kernels.matmul import gemm as dot
    else:
        dot = np.dot
    dtype = op.outputs[0].dtype.base_dtype.as_np
    box = [np.empty((0, 0), dtype)]

    def mm(a, b):
        a = a.T if ta else a
        b = b.T if tb else b
        out = box[0]
        if out.shape[0] != a.shape[0] or out.shape[1] != b.shape[-1]:
            out = box[0] = alloc_checked((a.shape[0], b.shape[-1]), dtype, op)
        try:
            return dot(a, b, out)
        except (ValueError, TypeError) as e:
            raise errors.InvalidArgumentError(None, op, f"{op.type} op '{op.name}' failed: {e}") from None
    return mm


def alloc_checked(shape, dtype, op):
    """``np.empty`` for a kernel output of run-time shape, with the reference's limit and error."""
    n = dtype.itemsize
    for d in shape:
        n *= d
    if n > max_alloc_bytes():      # (the message is built only when it is needed)
        check_nbytes(n, op, f"tensor with shape {list(shape)} and type {dtype.name}")
    try:
        return np.empty(shape, dtype)
    except MemoryError as e:
        raise errors.ResourceExhaustedError(None, op, f"OOM when computing '{op.name}' ({op.type}): {e}") from None


def reuse(box, shape, dtype, op):
    """A kernel output of run-time shape that never leaves the run: last run's buffer when the
    shape is the same (a training loop's batch), else a new one, kept in ``box``."""
    b = box[0]
    if b is None or b.shape != shape:
        b = box[0] = alloc_checked(shape, dtype, op)
    return b


def adopter(ns, var, slot, rank0=False):
    """``adopt(values, v)``: make the store's buffer of ``var`` a writable C-contiguous ndarray of
    its dtype (the reference may leave a NumPy scalar or a read-only array there) and remember
    it in ``ns[slot]``, so the runner re-checks only when the buffer object changes. For a rank-0
    variable (``rank0``) also keep ``ns[slot + "_1"]``: the 1-d view of the buffer kernels take."""
    dtype = var.get_attr("dtype").as_np
    slot1 = slot + "_1"

    def adopt(values, v):
        if v is None:
            return None
        if not (type(v) is np.ndarray and v.dtype == dtype and v.flags.c_contiguous and v.flags.writeable):
            v = np.array(v, dtype=dtype, order="C", copy=True)
            values[var] = v
        if rank0:
            ns[slot1] = v.reshape(1)   # before ns[slot]: the pair never disagrees for a later run
        ns[slot] = v
        return v
    return adopt


def numpy_step(op, untaped=False):
    """A callable ``(ctx, args) -> list of outputs`` running ``op`` as the reference does, except that
    an op library's optional faster implementation ``op_def.extra["fast"]`` (same signature and
    results as ``compute``, within float tolerance) is preferred: the one place NumPy steps run.
    ``untaped``: a loop's ``extra["fast_untaped"]``, for a plan where nothing reads its tape."""
    d = op.op_def
    outs = [t.dtype.base_dtype.as_np for t in op.outputs]
    extra = d.extra or {}
    fn = (untaped and extra.get("fast_untaped")) or extra.get("fast") or d.compute
    if isinstance(fn, Lazy):
        fn = fn.resolve()          # (its module is imported now rather than at the first run)

    def call(ctx, args):
        return call_op(ctx, op, fn, args, outs)
    return call
