"""The accuracy sweep of the fastmath helpers, shared by ``test_fastmath.py`` (this process's
CPU and flags) and ``test_fastmath_targets.py`` (forced CPU targets, in subprocesses).

The helpers are pasted (as text) into a generated module together with tiny loop kernels,
exactly as the code generator does, and compared with NumPy: float32 helpers against the float64
NumPy result rounded to float32 (the correctly rounded value, up to double rounding), over a
strided sweep of all 2**32 float32 bit patterns plus dense neighbourhoods of every range
boundary; float64 helpers against NumPy float64.

Run as a script it prints, as JSON, the max ulp error of every helper for each flag set named in
``FLAG_SETS`` (under whatever ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES`` the environment sets).
Not collected by pytest.
"""

import json
import sys

import numpy as np

from jitgraph.compiler import codegen
from jitgraph.compiler import fastmath as fm

#: ops with a float32 helper / a float64 helper
OPS32 = tuple(op for op, dt in fm.HELPER_FOR if dt == "float32")
OPS64 = tuple(op for op, dt in fm.HELPER_FOR if dt == "float64")
F32 = [fm.HELPER_FOR[(op, "float32")] for op in OPS32]
F64 = [fm.HELPER_FOR[(op, "float64")] for op in OPS64]

#: fast-math flag sets the helpers must meet their bounds under: the kernels' own flags, those
#: without FMA contraction, the helpers' documented set, and none at all.
FLAG_SETS = {
    "kernel": set(eval(codegen.KERNEL_FASTMATH.split("=", 1)[1])),
    "kernel-no-contract": set(eval(codegen.KERNEL_FASTMATH.split("=", 1)[1])) - {"contract"},
    "fastmath": set(fm.FASTMATH_FLAGS),
    "strict": set(),
}


def build(flags=None):
    """Namespace with ``k_<helper>(x, out)`` loop kernels compiled with ``flags`` (None: FASTMATH)."""
    src = fm.PRELUDE
    if flags is not None:
        src += f"FASTMATH = {sorted(flags)!r} or False\nFASTMATH = set(FASTMATH) if FASTMATH else False\n"
    src += "\n" + fm.helper_source(F32 + F64) + "\n"
    for name in F32 + F64:
        src += (
            "\n@njit(error_model='numpy', fastmath=FASTMATH)\n"
            f"def k_{name}(x, out):\n"
            "    for i in range(x.shape[0]):\n"
            f"        out[i] = {name}(x[i])\n"
        )
    ns = {"__name__": "jg_generated_fastmath_test"}
    exec(compile(src, "<jg_generated_fastmath_test>", "exec"), ns)
    return ns


def run(gen, name, x):
    out = np.empty_like(x)
    gen["k_" + name](x, out)
    return out


def _sigmoid64(x):
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


REF = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": _sigmoid64, "log1p": np.log1p,
       "softplus": lambda x: np.logaddexp(0.0, x), "expm1": np.expm1}


def ref32(op, x):
    with np.errstate(all="ignore"):
        return REF[op](x.astype(np.float64)).astype(np.float32)


def ref64(op, x):
    with np.errstate(all="ignore"):
        return REF[op](x)


def ulp_dist(a, b):
    """Distance in units in the last place; NaN==NaN is 0, NaN vs number huge."""
    ibits = np.int32 if a.dtype == np.float32 else np.int64
    lo = np.iinfo(ibits).min
    ia = a.view(ibits)
    ib = b.view(ibits)
    ia = np.where(ia < 0, lo - ia, ia).astype(np.int64)  # monotone ordering
    ib = np.where(ib < 0, lo - ib, ib).astype(np.int64)
    with np.errstate(over="ignore"):
        d = np.abs(ia - ib).astype(np.float64)  # exact unless signs differ
    far = (ia < 0) != (ib < 0)
    d[far] = np.abs(ia[far].astype(np.float64) - ib[far].astype(np.float64))
    na, nb = np.isnan(a), np.isnan(b)
    d[na & nb] = 0
    d[na ^ nb] = np.inf
    return d


def float32_sweep():
    # all float32 bit patterns, strided by an odd step so every exponent and many
    # mantissa patterns are hit (~4.2M points)
    bits = np.arange(0, 1 << 32, 1021, dtype=np.uint64).astype(np.uint32)
    xs = [bits.view(np.float32)]
    # dense neighbourhoods (+-2000 ulp) of every boundary the helpers care about
    centers = [0.0, 1.0, 0.625, 0.0004, 9.0, 9.0106, 10.0, 44.0,
               88.0, 88.3763, 88.7228, 89.0, 87.3365, 103.2789, 103.9721, 104.0,
               1.1754944e-38, 1.4142135, 0.70710677, 2.0, 0.5, 1e-6, 40.0,
               1.8626451e-09, 9.536743e-07, 0.41421357, 0.29289323, 16.635532, 36.7368]
    for c in centers:
        for s in (1.0, -1.0):
            cb = np.array([s * c], np.float32).view(np.int32)[0]
            offs = np.arange(-2000, 2001, dtype=np.int64)
            b = (np.int64(cb) + offs)
            xs.append(b.astype(np.uint32).view(np.float32))
    return np.concatenate(xs)


def float64_inputs():
    rng = np.random.default_rng(1234)
    parts = [
        rng.integers(0, 2**64, 300_000, dtype=np.uint64).view(np.float64),
        rng.uniform(-750.0, 750.0, 300_000),
        rng.uniform(-1.0, 1.0, 200_000),
        rng.uniform(-20.0, 20.0, 200_000),
        rng.uniform(-1.0, -0.5, 100_000),                       # log1p near -1
        np.exp(rng.uniform(-744.0, 0.0, 100_000)) * rng.choice([-1.0, 1.0], 100_000),
        np.exp(rng.uniform(-744.0, 709.0, 200_000)),
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324,
                  2.2250738585072014e-308, 1.7976931348623157e308, 1.0, -1.0,
                  709.782712893384, 709.7827128933841, 709.78271289338397,
                  -745.1332191019411, -745.1332191019412, -746.0, -708.4,
                  1000.0, -1000.0, 0.625, -0.625, 30.0, -30.0, 1e-300]),
    ]
    return np.concatenate(parts)


def worst(gen, op, dtype, x):
    """``(max ulp, argument where it occurs)`` of ``op``'s helper for ``dtype`` over ``x``."""
    name = fm.HELPER_FOR[(op, dtype)]
    got = run(gen, name, x)
    want = ref32(op, x) if dtype == "float32" else ref64(op, x)
    d = ulp_dist(got, want)
    i = int(np.argmax(d))
    return float(d[i]), float(x[i])


def main(names):
    x32, x64 = float32_sweep(), float64_inputs()
    out = {}
    for set_name in names:
        gen = build(FLAG_SETS[set_name])
        out[set_name] = {name: worst(gen, op, dt, x32 if dt == "float32" else x64)
                         for (op, dt), name in fm.HELPER_FOR.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:] or list(FLAG_SETS))
