"""The runner: straight-line Python (no Numba) that drives one specialization's steps.

Before: a ``Schedule`` with loaded kernels. After: the text of ``run(state, feeds)`` and the
namespace it runs in. Everything a run needs is bound at build time (kernels, variable ops,
constants, scratch buffers), so a cached run does no lookups beyond the variable dict and no
allocation beyond returned values. Order of a run: shape guards of the feeds; initialization
checks (before anything changes, as the reference); then the steps; then the fetches.

Rank-0 kernel operands are passed as 1-element 1-d arrays (codegen's ``SCALAR_AS_1D``; Numba
dispatches a 0-d array argument on its slow path): variable buffers through a view cached with the
buffer (``_ok<id>_1``, kept by ``adopter``), constants as a view made once, rank-0 kernel outputs
allocated 1-d (``<name>_1``) with a 0-d view made only for NumPy steps that read them. A rank-0
kernel output that is fetched (as a new NumPy scalar) and read by no NumPy step never escapes the
run, so its buffer is allocated once per specialization, not per run.
"""

import numpy as np

from jitgraph import errors
from jitgraph.compiler.chunked_kernels import run as run_cut, run_split
from jitgraph.compiler.concurrency import interleave
from jitgraph.compiler.inline_steps import inline_expr
from jitgraph.compiler.order import var_accesses
from jitgraph.compiler.runner_calls import (GuardFailed, _contig, _no_fallback, adopter, alloc_checked,
                                            matmul_into, numpy_step, oom_checker, reuse, take_pooled)
from jitgraph.compiler.schedule import KernelStep
from jitgraph.compiler.simplify import SHAPE_QUERIES
from jitgraph.ops.state_ops import VarRef, variable_of
from jitgraph.runtime.limits import max_alloc_bytes, static_output_bytes
from jitgraph.runtime.reference import _Context, _detach


def tensor_name(t, kernel_of):
    """Runner-local name of a tensor computed by a step (``o``: kernel output, ``t``: NumPy)."""
    prefix = "o" if t.op in kernel_of else "t"
    return f"{prefix}{t.op._id}_{t.value_index}"


def _shape_expr(shape):
    return "(" + "".join(f"{d}, " for d in shape) + ")"


# Allocation limits (``runtime.limits``), as the reference checks them: the largest statically known
# output of a step is compared with the limit before the step runs. Steps whose outputs are all under
# one page are not checked (no limit that small is meaningful; it keeps tiny plans' runs cheap).
CHECK_MIN_BYTES = 4096


def runs_own_threads(sched, kernels_loaded):
    """Does a step run on several threads of jitgraph's own: a library op whose fast kernel does
    (``extra["threads"]``: the chunk workers of the convs and pools) or a ``prange`` kernel?
    Such a plan runs inside ``kernels.blas.owned`` (see there; linear in the steps)."""
    for si, s in enumerate(sched.steps):
        if isinstance(s, KernelStep):
            if kernels_loaded[si][0].targetoptions.get("parallel"):
                return True
        elif (s.op_def.extra or {}).get("threads"):
            return True
    return False


