"""Vectorizable transcendental math for generated Numba kernels, as source text.

Why this exists
---------------
llvmlite's wheels ship without SVML, so ``np.tanh``/``np.exp``/``np.log`` inside a
Numba loop lower to scalar libm calls, which stop LLVM from vectorizing the loop
(the fused W1 loop ``relu(x*w+b)*0.5 + tanh(x)`` over 10M float32 took ~72 ms with
``np.tanh`` and ~2.4 ms with an inlined approximation).  The helpers here are
branch-free polynomial/rational implementations (Cephes / fdlibm style range
reduction, bit manipulation through ``np.float32(v).view(np.int32)``) that LLVM
turns into straight-line SIMD code.

This module deliberately does **not** import numba: it only holds source text, so
``import jitgraph`` stays cheap.  Generated kernel modules paste the text in,
because Numba's on-disk cache does not track callees defined in other files.

Convention for the code generator
---------------------------------
1. Start the generated module with :data:`PRELUDE` (or equivalent lines) so the
   names ``math``, ``np``, ``njit`` and ``FASTMATH`` exist::

       import math
       import numpy as np
       from numba import njit
       FASTMATH = {'arcp', 'contract', 'afn', 'reassoc', 'nsz'}

   ``FASTMATH`` must not contain ``'nnan'``/``'ninf'`` (or be ``True``): the
   helpers rely on IEEE NaN/Inf comparisons for their special-value handling.
2. Paste ``helper_source(names)`` after the prelude.  Every helper is a
   top-level function decorated
   ``@njit(inline='always', error_model='numpy', fastmath=FASTMATH)``; all helper
   names start with ``jg_`` so they do not clash with kernel names.  Helpers may
   call other helpers (``helper_source`` emits dependencies first).
3. Call the helpers from kernels that are themselves compiled with
   ``error_model='numpy'`` (otherwise float division gets a ZeroDivisionError
   check, which blocks vectorization) and ``fastmath=FASTMATH``.  Inlining is done
   at Numba-IR level, so the kernel's flags are what the inlined code is compiled
   with.
4. Pick the helper with ``HELPER_FOR[(op_name, dtype_name)]``, e.g.
   ``HELPER_FOR[("tanh", "float32")] == "jg_tanh_f32"``.  ``*_f32`` helpers take
   and return float32 (a float64 argument is converted to float32 first);
   ``*_f64`` helpers take and return float64.

Accuracy (measured exhaustively over all 2**32 float32 inputs, and over ~1e7
float64 inputs, against float64/NumPy references; see tests/compiler/test_fastmath.py)
---------------------------------------------------------------------------------
The bounds are in float32/float64 ulps against the correctly rounded value
(float64 NumPy result rounded to float32 for the f32 helpers).  Special values
(±inf, NaN, ±0, denormal inputs and results, overflow/underflow) match NumPy
exactly, except that the sign of a zero result is not guaranteed (the ``nsz``
fast-math flag lets LLVM drop it).

==================  ==============================================================
helper              max error (ulp)
==================  ==============================================================
jg_exp_f32          1  (gradual underflow to denormals is exact-rounded once)
jg_log_f32          1
jg_tanh_f32         2
jg_sigmoid_f32      2
jg_exp_f64          1
jg_log_f64          1
jg_tanh_f64         2
jg_sigmoid_f64      2
==================  ==============================================================

(:data:`MAX_ULP` holds the bounds the test suite asserts.)
"""

from __future__ import annotations

from typing import Iterable

__all__ = [
    "FASTMATH_FLAGS",
    "PRELUDE",
    "HELPERS",
    "HELPER_DEPS",
    "HELPER_FOR",
    "MAX_ULP",
    "helper_source",
]

#: fast-math flags the generated kernels and helpers are compiled with.  No
#: 'nnan'/'ninf': NaN and Inf must keep their IEEE semantics.
FASTMATH_FLAGS = frozenset({"arcp", "contract", "afn", "reassoc", "nsz"})

#: Lines a generated module must start with (defines math, np, njit, FASTMATH).
PRELUDE = (
    "import math\n"
    "import numpy as np\n"
    "from numba import njit\n"
    "FASTMATH = {'arcp', 'contract', 'afn', 'reassoc', 'nsz'}\n"

)

_DECO = "@njit(inline='always', error_model='numpy', fastmath=FASTMATH)\n"

# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------

