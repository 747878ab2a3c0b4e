"""The compiler pipeline, top to bottom: one function naming every pass in order.

    prune → order → simplify → pool_taps → shapes → glue → views → fuse → rewrite → multi → chains
    → schedule → codegen → compile → runner

``compile_plan`` turns (fetches, targets, feeds, feed signature) into a ``run(state, feeds)``
function. ``JITGRAPH_DEBUG=1`` prints each pass's time, ``=2`` also the IR after each pass,
``=3`` also the generated kernel and runner source.
"""

import sys
import threading
import time

from jitgraph.compiler import codegen, config
from jitgraph.compiler.chains import chain_launches
from jitgraph.compiler.fuse import fuse
from jitgraph.compiler.glue import glue
from jitgraph.compiler.order import order, var_accesses
from jitgraph.compiler.patterns import one_pass_variance
from jitgraph.compiler.pool_taps import pool_taps
from jitgraph.compiler.prune import prune
from jitgraph.compiler.runner import runner_source, tensor_name
from jitgraph.compiler.multi_apply import multi_apply
from jitgraph.compiler.schedule import KernelStep, NotCompilable, ScheduleCycle, schedule
from jitgraph.compiler.shapes import infer, var_shape
from jitgraph.compiler.simplify import changes_a_shape, simplify
from jitgraph.compiler.views import split_views


class Compiled:
    """The result of ``compile_plan``: the runner plus what tests and debugging look at."""

    def __init__(self, run, kernels, steps, sources, runner_src, timings):
        self.run, self.kernels, self.steps = run, kernels, steps
        self.sources, self.runner_source, self.timings = sources, runner_src, timings

    @property
    def num_kernels(self):
        return len(self.kernels)


#: What Numba's first use costs a process: ``import numba`` (0.2 s on a 2-core Zen 4 VM) and
#: the start of its CPU target at the first kernel load, which imports its registries (with Numba
#: 0.68 also SciPy's ``linalg``, for its BLAS check): 0.5-0.6 s in all. Part of the first build's
#: cost, so a warm-cache start of a graph whose reference run is quick builds in the background
#: too (``plan.SYNC_LOAD_RUNS``): with 0.4 s counted for the import alone, the C2 CNN loaded its
#: 8 kernels in its second run, 0.62-0.66 s (1.1 s once), its first ten runs 0.66-0.70 s against
#: 0.18 s with an empty cache.
NUMBA_FIRST_USE_S = 0.6