def runner_source(sched, feeds, fetches, shapes, kernel_of, kernels_loaded, var_info, consts):
    """Return ``(source, namespace)`` of the generated ``run(state, feeds)``."""
    ns = {"np": np, "_detach": _detach, "_Context": _Context, "_take": take_pooled, "_errors": errors,
          "_contig": _contig, "_GuardFailed": GuardFailed, "_fallback": _no_fallback,
          "_may_share": np.may_share_memory}
    sched.kernel_inputs = {t for s in sched.steps if isinstance(s, KernelStep) for t in s.ins}
    sched.np_reader_types = {}      # tensor -> the types of the NumPy steps that read it
    for s in sched.steps:
        if not isinstance(s, KernelStep):
            for t in s.inputs:
                sched.np_reader_types.setdefault(t, set()).add(s.type)
    np_inputs = sched.np_reader_types
    one_d = {}   # runner name of a rank-0 kernel output -> name of its 1-d buffer (what kernels take)
    ns["_owns_threads"] = owns = runs_own_threads(sched, kernels_loaded)
    lines = []
    feed_name = {t: f"f{i}" for i, t in enumerate(feeds)}

    def name(t):
        if t in feed_name:
            return feed_name[t]
        if t.op.type == "Const" or t in consts:
            ns[f"_c{t.op._id}"] = consts[t] if t in consts else t.op.get_attr("value")
            return f"_c{t.op._id}"
        return tensor_name(t, kernel_of)

    def var(v):
        ns[f"_var{v._id}"] = v
        return f"v{v._id}"

    def kname(t):
        """``name(t)`` as a kernel argument: constants as a writeable copy (one Numba type)."""
        n = name(t)
        if n.startswith("_c"):
            ns.setdefault("_w" + n, np.array(ns[n], order="C", copy=True))
            return "_w" + n
        return n

    def kin(t):
        """An ``in`` operand of a kernel: ``kname(t)``, rank 0 as a 1-element 1-d array."""
        n = kname(t)
        if not is_rank0(shapes[t]):
            return n
        if n.startswith("_w_c"):
            ns.setdefault(n + "_1", ns[n].reshape(1))
            return n + "_1"
        return one_d.get(n) or f"{n}.reshape(1)"

    if feeds:
        lines.append("".join(f"f{i}, " for i in range(len(feeds))) + "= feeds")
        for t in feeds:   # a read-only feed would make Numba compile another specialization
            if t in sched.kernel_inputs:
                lines.append(f"if not {feed_name[t]}.flags.writeable: {feed_name[t]} = {feed_name[t]}.copy()")
    lines.append("store = state.store")
    lines.append("values = store._values")
    for gi, (op, a, b) in enumerate(sched.feed_guards):
        ns[f"_fguard{gi}"] = f"feeds of {op.type} op '{op.name}': {a} != {b}"
        lines.append(f"if {a} != {b}: return _fallback(state, feeds, _fguard{gi})")
    loaded = set()
    kernel_vars = {v for s in sched.steps if isinstance(s, KernelStep) for v in s.vars}

    def load(v):
        lines.append(f"{var(v)} = values.get(_var{v._id})")
        if v in kernel_vars:
            ns[f"_ok{v._id}"] = ns[f"_ok{v._id}_1"] = None
            ns[f"_adopt{v._id}"] = adopter(ns, v, f"_ok{v._id}", is_rank0(var_info[v][0]))
            lines.append(f"if v{v._id} is not _ok{v._id}:")
            lines.append(f"    v{v._id} = _adopt{v._id}(values, v{v._id})")
            # kernels loop over the declared shape: a value of another (an ``Assign`` with
            # validate_shape=False in another run) goes to the reference executor
            if var_info[v][0] is not None:
                ns[f"_vshape{v._id}"] = tuple(var_info[v][0])
                ns[f"_vguard{v._id}"] = (f"variable '{v.name}' no longer has its declared shape "
                                         f"{tuple(var_info[v][0])}")
                lines.append(f"    if v{v._id} is not None and v{v._id}.shape != _vshape{v._id}: "
                             f"_ok{v._id} = None; return _fallback(state, feeds, _vguard{v._id})")
        loaded.add(v)

    for n, (v, op) in enumerate(sched.must_init):
        ns[f"_uninit{n}"] = _uninit_error(v, op)
        load(v)
        lines.append(f"if v{v._id} is None: raise _uninit{n}()")
    for n, t in enumerate(sched.var_fetch_end):
        v = t.op
        if v not in loaded:
            load(v)
        if v not in sched.inits_in_run:
            ns[f"_uninit_f{n}"] = _uninit_error(v, None)
            lines.append(f"if v{v._id} is None: raise _uninit_f{n}()")
    all_vars = []
    for s in sched.steps:
        accesses = var_accesses(s) if not isinstance(s, KernelStep) else [(v, False) for v in s.vars]
        for v, _ in accesses:
            if v not in all_vars:
                all_vars.append(v)
    for t in sched.var_fetch_end:
        if t.op not in all_vars:
            all_vars.append(t.op)
    for v in all_vars:
        if v not in loaded:
            load(v)
    needs_ctx = any(not isinstance(s, KernelStep) for s in sched.steps)
    np_writes = any(not isinstance(s, KernelStep) and any(w for _, w in var_accesses(s)) for s in sched.steps)
    if kernel_vars:
        lines.insert(0, "global " + ", ".join(f"_ok{v._id}" for v in kernel_vars))
    if needs_ctx:
        lines.append("ctx = _Context(state)")
    parts = []     # each step's lines
    snaps = {}
    limits = []    # the steps' static allocation-limit checks, in step order, before every step
    for si, step in enumerate(sched.steps):
        parts.append([])
        if isinstance(step, KernelStep):
            _emit_limit(step.ops, si, limits, ns)
            _emit_kernel(step, si, parts[-1], ns, kname, kin, var, shapes, sched, kernels_loaded[si], var_info,
                         one_d, np_inputs)
        else:
            _emit_numpy(step, si, parts[-1], ns, name, var, sched, snaps, owns, limits)
    body = interleave(sched.steps, parts, ns, lambda op: [name(t) for t in op.outputs])
    drain = ["    _drain(sp)"] if "_drain" in ns else []   # side steps a failing run leaves running
    if "_max_alloc" in ns:   # so a kernel's static check cannot fail half-way through a run (``schedule``)
        body[:0] = ["lim = _max_alloc()"] + limits
    guarded = sched.journal or np_writes
    checked = any(isinstance(s, KernelStep) and s.guards for s in sched.steps)
    if guarded or checked or drain:
        if np_writes:
            lines.append("store.begin()")
        for v in sched.journal:
            lines.append(f"sv{v._id} = None if v{v._id} is None else v{v._id}.copy()")
        restore = []
        if np_writes:
            restore.append("    store.rollback()")
        for v in sched.journal:
            restore.append(f"    if sv{v._id} is None: values.pop(_var{v._id}, None)")
            restore.append(f"    else: values[_var{v._id}] = sv{v._id}")
        lines.append("try:")
        lines.extend("    " + b for b in body)
        if checked:   # state is as before the run (journal): the reference redoes it
            lines.append("except _GuardFailed as e:")
            lines.extend(drain + restore)
            if needs_ctx:   # NumPy steps that ran undo what a redo would repeat (see _Context.on_retry)
                lines.append("    ctx.abandon()")
            lines.append("    return _fallback(state, feeds, e.args[0])")
        if guarded or drain:
            lines.append("except BaseException:")
            lines.extend(drain + restore)
            lines.append("    raise")
        if np_writes:
            lines.append("store.commit()")
    else:
        lines.extend(body)
    for i, t in enumerate(sched.var_fetch_end):   # as a local TF1 session shows it: after the updates
        lines.append(f"snap_end{i} = np.array(values[_var{t.op._id}], copy=True)")
    outs = []
    end_idx = {t: i for i, t in enumerate(sched.var_fetch_end)}
    for t in fetches:
        rank0 = shapes.get(t) is not None and len(shapes[t]) == 0
        if t in feed_name or t.op.type == "Const" or t in consts or (t.op not in kernel_of and t not in snaps
                                                        and t not in end_idx):
            outs.append(f"_detach({name(t)}, store, feeds)")
            continue
        if t in end_idx:
            expr = f"snap_end{end_idx[t]}"
        elif t not in snaps and _out_name(t, name) in one_d:
            outs.append(one_d[_out_name(t, name)] + "[0]")
            continue
        elif t in snaps:
            expr = snaps[t]
        elif t.dtype.is_ref_dtype:
            expr = f"snap{t.op._id}"
        else:
            expr = name(t)
        outs.append(expr + ("[()]" if rank0 else ""))
    lines.append("return [" + ", ".join(outs) + "]")
    src = "def run(state, feeds):\n" + "".join("    " + ln + "\n" for ln in lines)
    return src, ns


