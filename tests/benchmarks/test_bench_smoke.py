"""Smoke test for the benchmark runner: tiny sizes, NumPy + hand Numba (+ jitgraph, whose n/a is
tolerated while it is incomplete); every impl that runs must agree with the float64 reference.
Never asserts timings.  Runs the CLI in a subprocess so its environment defaults
(NUMBA_THREADING_LAYER) apply as in real use; OPENBLAS_* variables are left untouched.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_runner_small_values_agree(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "benchmarks", "--small", "--reps", "1", "--pause", "0",
           "--no-probes", "--workloads", "W1,W2,W3,W4,W5,W6",
           "--impls", "numpy,numba,jitgraph,jitgraph-mc", "--strict", "--json", str(out)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=170)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    res = json.loads(out.read_text())["results"]
    assert sorted(res) == ["W1", "W2", "W3", "W4", "W5", "W6"]
    for wl, impls in res.items():
        for name in ("numpy", "numba"):
            assert impls[name]["status"] == "ok", (wl, name, impls[name])
            assert impls[name]["median_ms"] > 0
        # jitgraph may be unavailable (n/a) or not take part (-), but must not be wrong.
        for name in ("jitgraph", "jitgraph-mc"):
            assert impls[name]["status"] in ("ok", "n/a", "-"), (wl, name, impls[name])
    assert "hand Numba" in p.stdout and "W1 (ms)" in p.stdout
