"""Impl registry, value agreement, interleaved timing, the table, JSON.

Timing (PERF.md): build every impl of a workload, check values, then ``reps`` rounds of
A B C A B C ...; before each sample a short pause and one untimed call (spinning worker threads
of one runtime starve the next).  Report medians (and min).
"""
import gc
import os
import platform
import sys
import time
from functools import partial

import numpy as np

from . import handnumba, peers, probes
from . import workloads as W

# name -> (role, factory(wl, data)).  role: ours | hand | probe | peer
IMPLS = {
    "jitgraph": ("ours", peers.make_jitgraph),
    "jitgraph-mc": ("ours", partial(peers.make_jitgraph, use_callable=True)),
    "numba": ("hand", handnumba.make),
    "probe": ("probe", probes.make_probe),
    "numpy": ("peer", W.make_numpy),
    "tf": ("peer", peers.make_tf),
    "tf-mc": ("peer", partial(peers.make_tf, use_callable=True)),
    "tf-xla": ("peer", partial(peers.make_tf, xla=True)),
    "jax": ("peer", peers.make_jax),
    "jax-dev": ("peer", partial(peers.make_jax, x_on_device=True)),
    "pytensor-numba": ("peer", partial(peers.make_pytensor, numba_mode=True)),
    "pytensor": ("peer", peers.make_pytensor),
}
LABEL = {"jitgraph-mc": "jitgraph make_callable", "numba": "hand Numba", "probe": "in-run probe",
         "tf": "TF1 Session", "tf-mc": "TF1 make_callable", "tf-xla": "TF1 + XLA auto-jit",
         "jax": "JAX jit", "jax-dev": "JAX jit, x on device", "numpy": "NumPy eager",
         "pytensor-numba": "PyTensor NUMBA", "pytensor": "PyTensor default"}
TARGETS = {"W1": "<= 1.2x in-run probe", "W2": "<= 1.3x in-run probe",
           "W3": "<= 1.1x hand in-place (numba)", "W4": "run <= 2 us, make_callable <= 1 us",
           "W5": "<= 0.7x the best peer (NumPy, TF, JAX, PyTensor) in this run",
           "W6": "<= 0.5x TF1 in this run"}


def _short(e, n=70):
    s = f"{type(e).__name__}: {e}".replace("\n", " ")
    return s if len(s) <= n else s[:n - 3] + "..."


def rel_err(val, ref):
    a = np.asarray(val, np.float64)
    r = np.asarray(ref, np.float64)
    if a.shape != r.shape:
        a = a.reshape(r.shape) if a.size == r.size else None
    if a is None:
        return float("inf")
    scale = max(float(np.max(np.abs(r))), 1e-30)
    return float(np.max(np.abs(a - r))) / scale


def setup_and_check(wl, impls, data, log=print):
    """Build each impl and check its values against the float64 reference.
    Returns (runners dict name->runner, results dict name->status dict)."""
    ref = W.reference(wl, data)
    runners, res = {}, {}
    for name in impls:
        role, factory = IMPLS[name]
        try:
            r = factory(wl, data)
        except peers.NotApplicable:
            res[name] = {"status": "-"}
            continue
        except Exception as e:  # jitgraph is incomplete; peers may be missing
            res[name] = {"status": "n/a", "reason": _short(e)}
            continue
        try:
            vals = []
            for _ in range(W.CHECK_CALLS.get(wl, 1)):
                r.run()
                vals.append(r.value())
            if role == "probe":
                err = None
            else:
                err = rel_err(vals if wl == "W5" else vals[-1], ref)
        except Exception as e:
            res[name] = {"status": "n/a", "reason": "run: " + _short(e)}
            _close(r)
            continue
        if err is not None and not err <= W.TOL[wl]:
            res[name] = {"status": "bad", "reason": f"value err {err:.2e} > {W.TOL[wl]:.0e}",
                         "err": err}
            log(f"  {wl} {name}: VALUE MISMATCH rel err {err:.3e} (tol {W.TOL[wl]:.0e})")
            _close(r)
            continue
        res[name] = {"status": "ok", "err": err}
        runners[name] = r
    return runners, res


def _close(r):
    c = getattr(r, "close", None)
    if c:
        try:
            c()
        except Exception:
            pass


