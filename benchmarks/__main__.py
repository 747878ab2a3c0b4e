"""python -m benchmarks [--workloads W1,W3] [--small | --size F] [--reps N] [--impls a,b]
                     [--json out.json] [--no-probes] [--same-process] [--passes N]

Runs every impl importable by *this* interpreter (run it under a venv holding jitgraph and the
peers, see benchmarks/README.md); impls that fail print ``n/a (reason)``.  By default each
runtime family (jitgraph+hand Numba+probe+NumPy / TF / JAX / PyTensor) runs each workload in its
own subprocess (benchmarks/isolate.py); --same-process interleaves everything in this process.
The start-of-run probes run here, in the parent, which never imports TF, JAX or PyTensor in the
default mode.  C1 (cold start) and C2 (model-sized graphs, benchmarks/c2.py) run when listed in
--workloads (both are in the default list).
"""
import argparse
import datetime
import json
import os
import sys
import time

from . import c2, coldstart, harness, isolate, probes
from . import workloads as W

DEFAULT_IMPLS = ("jitgraph", "jitgraph-mc", "numba", "probe", "numpy", "tf", "tf-mc", "tf-xla",
                 "jax", "jax-dev", "pytensor-numba", "pytensor")


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(W.WORKLOADS + ("C1", "C2")),
                    help="comma list of W1..W6, C1, C2 (default: all)")
    ap.add_argument("--impls", default=",".join(DEFAULT_IMPLS),
                    help="comma list of: " + ", ".join(DEFAULT_IMPLS))
    ap.add_argument("--size", type=float, default=1.0, help="scale factor for the 10M arrays")
    ap.add_argument("--small", action="store_true", help="tiny sizes (smoke tests)")
    ap.add_argument("--reps", type=int, default=7, help="interleaved rounds (samples per impl)")
    ap.add_argument("--pause", type=float, default=0.05, help="seconds before each sample")
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--no-probes", action="store_true", help="skip start-of-run bw/sgemm probes")
    ap.add_argument("--same-process", action="store_true",
                    help="old mode: every impl in this one process, interleaved (TF's thread "
                         "pools then slow the BLAS workloads of the others)")
    ap.add_argument("--passes", type=int, default=2,
                    help="isolated mode: rounds of one child per runtime family, ABBA order; "
                         "the --reps samples are split between them (default 2)")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 if any impl other than jitgraph gives wrong values")
    a = ap.parse_args(argv)
    a.workloads = [w.strip().upper() for w in a.workloads.split(",") if w.strip()]
    a.impls = [i.strip() for i in a.impls.split(",") if i.strip()]
    bad = [i for i in a.impls if i not in harness.IMPLS]
    bad += [w for w in a.workloads if w not in W.WORKLOADS + ("C1", "C2")]
    if bad:
        ap.error("unknown: " + ", ".join(bad))
    return a


def environment_report(log):
    warn = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
    if warn:
        log("WARNING: " + ", ".join(f"{k}={os.environ[k]}" for k in warn) + " set: they slow "
            "NumPy's BLAS; for benchmarks run `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...`")
    blas = probes.blas_info()
    for b in blas:
        log(f"BLAS: {b.get('internal_api')} {b.get('version')} kernel={b.get('architecture')} "
            f"threads={b.get('num_threads')}")
    return {"openblas_env": {k: os.environ[k] for k in warn}, "blas": blas}


