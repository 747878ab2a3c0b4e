"""C2: compile time and step time of model-sized graphs, TF1 beside jitgraph.

    python -m benchmarks.c2                       # every graph, TF1 + jitgraph cold and warm
    python -m benchmarks.c2 --graphs mlp64,cnn --steps 200
    python -m benchmarks.c2 --plot c2_passes.svg  # also the pass-time sweep (needs matplotlib)

Each (impl, graph) runs in a fresh process (``--child``): it imports its framework (untimed),
builds the graph (``build_s``), initializes the variables and runs the step ``--steps`` times
with jitgraph's default policy (lazy tier, background builds). Reported: the first run, the
first 10 runs together, the slowest run, and the steady time per run (median of the last half of
the runs, after jitgraph's builds have finished). jitgraph runs twice with one kernel cache
directory: "cold" (empty) then "warm" (filled by the cold process); TF1 has no such cache and
runs once. Also reported for jitgraph: kernels compiled / loaded from disk / shared, and the
time of each compiler pass of the step's plan.

``--plot`` sweeps chains (100 ... 10,000 ops) and MLPs (4 ... 64 layers) in this process and
draws the time of each compiler pass against the graph's op count, log-log.
"""
import json
import os
import statistics
import sys
import tempfile
import time

from . import c2_graphs as G
from . import isolate

IMPLS = ("tf", "jitgraph")
TARGETS = "first 10 runs <= TF1's (cold), <= 0.5x TF1's (warm); no run > 1 s; steady <= 0.5x TF1"


def _framework(impl):
    if impl == "tf":
        from .peers import load_tf
        return load_tf()
    import jitgraph
    return jitgraph


