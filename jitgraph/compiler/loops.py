"""Native loops: a ``While`` (and the ``WhileGrad`` running its gradient) compiled into one Numba
function that runs every iteration without returning to Python.

Hook: the compiled plan runs a loop op as a NumPy step, which calls ``OPS[type].extra["fast"]``
(registered below) instead of the reference ``run``. On the first call with a new argument
signature the loop is lowered (``loop_body``, ``loop_ops``) against the argument values' kinds,
ranks and dtypes (sizes stay run-time values: a new batch size reuses the function) and the
generated module is compiled and cached on disk like the kernels. A loop whose condition or body
uses something the lowering lacks (see ``loop_ops``: random ops, strings, gather, a TensorArray
that grows, a nested loop or cond whose gradient is taken, ...) runs on the reference loop: a
Python loop over the body's pre-resolved NumPy steps. A native loop that meets a run-time
condition it cannot handle (a loop variable changing shape, a TensorArray index out of range)
restores the variables it wrote and reruns the op on the reference, which gives TF's result or
error. ``report()`` (in ``Session.cache_info()['loops']``) says which loops run natively and why
the others do not.
"""

import sys
import threading

import numpy as np

from jitgraph.compiler import config
from jitgraph.compiler.loop_body import BodyCtx, Recorder, carried_init, carry, emit_loop
from jitgraph.compiler.loop_ops import drop_dead_buffers, materialize, store
from jitgraph.compiler.loop_values import DECO_FLAGS, Block, Emitter, TAInfo, Unsupported, V, literal, shape_src
from jitgraph.compiler.loop_runner import Runner, ta_elem_rank, ta_known
from jitgraph.control_flow.tape import LoopTape, unbox
from jitgraph.control_flow.tensor_array import TAValue

_lock = threading.Lock()
_report = {}    # op name -> {"tier", "reason", "compile_s"}


def report():
    """``{loop op name: {"tier": "native" | "reference", "reason", "compile_s"}}`` of every loop
    that ran in a compiled plan (all sessions of this process)."""
    with _lock:
        return {k: dict(v) for k, v in _report.items()}


def _note(op, tier, reason="", seconds=0.0):
    with _lock:
        _report[op.name] = {"tier": tier, "reason": reason, "compile_s": seconds}
    if config.debug() >= 1:
        print(f"[jitgraph] loop {op.name}: {tier}" + (f" ({reason})" if reason else "")
              + (f", compiled in {seconds * 1e3:.0f} ms" if seconds else ""), file=sys.stderr)


def native_run(ctx, op, args, record=True):
    """``extra["fast"]`` of ``While``/``WhileGrad``: the native loop if it lowers, else the reference.
    ``record=False`` (a ``While`` whose tape nothing reads): the loop keeps no values for a gradient."""
    spec = op.get_attr("spec")
    cache = spec.__dict__.setdefault("native", {})
    key = _signature(op, spec, args) + (record,)
    lowered = cache.get(key)
    if lowered is None:
        lowered = cache[key] = _lower(op, spec, args, record)
    if lowered is False:
        return op.op_def.run(ctx, op, args)
    return lowered(ctx, op, args)


def _signature(op, spec, args):
    out = [len(getattr(spec, "recorded", ()))]
    for t, a in zip(op.inputs, args):
        if t.dtype.is_ref_dtype:
            out.append("ref")
        elif isinstance(a, np.ndarray) and a.dtype == object:
            v = unbox(a)
            if isinstance(v, TAValue):
                out.append(("ta", np.dtype(v.dtype).str, ta_elem_rank(v), ta_known(v)))
            else:
                out.append((type(v).__name__,))
        else:
            a = np.asarray(a)
            out.append((a.dtype.str, a.ndim))
    return tuple(out)