class Prepared:
    """What the passes decided for one specialization, before any Numba work: the schedule and
    the kernel sources. ``new_kernels`` counts sources this process has not loaded yet (what a
    build would compile or load from disk)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def new_kernels(self):
        from jitgraph.compiler.disk_cache import is_loaded
        return len({src for src, _ in self.sources.values() if not is_loaded(src)})

    def loads_only(self):
        """Does a build only load from the disk cache (nothing to compile, ``compile_work``)?"""
        kernels, warms = compile_work(self)
        return not kernels and not warms

    def expected_build_seconds(self):
        """What ``build_compiled`` should cost: each new kernel loaded from the disk cache when it
        holds it, else compiled, at the mean cost measured in this process (``build_stats``)."""
        from jitgraph.compiler import build_stats
        from jitgraph.compiler.disk_cache import has_compiled, is_loaded
        new = {src for src, _ in self.sources.values() if not is_loaded(src)}
        if not new:
            return 0.0
        on_disk = sum(1 for src in new if has_compiled(src))
        return (on_disk * build_stats.mean_seconds("loaded")
                + (len(new) - on_disk) * build_stats.mean_seconds("compiled")
                + (0.0 if numba_started() else NUMBA_FIRST_USE_S))


def numba_started():
    """Has Numba's CPU target loaded its registries in this process (its first kernel load or
    compile does; ``numba.np.arraymath`` is among them)?"""
    return "numba.np.arraymath" in sys.modules


def prepare_plan(fetch_tensors, targets, feed_tensors, signature, feed_values=None):
    """The passes up to codegen (pure Python, no Numba): a ``Prepared`` specialization."""
    if any(t.dtype.is_ref_dtype for t in feed_tensors):
        raise NotCompilable("a variable reference is fed")
    p = _Passes()
    ops = p("prune", prune, fetch_tensors, targets, feed_tensors)
    if any(map(changes_a_shape, ops)):
        # kernels and symbolic shapes take a variable's declared shape (the runner checks it
        # before the run); a run that may change it midway stays on the reference executor
        raise NotCompilable("an Assign with validate_shape=False may change a variable's shape during the run")
    deps = p("order", order, ops)
    simple = p("simplify", simplify, ops, fetch_tensors, feed_tensors)
    deps = _carry_deps(deps, simple)
    ops, consts = simple.ops, simple.consts
    fetch_tensors = [simple.tensor(t) for t in fetch_tensors]
    pooled = p("pool_taps", pool_taps, ops, fetch_tensors, feed_tensors)
    deps, ops = _carry_deps(deps, pooled), pooled.ops
    fetch_tensors = [pooled.tensor(t) for t in fetch_tensors]
    kernel_probe = {}
    shapes, guards = p("shapes", infer, ops, feed_tensors, signature,
                       lambda t: tensor_name(t, kernel_probe), consts)
    glued = p("glue", glue, ops, shapes, fetch_tensors, feed_tensors, consts)
    deps, ops = _carry_deps(deps, glued), glued.ops
    fetch_tensors = [glued.tensor(t) for t in fetch_tensors]
    viewed = p("views", split_views, ops, shapes, fetch_tensors, feed_tensors)
    deps, ops = _carry_deps(deps, viewed), viewed.ops
    fetch_tensors = [viewed.tensor(t) for t in fetch_tensors]
    kernels, kernel_of = p("fuse", fuse, ops, deps, shapes)
    written = {v for op in ops for v, w in var_accesses(op) if w}
    kernels, kernel_of = p("rewrite", one_pass_variance, kernels, kernel_of, written)
    grouped, grouped_of = p("multi", multi_apply, ops, kernels, kernel_of, shapes, fetch_tensors)
    grouped, grouped_of = p("chains", chain_launches, ops, grouped, grouped_of, shapes, fetch_tensors)
    kernel_probe.update(kernel_of)   # (the same ops either way: names only ask whether an op is fused)
    try:
        sched = p("schedule", schedule, ops, deps, grouped, grouped_of, shapes, guards, fetch_tensors,
                  feed_tensors)
        kernels, kernel_of = grouped, grouped_of
    except ScheduleCycle:
        # a group is convex over ops, but two of its members may reach each other through two ops
        # of one other kernel: schedule the kernels one launch each instead (timed under its own
        # name, so debugging output and tests see that it happened)
        sched = p("schedule-ungrouped", schedule, ops, deps, kernels, kernel_of, shapes, guards, fetch_tensors,
                  feed_tensors)
    var_info = {}
    for s in sched.steps:
        if isinstance(s, KernelStep):
            for v in s.vars:
                var_info[v] = (var_shape(v), v.get_attr("dtype").as_np)
    for t in fetch_tensors:
        if t.dtype.is_ref_dtype and t.op.type != "VariableV2":
            from jitgraph.ops.state_ops import variable_of
            v = variable_of(t)
            var_info.setdefault(v, (var_shape(v), v.get_attr("dtype").as_np))
    sources = p("codegen", _codegen, sched, shapes, var_info, feed_values)
    return Prepared(passes=p, sched=sched, shapes=shapes, var_info=var_info, consts=consts,
                    kernels=kernels, kernel_of=kernel_of, sources=sources, feeds=list(feed_tensors),
                    fetches=fetch_tensors)


def build_compiled(prep):
    """The Numba part: load (or compile) every kernel for its argument types, then generate the
    runner. Safe to call from a background thread (the runner touches no session state)."""
    p = prep.passes
    loaded = p("compile", _load, prep.sources, prep.shapes, prep.var_info)
    p("warm", _warm_library, prep.sched, getattr(prep, "seen_shapes", None) or {})
    src, ns = p("runner", runner_source, prep.sched, prep.feeds, prep.fetches, prep.shapes, prep.kernel_of,
                loaded, prep.var_info, prep.consts)
    if config.debug() >= 3:
        print(src, file=sys.stderr)
    code = compile(src, "<jitgraph runner>", "exec")
    exec(code, ns)
    run = ns["run"]
    if ns["_owns_threads"]:
        from jitgraph.kernels.blas import own_threads
        run = own_threads(run)
    out = Compiled(run, prep.kernels, prep.sched.steps, [s for s, _ in prep.sources.values()], src,
                   p.timings)
    out.namespace = ns
    return out


def compile_plan(fetch_tensors, targets, feed_tensors, signature, feed_values=None):
    """Run every pass for one specialization and return a ``Compiled`` plan."""
    return build_compiled(prepare_plan(fetch_tensors, targets, feed_tensors, signature, feed_values))


def _carry_deps(deps, simple):
    """``order``'s edges restated between the ops ``simplify`` kept: an edge to a dropped op goes to
    the op standing for it; an aliased op's own edges are its stand-in's already (same inputs) or
    would point forward (a pass-through's later inputs), so they are not carried. A kept op's own
    data inputs are edges too: a rewrite can give an op an input its original did not read
    (``glue``'s ``_BroadcastLike(g, like)`` reads ``like``, where ``BroadcastTo`` read a dropped
    ``Shape(like)``). Linear in the edges."""
    kept = set(simple.ops)
    out = {op: {t.op for t in op.inputs if t.op in kept and t.op is not op} for op in simple.ops}
    for orig, ds in deps.items():
        op = simple.op_map[orig]
        if op in kept and orig not in simple.aliased:
            out[op].update(m for m in map(simple.op_map.get, ds) if m in kept and m is not op)
    return out


def _codegen(sched, shapes, var_info, feed_values):
    # kernels are cut into chunks for the chunk workers where the plan's library ops use them
    chunks = any((s.op_def.extra or {}).get("threads") for s in sched.steps if not isinstance(s, KernelStep))
    out = {}
    for i, step in enumerate(sched.steps):
        if isinstance(step, KernelStep):
            par = _size_hint(step.space, feed_values) >= config.parallel_threshold()
            src, operands = codegen.kernel_source(step, shapes, {v: s for v, (s, _) in var_info.items()}, par,
                                                  chunks)
            if config.debug() >= 3:
                print(f"# ---- kernel {i}: {[o.name for o in step.ops]}\n{src}", file=sys.stderr)
            out[i] = (src, operands)
    return out


def _load(sources, shapes, var_info):
    """Load each kernel module and compile its kernel for the argument types the runner passes
    (C-contiguous arrays; rank 0 as 1-element 1-d arrays), so the first run calls machine code
    instead of compiling inside it. A kernel whose source several steps share compiles once."""
    from jitgraph.compiler import build_stats
    from jitgraph.compiler.build_worker import compile_module
    from jitgraph.compiler.cache import register_kernel
    from jitgraph.compiler.disk_cache import load_module
    config.ensure_threading()
    out = {}
    for i, (src, operands) in sources.items():
        t0 = time.perf_counter()
        mod = load_module(src)
        entry = getattr(operands, "entry", "kernel")
        fn, sig = getattr(mod, entry), kernel_signature(operands, shapes, var_info)
        if sig in fn.overloads:
            build_stats.record("shared")
        else:
            hits = sum(fn.stats.cache_hits.values())
            compile_module(mod, src, _arg_specs(operands, shapes, var_info), entry)
            kind = "loaded" if sum(fn.stats.cache_hits.values()) > hits else "compiled"
            build_stats.record(kind, time.perf_counter() - t0)
        out[i] = (fn, operands)
        register_kernel(fn)
    return out


def compile_work(prep):
    """``(kernels, warms)``: what a build of ``prep`` must compile, ``{source: argument specs}`` of
    its new kernels the disk cache lacks and ``{warm key: (op, input specs)}`` of its library steps
    no compile process warmed yet; both empty when the build only loads from the disk cache."""
    from jitgraph.compiler import build_worker
    from jitgraph.compiler.disk_cache import has_compiled, is_loaded
    kernels = {}
    for src, operands in prep.sources.values():
        if src in kernels or is_loaded(src) or has_compiled(src) or getattr(operands, "entry", "kernel") != "kernel":
            continue   # (a lone member of a multi_apply form: its group's compile covers it)
        kernels[src] = [(np_dtype.str, ndim) for np_dtype, ndim in _arg_specs(operands, prep.shapes, prep.var_info)]
    seen = getattr(prep, "seen_shapes", None) or {}
    warms = {}                 # one request per distinct (op type, attributes, inputs): mlp64's 196 are 8
    for op, specs in _library_steps(prep.sched, seen):
        key = build_worker.warm_key(op.type, op.attrs, specs)
        if key not in warms and not build_worker.warmed(key):
            warms[key] = (op, specs)
    return kernels, warms


def precompile(prep):
    """Compile ``prep``'s new kernels (and warm its library steps) in the compile processes
    (``build_worker.workers``: several where the machine has the cores), so that
    ``build_compiled`` then only loads them from the disk cache. Returns False when there is no
    compile process (``build_worker.worker``); a kernel it fails on is compiled here later. With
    every kernel on disk and every library step warmed before (``build_worker.warmed``) the
    process is not even started: a warm-cache start of the C2 CNN spent 1.2 s of its 2.2 s
    background build starting it and re-warming twelve cached fast paths, while the loop ran
    on the reference executor beside it."""
    from jitgraph.compiler import build_worker
    kernels, warms = compile_work(prep)
    if not kernels and not warms:
        return True
    # Independent jobs: each kernel alone, each op type's warm requests together (two processes
    # compiling one Numba function would both write its cache index, and one entry could be lost).
    jobs = [[("kernel", src, specs)] for src, specs in kernels.items()]
    by_type = {}
    for key, (op, specs) in warms.items():
        by_type.setdefault(op.type, []).append(("warm", key, op, specs))
    jobs += list(by_type.values())
    ws = build_worker.workers(min(build_worker.processes(), len(jobs)))
    if not ws:
        return False
    queue_ = iter(jobs)         # next() on a list iterator is atomic under the GIL
    threads = [threading.Thread(target=_serve, args=(w, queue_), daemon=True) for w in ws[1:]]
    for t in threads:
        t.start()
    _serve(ws[0], queue_)
    for t in threads:
        t.join()
    return True


def _serve(w, jobs):
    """Run ``jobs`` (lists of requests) on compile process ``w`` until none is left; a process
    that dies leaves its remaining requests to the others (a kernel it failed on compiles here
    later)."""
    from jitgraph.compiler import build_stats, build_worker
    for job in jobs:
        for req in job:
            try:
                if req[0] == "kernel":
                    reply = w.request(*req)
                    if reply[0] == "ok":
                        build_stats.record("compiled", reply[1])
                else:
                    _, key, op, specs = req
                    if w.request("warm", op.type, dict(op.attrs), [_example(*spec) for spec in specs])[0] == "ok":
                        build_worker.mark_warmed(key)
            except OSError:
                return


def _library_steps(sched, seen):
    """``(step, [(shape, dtype, value or None) per input])`` for the NumPy steps with a fast (Numba)
    path whose input shapes are known: from the first run's record (with the value of a small
    integer input: a shape or an axis), or a variable's static shape."""
    from jitgraph.ops.state_ops import variable_of
    for step in sched.steps:
        if isinstance(step, KernelStep):
            continue
        d = step.op_def
        if (d.extra or {}).get("fast") is None or d.run is not None:
            continue
        specs = []
        for i, t in enumerate(step.inputs):
            if t.dtype.is_ref_dtype:
                var = variable_of(t)
                shape = var_shape(var) if var is not None and i not in d.ref_inputs else None
                spec = None if shape is None else (shape, var.get_attr("dtype").as_np, None)
            else:
                spec = seen.get(t.name)
            if spec is None:
                break
            specs.append(spec)
        else:
            yield step, specs


