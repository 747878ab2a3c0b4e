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
   with -- including ``'reassoc'``.  The helpers are written to stay accurate
   under it (no Cody-Waite pair LLVM can fold, exponent scaling in integer
   arithmetic, float64 for the one sum that must not be reordered); the tests
   compile them exactly this way.  ``inline='always'`` is required in practice:
   without it LLVM's inliner leaves the bigger helpers (tanh) as calls and the
   loop stays scalar (100 ms instead of ~10 ms for 10M float32).
4. Pick the helper with ``HELPER_FOR[(op_name, dtype_name)]``, e.g.
   ``HELPER_FOR[("tanh", "float32")] == "jg_tanh_f32"``.  ``*_f32`` helpers take
   and return float32 (a float64 argument is converted to float32 first);
   ``*_f64`` helpers take and return float64.

Accuracy
--------
float32 helpers: max error in float32 ulps against the correctly rounded result
(float64 NumPy result rounded to float32), over a strided sweep of all float32
bit patterns plus dense neighbourhoods of every range boundary; float64 helpers:
max error in float64 ulps against NumPy float64 over ~1.2M random bit patterns
and ranges.  The bounds hold whatever vector width, FMA contraction and
reassociation LLVM picks: the suite measures them compiled for a generic x86-64,
Haswell (AVX2+FMA), Skylake-AVX512 and Zen 4 (512-bit) targets, each with the
kernel flags, with all of ``FASTMATH``, without ``contract`` and with no
fast-math at all (``tests/compiler/test_fastmath_targets.py``).  How: exp and
sigmoid for float32 evaluate in float64 and round once (nothing cancels at
float64 precision); the Cody-Waite reductions that stay in float32 (tanh) or
need their order (exp float64) sit behind a select LLVM can neither remove nor
fold through.  NumPy's own float32 exp/log/tanh are *not* correctly rounded:
against NumPy float32 the differences reach 3/4/2 ulp.

==================  ==========  ==========================================
helper              max ulp     notes
==================  ==========  ==========================================
jg_exp_f32          1           float64 inside, rounded once; >88.7228 inf
jg_log_f32          1           denormal inputs exact; final sum in float64
jg_tanh_f32         1
jg_sigmoid_f32      1           float64 inside, rounded once
jg_log1p_f32        1           log of the exact float64 1 + x (0 measured)
jg_softplus_f32     1           float64 inside, rounded once
jg_expm1_f32        1           float64 exp - 1, series below 2**-20
jg_exp_f64          2 (NumPy)
jg_log_f64          2 (NumPy)
jg_tanh_f64         2 (NumPy)
jg_sigmoid_f64      2 (NumPy)
jg_log1p_f64        2 (NumPy)   log(1 + x) plus fdlibm's rounding correction
jg_softplus_f64     3 (NumPy)   against ``np.logaddexp(0, x)``
==================  ==========  ==========================================

There is no float64 expm1 helper: a float64 ``Expm1`` stays a NumPy step.

Special values (±inf, NaN, ±0, denormal inputs and results, overflow and
underflow) match NumPy exactly, except that the sign of a zero result is not
guaranteed (the ``nsz`` flag lets LLVM drop it).  :data:`MAX_ULP` holds the
bounds the test suite asserts.

Speed (10M float32, 2-core AVX2 VM without AVX-512, numba 0.68.1, medians of
7 interleaved runs; the machine is noisy, compare ratios): ``out = x*0.5`` loop
8.7 ms; ``jg_tanh_f32`` loop 10.8 ms vs 277 ms for ``np.tanh`` in the loop and
50 ms for ``np.tanh(x, out=)``; ``jg_exp_f32`` 10.4 ms (np.exp 31 ms);
``jg_log_f32`` 18.8 ms (np.log 33 ms); ``jg_sigmoid_f32`` 11.2 ms.  Fused W1
loop ``relu(x*w+b)*0.5 + tanh(x)``: 257 ms with ``np.tanh``, 15.6 ms with
``jg_tanh_f32`` on one thread, 11.0 ms with ``prange``.  The tanh loop's asm is
8-wide ymm code (14 vfmadd, 1 vdivps) with no libm calls.
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