def main(argv=None):
    a = parse(argv)
    log = lambda *s: print(*s, flush=True)  # noqa: E731
    sz = W.sizes(a.size, a.small)
    t_start = time.time()
    meta = {"date": datetime.date.today().isoformat(), "argv": sys.argv[1:], "sizes": sz,
            "reps": a.reps, "pause_s": a.pause,
            "NUMBA_THREADING_LAYER": os.environ.get("NUMBA_THREADING_LAYER"),
            "TF_XLA_FLAGS": os.environ.get("TF_XLA_FLAGS")}
    meta.update(environment_report(log))
    meta["loadavg_start"] = os.getloadavg()
    if meta["loadavg_start"][0] > 0.5 * (os.cpu_count() or 1):
        log(f"WARNING: load average {meta['loadavg_start'][0]:.1f} on {os.cpu_count()} cpus: "
            "other jobs are running; multi-threaded OpenBLAS (NumPy, hand Numba, jitgraph, "
            "PyTensor) degrades far more under contention than TF's and JAX's Eigen pools")
    log(f"NUMBA_THREADING_LAYER={meta['NUMBA_THREADING_LAYER']} (chosen deliberately: OpenMP "
        "spin-waits and starves OpenBLAS on 2 cores)")
    machine = {}
    if not a.no_probes:
        machine.update(probes.bandwidth(sz["n"] if not a.small else 1 << 22, reps=15))
        machine.update(probes.sgemm(512 if a.small else 2048))
        log("probes: triad {triad_GBs:.1f} GB/s, read {read_GBs:.1f} GB/s, in-place "
            "{inplace_GBs:.1f} GB/s, sgemm {sgemm_GFLOPs:.0f} GFLOP/s".format(**machine))
    limits = {w: probes.limits_ms(w, sz, machine) for w in W.WORKLOADS} if machine else {}
    results, processes = {}, {}
    meta["isolation"] = ("same-process" if a.same_process else
                         "per runtime family: " + "; ".join(
                             f"{f}={'+'.join(m)}" for f, m in isolate.families(a.impls)))
    log("mode: " + meta["isolation"] + ("" if a.same_process else f", {a.passes} passes"))
    for wl in [w for w in a.workloads if w in W.WORKLOADS]:
        log(f"{wl}: {W.DESCR[wl]} ...")
        if a.same_process:
            results[wl] = harness.run_workload(wl, a.impls, sz, a.reps, a.pause, log)
        else:
            results[wl] = isolate.run_workload(wl, a.impls, a.small, a.size, a.reps, a.pause,
                                               a.passes, log, processes=processes)
    out = {"meta": meta, "machine": machine, "limits_ms": limits, "results": results}
    text = ""
    if results:
        text = harness.format_table(results, limits, a.impls)
        text += "\nProcesses: " + (
            "all impls in one process, interleaved (--same-process)." if a.same_process else
            f"one subprocess per runtime family and workload, {a.passes} passes in ABBA order; "
            "impls of a family interleaved (" + ", ".join(
                f"{f}: {'+'.join(m)}" for f, m in isolate.families(a.impls)) + ").")
        log("\n" + text)
    if "C1" in a.workloads:
        log("C1: cold start in fresh processes ...")
        c1_impls = [i for i in a.impls if i in harness.IMPLS and i in
                    ("jitgraph", "numba", "jax", "tf", "pytensor-numba")]
        out["coldstart"] = c1 = coldstart.run_c1(c1_impls, small=a.small, scale=a.size, log=log)
        ctext = harness.format_coldstart(c1)
        log("\n" + ctext)
        text += "\n\n" + ctext
    if "C2" in a.workloads:
        log("C2: model-sized graphs, TF1 and jitgraph cold/warm in fresh processes ...")
        graphs = ("chain100", "mlp16") if a.small else tuple(c2.G.GRAPHS)
        out["c2"] = c2_res = c2.run_c2(graphs, steps=20 if a.small else 60, log=log)
        c2text = c2.format_table(c2_res)
        log("\n" + c2text)
        text += "\n\n" + c2text
    meta.update(harness.process_versions())
    if processes:
        meta["processes"] = processes
        for fam in processes.values():  # framework versions seen only in the children
            for k, v in fam.items():
                if k in ("tensorflow", "jax", "pytensor", "jitgraph"):
                    meta.setdefault(k, v)
    meta["wall_s"] = time.time() - t_start
    meta["loadavg_end"] = os.getloadavg()
    log("load average at start {:.1f}, at end {:.1f}".format(meta["loadavg_start"][0],
                                                           meta["loadavg_end"][0]))
    out["table"] = text
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
        log(f"wrote {a.json}")
    bad = [(w, n) for w, r in results.items() for n, v in r.items()
           if v["status"] == "bad" and not n.startswith("jitgraph")]
    if bad:
        log("VALUE CHECK FAILED: " + ", ".join(f"{w}/{n}" for w, n in bad))
    return 1 if (bad and a.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