def _example(shape, dtype, value):
    """An argument like the first run's: its small integer value, else zeros of its shape."""
    import numpy as np
    return value if value is not None else np.zeros(shape, dtype)


def _warm_library(sched, seen):
    """Call the fast (Numba) path of each library step once on zeros shaped as in the plan's first,
    reference run, so its lazily compiled kernels are ready before the first compiled run instead
    of compiling inside it (a conv step's first call compiled for 3 s). Best effort: a step whose
    input shapes were not seen, or that raises on zeros, is left to compile on first use."""
    import numpy as np
    for step, specs in _library_steps(sched, seen):
        args = [_example(*spec) for spec in specs]
        try:
            with np.errstate(all="ignore"):
                step.op_def.extra["fast"](*args, **step.attrs)
        except Exception:   # noqa: BLE001,S112 - warming only; the run itself reports errors
            continue


def kernel_signature(operands, shapes, var_info):
    """Numba argument types of a kernel's operands, as the runner passes them."""
    from jitgraph.compiler.build_worker import signature
    return signature(_arg_specs(operands, shapes, var_info))


def _arg_specs(operands, shapes, var_info):
    """``(NumPy dtype, ndim)`` of each kernel operand as passed (C-contiguous; rank 0 as 1-d)."""
    import numpy as np
    out = []
    for kind, obj in operands:
        if kind == "var":
            shape, dtype = var_info[obj]
        elif obj.dtype.is_ref_dtype:
            from jitgraph.ops.state_ops import variable_of
            shape, dtype = var_info[variable_of(obj)]
        else:
            shape, dtype = shapes[obj], obj.dtype.base_dtype.as_np
        out.append((np.dtype(dtype), max(len(tuple(shape)), 1)))
    if hasattr(operands, "partials"):   # a cut kernel: its rows of partial results, sync, nch, lead
        i8 = np.dtype(np.int64)
        out += [(out[oi][0], out[oi][1] + 1) for oi, _, _ in operands.partials] + [(i8, 1), (i8, None), (i8, None)]
    return out


