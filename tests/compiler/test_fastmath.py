"""Accuracy, special values and vectorization of the fastmath helper sources, compiled for this
machine's CPU (``fastmath_sweep.py`` explains the sweep; ``test_fastmath_targets.py`` repeats it
for forced CPU targets and fast-math flag sets)."""

import re
import subprocess
import sys

import numpy as np
import pytest

from jitgraph.compiler import fastmath as fm

from fastmath_sweep import (F32, F64, OPS32, OPS64, REF, build, float32_sweep, float64_inputs,  # noqa: E402
                            ref32, run, ulp_dist)


@pytest.fixture(scope="module")
def gen():
    return build()


SPECIALS32 = np.array(
    [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0, 1e-45, -1e-45,
     1e-40, -1e-40, 1.1754942e-38, 1.1754944e-38, 3.4028235e38, -3.4028235e38,
     100.0, -100.0, 200.0, -200.0, 88.72283, 88.722839, 88.72284, -87.33655,
     -103.97208, -103.97207, -104.0, -150.0, 1000.0, -1000.0, 20.0, -20.0,
     9.01, -9.01, 0.625, -0.625, 0.62499994, 1e-30, -1e-30],
    dtype=np.float32,
)


# ---------------------------------------------------------------- float32


@pytest.mark.parametrize("op", OPS32)
def test_float32_sweep_ulp(gen, op):
    name = fm.HELPER_FOR[(op, "float32")]
    x = float32_sweep()
    got = run(gen, name, x)
    want = ref32(op, x)
    d = ulp_dist(got, want)
    i = int(np.argmax(d))
    assert d[i] <= fm.MAX_ULP[name], (
        f"{name}({x[i]!r}) = {got[i]!r}, want {want[i]!r} ({d[i]} ulp)")


@pytest.mark.parametrize("op", OPS32)
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
    assert f("log1p", -1.0) == -np.inf and np.isnan(f("log1p", -2.0)) and f("log1p", np.inf) == np.inf
    assert np.isnan(f("log1p", np.nan)) and f("log1p", 1e-40) == np.float32(1e-40)
    assert f("softplus", np.inf) == np.inf and f("softplus", -np.inf) == 0.0
    assert f("softplus", -100.0) == pytest.approx(3.7200760e-44, rel=0.05)     # denormal exp(-100)
    assert np.isnan(f("softplus", np.nan)) and f("softplus", 1e4) == 1e4
    assert f("expm1", np.inf) == np.inf and f("expm1", -np.inf) == -1.0 and f("expm1", 100.0) == np.inf
    assert np.isnan(f("expm1", np.nan)) and f("expm1", 1e-40) == np.float32(1e-40)


# ---------------------------------------------------------------- float64


@pytest.mark.parametrize("op", OPS64)
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
    assert src.count("def jg_expd_f32(") == 1    # the float64 core both use
    assert src.index("def jg_expd_f32(") < min(src.index("def jg_exp_f32("), src.index("def jg_sigmoid_f32("))
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


def test_helpers_ask_for_512_bit_vectors_in_the_kernel_they_are_inlined_into():
    """``helper_source(..., wide=True)`` (one-thread kernels) makes each helper set the kernel's
    ``prefer-vector-width`` to 512 (Intel AVX-512 cores otherwise get 256-bit loops); the default
    leaves it out. The values are the same either way."""
    x = np.linspace(-12, 12, 1001).astype(np.float32)
    outs = {}
    for wide in (True, False):
        src = fm.PRELUDE + fm.helper_source(["jg_tanh_f32", "jg_sigmoid_f32"], wide=wide) + (
            "\n\n@njit(error_model='numpy', fastmath=FASTMATH)\n"
            "def kernel(x, y):\n"
            "    for i in range(x.shape[0]):\n"
            "        y[i] = jg_tanh_f32(x[i]) + jg_sigmoid_f32(x[i])\n")
        ns = {}
        exec(compile(src, f"<wide={wide}>", "exec"), ns)
        y = np.empty_like(x)
        ns["kernel"](x, y)
        outs[wide] = y
        ir = "".join(ns["kernel"].inspect_llvm().values())
        assert ('"prefer-vector-width"="512"' in ir) == wide
    np.testing.assert_array_equal(outs[True], outs[False])
    np.testing.assert_allclose(outs[True], np.tanh(x) + 1 / (1 + np.exp(-x)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("threshold, wide", [(1 << 20, True), (64, False)])
def test_one_thread_kernels_ask_for_wide_vectors_and_prange_kernels_do_not(eager, threshold, wide):
    import jitgraph as tf
    from jitgraph.compiler import config
    prev = config.parallel_threshold()
    config.set_parallel_threshold(threshold)
    try:
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [1000])
            y = tf.tanh(tf.tanh(x) * 1.5)
            xv = np.linspace(-3, 3, 1000).astype(np.float32)
            with tf.Session() as sess:
                got = sess.run(y, {x: xv})
                plan = [p for p in sess._plans._plans.values() if y in p.fetch_tensors][0]
                source = "".join(next(iter(plan.compiled.values())).sources)
    finally:
        config.set_parallel_threshold(prev)
    assert ("prange" in source) != wide
    assert ("jg_wide_vectors()" in source) == wide
    np.testing.assert_allclose(got, np.tanh(np.tanh(xv) * 1.5), rtol=2e-6, atol=1e-7)