def _emit_limit(ops, si, checks, ns):
    """Add to ``checks`` the allocation-limit check of a step's static outputs (``lim`` is read
    once per run; ``runner_source`` runs every step's check before the first step)."""
    nbytes = static_output_bytes(ops)
    if nbytes >= CHECK_MIN_BYTES:
        ns[f"_nb{si}"], ns[f"_oom{si}"], ns["_max_alloc"] = nbytes, oom_checker(ops), max_alloc_bytes
        checks.append(f"if _nb{si} > lim: _oom{si}()")


def _out_name(t, name):
    """The runner variable of kernel output ``t``: its tensor name, or ``snap<id>`` for the value
    an assign leaves in its variable (a ref output)."""
    return name(t) if not t.dtype.is_ref_dtype else f"snap{t.op._id}"


def is_rank0(shape):
    """Is this (static or symbolic) shape rank 0? Such kernel operands are passed 1-d."""
    return shape is not None and len(tuple(shape)) == 0


def _emit_kernel(step, si, body, ns, name, kin, var, shapes, sched, loaded, var_info, one_d, np_inputs):
    def dim(src):
        return str(src) if isinstance(src, int) else f"{name(src[0])}.shape[{src[1]}]"

    if step.guards:
        what = ", ".join(f"'{o.name}'" for o in step.ops[:3]) + (" …" if len(step.ops) > 3 else "")
        ns[f"_guard{si}"] = f"operand shapes of the kernel of {what}"
        cond = " or ".join(f"{dim(a)} != {dim(b)}" for a, b in step.guards)
        body.append(f"if {cond}: raise _GuardFailed(_guard{si})")
    for v in step.writes:
        if v in sched.always_init:
            continue
        shape, dtype = var_info[v]
        ns[f"_vdt{v._id}"] = dtype
        body.append(f"if {var(v)} is None: {var(v)} = values[_var{v._id}] = "
                    f"_adopt{v._id}(values, np.empty({shape!r}, _vdt{v._id}))")
    fn, operands = loaded
    ns[f"_k{si}"] = fn
    args = []
    views = []
    for kind, obj in operands:
        if kind == "in":
            args.append(kin(obj))
        elif kind == "var":
            args.append(f"_ok{obj._id}_1" if is_rank0(var_info[obj][0]) else var(obj))
        elif is_rank0(shapes[obj]):
            oname = _out_name(obj, name)
            dtype = obj.dtype.base_dtype.as_np
            if obj in np_inputs:   # a NumPy step reads it: a buffer per run, and its 0-d view
                ns[f"_dt_{oname}"] = dtype
                body.append(f"{oname}_1 = np.empty((1,), _dt_{oname})")
                views.append(f"{oname} = {oname}_1.reshape(())")
                one_d[oname] = f"{oname}_1"
            else:                  # read by kernels, or fetched as a new scalar: never escapes
                ns[f"_s_{oname}_1"] = np.empty((1,), dtype)
                one_d[oname] = f"_s_{oname}_1"
            args.append(one_d[oname])
        else:
            oname = _out_name(obj, name)
            shape = (tuple(dim(d) for d in step.out_shapes[obj]) if not obj.dtype.is_ref_dtype
                     else var_info[variable_of(obj)][0])
            dtype = obj.dtype.base_dtype.as_np
            kind_ = sched.buffers.get(obj, "fresh")
            ns[f"_dt_{oname}"] = dtype
            if kind_ == "scratch":
                nb = dtype.itemsize * int(np.prod([int(d) for d in shape]))
                if nb > max_alloc_bytes():   # the reference raises ResourceExhaustedError for this op
                    from jitgraph.compiler.schedule import NotCompilable
                    raise NotCompilable(f"scratch buffer of {nb} bytes for {obj.name} exceeds the allocation limit")
                ns[f"_s_{oname}"] = np.empty(tuple(int(d) for d in shape), dtype)
                body.append(f"{oname} = _s_{oname}")
            elif kind_ == "reuse":
                ns["_reuse"], ns[f"_op_{oname}"], ns[f"_box_{oname}"] = reuse, obj.op, [None]
                body.append(f"{oname} = _reuse(_box_{oname}, {_shape_expr(shape)}, _dt_{oname}, _op_{oname})")
            elif kind_ == "pool":
                ns[f"_pool_{oname}"] = []
                body.append(f"{oname} = _take(_pool_{oname}, {_shape_expr(shape)}, _dt_{oname})")
            elif all(isinstance(d, int) for d in step.out_shapes.get(obj, ())):   # checked by _nb above
                body.append(f"{oname} = np.empty({_shape_expr(shape)}, _dt_{oname})")
            else:
                ns["_alloc"], ns[f"_op_{oname}"] = alloc_checked, obj.op
                body.append(f"{oname} = _alloc({_shape_expr(shape)}, _dt_{oname}, _op_{oname})")
            args.append(oname)
    if hasattr(operands, "partials"):   # a cut kernel (chunked_kernels.py)
        ns["_run_cut"] = run_cut
        body.append(f"_run_cut(_k{si}, ({', '.join(args)},), {operands.full}, {operands.partials!r}, "
                    f"{operands.flat})")
    elif getattr(operands, "split", None):   # a long chain (chains.py)
        ns["_run_split"] = run_split
        body.append(f"_run_split(_k{si}, ({', '.join(args)},), {operands.split!r})")
    else:
        body.append(f"_k{si}({', '.join(args)})")
    body.extend(views)