# exp in float64 for a float32 argument: n = round(x / ln2), r = x - n*ln2 and the Cephes expf
# polynomial, all in float64, then 2**n multiplied in (exponent bits, exact).  The float32
# helpers round this once.  Nothing here cancels at float64 precision, so no reassociation or
# contraction LLVM may pick (the kernel's 'reassoc'/'contract' flags reach this code when it is
# inlined) can cost a float32 ulp: the polynomial's own error is 1.1e-9 relative (2% of a float32
# ulp) and every float64 rounding is ~1e-16.  (Evaluated in float32, a reassociated Cody-Waite
# reduction lost 11 ulp of sigmoid(-40) on znver4; see tests/compiler/test_fastmath_targets.py.)
_EXPD_F32 = _DECO + '''\
def jg_expd_f32(x):
    xc = x if x > -104.0 else -104.0
    xc = xc if xc < 89.0 else 89.0
    fn = np.floor(xc * 1.4426950408889634 + 0.5)
    r = xc - fn * 0.6931471805599453
    z = r * r
    p = 1.9875691500e-4 * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * z + r + 1.0
    return p * np.int64((np.int64(fn) + 1023) << 52).view(np.float64)
'''

# exp: one rounding of the float64 value to float32 (overflow to inf above 88.7228, denormal
# results and underflow to 0 come out of that rounding, exactly).
_EXP_F32 = _DECO + '''\
def jg_exp_f32(x):
    x = np.float32(x)
    y = np.float32(jg_expd_f32(np.float64(x)))
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

# tanh: |x| < 0.625: odd Cephes tanhf polynomial; otherwise
# 1 - 2/(exp(2|x|) + 1) with exp inlined and specialised in float32 (W1 is bound by this
# loop's compute, and float64 would halve its vector width): 2|x| is clamped to 20
# (tanh is exactly 1.0f beyond |x| = 9.01), so no overflow/underflow/NaN
# handling is needed inside it.  The reduction keeps its order behind the same select barrier
# as jg_exp_f64; an error d in exp(2|x|) reaches tanh damped by 2e/(e+1)**2 <= 0.35, so the
# float32 steps cannot magnify.  Both branches are evaluated and the result
# selected, so the code is branch-free.  The select sends NaN to the polynomial, which returns
# it (the exp branch's float->int conversion of NaN is poison in LLVM, harmless only where it is
# not selected), and the sign goes onto |tanh| as a bit: a NaN check, a compare and a select
# fewer, four tanh per element over 1,000 float32 on a Zen 4 core 1.98 -> 1.82 us.
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
    t = ax + ax
    t = t if t < np.float32(20.0) else np.float32(20.0)
    fn = np.floor(t * np.float32(1.44269504088896341) + np.float32(0.5))
    n = np.int32(fn)
    r = t - fn * np.float32(0.693359375)
    r = r if r == r else t
    r = r - fn * np.float32(-2.12194440e-4)
    z2 = r * r
    q = np.float32(1.9875691500e-4) * r + np.float32(1.3981999507e-3)
    q = q * r + np.float32(8.3334519073e-3)
    q = q * r + np.float32(4.1665795894e-2)
    q = q * r + np.float32(1.6666665459e-1)
    q = q * r + np.float32(5.0000001201e-1)
    q = q * z2 + r + np.float32(1.0)
    e = np.int32(np.float32(q).view(np.int32) + (n << 23)).view(np.float32)
    big = np.float32(1.0) - np.float32(2.0) / (e + np.float32(1.0))
    big = np.int32(np.float32(big).view(np.int32) | (x.view(np.int32) & np.int32(-2147483648))).view(np.float32)
    return big if ax >= np.float32(0.625) else small
'''

# sigmoid: e = exp(-|x|) in (0, 1]; sigmoid = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, in
# float64 and rounded once (no cancellation, no overflow; denormal results for x < -87).
_SIGMOID_F32 = _DECO + '''\
def jg_sigmoid_f32(x):
    x = np.float32(x)
    xd = np.float64(x)
    e = jg_expd_f32(-abs(xd))
    num = 1.0 if xd >= 0.0 else e
    r = np.float32(num / (1.0 + e))
    return x if x != x else r
'''