# exp: n = round(x / ln2); r = x - n*ln2 (Cody-Waite split, ln2 = C1 + C2, C1 has
# 9 significant bits so n*C1 is exact); exp(r) by the Cephes expf polynomial;
# result = p * 2**(n>>1) * 2**(n - (n>>1)) so both scale factors are normal
# numbers and overflow / gradual underflow round exactly once.
_EXP_F32 = _DECO + '''\
def jg_exp_f32(x):
    x = np.float32(x)
    xc = x if x > np.float32(-104.0) else np.float32(-104.0)
    xc = xc if xc < np.float32(89.0) else np.float32(89.0)
    fn = np.floor(xc * np.float32(1.44269504088896341) + np.float32(0.5))
    r = np.float32(np.float64(xc) - np.float64(fn) * 0.6931471805599453094)
    z = r * r
    p = np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * z + r + np.float32(1.0)
    n = np.int32(fn)
    hi = n > 127
    p = p + p if hi else p
    n = np.int32(127) if hi else n
    sb = np.int32((n + 127) << 23) if n > -127 else np.int32(1 << min(max(n + 149, 0), 23))
    y = p * np.int32(sb).view(np.float32)
    lo = np.float32(1.401298464324817e-45) if r > np.float32(0.0) else np.float32(0.0)
    y = lo if n < -149 else y
    return x if x != x else y
'''

# log: x = m * 2**e with m in [sqrt(1/2), sqrt(2)) (denormals pre-scaled by
# 2**23), f = m - 1, Cephes logf polynomial, ln2 split in two.
_LOG_F32 = _DECO + '''\
def jg_log_f32(x):
    x = np.float32(x)
    tiny = x < np.float32(1.1754943508222875e-38)
    xs = x * np.float32(8388608.0) if tiny else x
    bits = np.float32(xs).view(np.int32)
    e = np.int32((bits >> 23) - 127)
    e = np.int32(e - 23) if tiny else e
    m = np.int32((bits & 0x007FFFFF) | 0x3F800000).view(np.float32)
    big = m > np.float32(1.41421356237309505)
    m = m * np.float32(0.5) if big else m
    e = np.int32(e + 1) if big else e
    f = m - np.float32(1.0)
    fe = np.float32(e)
    z = f * f
    p = np.float32(7.0376836292e-2) * f - np.float32(1.1514610310e-1)
    p = p * f + np.float32(1.1676998740e-1)
    p = p * f - np.float32(1.2420140846e-1)
    p = p * f + np.float32(1.4249322787e-1)
    p = p * f - np.float32(1.6668057665e-1)
    p = p * f + np.float32(2.0000714765e-1)
    p = p * f - np.float32(2.4999993993e-1)
    p = p * f + np.float32(3.3333331174e-1)
    y = p * f * z - np.float32(0.5) * z
    r = np.float32(np.float64(f) + np.float64(y) + np.float64(fe) * 0.6931471805599453094)
    r = np.float32(math.inf) if x == np.float32(math.inf) else r
    r = np.float32(-math.inf) if x == np.float32(0.0) else r
    r = np.float32(math.nan) if x < np.float32(0.0) else r
    return x if x != x else r
'''

# tanh: |x| < 0.625: odd Cephes polynomial; otherwise 1 - 2/(exp(2|x|) + 1)
# (exp overflow to inf gives exactly 1).  Both branches are evaluated and the
# result selected, so the code stays branch-free.
_TANH_F32 = _DECO + '''\
def jg_tanh_f32(x):
    x = np.float32(x)
    ax = abs(x)
    z = x * x
    p = np.float32(-5.70498872745e-3) * z + np.float32(2.06390887954e-2)
    p = p * z - np.float32(5.37397155531e-2)
    p = p * z + np.float32(1.33314422036e-1)
    p = p * z - np.float32(3.33332819422e-1)
    small = p * z * x + x
    e = jg_exp_f32(ax + ax)
    big = np.float32(1.0) - np.float32(2.0) / (e + np.float32(1.0))
    big = -big if x < np.float32(0.0) else big
    r = small if ax < np.float32(0.625) else big
    return x if x != x else r
'''

# sigmoid: e = exp(-|x|) in (0, 1]; sigmoid = 1/(1+e) for x >= 0 and e/(1+e)
# for x < 0 (no cancellation, no overflow, denormal results for x < -87).
_SIGMOID_F32 = _DECO + '''\
def jg_sigmoid_f32(x):
    x = np.float32(x)
    e = jg_exp_f32(-abs(x))
    num = np.float32(1.0) if x >= np.float32(0.0) else e
    r = num / (np.float32(1.0) + e)
    return x if x != x else r
'''

# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

# exp: Cephes exp.c (Pade form 1 + 2*P/(Q-P)), Cody-Waite ln2 split, split
# 2**n scaling as in the float32 version.
_EXP_F64 = _DECO + '''\
def jg_exp_f64(x):
    x = np.float64(x)
    xc = x if x > -746.0 else -746.0
    xc = xc if xc < 710.0 else 710.0
    fn = np.floor(xc * 1.4426950408889634073599 + 0.5)
    r = xc - fn * 6.93145751953125e-1
    r = r - fn * 1.42860682030941723212e-6
    xx = r * r
    px = 1.26177193074810590878e-4 * xx + 3.02994407707441961300e-2
    px = (px * xx + 9.99999999999999999910e-1) * r
    q = 3.00198505138664455042e-6 * xx + 2.52448340349684104192e-3
    q = q * xx + 2.27265548208155028766e-1
    q = q * xx + 2.00000000000000000009e0
    p = px / (q - px)
    p = 1.0 + 2.0 * p
    n = np.int64(fn)
    n1 = n >> 1
    n2 = n - n1
    s1 = np.int64((n1 + 1023) << 52).view(np.float64)
    s2 = np.int64((n2 + 1023) << 52).view(np.float64)
    y = (p * s1) * s2
    return x if x != x else y
'''

