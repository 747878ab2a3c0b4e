"""Kernels cut along dim 0 into chunks that jitgraph's chunk workers share (``blas.run_chunks``).

Where: plans whose library ops already run on the chunk workers (convs, pools: the plan holds
the BLAS at one thread, ``blas.owned``). There a large elementwise or batch-norm kernel ran on one
core while the other waited: P8's kernels over [32, 32, 32, 32] take 0.1-0.5 ms each, memory-bound
on one core. Numba's ``prange`` would split them, but its OpenMP team divides the iterations
evenly in advance: on this 2-core VM a parallel region whose second thread has gone to sleep
waits 50-100 us for it to wake (a [2^17] kernel: 0.035 ms on one core, 0.08-0.1 ms as a
``prange`` after a pause), and the plan's convs leave long pauses between kernels. The chunk
workers claim chunks from a counter, so the calling thread starts at once and a late helper only
takes the chunks that are left.

Form of a cut kernel (``chunk_source``)::

    kernel(a0, ..., an, p<oi>..., sync, nch, lead)   # claims chunks of dim 0 until none is left

The caller runs ``kernel`` with ``lead`` = 1 and lends the same call to each chunk worker
(``blas.lend``), without waiting for them: every call claims chunk numbers from the atomic
counter ``sync[0]`` and counts finished chunks in ``sync[1]``; the lead call returns when all
``nch`` are finished. So one native call per thread and no GIL hand-off per chunk (a chunk per
Python call ran 2x *slower* than one thread: each hand-off of the GIL to a sleeping thread costs
a wake-up), and the caller never waits for a worker to wake, only for chunks it is running.

Each chunk slices its operands along dim 0 (``b<i> = a<i>[lo:hi]``) and loops from 0: with
``range(lo, hi)`` Numba keeps its negative-index wraparound on every access and the loop does not
vectorize (measured 1.46 ms against 0.44 ms for a [2^20] kernel). A reduction across dim 0
(batch norm's per-channel sums) accumulates chunk ``ch`` in the thread's own array ``q<oi>`` and
copies it into row ``ch`` of ``p<oi>``; ``run`` combines the rows in chunk order, as the
``prange`` form does (with a ufunc's reduce: a compiled merge function per kernel cost P8's cold
start ~3 s); so values depend on the number of chunks (float rounding of sums), not on which
thread ran a chunk. (Accumulating in the rows of ``p`` itself ran 2x slower on two threads than
on one: adjacent 128-byte rows share cache lines, and every add stores.)

The runner calls ``run`` (below): few elements (``MIN_ELEMENTS``) run as one chunk here.

A long elementwise chain (``chains.py``) needs no generated form: its rows are independent, so
``run_split`` calls the chain's own kernel on slices of its operands, one Python call per chunk
(a few calls of ~0.1 ms each, not worth native claiming).
"""

import numpy as np

from jitgraph.kernels import blas

#: Elements per chunk (about): small enough that a helper thread waking late still finds
#: chunks left, large enough that claiming one costs nothing.
CHUNK_ELEMENTS = 1 << 15
MAX_CHUNKS = 64
#: Kernels over fewer elements run on this thread alone: handing work to a helper costs
#: ~10-20 us here (a [2^17] kernel: 0.045 ms alone, 0.063 ms shared).
MIN_ELEMENTS = 1 << 20
#: Kernels with fewer elements known at build time (run-time dims counted as 1) are not cut.
MIN_STATIC_ELEMENTS = 1 << 12


def cut_operand(space, red_out, pats, operands, has_views, full):
    """Can this kernel run in chunks along dim 0? Every reduction must reduce dim 0 and keep it
    out of its result (so chunks write disjoint rows of ``p``), every result and variable operand
    must be indexed along dim 0 (chunks write disjoint slices), and one operand must span the
    whole space: its index is returned (its dim 0 and size decide the chunks at run time), else
    None."""
    r = len(space)
    static = 1
    for d in space:
        static *= d if isinstance(d, int) else 1
    if r == 0 or has_views or static < MIN_STATIC_ELEMENTS:
        return None
    if any(len(s.axes) == r or 0 not in s.axes for s in red_out.values()):
        return None
    for i, (kind, obj) in enumerate(operands):
        if kind != "in" and i in pats and pats[i][0][0] is None:
            return None
    return next((i for i, p in pats.items() if full(p)), None)


def sliced_indices(idx_of, pats, flat):
    """Index expressions reading chunk slices ``b<i>`` instead of whole operands ``a<i>``."""
    out = dict(idx_of)
    for i, (pat, _) in pats.items():
        if pat and pat[0] is not None:
            out[i] = f"b{i}[i]" if flat else "b" + idx_of[i][1:]
    return out