# log1p: 1 + x is exact in float64 for every float32 x with |x| >= 2**-29 (at most 53 bits from
# 1's bit to x's last), so log(1 + x) in float64 rounds once to the float32 result; below that,
# log1p(x) = x - x*x/2 + ... rounds to x itself (and keeps denormals and -0 exact).
_LOG1P_F32 = _DECO + '''\
def jg_log1p_f32(x):
    x = np.float32(x)
    r = np.float32(jg_log_f64(1.0 + np.float64(x)))
    return x if abs(x) < np.float32(1.862645149230957e-09) else r
'''

# softplus = max(x, 0) + log1p(exp(-|x|)) in float64 (exp(-|x|) in (0, 1], no overflow, no
# cancellation), rounded once: a large negative x gives exp(x)'s denormals exactly.
_SOFTPLUS_F32 = _DECO + '''\
def jg_softplus_f32(x):
    x = np.float32(x)
    xd = np.float64(x)
    pos = xd if xd > 0.0 else 0.0
    r = np.float32(pos + jg_log1p_f64(jg_expd_f32(-abs(xd))))
    return x if x != x else r
'''

# expm1: exp(x) - 1 in float64 loses nothing a float32 result keeps while |x| >= 2**-20 (exp's
# 2-ulp float64 error is below 5e-10 of the result); below, the series x + x^2/2 + x^3/6.
_EXPM1_F32 = _DECO + '''\
def jg_expm1_f32(x):
    x = np.float32(x)
    xd = np.float64(x)
    series = xd + xd * xd * (0.5 + xd * 0.16666666666666666)
    r = series if abs(xd) < 9.5367431640625e-07 else jg_exp_f64(xd) - 1.0
    return np.float32(r)
'''

# ---------------------------------------------------------------------------
# float64
# ---------------------------------------------------------------------------

# exp: Cephes exp.c (Pade form 1 + 2*P/(Q-P)), Cody-Waite ln2 split, integer exponent
# scaling, denormal results via 2**(n+64) then * 2**-64.  The reduction r = (x - n*C1) - n*C2
# is exact only in this order: under 'reassoc' LLVM may rewrite it as x - (n*C1 + n*C2), whose
# rounded sum costs up to ~250 ulp near |x| = 700.  ``r if r == r else xc`` is a barrier it
# cannot remove (the select depends on NaN, and no 'nnan' flag is set) nor fold into (neither
# arm is a constant), so the two subtractions stay in order on every target.
_EXP_F64 = _DECO + '''\
def jg_exp_f64(x):
    x = np.float64(x)
    xc = x if x > -746.0 else -746.0
    xc = xc if xc < 710.0 else 710.0
    fn = np.floor(xc * 1.4426950408889634073599 + 0.5)
    n = np.int64(fn)
    r = xc - fn * 6.93145751953125e-1
    r = r if r == r else xc
    r = r - np.float64(n) * 1.42860682030941723212e-6
    xx = r * r
    px = 1.26177193074810590878e-4 * xx + 3.02994407707441961300e-2
    px = (px * xx + 9.99999999999999999910e-1) * r
    q = 3.00198505138664455042e-6 * xx + 2.52448340349684104192e-3
    q = q * xx + 2.27265548208155028766e-1
    q = q * xx + 2.00000000000000000009e0
    p = px / (q - px)
    p = 1.0 + 2.0 * p
    low = n < -1021
    k = n + 64 if low else n
    y = np.int64(np.float64(p).view(np.int64) + (k << 52)).view(np.float64)
    y = y * 5.421010862427522e-20 if low else y
    y = math.inf if x > 709.782712893384 else y
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

# log1p: u = 1 + x rounds; c = (x - (u - 1)) / u is that rounding's error relative to u, so
# log1p(x) = log(u) + c to first order (fdlibm's correction term).  Under 'reassoc' LLVM would
# fold (1 + x) - 1 to x and x - (u - 1) to (x + 1) - u, both cancelling c: the two NaN selects
# are barriers it can neither remove nor fold through (see jg_exp_f64).
_LOG1P_F64 = _DECO + '''\
def jg_log1p_f64(x):
    x = np.float64(x)
    u = 1.0 + x
    u = u if u == u else x
    um1 = u - 1.0
    um1 = um1 if um1 == um1 else x
    r = jg_log_f64(u) + (x - um1) / u
    r = -math.inf if x == -1.0 else r
    r = math.inf if x == math.inf else r
    return x if x != x else r
