"""Direct conv2d and filter gradient for few input channels: the first layer of an image model.

With 1-4 input channels a conv has KH*KW*C = 9-100 multiply-adds per output value, so im2col +
GEMM spends as long gathering patches as multiplying, and BLAS runs a K = 27 product at a third
of its speed. Here generated Numba loops keep a tile of sums in registers:

* ``conv``: ``PX`` neighbouring output pixels x all F filters, summed over the whole window; per
  filter tap one load of each pixel's input value, F/16 vector loads of the tap's filter row and
  PX*F/16 FMAs.
* ``filter_grad``: TB filter taps (``taps_per_block``) x all F filters, summed over one image's
  output pixels in one pass over its dy; per pixel TB input values, F/16 vector loads of dy and
  TB*F/16 FMAs. Each chunk of images adds into a float64 partial of its thread; the partials are
  added at the end.

Numba cannot write such a register tile directly: its loop vectorizer vectorizes the pixel loop
with gathers (15 ms for P8's first layer). The kernels are therefore written as straight-line code
(one scalar per sum, loops only over the window or the pixels) and compiled with LLVM's SLP
vectorizer on and its loop vectorizer off (``compiler.llvm_tuning``, from the marker line in the
source), which packs the F sums of a pixel (or tap) into 16-lane registers. Single core, float32,
against im2col + OpenBLAS sgemm on the same core:

* P8's first layer, 32 x 32x32x3 -> 32, 3x3: 0.59 ms (96 GFLOP/s) against 1.27 (gather 0.51);
* P1's, 128 x 28x28x1 -> 32, 5x5: 1.82 ms (88 GFLOP/s) against ~3.4;
* C2's, 16 x 28x28x1 -> 16, 3x3: 0.10 ms against 0.18 on two cores.

Two cores, with the chunks (``kernels/conv.py``'s paths in brackets): P8's conv 0.54 ms (0.88),
its filter gradient 0.46 ms (0.91); P1's filter gradient 0.9 ms (1.8).

The bias and activation are applied to each chunk of images right after it (``epilogue``):
written into the kernel, 128 ReLUs more of straight-line code took the SLP vectorizer 3.6 s more
to compile (5.4 s for 32 filters). A kernel compiles in 1-3 s, once per machine (Numba's disk
cache), in the compile process when a plan warms its steps.

One conv kernel per (F, PX, dtype, KH, KW*C): the window's size is written into its loops, which
LLVM then unrolls (``source``); one filter-gradient kernel per (F, TB, dtype). Strides, row
dilation and padding are arguments.
Each image is first copied into a zero-bordered buffer, so the loops have no bounds checks. Images
are split into chunks of about ``_CHUNK_MACS`` multiply-adds on ``blas.run_chunks``'s workers.
When the output width is not a multiple of PX the last block of a row starts at OW - PX (its
first pixels are computed twice, with the same result); a filter gradient's last block of taps
reads zeros past the window row (the buffer has TB zero columns more) and those sums are dropped.

Error: each output sums its KH*KW*C products in window order in the input's dtype (the
reference's BLAS sums in its own blocked order): float rounding, within 2e-5 * sqrt(KH*KW*C) of
the output's largest magnitude in float32. A filter gradient sums N*OH*OW products per value,
per image in the input's dtype and across images in float64 (the reference: BLAS over all pixels
in the input's dtype) (``tests/kernels/test_direct_conv.py``).
"""

import functools
import sys
import threading

import numpy as np

from jitgraph.kernels import blas, epilogue

MAX_C = 4                 # input channels up to which this path is taken
MAX_F = 64                # filters: a pixel's F sums must fit the vector registers
_ACC_VECTORS = 8          # vector registers for the tile of sums: 8 of AVX-512's 32 or AVX2's 16
_CHUNK_MACS = 1 << 22     # multiply-adds per chunk of images (~0.05 ms)
_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}
_kernels = {}
_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _vector_bytes():
    """Bytes of the host's widest vector registers: 64 with AVX-512 (32 of them), else 32 (16)."""
    try:
        import llvmlite.binding as llvm
        return 64 if llvm.get_host_cpu_features().get("avx512f") else 32
    except Exception:  # noqa: BLE001 - no feature list: assume AVX2
        return 32


