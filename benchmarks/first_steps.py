"""Time to the first steps of the P programs (``programs.py``): what a user waits for when a
training program starts, jitgraph with empty caches ("cold"), then again with the caches that run
filled ("warm"), beside TF1.

    python -m benchmarks.first_steps                       # every program, 200 steps
    python -m benchmarks.first_steps --programs P1,P8 --steps 400

Each (program, impl) runs in a fresh process. The child imports its framework (untimed: TF's
import alone takes seconds), then times everything after it: building the graph, initializing the
variables and each training step. Reported: the seconds until step 10 and until the last step
is done, and for jitgraph the first step that ran compiled code (the steps before it ran on the
reference executor while the kernels compiled in the background) and, for a child whose steps
ended before that, when its background build was done (the child waits for it, untimed, and runs
steps until no build is left: a native loop's compile starts at its first compiled call).

The cold child gets empty directories for jitgraph's kernels (``JITGRAPH_CACHE_DIR``) and for
Numba's cache of jitgraph's library kernels (``NUMBA_CACHE_DIR``); the warm child gets the same
directories, as the cold one left them. TF1 has no compilation cache.
"""
import argparse
import json
import tempfile
import time

from . import isolate
from .programs import BUILDERS, load


def child(name, impl, steps):
    tf = load(impl)
    t0 = time.perf_counter()
    g = tf.Graph()
    with g.as_default():
        prog = BUILDERS[name](tf)
        init = tf.global_variables_initializer()
    done, compiled_from = [], None
    with tf.Session(graph=g) as sess:
        sess.run(init)
        fetch = [prog.train, prog.loss]
        for i in range(steps):
            sess.run(fetch, prog.feeds(i))
            done.append(time.perf_counter() - t0)
            if impl == "jitgraph" and compiled_from is None and any(
                    p.compiled for p in sess._plans._plans.values()):
                compiled_from = i + 1          # the next step runs the compiled plan
        built_s = None
        if impl == "jitgraph":                 # the warm child finds what a finished build leaves
            from jitgraph.compiler import plan, wait_for_builds
            wait_for_builds()
            built_s = time.perf_counter() - t0
            for k in range(20):                # untimed: a native loop's compile starts at its first
                sess.run(fetch, prog.feeds(k))  # compiled call, a gradient loop's once its forward
                if not plan._builder.busy():   # loop runs natively, as in a longer first run
                    break
                wait_for_builds()
    print("RESULT " + json.dumps({"done_s": done, "compiled_from": compiled_from, "built_s": built_s}), flush=True)


def run(programs, steps, log=print):
    """``{program: {"tf" | "jitgraph cold" | "jitgraph warm": child result}}``."""
    out = {}
    for name in programs:
        row = out[name] = {}
        with tempfile.TemporaryDirectory(prefix="first-steps-") as tmp:
            env = isolate.child_env({"JITGRAPH_CACHE_DIR": f"{tmp}/jitgraph", "NUMBA_CACHE_DIR": f"{tmp}/numba"})
            for label, impl in (("tf", "tf"), ("jitgraph cold", "jitgraph"), ("jitgraph warm", "jitgraph")):
                try:
                    row[label] = isolate.spawn("benchmarks.first_steps", ["--child", name, impl, "--steps", str(steps)],
                                               "RESULT ", env=env, timeout=1800)
                except RuntimeError as e:
                    row[label] = {"reason": str(e)[:200]}
                r = row[label]
                log(f"  {name} {label:14s} " + (f"step 10 after {r['done_s'][min(9, steps - 1)]:.2f} s, step {steps} "
                                                f"after {r['done_s'][-1]:.2f} s" if "done_s" in r else f"n/a ({r['reason']})"))
    return out


def format_table(results, steps):
    k = min(10, steps)
    head = (f"{'program':8} | {'TF1 step ' + str(k):>10} {'step ' + str(steps):>9} | {'jg cold ' + str(k):>10} "
            f"{'step ' + str(steps):>9} {'ratio':>5} {'compiled from':>13} {'built':>6} | {'jg warm ' + str(k):>10} "
            f"{'step ' + str(steps):>9} {'ratio':>5} {'compiled from':>13}")
    lines = [f"Seconds from graph building to step {k} and to step {steps} (import excluded); ratio = "
             "jitgraph / TF1 at the last step; built: seconds until the cold child's background build was done",
             head, "-" * len(head)]
    for name, row in results.items():
        tf, cold, warm = (row.get(x, {}).get("done_s") for x in ("tf", "jitgraph cold", "jitgraph warm"))

        def cells(d):
            return (f"{d[k - 1]:10.2f} {d[-1]:9.2f}" if d else f"{'n/a':>10} {'n/a':>9}")

        def ratio(d):
            return f"{d[-1] / tf[-1]:5.2f}" if d and tf else "  n/a"
        first = row.get("jitgraph cold", {}).get("compiled_from")
        built = row.get("jitgraph cold", {}).get("built_s")
        warm_first = row.get("jitgraph warm", {}).get("compiled_from")
        lines.append(f"{name:8} | {cells(tf)} | {cells(cold)} {ratio(cold)} {str(first):>13} "
                     f"{'n/a' if built is None else f'{built:.1f}':>6} | {cells(warm)} {ratio(warm)} {str(warm_first):>13}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.first_steps", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", default=",".join(BUILDERS))
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--child", nargs=2, metavar=("PROGRAM", "IMPL"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return child(a.child[0], a.child[1], a.steps)
    results = run(a.programs.split(","), a.steps)
    print(format_table(results, a.steps))


if __name__ == "__main__":
    main()