def child(impl, graph, steps):
    tf = _framework(impl)
    import numpy as np  # noqa: F401  (imported with the framework: untimed)
    t0 = time.perf_counter()
    g = tf.Graph()
    with g.as_default():
        fetches, feed = G.build(tf, graph)
        init = tf.global_variables_initializer()
        n_ops = len(g.get_operations())
    build_s = time.perf_counter() - t0
    out = {"ops": n_ops, "build_s": build_s}
    with g.as_default(), tf.Session(graph=g) as sess:
        t0 = time.perf_counter()
        sess.run(init)
        out["init_s"] = time.perf_counter() - t0
        times = []
        for i in range(steps):
            if impl == "jitgraph" and i == steps // 2:
                from jitgraph.compiler import wait_for_builds
                wait_for_builds()        # the steady half: compiled code only
            fd = feed(i)
            t0 = time.perf_counter()
            sess.run(fetches, fd)
            times.append(time.perf_counter() - t0)
        out.update(first_s=times[0], first10_s=sum(times[:10]), slowest_s=max(times),
                   steady_s=statistics.median(times[steps // 2:]))
        if impl == "jitgraph":
            from jitgraph.compiler import build_stats
            out["kernels"] = build_stats.snapshot()
            plans = [p for p in sess._plans._plans.values() if p.compiled]
            comp = max((c for p in plans for c in p.compiled.values()), key=lambda c: len(c.steps), default=None)
            if comp is not None:
                out["passes_s"] = dict(comp.timings)
                out["kernel_steps"] = comp.num_kernels
                out["unique_kernels"] = len(set(comp.sources))
    print("C2RESULT " + json.dumps(out), flush=True)


def _spawn(impl, graph, steps, cache, timeout):
    env = isolate.child_env({"JITGRAPH_CACHE_DIR": cache})
    return isolate.spawn("benchmarks.c2", ["--child", impl, graph, "--steps", str(steps)], "C2RESULT ",
                         env=env, timeout=timeout)


def run_c2(graphs=tuple(G.GRAPHS), steps=60, timeout=900, log=print):
    results = {}
    for graph in graphs:
        row = results[graph] = {}
        with tempfile.TemporaryDirectory(prefix="c2-") as cache:
            for label, impl in (("tf", "tf"), ("jitgraph cold", "jitgraph"), ("jitgraph warm", "jitgraph")):
                try:
                    row[label] = _spawn(impl, graph, steps, cache, timeout)
                except Exception as e:   # noqa: BLE001 - a missing peer is reported, not fatal
                    row[label] = {"reason": f"{type(e).__name__}: {e}"[:200]}
                r = row[label]
                log(f"  C2 {graph:10s} {label:14s} " + (f"first10 {r['first10_s']:.3f} s, slowest "
                    f"{r['slowest_s']:.3f} s, steady {r['steady_s'] * 1e3:.2f} ms" if "first10_s" in r
                    else f"n/a ({r['reason']})"))
    return results


def format_table(results):
    head = (f"{'graph':10s} {'ops':>6s} | {'TF1 first10':>11s} {'steady':>8s} | {'jg cold first10':>15s} "
            f"{'ratio':>5s} {'slowest':>7s} | {'jg warm first10':>15s} {'ratio':>5s} {'slowest':>7s} | "
            f"{'jg steady':>9s} {'ratio':>5s} | kernels (steps/unique; compiled, loaded, shared)")
    lines = ["C2: model-sized graphs (seconds unless noted; ratio = jitgraph / TF1). Targets: " + TARGETS,
             head, "-" * len(head)]
    for graph, row in results.items():
        tf, cold, warm = row.get("tf", {}), row.get("jitgraph cold", {}), row.get("jitgraph warm", {})

        def ratio(a, b, key):
            return f"{a[key] / b[key]:5.2f}" if key in a and key in b and b[key] else "  n/a"

        def val(r, key, scale=1.0, fmt="{:.3f}"):
            return fmt.format(r[key] * scale) if key in r else "n/a"
        k = cold.get("kernels", {})
        lines.append(
            f"{graph:10s} {cold.get('ops', tf.get('ops', 0)):6d} | {val(tf, 'first10_s'):>11s} "
            f"{val(tf, 'steady_s', 1e3, '{:.2f}ms'):>8s} | {val(cold, 'first10_s'):>15s} {ratio(cold, tf, 'first10_s')} "
            f"{val(cold, 'slowest_s'):>7s} | {val(warm, 'first10_s'):>15s} {ratio(warm, tf, 'first10_s')} "
            f"{val(warm, 'slowest_s'):>7s} | {val(warm, 'steady_s', 1e3, '{:.2f}ms'):>9s} "
            f"{ratio(warm, tf, 'steady_s')} | {cold.get('kernel_steps', '-')}/{cold.get('unique_kernels', '-')}; "
            f"{k.get('compiled', '-')}, {warm.get('kernels', {}).get('loaded', '-')} warm, {k.get('shared', '-')}")
    lines.append("")
    lines.append("jitgraph pass times of each step plan, cold (ms):")
    names = ("prune", "order", "simplify", "shapes", "glue", "fuse", "schedule", "codegen", "compile", "runner")
    lines.append(f"{'graph':10s} " + " ".join(f"{n:>9s}" for n in names))
    for graph, row in results.items():
        p = row.get("jitgraph cold", {}).get("passes_s", {})
        lines.append(f"{graph:10s} " + " ".join(f"{p.get(n, 0) * 1e3:9.1f}" for n in names))
    return "\n".join(lines)


def pass_sweep(log=print):
    """Compile (eager, in memory after the first) chains and MLPs of growing size; returns
    ``[(ops, {pass: seconds})]``."""
    import jitgraph
    from jitgraph.compiler import config
    prev = config.set_compile_mode("eager")
    out = []
    try:
        for name, fn, sizes in (("chain", G.chain, (100, 300, 1000, 3000, 10000)),
                                ("mlp", G.mlp, (4, 8, 16, 32, 64))):
            for n in sizes:
                g = jitgraph.Graph()
                with g.as_default(), jitgraph.Session(graph=g) as sess:
                    fetches, feed = fn(jitgraph, n)
                    sess.run(jitgraph.global_variables_initializer())
                    sess.run(fetches, feed(0))
                    comp = max((c for p in sess._plans._plans.values() for c in p.compiled.values()),
                               key=lambda c: len(c.steps))
                    out.append((len(g.get_operations()), dict(comp.timings), f"{name}{n}"))
                    log(f"  sweep {name}{n}: {out[-1][0]} ops, passes "
                        f"{sum(v for k, v in comp.timings.items() if k != 'compile') * 1e3:.1f} ms")
    finally:
        config.set_compile_mode(prev)
    return out


def plot(sweep, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = ("prune", "order", "simplify", "shapes", "glue", "fuse", "schedule", "codegen", "runner")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in names:
        pts = sorted((ops, t[name] * 1e3) for ops, t, _ in sweep if t.get(name))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    xs = [ops for ops, _, _ in sweep]
    lo, hi = min(xs), max(xs)
    ax.plot([lo, hi], [0.01 * lo / 100, 0.01 * hi / 100], "k:", label="linear (slope 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ops in the graph")
    ax.set_ylabel("pass time (ms)")
    ax.set_title("jitgraph compiler passes vs graph size (chains and MLPs)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    return path


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", nargs=2, metavar=("IMPL", "GRAPH"))
    ap.add_argument("--graphs", default=",".join(G.GRAPHS))
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--plot", metavar="FILE")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args(argv)
    if a.child:
        return child(a.child[0], a.child[1], a.steps)
    results = run_c2(a.graphs.split(","), a.steps)
    print(format_table(results))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.plot:
        print("wrote", plot(pass_sweep(), a.plot))


if __name__ == "__main__":
    sys.exit(main())