def _lower(op, spec, args, record=True):
    try:
        if op.type == "While":
            src, em, build = _source_while(op, spec, args, record)
        else:
            src, em, build = _source_grad(op, spec, args)
    except Unsupported as e:
        _note(op, "reference", str(e))
        return False
    if config.debug() >= 3:
        print(f"# ---- native loop {op.name}\n{src}", file=sys.stderr)
    try:
        from jitgraph.compiler.cache import register_kernel
        from jitgraph.compiler.disk_cache import load_module
        config.ensure_threading()
        fn = load_module(src).loop
        register_kernel(fn)
        return Runner(fn, em, build, [v for v, w in spec.accesses() if w], _note, source=src)
    except Exception as e:   # noqa: BLE001 - correctness never depends on Numba
        if config.strict():
            raise
        _note(op, "reference", f"compile failed: {type(e).__name__}: {e}")
        return False


# ---- arguments -----------------------------------------------------------------------------------
def _input_values(em, op, args, positions, rank_hint=lambda i: None):
    """Values (``V``) for op inputs at ``positions``: arrays, scalars (1-element arrays) and
    TensorArrays (dense buffer, written mask, size; ``rank_hint(i)``: the element rank the body
    writes, for an array that does not know it yet)."""
    out = {}
    for i in positions:
        t, a = op.inputs[i], args[i]
        if t.dtype.is_ref_dtype:
            continue
        if isinstance(a, np.ndarray) and a.dtype == object:
            v = unbox(a)
            if not isinstance(v, TAValue):
                raise Unsupported(f"loop input {t.name} holds a {type(v).__name__}")
            rank = ta_elem_rank(v)
            rank = rank if rank is not None else rank_hint(i)
            if rank is None:
                raise Unsupported(f"TensorArray {t.name} of unknown element rank")
            buf = em.arg("ta", ("ta_buf", i, rank))
            mask = em.arg("tm", ("ta_mask", i))
            size = em.dim(f"{mask}.shape[0]")
            known = ta_known(v)
            elem = tuple(em.dim(f"{buf}.shape[{j + 1}]") for j in range(rank)) if known else (0,) * rank
            out[i] = V("ta", buf, v.dtype, ta=TAInfo(buf, mask, size, elem, v.dtype, pending=not known))
            continue
        a = np.asarray(a)
        from jitgraph.compiler.loop_values import ctor
        ctor(a.dtype)
        name = em.arg("a", ("in", i))
        if a.ndim == 0:
            s = em.fresh("x")
            em.pro.add(f"{s} = {name}[0]")
            out[i] = V("scalar", s, a.dtype)
        else:
            static = t.shape.as_list() if t.shape.ndims == a.ndim else [None] * a.ndim
            shape = tuple(d if d is not None else em.dim(f"{name}.shape[{j}]") for j, d in enumerate(static))
            out[i] = V("array", name, a.dtype, shape)
    return out


def _module(em, block, returns):
    from jitgraph.compiler import fastmath
    head = [fastmath.PRELUDE, DECO_FLAGS]
    if em.helpers:
        head.append(fastmath.helper_source(em.helpers) + "\n\n")
    if "jg_grow(" in "".join(block.lines):
        head.append(_GROW)
    if em.mailbox_used():
        head.append("from jitgraph.kernels.loop_gemm import shared_dot as jg_sdot\n\n")
    head.append("@njit(cache=True, nogil=True, error_model='numpy', fastmath=LOOP_FASTMATH, boundscheck=False)\n")
    head.append(f"def loop({', '.join(n for n, _ in em.args)}):\n")
    block.flush()
    body = em.pro.lines + em.guard_lines() + block.lines + ["    return (" + "".join(f"{r}, " for r in returns) + ")"]
    return "".join(head) + "\n".join(drop_dead_buffers(body, em.buffers)) + "\n"


# (a flat copy loop: slice assignment ``new[:k] = st[:k]`` costs Numba seconds to compile)
_GROW = """@njit(cache=True, nogil=True)
def jg_grow(st, k):
    new = np.empty((st.shape[0] * 2 + 1,) + st.shape[1:], st.dtype)
    nf = new.reshape(new.size)
    sf = st.reshape(st.size)
    for i in range(k * (sf.size // max(st.shape[0], 1))):
        nf[i] = sf[i]
    return new


"""