'''

_SOFTPLUS_F64 = _DECO + '''\
def jg_softplus_f64(x):
    x = np.float64(x)
    pos = x if x > 0.0 else 0.0
    r = pos + jg_log1p_f64(jg_exp_f64(-abs(x)))
    return x if x != x else r
'''

#: helper name -> source text (decorated with njit/FASTMATH, see module doc).
HELPERS: dict[str, str] = {
    "jg_expd_f32": _EXPD_F32,
    "jg_exp_f32": _EXP_F32,
    "jg_log_f32": _LOG_F32,
    "jg_tanh_f32": _TANH_F32,
    "jg_sigmoid_f32": _SIGMOID_F32,
    "jg_log1p_f32": _LOG1P_F32,
    "jg_softplus_f32": _SOFTPLUS_F32,
    "jg_expm1_f32": _EXPM1_F32,
    "jg_exp_f64": _EXP_F64,
    "jg_log_f64": _LOG_F64,
    "jg_tanh_f64": _TANH_F64,
    "jg_sigmoid_f64": _SIGMOID_F64,
    "jg_log1p_f64": _LOG1P_F64,
    "jg_softplus_f64": _SOFTPLUS_F64,
}

#: helper name -> helpers it calls.
HELPER_DEPS: dict[str, tuple[str, ...]] = {
    "jg_expd_f32": (),
    "jg_exp_f32": ("jg_expd_f32",),
    "jg_log_f32": (),
    "jg_tanh_f32": (),
    "jg_sigmoid_f32": ("jg_expd_f32",),
    "jg_log1p_f32": ("jg_log_f64",),
    "jg_softplus_f32": ("jg_expd_f32", "jg_log1p_f64"),
    "jg_expm1_f32": ("jg_exp_f64",),
    "jg_exp_f64": (),
    "jg_log_f64": (),
    "jg_tanh_f64": ("jg_exp_f64",),
    "jg_sigmoid_f64": ("jg_exp_f64",),
    "jg_log1p_f64": ("jg_log_f64",),
    "jg_softplus_f64": ("jg_exp_f64", "jg_log1p_f64"),
}

#: (op name, dtype name) -> helper name.
HELPER_FOR: dict[tuple[str, str], str] = {
    (op, dt): f"jg_{op}_{suffix}"
    for op in ("exp", "log", "tanh", "sigmoid", "log1p", "softplus", "expm1")
    for dt, suffix in (("float32", "f32"), ("float64", "f64"))
    if f"jg_{op}_{suffix}" != "jg_expm1_f64"     # no float64 expm1: such ops stay NumPy steps
}

#: max error in ulps against the correctly rounded result (asserted by tests).
MAX_ULP: dict[str, int] = {
    "jg_exp_f32": 1,
    "jg_log_f32": 1,
    "jg_tanh_f32": 1,
    "jg_sigmoid_f32": 1,
    "jg_exp_f64": 2,
    "jg_log_f64": 2,
    "jg_tanh_f64": 2,
    "jg_sigmoid_f64": 2,
    "jg_log1p_f32": 1,
    "jg_softplus_f32": 1,
    "jg_expm1_f32": 1,
    "jg_log1p_f64": 2,
    "jg_softplus_f64": 3,
}


def helper_source(names: Iterable[str], wide: bool = False) -> str:
    """Source of the requested helpers plus their dependencies; with ``wide``, each helper asks
    for 512-bit vectors in the kernel it is inlined into (``llvm_tuning.WIDE_VECTORS``).

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
    if not out or not wide:
        return "\n\n".join(out)
    from jitgraph.compiler.llvm_tuning import WIDE_VECTORS
    return "\n\n".join([WIDE_VECTORS] + [t.replace("):\n", "):\n    jg_wide_vectors()\n", 1) for t in out])
