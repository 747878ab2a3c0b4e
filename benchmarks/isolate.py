"""Isolated mode (the default): each runtime family of impls runs a workload in its own
subprocess, so no runtime's thread pools perturb another's BLAS (TensorFlow loaded in the same
process made jitgraph's W5 2.7x slower: 7.09 ms vs 2.59 ms).

Families (``FAMILY``):

* ``numba``    jitgraph, jitgraph-mc, hand Numba, the in-run probe, NumPy eager -- they share
               NumPy/OpenBLAS and Numba's threading layer anyway, and the W1/W2 probe and the W3
               hand loop must stay interleaved with jitgraph because jitgraph's targets are ratios
               to them;
* ``tf``       TF1 Session, TF1 make_callable, TF1 + XLA (one TF runtime, separate sessions);
* ``jax``      JAX jit, JAX with x on device;
* ``pytensor`` PyTensor NUMBA and default modes.

Within a child the impls are timed exactly as in the single-process mode (build, value check
against the float64 reference, then ``reps`` rounds of A B C A B C ...).  Across families the
parent runs ``passes`` rounds of children in ABBA order (A B C D, then D C B A, ...), each child
taking its share of the ``reps`` samples; the samples are concatenated, so drift in the machine's
load over a workload's run falls on every family alike rather than on the one that ran last.

Protocol (same pattern as ``coldstart``): the parent runs
``python -m benchmarks.isolate --child WL impl,impl,... --scale F [--small] --reps N --pause S``;
the child prints ``LOG <text>`` lines (forwarded by the parent) and finally one
``RESULT <json>`` line: ``{"results": {impl: status dict as harness.run_workload}, "process":
versions, Numba threading layer and BLAS of the child}``.  A child that crashes or times out marks
its impls ``n/a`` with the last line of its output as the reason.
"""
import json
import os
import subprocess
import sys
import threading

FAMILY = {"jitgraph": "numba", "jitgraph-mc": "numba", "numba": "numba", "probe": "numba",
          "numpy": "numba", "tf": "tf", "tf-mc": "tf", "tf-xla": "tf", "jax": "jax",
          "jax-dev": "jax", "pytensor-numba": "pytensor", "pytensor": "pytensor"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def families(impls):
    """[(family, [impls in the given order])] in order of first appearance."""
    out = {}
    for i in impls:
        out.setdefault(FAMILY[i], []).append(i)
    return list(out.items())


def child_env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def spawn(module, args, marker, env=None, timeout=600, on_line=None):
    """Run ``python -m module args`` from the repository root; return the JSON after ``marker``
    on the line that starts with it.  Other lines go to ``on_line`` as they arrive.  Raises
    RuntimeError (last output line) if the child exits without that line or times out."""
    cmd = [sys.executable, "-m", module] + list(args)
    p = subprocess.Popen(cmd, cwd=ROOT, env=env or child_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, bufsize=1)
    killed = []
    timer = threading.Timer(timeout, lambda: (killed.append(1), p.kill()))
    timer.start()
    result, tail = None, []
    try:
        for line in p.stdout:
            line = line.rstrip("\n")
            if line.startswith(marker):
                result = json.loads(line[len(marker):])
                continue
            if line.strip():
                tail = (tail + [line])[-5:]
            if on_line:
                on_line(line)
        p.wait()
    finally:
        timer.cancel()
        if p.poll() is None:  # on_line raised: do not leave the child running
            p.kill()
            p.wait()
    if result is not None:
        return result
    why = f"timed out after {timeout} s" if killed else f"exit {p.returncode}"
    last = tail[-1][-120:] if tail else ""
    raise RuntimeError(f"child {why}: {last}")


# ---- parent ----------------------------------------------------------------------------------
def _split(reps, passes):
    base, extra = divmod(reps, passes)
    return [base + (1 if k < extra else 0) for k in range(passes)]


def merge(parts):
    """Merge per-pass status dicts of one impl: any non-ok status wins (bad before n/a);
    otherwise samples are concatenated and median/min recomputed."""
    for st in ("bad", "n/a", "-"):
        for p in parts:
            if p["status"] == st:
                return dict(p)
    out = dict(parts[0])
    samples = [s for p in parts for s in p.get("samples_ms", [])]
    out["err"] = max((p["err"] for p in parts if p.get("err") is not None), default=None)
    if samples:
        import numpy as np  # not at module level: coldstart's timed imports start after ours
        a = np.array(samples)
        out.update(median_ms=float(np.median(a)), min_ms=float(a.min()), samples_ms=samples,
                   pass_medians_ms=[p["median_ms"] for p in parts if "median_ms" in p])
    return out


def run_workload(wl, impls, small, scale, reps, pause, passes=2, log=print, timeout=600,
                 processes=None):
    """The isolated counterpart of harness.run_workload: same result dict, plus ``process``
    (the family) per impl.  ``processes`` (dict) collects each family's child metadata."""
    fams = families(impls)
    passes = max(1, min(passes, reps))
    per_pass = _split(reps, passes)
    parts = {i: [] for i in impls}
    for k in range(passes):
        order = fams if k % 2 == 0 else fams[::-1]
        for fam, members in order:
            args = ["--child", wl, ",".join(members), "--scale", repr(scale), "--reps",
                    str(per_pass[k]), "--pause", repr(pause)] + (["--small"] if small else [])
            log(f"  [{fam} pass {k + 1}/{passes}] {','.join(members)}")
            try:
                got = spawn("benchmarks.isolate", args, "RESULT ", timeout=timeout,
                            on_line=lambda s, f=fam: s.startswith("LOG ") and log(
                                f"    [{f}] {s[4:]}"))
            except Exception as e:
                reason = str(e)
                log(f"    [{fam}] FAILED: {reason}")
                for i in members:
                    parts[i].append({"status": "n/a", "reason": reason[:200]})
                continue
            if processes is not None:  # keep what is known (threading layer once initialised)
                cur = processes.setdefault(fam, {})
                cur.update({k: v for k, v in got.get("process", {}).items()
                            if k not in cur or v != "not initialised"})
            for i in members:
                parts[i].append(got["results"].get(i, {"status": "n/a",
                                                       "reason": "missing in child"}))
    res = {}
    for i in impls:
        res[i] = merge(parts[i])
        res[i]["process"] = FAMILY[i]
    return res


# ---- child -----------------------------------------------------------------------------------
def child(wl, impls, small, scale, reps, pause):
    from . import harness, probes
    from . import workloads as W
    sz = W.sizes(scale, small)
    log = lambda *s: print("LOG " + " ".join(map(str, s)), flush=True)  # noqa: E731
    res = harness.run_workload(wl, impls, sz, reps, pause, log)
    proc = harness.process_versions()
    proc["blas"] = probes.blas_info()
    print("RESULT " + json.dumps({"results": res, "process": proc}), flush=True)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(prog="python -m benchmarks.isolate")
    ap.add_argument("--child", nargs=2, metavar=("WL", "IMPLS"), required=True)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--pause", type=float, default=0.05)
    a = ap.parse_args()
    child(a.child[0], a.child[1].split(","), a.small, a.scale, a.reps, a.pause)