# ---- While ---------------------------------------------------------------------------------------
def _source_while(op, spec, args, record=True):
    em = Emitter()
    n = spec.n_vars
    vals = _input_values(em, op, args, range(len(op.inputs)), lambda i: _written_rank(spec.body, i, n))
    inits = [vals[j] for j in range(n)]
    block = Block(1)
    rec = Recorder(em, spec.recorded, _bound(spec) is not None) if spec.recorded and record else None
    res = emit_loop(em, block, spec.cond, spec.body, inits, [vals[i] for i in spec.cond_pos],
                    [vals[i] for i in spec.body_pos], rec)
    cur, k = res if rec is not None else (res, "0")
    stacks = [s for s in rec.stacks] if rec is not None else []
    if any(s is None for s in stacks):
        raise Unsupported("a recorded value the body does not compute")
    returns, build = [k], []
    for j, c in enumerate(cur):
        if c.kind == "ta":
            returns += [c.ta.buf, c.ta.mask]
            build.append(("ta", j))
        else:
            returns.append(c.name)
            build.append(("array" if c.kind == "array" else "scalar", j))
    returns += stacks
    return _module(em, block, returns), em, ("while", build, len(stacks), _bound(spec))


def _bound(spec):
    """``(counter var, limit input)`` when the condition is TF1's ``counter < maximum_iterations and
    ...`` with a counter the body adds 1 to: the number of iterations is at most limit - counter."""
    cond, body, n = spec.cond, spec.body, spec.n_vars
    out = cond.outputs[0].op
    if out.type != "LogicalAnd":
        return None
    less = out.inputs[0].op
    if less.type != "Less" or less.inputs[0] not in cond.inputs[:n] or less.inputs[1] not in cond.inputs[n:]:
        return None
    j = cond.inputs.index(less.inputs[0])
    limit = spec.cond_pos[cond.inputs[n:].index(less.inputs[1])]
    step = body.outputs[j].op
    from jitgraph.ops.registry import constant_value
    if step.type != "Add" or step.inputs[0] is not body.inputs[j] or constant_value(step.inputs[1]) != 1:
        return None
    return j, limit


def _written_rank(body, i, n):
    """The rank of what the body writes into loop variable ``i`` (a TensorArray), if static."""
    if i >= n:
        return None
    ph = body.inputs[i]
    for op in body.ops:
        if op.type == "TensorArrayWriteV3" and op.inputs[0] is ph and op.inputs[2].shape.ndims is not None:
            return op.inputs[2].shape.ndims
    return None


