"""Smoke test for the benchmark runner: tiny sizes, NumPy + hand Numba (+ jitgraph, whose n/a is
tolerated while it is incomplete); every impl that runs must agree with the float64 reference.
Never asserts timings.  Runs the CLI in a subprocess so its environment defaults
(NUMBA_THREADING_LAYER) apply as in real use; OPENBLAS_* variables are left untouched.
The default (isolated: one child process per runtime family) and --same-process modes are both run.
"""
import json
import os
import subprocess
import sys

import pytest

from benchmarks import isolate

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


def _run_cli(tmp_path, *args, timeout=170):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "benchmarks", "--small", "--pause", "0", "--no-probes",
           "--strict", "--json", str(out)] + list(args)
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads(out.read_text()), p.stdout


def test_isolated_passes_merge_samples(tmp_path):
    d, stdout = _run_cli(tmp_path, "--reps", "3", "--passes", "2", "--workloads", "W4,W5",
                         "--impls", "numpy,jitgraph")
    assert d["meta"]["isolation"].startswith("per runtime family")
    assert "numba" in d["meta"]["processes"]
    assert "[numba pass 2/2]" in stdout
    for wl in ("W4", "W5"):
        v = d["results"][wl]["numpy"]
        assert v["status"] == "ok" and v["process"] == "numba"
        assert len(v["samples_ms"]) == 3 and len(v["pass_medians_ms"]) == 2
        assert d["results"][wl]["jitgraph"]["status"] in ("ok", "n/a")


def test_same_process_mode(tmp_path):
    d, stdout = _run_cli(tmp_path, "--same-process", "--reps", "2", "--workloads", "W4",
                         "--impls", "numpy,numba")
    assert d["meta"]["isolation"] == "same-process"
    assert "processes" not in d["meta"]
    assert d["results"]["W4"]["numba"]["status"] == "ok"
    assert len(d["results"]["W4"]["numba"]["samples_ms"]) == 2


def test_families_keep_tf_apart():
    fams = dict(isolate.families(["jitgraph", "tf", "numpy", "jax", "tf-xla", "pytensor"]))
    assert fams == {"numba": ["jitgraph", "numpy"], "tf": ["tf", "tf-xla"], "jax": ["jax"],
                    "pytensor": ["pytensor"]}
    assert set(isolate.FAMILY) == set(__import__("benchmarks.harness").harness.IMPLS)


def test_merge_and_failed_child():
    ok = lambda s: {"status": "ok", "err": 0.0, "samples_ms": s,  # noqa: E731
                    "median_ms": sorted(s)[len(s) // 2], "min_ms": min(s)}
    m = isolate.merge([ok([3.0, 1.0]), ok([2.0])])
    assert m["samples_ms"] == [3.0, 1.0, 2.0] and m["median_ms"] == 2.0 and m["min_ms"] == 1.0
    bad = {"status": "bad", "reason": "value err"}
    assert isolate.merge([ok([1.0]), bad])["status"] == "bad"
    with pytest.raises(RuntimeError, match="exit"):
        isolate.spawn("benchmarks.no_such_module", [], "RESULT ", timeout=60)


def test_first_steps_child_and_table(capsys):
    from benchmarks import first_steps
    first_steps.child("P2", "jitgraph", 3)
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("RESULT ")][-1]
    r = json.loads(line[len("RESULT "):])
    assert len(r["done_s"]) == 3 and r["done_s"] == sorted(r["done_s"]) and r["done_s"][0] > 0
    assert r["compiled_from"] is None or 1 <= r["compiled_from"] <= 3
    assert r["built_s"] >= r["done_s"][-1]
    results = {"P2": {"tf": {"done_s": [0.1, 0.2, 0.4]},
                      "jitgraph cold": dict(r, done_s=[0.2, 0.4, 0.8], compiled_from=2, built_s=1.25),
                      "jitgraph warm": {"reason": "RuntimeError: timeout"}}}
    table = first_steps.format_table(results, 3)
    row = table.splitlines()[-1]
    assert row.split() == ["P2", "|", "0.40", "0.40", "|", "0.80", "0.80", "2.00", "2", "1.2", "|", "n/a", "n/a", "n/a",
                           "None"]
