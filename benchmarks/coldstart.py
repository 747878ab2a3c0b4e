"""C1: time to first result of W1 and W5 in a fresh process, imports excluded.

For each impl the parent starts a child (``python -m benchmarks.coldstart --child IMPL WL``)
twice with the same, initially empty, cache directories: the first child is "cold", the second
"warm" (cache filled by the first).  The child imports its framework and makes the data (both
untimed), then times build graph + session/compile + first run + reading the value.

Caches redirected to the temp dir: ``JITGRAPH_CACHE_DIR``, ``NUMBA_CACHE_DIR`` (hand Numba's
``cache=True`` and PyTensor's Numba mode), PyTensor's ``compiledir`` and JAX's persistent
compilation cache (enabled here with no minimum compile time, else JAX caches nothing this small).
TF1 has no compilation cache, so its cold and warm differ only by OS file caching.
"""
import json
import os
import tempfile
import time

from . import isolate

C1_IMPLS = ("jitgraph", "numba", "jax", "tf", "pytensor-numba")
C1_WORKLOADS = ("W1", "W5")


def _import_framework(impl, cache):
    if impl == "jitgraph":
        import jitgraph  # noqa: F401
    elif impl == "tf":
        from .peers import load_tf
        load_tf()
    elif impl == "jax":
        import jax
        jax.config.update("jax_compilation_cache_dir", os.path.join(cache, "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    elif impl == "pytensor-numba":
        import pytensor  # noqa: F401
    elif impl == "numba":
        from . import handnumba  # noqa: F401
    from . import harness  # noqa: F401  (imports numba, our kernels module: untimed)


def child(impl, wl, small, scale, cache):
    t0 = time.perf_counter()
    _import_framework(impl, cache)
    import numpy as np

    from . import harness
    from . import workloads as W
    sz = W.sizes(scale, small)
    data = W.make_data(wl, sz)
    t1 = time.perf_counter()
    r = harness.IMPLS[impl][1](wl, data)
    r.run()
    np.asarray(r.value())
    t2 = time.perf_counter()
    print("C1RESULT " + json.dumps({"import_s": t1 - t0, "first_s": t2 - t1}), flush=True)


def _spawn(impl, wl, small, scale, cache, timeout):
    env = isolate.child_env(dict(
        JITGRAPH_CACHE_DIR=os.path.join(cache, "jitgraph"),
        NUMBA_CACHE_DIR=os.path.join(cache, "numba"),
        PYTENSOR_FLAGS=f"compiledir={os.path.join(cache, 'pytensor')}"))
    args = ["--child", impl, wl, "--scale", str(scale)] + (["--small"] if small else [])
    return isolate.spawn("benchmarks.coldstart", args, "C1RESULT ", env=env, timeout=timeout)


def run_c1(impls=C1_IMPLS, workloads=C1_WORKLOADS, small=False, scale=1.0, timeout=300,
           log=print):
    out = {"workloads": list(workloads), "results": {}}
    for impl in impls:
        per = out["results"].setdefault(impl, {})
        for wl in workloads:
            with tempfile.TemporaryDirectory(prefix="c1-") as cache:
                try:
                    cold = _spawn(impl, wl, small, scale, cache, timeout)
                    warm = _spawn(impl, wl, small, scale, cache, timeout)
                    per[wl] = {"cold_s": cold["first_s"], "warm_s": warm["first_s"],
                               "import_s": warm["import_s"]}
                    log(f"  C1 {impl} {wl}: cold {cold['first_s']:.3f} s, "
                        f"warm {warm['first_s']:.3f} s")
                except Exception as e:
                    per[wl] = {"reason": f"{type(e).__name__}: {e}"}
                    log(f"  C1 {impl} {wl}: n/a ({per[wl]['reason'][:100]})")
    return out


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=2, metavar=("IMPL", "WL"), required=True)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    child(a.child[0], a.child[1], a.small, a.scale,
          os.path.dirname(os.environ.get("NUMBA_CACHE_DIR", tempfile.gettempdir())))