# log: fdlibm e_log.c: m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f/(2+f),
# log(1+f) = f - hfsq + s*(hfsq + R(s*s)).
_LOG_F64 = _DECO + '''\
def jg_log_f64(x):
    x = np.float64(x)
    tiny = x < 2.2250738585072014e-308
    xs = x * 18014398509481984.0 if tiny else x
    bits = np.float64(xs).view(np.int64)
    k = (bits >> 52) - 1023
    k = k - 54 if tiny else k
    m = np.int64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000).view(np.float64)
    big = m > 1.4142135623730950488
    m = m * 0.5 if big else m
    k = k + 1 if big else k
    f = m - 1.0
    dk = np.float64(k)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
    rr = t2 + t1
    hfsq = 0.5 * f * f
    r = dk * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + rr) + dk * 1.90821492927058770002e-10)) - f)
    r = math.inf if x == math.inf else r
    r = -math.inf if x == 0.0 else r
    r = math.nan if x < 0.0 else r
    return x if x != x else r
'''

# tanh: Cephes tanh.c: |x| < 0.625: x + x*s*P(s)/Q(s) with s = x*x;
# otherwise 1 - 2/(exp(2|x|) + 1).
_TANH_F64 = _DECO + '''\
def jg_tanh_f64(x):
    x = np.float64(x)
    ax = abs(x)
    s = x * x
    p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3
    q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3
    small = x + x * s * (p / q)
    e = jg_exp_f64(ax + ax)
    big = 1.0 - 2.0 / (e + 1.0)
    big = -big if x < 0.0 else big
    r = small if ax < 0.625 else big
    return x if x != x else r
'''

_SIGMOID_F64 = _DECO + '''\
def jg_sigmoid_f64(x):
    x = np.float64(x)
    e = jg_exp_f64(-abs(x))
    num = 1.0 if x >= 0.0 else e
    r = num / (1.0 + e)
    return x if x != x else r
'''

#: helper name -> source text (decorated with njit/FASTMATH, see module doc).
HELPERS: dict[str, str] = {
    "jg_exp_f32": _EXP_F32,
    "jg_log_f32": _LOG_F32,
    "jg_tanh_f32": _TANH_F32,
    "jg_sigmoid_f32": _SIGMOID_F32,
    "jg_exp_f64": _EXP_F64,
    "jg_log_f64": _LOG_F64,
    "jg_tanh_f64": _TANH_F64,
    "jg_sigmoid_f64": _SIGMOID_F64,
}

#: helper name -> helpers it calls.
HELPER_DEPS: dict[str, tuple[str, ...]] = {
    "jg_exp_f32": (),
    "jg_log_f32": (),
    "jg_tanh_f32": ("jg_exp_f32",),
    "jg_sigmoid_f32": ("jg_exp_f32",),
    "jg_exp_f64": (),
    "jg_log_f64": (),
    "jg_tanh_f64": ("jg_exp_f64",),
    "jg_sigmoid_f64": ("jg_exp_f64",),
}

#: (op name, dtype name) -> helper name.
HELPER_FOR: dict[tuple[str, str], str] = {
    (op, dt): f"jg_{op}_{suffix}"
    for op in ("exp", "log", "tanh", "sigmoid")
    for dt, suffix in (("float32", "f32"), ("float64", "f64"))
}

#: max error in ulps against the correctly rounded result (asserted by tests).
MAX_ULP: dict[str, int] = {
    "jg_exp_f32": 1,
    "jg_log_f32": 1,
    "jg_tanh_f32": 2,
    "jg_sigmoid_f32": 2,
    "jg_exp_f64": 1,
    "jg_log_f64": 1,
    "jg_tanh_f64": 2,
    "jg_sigmoid_f64": 2,
}


def helper_source(names: Iterable[str]) -> str:
    """Source of the requested helpers plus their dependencies.

    Dependencies come before their users, each helper appears once, and the
    order is otherwise the order of first request.  Unknown names raise KeyError.
    """
    out: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        if name not in HELPERS:
            raise KeyError(f"unknown fastmath helper {name!r}")
        seen.add(name)
        for dep in HELPER_DEPS[name]:
            visit(dep)
        out.append(HELPERS[name])

    if isinstance(names, str):
        names = (names,)
    for n in names:
        visit(n)
    return "\n\n".join(out)