def _vectors(f, dtype):
    """Vector registers that hold one row of ``f`` sums."""
    return -(-f * np.dtype(dtype).itemsize // _vector_bytes())


def pixels_per_block(f, dtype):
    """Output pixels computed together: as many as keep the sums in ``_ACC_VECTORS`` registers,
    at most 4 (AVX-512, float32: 4 up to 32 filters, 2 for 64; with 4 pixels of 64 filters
    1.29 ms against 1.05, too few registers left for the filter rows)."""
    return max(1, min(4, _ACC_VECTORS // _vectors(f, dtype)))


def usable(dtype, c, f, dw, ow=None):
    """Does this path take a conv (or, with ``ow`` None, its filter gradient)? Float32/64, 1-4
    input channels, 1-64 filters, no dilation along rows (a window row is then KW*C contiguous
    values) and, for the conv, an output row of at least one pixel block."""
    return (dtype in _DTYPES and 1 <= c <= MAX_C and 1 <= f <= MAX_F and dw == 1
            and (ow is None or ow >= pixels_per_block(f, dtype)))


_HEAD = '''"""jitgraph direct conv kernel ({what}, {dtype}): generated by kernels/direct_conv.py."""
# jitgraph: straight-line vectorizer
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, boundscheck=False, fastmath={{"contract", "reassoc", "nsz"}})
'''
# Copies image n into the zero-bordered buffer ``pad`` (its rows hold ``wp`` pixels of C values).
_PAD = """        pad[...] = 0
        for hh in range(max(0, -top), min(h_, hp - top)):
            src = x[n, hh]
            dst = pad[hh + top]
            for ww in range(max(0, -left), min(w_, wp - left)):
                for c in range(c_):
                    dst[(ww + left) * c_ + c] = src[ww, c]
"""


def _lines(template, items, indent):
    return "".join(" " * indent + template.format(*it) + "\n" for it in items)


def _nested(head, body, outer, inner, indent):
    """For a in range(outer): the line ``head`` of (a,), then ``body`` of (a, b) for b in range(inner)."""
    return "".join(_lines(head, [(a,)], indent) + _lines(body, [(a, b) for b in range(inner)], indent)
                   for a in range(outer))


def _prologue(what, dtype, head, grid, wp):
    """A kernel module's text up to its loop over images: ``head`` opens the signature (the rest
    is common), ``grid`` names the [N, OH, OW, F] array, ``wp`` the expression of the buffer's
    row width in pixels."""
    return (_HEAD.format(what=what, dtype=dtype)
            + f"def {head}, n0, n1, kh, kw, sh, sw, dh, top, left, pad):\n"
            "    _, h_, w_, c_ = x.shape\n"
            "    hp, wpc = pad.shape\n"
            f"    oh, ow = {grid}.shape[1], {grid}.shape[2]\n"
            f"    wp = {wp}\n"
            "    step = sw * c_\n"
            f"    zero = np.{dtype}(0)\n")


def source(f, px, dtype, kh, row):
    """The module of the forward kernel: ``f`` filters, ``px`` pixels a block, ``dtype``'s name,
    for a window of ``kh`` rows of ``row`` (KW*C) values, written into the loops so that LLVM
    unrolls them (C2's 16 x 28x28x1 -> 16 3x3 conv on one core: 0.131 -> 0.066 ms; P1's 5x5
    1 -> 32 and P8's 3x3 3 -> 32 first layers 7-8% faster)."""
    sums = [(p, k) for p in range(px) for k in range(f)]
    fmas = _nested("q{0} = wr[{0}]", "s{1}_{0} += v{1} * q{0}", f, px, 24)
    stores = _nested("o = out[n, i, j0 + {0}]", "o[{1}] = s{0}_{1}", px, f, 16)
    return (_prologue(f"{f} filters, {px} pixels a block, {kh} x {row} window", dtype, "conv(x, w2, out", "out",
                      "wpc // c_")
            + "    for n in range(n0, n1):\n" + _PAD
            + "        for i in range(oh):\n"
            f"            for jb in range((ow + {px - 1}) // {px}):\n"
            f"                j0 = min(jb * {px}, ow - {px})\n"
            + _lines("s{0}_{1} = zero", sums, 16)
            + f"                for a in range({kh}):\n"
            "                    row = pad[i * sh + a * dh]\n"
            f"                    for off in range({row}):      # the window's row: KW*C contiguous values\n"
            "                        wr = w2[a * kw * c_ + off]\n"
            + _lines("v{0} = row[(j0 + {0}) * step + off]", [(p,) for p in range(px)], 24)
            + fmas + stores + "    return 0\n")


def filter_source(f, tb, dtype):
    """The module of the filter-gradient kernel: ``f`` filters, ``tb`` taps a block, ``dtype``."""
    sums = [(o, k) for o in range(tb) for k in range(f)]
    fmas = _nested("q{0} = d[{0}]", "s{1}_{0} += v{1} * q{0}", f, tb, 24)
    adds = _nested("r = block[{0}]", "r[{1}] = s{0}_{1}", tb, f, 16)
    return (_prologue(f"filter gradient, {f} filters, {tb} taps a block", dtype, "filter_grad(x, dy, acc", "dy",
                      f"(wpc - {tb}) // c_")
            + f"    block = np.empty(({tb}, {f}), np.{dtype})\n"
            "    for n in range(n0, n1):\n" + _PAD
            + "        for a in range(kh):\n"
            "            ar = acc[a]\n"
            f"            for o0 in range(0, kw * c_, {tb}):    # taps past KW*C read the border's zeros\n"
            + _lines("s{0}_{1} = zero", sums, 16)
            + "                for i in range(oh):\n"
            "                    row = pad[i * sh + a * dh]\n"
            "                    dyi = dy[n, i]\n"
            "                    for j in range(ow):\n"
            "                        d = dyi[j]\n"
            "                        base = j * step + o0\n"
            + _lines("v{0} = row[base + {0}]", [(o,) for o in range(tb)], 24)
            + fmas + adds
            + f"                for o in range(min({tb}, kw * c_ - o0)):\n"
            "                    aro, bo = ar[o0 + o], block[o]\n"
            f"                    for k in range({f}):      # (not ``ar[o0 + o] += block[o]``: an array store\n"
            "                        aro[k] += bo[k]       # compiles Numba's shape-error message, 1.6 s)\n"
            "    return 0\n")


def taps_per_block(f, taps, dtype):
    """Filter taps whose gradients one pass over dy sums together (TB x F sums in registers): at
    most 5, and as many as keep the sums in ``_ACC_VECTORS`` registers; of the counts that make
    fewest passes over a window row's ``taps``, the one that wastes fewest taps past its end. More taps a pass do not pay: P8's 9
    taps by 9 took 0.41 ms and 5.6 s to compile, by 3, 4 or 5 0.44-0.50 ms and 3.1-3.4 s (fresh
    processes: ~2.5 s of it is Numba's start)."""
    cap = max(1, min(taps, 5, _ACC_VECTORS // _vectors(f, dtype)))
    return min(range(1, cap + 1), key=lambda tb: (-(-taps // tb), -(-taps // tb) * tb - taps))


def _kernel(kind, f, block, dtype, window=()):
    """(kernel function, its source) of ``kind`` ("conv" | "filter_grad"), loaded once per process;
    ``window`` is the conv's (KH, KW*C)."""
    key = (kind, f, block, dtype, window)
    got = _kernels.get(key)
    if got is None:
        from jitgraph.compiler.disk_cache import load_module
        src = (source if kind == "conv" else filter_source)(f, block, _DTYPES[dtype], *window)
        with _lock:
            got = _kernels.setdefault(key, (getattr(load_module(src), kind), src))
    return got


def _writable(a):
    """``a`` as a C-contiguous writeable array: Numba types read-only arrays apart, and a second
    specialization would compile outside ``_run``'s SLP options."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


def _run(fn, src, chunks, chunk, tail=None):
    """``chunk(j)`` then ``tail(j)`` for every chunk, the first one here (it compiles or loads ``fn``
    with the SLP options), the others on the chunk workers. Only ``fn`` compiles under those
    options: the bias + ReLU epilogue compiled inside them lost its loop vectorizer and stayed
    scalar (0.058 ms against 0.015 for C2's [16, 28, 28, 16] block, kept so in Numba's disk cache)."""
    def both(j):
        chunk(j)
        if tail is not None:
            tail(j)
    first = 0
    if not fn.overloads:
        from jitgraph.compiler.disk_cache import compile_lock
        from jitgraph.compiler.llvm_tuning import tuned_for
        with compile_lock(sys.modules[fn.__module__]), tuned_for(src):
            chunk(0)
        if tail is not None:
            tail(0)
        first = 1
    blas.run_chunks(chunks - first, lambda j: both(j + first), 2)


def conv(x, w, sh, sw, dh, top, left, oh, ow, out, bt=None, act=None):
    """out[n, i, j] = sum_{a,b} x[n, i*sh + a*dh - top, j*sw + b - left] @ w[a, b], zero outside x,
    then ``act(out + bias)`` when ``bt`` (``epilogue.tiled_bias``) is given, chunk by chunk while
    the chunk is in cache; ``out`` is a C-contiguous [N, OH, OW, F] array."""
    n, _, _, c = x.shape
    kh, kw, _, f = w.shape
    if n == 0:
        return out
    fn, src = _kernel("conv", f, pixels_per_block(f, x.dtype), x.dtype, (kh, kw * c))
    x, w2 = _writable(x), _writable(w).reshape(kh * kw * c, f)
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + kw
    per = max(1, min(n, _CHUNK_MACS // max(1, oh * ow * kh * kw * c * f)))

    def chunk(j):
        pad = blas.scratch(hp, wp * c, x.dtype, "direct_conv")
        fn(x, w2, out, j * per, min(n, (j + 1) * per), kh, kw, sh, sw, dh, top, left, pad)

    def bias_act(j):
        epilogue.apply(out[j * per:(j + 1) * per], bt, act)
    _run(fn, src, -(-n // per), chunk, None if bt is None else bias_act)
    return out


def filter_grad(x, dy, kh, kw, sh, sw, dh, top, left):
    """dW[a, b, c, f] = sum over images and output pixels (i, j) of
    x[n, i*sh + a*dh - top, j*sw + b - left, c] * dy[n, i, j, f] (zero outside x): per image, TB
    taps x F filters of sums in registers over one pass of dy, per chunk of images a float64
    partial, the partials added at the end."""
    n, _, _, c = x.shape
    _, oh, ow, f = dy.shape
    taps = kw * c
    tb = taps_per_block(f, taps, x.dtype)
    fn, src = _kernel("filter_grad", f, tb, x.dtype)
    x, dy = _writable(x), _writable(dy)
    hp, wpc = (oh - 1) * sh + (kh - 1) * dh + 1, ((ow - 1) * sw + kw) * c + tb
    per = max(1, min(n, _CHUNK_MACS // max(1, oh * ow * kh * taps * f)))
    parts = {}

    def chunk(j):
        acc = parts.get(threading.get_ident())
        if acc is None:
            acc = parts[threading.get_ident()] = np.zeros((kh, -(-taps // tb) * tb, f))
        pad = blas.scratch(hp, wpc, x.dtype, "direct_filter_grad")
        fn(x, dy, acc, j * per, min(n, (j + 1) * per), kh, kw, sh, sw, dh, top, left, pad)
    if n:
        _run(fn, src, -(-n // per), chunk)
    total = sum(parts.values()) if parts else np.zeros((kh, taps, f))
    return total[:, :taps].astype(x.dtype).reshape(kh, kw, c, f)