# NumPy steps whose results never alias an input (so a view-holding consumer is impossible)
NO_VIEW_CONSUMERS = {"MatMul", "_FusedMatMul"}


def _matmul_in_place_ok(op, sched):
    """Can this MatMul write into a buffer reused across runs? Its result must not be fetched and
    every consumer must be a kernel or a step that never returns a view of it (one set lookup:
    ``sched.np_reader_types``)."""
    t = op.outputs[0]
    if op.op_def.run is not None or t in sched.fetched or t.dtype.base_dtype.name not in ("float32", "float64"):
        return False
    if not sched.np_reader_types.get(t, set()) <= NO_VIEW_CONSUMERS:
        return False
    return all(x.dtype.is_ref_dtype or x.shape.ndims == 2 for x in op.inputs)


def _tape_unread(op, sched):
    """Is ``op`` a loop whose tape (its last output) no step of the plan reads and no fetch takes?"""
    if op.type != "While":
        return False
    return op.outputs[-1] not in sched.fetched and op.outputs[-1] not in sched.np_reader_types


def _emit_numpy(op, si, body, ns, name, var, sched, snaps, owns, limits):
    args, aliased = [], []
    for i, t in enumerate(op.inputs):
        if t.dtype.is_ref_dtype:
            v = variable_of(t)
            if i in op.op_def.ref_inputs:
                ns[f"_ref{v._id}"] = VarRef(v)
                args.append(f"_ref{v._id}")
            else:
                args.append(var(v))
                if (si, v) in sched.copy_reads:   # a later kernel overwrites v: no view of it may survive
                    aliased.append(var(v))
        else:
            args.append(name(t))
    outs = [name(t) for t in op.outputs]
    expr = inline_expr(op, args, ns, si)
    if op.op_def.run is None and expr is None:
        _emit_limit([op], si, limits, ns)
    if op.type == "MatMul" and _matmul_in_place_ok(op, sched):
        ns[f"_mm{si}"] = matmul_into(op, blocked=owns)
        body.append(f"{outs[0]} = _mm{si}({', '.join(args)})")
        return
    if expr is not None:
        body.append(f"r = ({expr},)")
        if op.type in SHAPE_QUERIES:      # a new array: it cannot share the variable's memory
            aliased = []
    else:
        ns[f"_np{si}"] = numpy_step(op, untaped=_tape_unread(op, sched))
        body.append(f"r = _np{si}(ctx, [{', '.join(args)}])")
    for i, t in enumerate(op.outputs):
        if t.dtype.is_ref_dtype:
            continue
        body.append(f"{outs[i]} = r[{i}]")
        for a in aliased:
            body.append(f"if _may_share({outs[i]}, {a}): {outs[i]} = {outs[i]}.copy()")
        if t in sched.kernel_inputs:   # kernels take C-contiguous arrays (a NumPy result may be a view)
            body.append(f"{outs[i]} = _contig({outs[i]})")
    for v, is_write in var_accesses(op):
        if is_write:
            body.append(f"{var(v)} = values.get(_var{v._id})")
            if f"_adopt{v._id}" in ns:
                body.append(f"if v{v._id} is not _ok{v._id}: v{v._id} = _adopt{v._id}(values, v{v._id})")
    for t in op.outputs:
        if t.dtype.is_ref_dtype and variable_of(t) is not None and t in sched.fetched:
            snaps[t] = f"snap{t.op._id}"
            body.append(f"snap{t.op._id} = values[_var{variable_of(t)._id}].copy()")


def _uninit_error(var, op):
    def make():
        if op is None:   # a fetched variable (read after the run)
            return errors.FailedPreconditionError(None, var, f"Attempting to use uninitialized value {var.name}")
        return errors.FailedPreconditionError(
            None, op, f"Attempting to use uninitialized value {var.name} (read by op '{op.name}' of type {op.type})")
    return make