def chunk_source(helpers, args, pre, partials, loops, sizes, body, pats, flat, operands, full):
    """Module text of a cut kernel and its operands. ``partials``: per reduction result,
    ``(operand index, identity, combine, reduced axes of a mean or None)``; ``full``: the index
    of an operand spanning the whole space (``cut_operand``)."""
    from jitgraph.compiler import codegen, fastmath
    ps = [f"p{oi}" for oi, *_ in partials]
    src = [fastmath.PRELUDE, "from jitgraph.kernels.atomics import claim, count\n", codegen.KERNEL_FASTMATH]
    if helpers:
        src.append(fastmath.helper_source(helpers) + "\n\n")
    src.append(codegen.DECO.format(par="") + f"def kernel({', '.join(args + ps)}, sync, nch, lead):\n")
    src.extend(f"    {ln}\n" for ln in pre)
    for oi, *_ in partials:
        src.append(f"    q{oi} = np.empty(a{oi}.shape, a{oi}.dtype)\n")
        src.append(f"    q{oi}f = q{oi}.reshape(q{oi}.size)\n")
        src.append(f"    p{oi}f = p{oi}.reshape(nch, q{oi}.size)\n")
    n0 = sizes[0]               # "n" of a flat loop over reshaped operands ``a<i>f``, else "n0"
    src.append("    while True:\n")
    src.append("        ch = claim(sync, 0)\n")
    src.append("        if ch >= nch:\n")
    src.append("            break\n")
    src.append(f"        lo = ch * {n0} // nch\n")
    src.append(f"        hi = (ch + 1) * {n0} // nch\n")
    for i, (pat, _) in pats.items():
        if pat and pat[0] is not None:
            src.append(f"        b{i} = a{i}{'f' if n0 == 'n' else ''}[lo:hi]\n")
    for oi, ident, *_ in partials:
        src.append(f"        q{oi}.fill({ident})\n")
    depth = 2
    for d, (lv, n) in enumerate(zip(loops, sizes)):
        src.append("    " * depth + f"for {lv} in range({'hi - lo' if d == 0 else n}):\n")
        depth += 1
    src.extend("    " * depth + ln + "\n" for ln in body)
    for oi, *_ in partials:     # (a loop: Numba's ``p[ch] = q`` compiles for 0.1-0.2 s more)
        src.append(f"        for j in range(q{oi}f.size):\n")
        src.append(f"            p{oi}f[ch, j] = q{oi}f[j]\n")
    src.append("        claim(sync, 1)\n")
    src.append("    while lead and count(sync, 1) < nch:   # chunks other threads are still running\n")
    src.append("        pass\n")
    src.append("    return 0\n")
    ops = codegen.Operands(operands)
    ops.partials = tuple((oi, combine, axes) for oi, _, combine, axes in partials)
    ops.full = full
    ops.flat = flat
    return "".join(src), ops


_COMBINE = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum, "and": np.logical_and,
            "or": np.logical_or}


#: Rows of a 1-d split chain per chunk are a multiple of this (16 float32 lanes of AVX-512): a chunk
#: of 250 of C2's chain ran each of its 250 parts' last 10 elements in scalar code (190 us against
#: 125 for the vector part).
SPLIT_ALIGN = 16


def run_split(kernel, args, sliced):
    """``kernel(*args)`` as one chunk of rows per thread, this one and the chunk workers': each chunk
    passes rows ``lo:hi`` of the operands at positions ``sliced`` (C-contiguous views, so the
    compiled signature is the same) and the others whole."""
    n0 = args[sliced[0]].shape[0]
    unit = SPLIT_ALIGN if args[sliced[0]].ndim == 1 else 1
    nch = min(-(-n0 // unit), blas.blas_threads())
    if nch < 2:
        kernel(*args)
        return
    step = -(-n0 // (nch * unit)) * unit

    def chunk(j):
        lo, hi = j * step, min(n0, (j + 1) * step)
        kernel(*[a[lo:hi] if i in sliced else a for i, a in enumerate(args)])
    blas.run_chunks(nch, chunk, 2)


def run(kernel, args, full, partials, flat):
    """Run a cut kernel over ``args`` here and on the chunk workers, then combine the rows of
    partial results: in chunk order (a ufunc's reduce over axis 0 of a C array adds row after
    row, as the ``prange`` form's merge loop), then a mean's division in float64, as the kernels
    divide."""
    x = args[full]
    n0 = x.size if flat else x.shape[0]
    nch = max(1, min(n0, x.size // CHUNK_ELEMENTS, MAX_CHUNKS)) if x.size >= MIN_ELEMENTS else 1
    ps = tuple(np.empty((nch,) + args[i].shape, args[i].dtype) for i, _, _ in partials)
    sync = np.zeros(2, np.int64)
    if nch > 1:
        blas.lend(kernel, *args, *ps, sync, nch, 0)
    kernel(*args, *ps, sync, nch, 1)
    for (i, combine, mean_axes), p in zip(partials, ps):
        out = args[i]
        _COMBINE[combine].reduce(p, axis=0, out=out)
        if mean_axes is not None:
            count = 1
            for d in mean_axes:
                count *= x.shape[d]
            with np.errstate(all="ignore"):   # an empty mean is NaN, silently, as in the kernels
                np.true_divide(out, np.float64(count), out=out, casting="unsafe")
