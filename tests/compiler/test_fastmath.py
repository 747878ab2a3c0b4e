"""Accuracy, special values and vectorization of the fastmath helper sources.

The helpers are pasted (as text) into a generated module together with tiny
loop kernels, exactly as the code generator does, and compared with NumPy.
The float32 helpers are compared against the float64 NumPy result rounded to
float32 (i.e. the correctly rounded value, up to double rounding), over a
strided sweep of all 2**32 float32 bit patterns plus dense neighbourhoods of
every range boundary.
"""

import re
import subprocess
import sys

import numpy as np
import pytest

from jitgraph.compiler import fastmath as fm

OPS = ("exp", "log", "tanh", "sigmoid")
F32 = [fm.HELPER_FOR[(op, "float32")] for op in OPS]
F64 = [fm.HELPER_FOR[(op, "float64")] for op in OPS]


@pytest.fixture(scope="module")
def gen():
    pytest.importorskip("numba")
    src = fm.PRELUDE + "\n" + fm.helper_source(F32 + F64) + "\n"
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


# ---------------------------------------------------------------- references


def _sigmoid64(x):
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


REF = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sigmoid": _sigmoid64}


def ref32(op, x):
    with np.errstate(all="ignore"):
        return REF[op](x.astype(np.float64)).astype(np.float32)


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
               1.1754944e-38, 1.4142135, 0.70710677, 2.0, 0.5, 1e-6, 40.0]
    for c in centers:
        for s in (1.0, -1.0):
            cb = np.array([s * c], np.float32).view(np.int32)[0]
            offs = np.arange(-2000, 2001, dtype=np.int64)
            b = (np.int64(cb) + offs)
            xs.append(b.astype(np.uint32).view(np.float32))
    return np.concatenate(xs)


SPECIALS32 = np.array(
    [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0, 1e-45, -1e-45,
     1e-40, -1e-40, 1.1754942e-38, 1.1754944e-38, 3.4028235e38, -3.4028235e38,
     100.0, -100.0, 200.0, -200.0, 88.72283, 88.722839, 88.72284, -87.33655,
     -103.97208, -103.97207, -104.0, -150.0, 1000.0, -1000.0, 20.0, -20.0,
     9.01, -9.01, 0.625, -0.625, 0.62499994, 1e-30, -1e-30],
    dtype=np.float32,
)


# ---------------------------------------------------------------- float32


@pytest.mark.parametrize("op", OPS)
def test_float32_sweep_ulp(gen, op):
    name = fm.HELPER_FOR[(op, "float32")]
    x = float32_sweep()
    got = run(gen, name, x)
    want = ref32(op, x)
    d = ulp_dist(got, want)
    i = int(np.argmax(d))
    assert d[i] <= fm.MAX_ULP[name], (
        f"{name}({x[i]!r}) = {got[i]!r}, want {want[i]!r} ({d[i]} ulp)")


@pytest.mark.parametrize("op", OPS)
def test_float32_special_values(gen, op):
    name = fm.HELPER_FOR[(op, "float32")]
    x = SPECIALS32
    got = run(gen, name, x)
    want = ref32(op, x)
    # specials are exact (sign of zero not checked: 'nsz'); finite ones within bound
    nonfinite = ~np.isfinite(want) | (want == 0)
    np.testing.assert_array_equal(got[nonfinite], want[nonfinite])
    assert np.all(ulp_dist(got, want) <= fm.MAX_ULP[name])


