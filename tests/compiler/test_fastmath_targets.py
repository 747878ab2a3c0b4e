"""The fastmath bounds on other CPUs: the accuracy sweep compiled for forced Numba targets.

LLVM picks vector width, FMA contraction and reassociation per target, so a helper that meets
its bound on one CPU can miss it on another (sigmoid once lost 11 ulp on Zen 4 only). Each target
this machine can execute runs ``fastmath_sweep.py`` in a subprocess with ``NUMBA_CPU_NAME`` and
empty ``NUMBA_CPU_FEATURES`` (the target's own feature set), under every flag set of
``FLAG_SETS``; every helper must stay within ``fastmath.MAX_ULP``.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from jitgraph.compiler import fastmath as fm

from fastmath_sweep import FLAG_SETS  # noqa: E402

SWEEP = pathlib.Path(__file__).with_name("fastmath_sweep.py")

#: Numba CPU name -> host features it needs to execute (LLVM's own model of that CPU).
TARGETS = {
    "generic": (),
    "haswell": ("avx2", "fma", "bmi2"),
    "skylake-avx512": ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"),
    "znver4": ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512ifma", "avx512vbmi",
               "avx512vbmi2", "avx512vnni", "avx512bitalg", "avx512vpopcntdq", "avx512bf16", "gfni",
               "vaes", "vpclmulqdq"),
}


def runnable_targets():
    """The targets whose instructions this machine executes (the others would die of SIGILL)."""
    import llvmlite.binding as llvm
    host = {k for k, v in llvm.get_host_cpu_features().items() if v}
    return [t for t, need in TARGETS.items() if set(need) <= host]


def test_generic_and_host_class_targets_run():
    # every x86-64 runs generic; an AVX2 machine also runs haswell
    targets = runnable_targets()
    assert "generic" in targets
    print("fastmath sweep targets on this machine:", targets)


@pytest.mark.parametrize("target", runnable_targets())
def test_bounds_hold_for_target(target):
    env = dict(os.environ, NUMBA_CPU_NAME=target, NUMBA_CPU_FEATURES="")
    env["PYTHONPATH"] = os.pathsep.join([str(SWEEP.parent), str(SWEEP.parents[2])] +
                                        [p for p in [os.environ.get("PYTHONPATH")] if p])
    proc = subprocess.run([sys.executable, str(SWEEP), *FLAG_SETS], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    bad = [f"{flags}: {name}({x!r}) off by {ulp} ulp > {fm.MAX_ULP[name]}"
           for flags, per in result.items() for name, (ulp, x) in per.items() if ulp > fm.MAX_ULP[name]]
    assert not bad, f"target {target}: " + "; ".join(bad)