# ---- WhileGrad -----------------------------------------------------------------------------------
def _source_grad(op, spec, args):
    em = Emitter()
    tape = unbox(args[0])
    if not isinstance(tape, LoopTape):
        raise Unsupported("gradient loop without a loop tape")
    nc = spec.n_carried
    vals = _input_values(em, op, args, range(1, len(op.inputs)))
    n = em.arg("n", ("tape_n",))
    body = spec.body
    stacks = []
    for j in spec.keys:
        st = em.arg("st", ("stack", j))
        stacks.append(st)
    block = Block(1)
    cur = carried_init(em, block, [vals[1 + c] for c in range(nc)])
    caps = [vals[i] for i in spec.cap_pos]
    k = em.fresh("k")
    block.add(f"for {k} in range({n}[0] - 1, -1, -1):")
    inner = block.sub()
    cuts = []
    for st, t in zip(stacks, body.inputs[nc + len(caps):]):
        rank = t.shape.ndims
        if rank is None:
            raise Unsupported(f"recorded value {t.name} of unknown rank")
        if rank == 0:
            name = em.fresh("s")
            inner.add(f"{name} = {st}[{k}]")
            cuts.append(V("scalar", name, t.dtype.base_dtype.as_np))
        else:
            name = em.fresh("w")
            inner.add(f"{name} = {st}[{k}]")
            static = t.shape.as_list()
            shape = tuple(static[d] if static[d] is not None else em.dim(f"{st}.shape[{d + 1}]") for d in range(rank))
            cuts.append(V("array", name, t.dtype.base_dtype.as_np, shape))
    ctx = BodyCtx(em, body, zip(body.inputs, cur + caps + cuts))
    deferred = _defer_weight_grads(em, ctx, spec, body, stacks, nc + len(caps), n, k)
    outs = ctx.emit(inner)
    accs = []
    for a, how in enumerate(spec.acc):
        like = vals.get(spec.like[a])
        if a in deferred:
            st, g_stack = deferred[a]
            accs.append(("deferred", stacks.index(st), g_stack[0]))
            continue
        if how[0] == "dense":
            g = materialize(em, inner, outs[how[1]])
            shape = () if g.kind == "scalar" else g.shape
            acc = em.buffer(shape if shape else (1,), g.dtype, zero=True)
            store(em, inner, shape, g, acc, "+=") if shape else inner.add(f"{acc}[0] += {g.name}")
            accs.append(("buf", acc, shape == ()))
        else:
            row, g = materialize(em, inner, outs[how[1]]), materialize(em, inner, outs[how[2]])
            if like is None or like.kind != "ta" or row.kind != "scalar":
                raise Unsupported("row accumulation into something that is not a TensorArray")
            acc = em.buffer((like.ta.size,) + tuple(g.shape), g.dtype, zero=True)
            inner.add(f"if {row.name} < 0 or {row.name} >= {like.ta.size}: {em.error('gradient row out of range')}")
            r = em.fresh("w")
            if g.kind == "scalar":
                inner.add(f"{acc}[{row.name}] += {g.name}")
            else:
                inner.add(f"{r} = {acc}[{row.name}]")
                store(em, inner, g.shape, g, r, "+=")
            accs.append(("buf", acc, False))
    new = []
    for c, i in zip(cur, spec.dx):
        if i is not None:
            new.append(outs[i])
        elif c.kind == "scalar":
            new.append(V("scalar", literal(0, c.dtype), c.dtype))
        else:
            z = em.buffer(c.shape, c.dtype, zero=True)
            new.append(V("array", z, c.dtype, c.shape))
    carry(em, inner, cur, new, "gradient loop")
    returns = [c.name for c in cur]
    for i, a in enumerate(accs):
        if a[0] == "deferred":   # A and G over all iterations (rows of every k): the runner takes A^T G
            st, g = stacks[a[1]], a[2]
            returns.append(f"{st}[:{n}[0]].reshape({n}[0] * {st}.shape[1], {st}.shape[2])")
            returns.append(f"{g}.reshape({n}[0] * {g}.shape[1], {g}.shape[2])")
        else:
            returns.append(a[1])
    build = [("scalar" if c.kind == "scalar" else "array", j) for j, c in enumerate(cur)]
    extra = [(a[0], a[0] == "buf" and a[2]) for a in accs]
    return _module(em, block, returns), em, ("grad", build, extra, None)


def _defer_weight_grads(em, ctx, spec, body, stacks, first_cut, n, k):
    """A weight gradient summed over iterations, ``sum_k matmul(a_k, g_k, transpose_a=True)`` with
    ``a_k`` a recorded value, becomes one matmul after the loop over all iterations at once
    (``[n * rows, cols]^T x [n * rows, gcols]``: one large BLAS call instead of n small ones plus n
    additions): the loop only stacks ``g_k``, and returns both operands; the runner multiplies them
    with NumPy's BLAS on all its threads (the loop's own BLAS runs on one, see ``loop_runner``).
    Returns ``{acc index: (stack of a, (G name,))}``."""
    out = {}
    for a, how in enumerate(spec.acc):
        if how[0] != "dense":
            continue
        t = body.outputs[how[1]]
        mm = t.op
        if (mm.type != "MatMul" or not mm.attrs.get("transpose_a") or mm.attrs.get("transpose_b")
                or body.outputs.count(t) != 1 or ctx.consumers.get(t) or mm.inputs[0] not in body.inputs[first_cut:]):
            continue
        st = stacks[body.inputs[first_cut:].index(mm.inputs[0])]
        g_name = em.fresh("gs")

        def emit(em_, block, op, ins, ctx_, g_name=g_name):
            from jitgraph.compiler.loop_ops import contiguous
            g = contiguous(em_, block, ins[1])
            em_.pro.add(f"{g_name} = np.empty(({n}[0],) + {shape_src(g.shape)}, np.{g.dtype.name})")
            row = em_.fresh("w")
            block.add_view(f"{row} = {g_name}[{k}]")
            store(em_, block, g.shape, g, row)
            return [V("none")]
        ctx.overrides[mm] = emit
        out[a] = (st, (g_name,))
    return out