def time_interleaved(runners, reps, pause):
    """Samples in seconds per run(): reps rounds, each impl once per round."""
    names = list(runners)
    samples = {n: [] for n in names}
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for n in names:  # warm-up
            runners[n].run()
        if "jitgraph" in sys.modules:   # steady state: jitgraph's background builds have swapped in
            from jitgraph.compiler import wait_for_builds
            wait_for_builds()
            for n in names:
                runners[n].run()
        for _ in range(reps):
            for n in names:
                run = runners[n].run
                time.sleep(pause)
                run()
                t0 = time.perf_counter()
                run()
                samples[n].append(time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    return samples


def run_workload(wl, impls, sz, reps, pause, log=print):
    data = W.make_data(wl, sz)
    runners, res = setup_and_check(wl, impls, data, log)
    try:
        samples = time_interleaved(runners, reps, pause)
    finally:
        for r in runners.values():
            _close(r)
    per = data["calls"] if wl == "W4" else 1
    for n, s in samples.items():
        a = np.array(s) / per * 1e3  # ms per run (per call for W4)
        res[n].update(median_ms=float(np.median(a)), min_ms=float(a.min()), samples_ms=a.tolist())
    return res


def process_versions():
    """Python, platform, versions of the frameworks imported in *this* process, Numba's layer."""
    out = {"python": sys.version.split()[0], "platform": platform.platform(),
           "cpus": os.cpu_count()}
    for mod in ("numpy", "numba", "tensorflow", "jax", "pytensor", "jitgraph"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    try:
        import numba
        out["numba_threading_layer"] = numba.threading_layer()
    except Exception:
        out["numba_threading_layer"] = "not initialised"
    return out


# ---- reporting -------------------------------------------------------------------------------
def best_peer(res):
    meds = [(v["median_ms"], n) for n, v in res.items()
            if IMPLS.get(n, ("",))[0] == "peer" and "median_ms" in v]
    return min(meds) if meds else (None, None)


def ref_limit(wl, res, lim):
    """The limit the L-ratio uses: the in-run probe for W1/W2, else the probed bound."""
    p = res.get("probe", {}).get("median_ms")
    return p if (wl in ("W1", "W2") and p) else lim


def target_verdict(wl, res):
    """(absolute target in the table's unit, met?) for jitgraph in this run, or (None, None)."""
    g = res.get("jitgraph", {}).get("median_ms")
    med = {n: v.get("median_ms") for n, v in res.items()}
    if wl in ("W1", "W2") and med.get("probe"):
        t = (1.2 if wl == "W1" else 1.3) * med["probe"]
    elif wl == "W3" and med.get("numba"):
        t = 1.1 * med["numba"]
    elif wl == "W4":
        t = 2e-3
    elif wl == "W5":
        peers = [v for k, v in med.items() if k in ("numpy", "tf", "tf-xla", "jax", "pytensor-numba", "pytensor") and v]
        t = 0.7 * min(peers) if peers else None
    elif wl == "W6":
        t = 0.5 * med["tf"] if med.get("tf") else None
    else:
        return None, None
    if t is None:
        return None, None
    return t, (None if g is None else g <= t)


def _fmt_t(ms, wl):
    v = ms * 1e3 if wl == "W4" else ms
    return f"{v:.3g}" if v < 1000 else f"{v:.0f}"


def _fmt_r(r):
    return f"{r:.2g}" if r < 100 else f"{r:.0f}"


def format_table(results, limits, impls):
    wls = [w for w in W.WORKLOADS if w in results]
    cw = 20
    head = "impl".ljust(24) + "".join(
        (f"{w} (us/call)" if w == "W4" else f"{w} (ms)").ljust(cw) for w in wls)
    lines, notes = [head, "-" * len(head)], {}
    for name in impls:
        cells = []
        for w in wls:
            v = results[w].get(name, {"status": "-"})
            if "median_ms" in v:
                s = _fmt_t(v["median_ms"], w)
                lim = ref_limit(w, results[w], limits.get(w))
                if lim and name != "probe":
                    s += f" {_fmt_r(v['median_ms'] / lim)}L"
                bp = best_peer(results[w])[0]
                if bp and name != "probe":
                    s += f" {_fmt_r(v['median_ms'] / bp)}P"
            elif v["status"] == "-":
                s = "-"
            else:
                s = f"{v['status']} ({v.get('reason', '')}"[:cw - 2] + ")"
                notes.setdefault(f"{name}: {v['status']} ({v.get('reason', '')})", []).append(w)
            cells.append(s)
        if all(c == "-" for c in cells):
            continue
        lines.append(LABEL.get(name, name).ljust(24) + "".join(c.ljust(cw) for c in cells))
    lim_cells = [(_fmt_t(limits[w], w) if limits.get(w) else "-") for w in wls]
    lines.append("limit (bw / sgemm)".ljust(24) + "".join(c.ljust(cw) for c in lim_cells))
    tcells = []
    for w in wls:
        t, ok = target_verdict(w, results[w])
        tcells.append("-" if t is None else
                      f"<={_fmt_t(t, w)}" + ("" if ok is None else (" met" if ok else " MISSED")))
    lines.append("jitgraph target".ljust(24) + "".join(c.ljust(cw) for c in tcells))
    lines.append("")
    lines.append("L = median / limit (W1, W2: the in-run probe; W3: in-place bandwidth; W5, W6: "
                 "sgemm rate); P = median / best peer (TF, XLA, JAX, PyTensor, NumPy).")
    lines.append("n/a = impl failed to build/run (reason); bad = value check failed; - = not "
                 "applicable.")
    for note, ws in notes.items():
        lines.append(f"  {','.join(ws)} {note}")
    lines.append("Targets: " + "; ".join(f"{w} {TARGETS[w]}" for w in wls))
    return "\n".join(lines)


def format_coldstart(c1):
    lines = ["C1: time to first result in a fresh process, imports excluded "
             "(target: cold <= 0.1 s, warm <= 0.05 s)",
             "impl".ljust(24) + "".join(f"{w} cold -> warm (s)".ljust(34) for w in c1["workloads"])]
    for name, per in c1["results"].items():
        cells = []
        for w in c1["workloads"]:
            v = per.get(w, {})
            if "cold_s" in v:
                cells.append(f"{v['cold_s']:.3f} -> {v['warm_s']:.3f}"
                             f"  (import {v['import_s']:.2f})")
            else:
                cells.append(f"n/a ({v.get('reason', '?')[:26]})")
        lines.append(LABEL.get(name, name).ljust(24) + "".join(c.ljust(34) for c in cells))
    return "\n".join(lines)