def _size_hint(space, feed_values):
    n = 1
    env = {f"f{i}": v for i, v in enumerate(feed_values or ())}
    for d in space:
        if isinstance(d, int):
            n *= d
        else:
            try:
                n *= int(eval(d, {}, env))   # "f0.shape[1]"
            except Exception:   # noqa: BLE001 - a NumPy step's dim: unknown here
                return 0
    return n


class _Passes:
    """Runs passes by name, timing them and printing per ``JITGRAPH_DEBUG``."""

    def __init__(self):
        self.timings = {}

    def __call__(self, name, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        dt = time.perf_counter() - t0
        self.timings[name] = dt
        level = config.debug()
        if level >= 1:
            print(f"[jitgraph] {name:9s} {dt * 1e3:8.2f} ms", file=sys.stderr)
        if level >= 2 and name in ("prune", "simplify", "fuse", "schedule"):
            print(_describe(name, out), file=sys.stderr)
        return out


def _describe(name, out):
    if name == "prune":
        return "  ops: " + ", ".join(f"{o.name}({o.type})" for o in out)
    if name == "simplify":
        merged = sum(1 for a, b in out.op_map.items() if a.name != b.name)
        return ("  ops: " + ", ".join(o.name for o in out.ops)
                + f"; folded: {len(out.consts)}; merged (CSE) or absorbed (remap): {merged}")
    if name == "fuse":
        return "\n".join(f"  {k}" for k in out[0])
    lines = []
    for s in out.steps:
        if isinstance(s, KernelStep):
            lines.append(f"  kernel space={s.space} ops={[o.name for o in s.ops]} writes={[v.name for v in s.writes]}")
        else:
            lines.append(f"  numpy  {s.name} ({s.type})")
    return "\n".join(lines)