def test_float32_named_specials(gen):
    f = lambda op, v: float(run(gen, fm.HELPER_FOR[(op, "float32")],
                                np.array([v], np.float32))[0])
    assert f("exp", 100.0) == np.inf
    assert f("exp", -200.0) == 0.0
    assert f("exp", np.inf) == np.inf and f("exp", -np.inf) == 0.0
    assert np.isnan(f("exp", np.nan))
    assert f("exp", 0.0) == 1.0 and f("exp", -0.0) == 1.0
    assert f("exp", -100.0) == pytest.approx(3.7200760e-44, rel=0.05)  # denormal
    assert f("log", 0.0) == -np.inf and f("log", -0.0) == -np.inf
    assert np.isnan(f("log", -1.0)) and np.isnan(f("log", -np.inf))
    assert np.isnan(f("log", np.nan))
    assert f("log", np.inf) == np.inf and f("log", 1.0) == 0.0
    assert f("log", 1e-45) == pytest.approx(-103.27893, rel=1e-6)
    assert f("tanh", 1e4) == 1.0 and f("tanh", -1e4) == -1.0
    assert f("tanh", np.inf) == 1.0 and f("tanh", -np.inf) == -1.0
    assert np.isnan(f("tanh", np.nan)) and f("tanh", 0.0) == 0.0
    assert f("tanh", 1e-40) == np.float32(1e-40)
    assert f("sigmoid", 1e4) == 1.0 and f("sigmoid", -1e4) == 0.0
    assert f("sigmoid", np.inf) == 1.0 and f("sigmoid", -np.inf) == 0.0
    assert np.isnan(f("sigmoid", np.nan)) and f("sigmoid", 0.0) == 0.5


# ---------------------------------------------------------------- float64


def float64_inputs():
    rng = np.random.default_rng(1234)
    parts = [
        rng.integers(0, 2**64, 300_000, dtype=np.uint64).view(np.float64),
        rng.uniform(-750.0, 750.0, 300_000),
        rng.uniform(-1.0, 1.0, 200_000),
        rng.uniform(-20.0, 20.0, 200_000),
        np.exp(rng.uniform(-744.0, 709.0, 200_000)),
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324,
                  2.2250738585072014e-308, 1.7976931348623157e308, 1.0, -1.0,
                  709.782712893384, 709.7827128933841, 709.78271289338397,
                  -745.1332191019411, -745.1332191019412, -746.0, -708.4,
                  1000.0, -1000.0, 0.625, -0.625, 30.0, -30.0, 1e-300]),
    ]
    return np.concatenate(parts)


@pytest.mark.parametrize("op", OPS)
def test_float64_ulp_vs_numpy(gen, op):
    name = fm.HELPER_FOR[(op, "float64")]
    x = float64_inputs()
    got = run(gen, name, x)
    with np.errstate(all="ignore"):
        want = REF[op](x)
    d = ulp_dist(got, want)
    i = int(np.argmax(d))
    assert d[i] <= fm.MAX_ULP[name], (
        f"{name}({x[i]!r}) = {got[i]!r}, want {want[i]!r} ({d[i]} ulp)")
    nonfinite = ~np.isfinite(want) | (want == 0)
    np.testing.assert_array_equal(got[nonfinite], want[nonfinite])


# ---------------------------------------------------------------- structure


def test_vectorized_no_libm_calls(gen):
    for name in F32 + F64:
        k = gen["k_" + name]
        ir = k.inspect_llvm(k.signatures[0])
        width = re.findall(r"<(\d+) x (?:float|double)>", ir)
        assert width and max(map(int, width)) >= 2, f"{name} loop not vectorized"
        for fn in ("tanh", "exp", "log"):
            assert not re.search(rf"@{fn}f?\(", ir), f"{name} calls libm {fn}"


def test_helper_source_dependencies_and_dedup():
    src = fm.helper_source(["jg_sigmoid_f32", "jg_exp_f32", "jg_sigmoid_f32"])
    assert src.count("def jg_exp_f32(") == 1
    assert src.count("def jg_sigmoid_f32(") == 1
    assert src.index("def jg_exp_f32(") < src.index("def jg_sigmoid_f32(")
    assert fm.helper_source("jg_tanh_f64").index("def jg_exp_f64(") < \
        fm.helper_source("jg_tanh_f64").index("def jg_tanh_f64(")
    with pytest.raises(KeyError):
        fm.helper_source(["jg_nope"])
    for (op, dt), name in fm.HELPER_FOR.items():
        assert name in fm.HELPERS and name in fm.MAX_ULP
        assert fm.HELPERS[name].startswith("@njit(")
        assert f"def {name}(" in fm.HELPERS[name]
    assert "nnan" not in fm.PRELUDE and "ninf" not in fm.PRELUDE


def test_module_does_not_import_numba():
    # load the file on its own, so the check is about this module only
    code = ("import sys, importlib.util as u; "
            f"s = u.spec_from_file_location('fm', {fm.__file__!r}); "
            "m = u.module_from_spec(s); s.loader.exec_module(m); "
            "assert 'numba' not in sys.modules, 'numba imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
