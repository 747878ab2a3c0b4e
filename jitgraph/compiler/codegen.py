"""codegen: a ``KernelStep`` -> the source of a self-contained Numba module.

Before: a kernel step (member ops in program order, operands, iteration space, broadcast facts).
After: module text = fastmath prelude + the helpers it calls + one ``kernel(a0, a1, ...)``
decorated ``@njit(cache=True, nogil=True, error_model='numpy', fastmath=KERNEL_FASTMATH, ...)``.
Names are positional (``a<i>`` operands, ``t<i>`` values), so structurally equal kernels have
byte-equal source and share one disk-cache entry. Loop nest: one flat loop when every operand
is full-size or a scalar, else one loop per dim with index 0 on broadcast dims. Member ops are
emitted in program order per element, so reads and in-place writes of a variable keep their order.
The outermost loop is a ``prange`` when the kernel is large (``parallel_threshold``).

A reduction over the inner dims only (row sums of a loss) sums in a scalar across the inner loops
and stores each result once (``_inner_start``).
A reduction over other dims (batch norm's per-channel sums over [N, H, W, C]) of a large
kernel (``LOCAL_REDUCTION_MIN``) accumulates in an array the kernel allocates, copied into the
result after the loop: LLVM knows that array aliases no operand, so the loop over channels
vectorizes (a [32, 32, 32, 32] sum over three axes, 0.29 -> 0.16 ms on one core; the same at 64
channels). When such a kernel is large and the
reduction runs across the outer loop, that loop runs as ``REDUCTION_CHUNKS`` chunks in a
``prange``, each chunk reducing into its own row of the array, and the rows are combined after.
In a plan whose library ops run on the chunk workers (convs, pools), a large kernel that can be
cut along dim 0 is instead generated in the form ``chunked_kernels.py`` describes: the caller and
the workers claim its chunks from an atomic counter.
A ``multi_apply`` group is the members' (byte-equal) kernel renamed ``part`` plus a ``kernel``
driver that calls it once per member, one after another (``group_source``); a member of that form
left alone calls the same module's ``part`` (``Operands.entry``), so it compiles nothing more.

Rank-0 operands are passed as 1-element 1-d arrays and indexed ``[0]`` (``SCALAR_AS_1D``): Numba
types a 0-d array argument on its slow path (~0.25 us more per argument and call than a 1-d one),
which is most of a tiny plan's run time. The runner passes ``x.reshape(1)`` views (see runner.py).
"""

import re

from jitgraph.compiler import chunked_kernels, fastmath, lowering

# Kernel fast-math flags: fastmath.py's set minus 'afn' and 'arcp'. With those two, LLVM turns
# 1/sqrt(x) into an rsqrt estimate plus a Newton step, which gives NaN instead of inf at x = 0
# (found by the op-table test); 'reassoc' (vectorized reductions), 'contract' (FMA) and 'nsz'
# keep the speed. No 'nnan'/'ninf': NaN and Inf keep IEEE semantics.
KERNEL_FASTMATH = "KERNEL_FASTMATH = {'contract', 'reassoc', 'nsz'}\n"
DECO = ("@njit(cache=True, nogil=True, error_model='numpy', fastmath=KERNEL_FASTMATH, boundscheck=False{par})\n")


# Chunks of a parallel loop that reduces across dim 0 (at most; one per index when dim 0 is shorter).
# A constant, not ``numba.get_num_threads()``: calling that makes a kernel uncacheable on disk.
REDUCTION_CHUNKS = 32
# Spaces of at least this many elements (run-time dims counted as 1) reduce into a local array.
LOCAL_REDUCTION_MIN = 1 << 12

SCALAR_AS_1D = True   # the runner relies on it: rank-0 operands arrive with shape (1,)


def _ctor(t):
    return lowering.CTOR[t.dtype.base_dtype.name]


def _pattern(shape, space):
    """Per space dim: the operand axis to index, or None where it broadcasts (index 0)."""
    shape = tuple(shape)
    off = len(space) - len(shape)
    pat = []
    for d in range(len(space)):
        j = d - off
        if j < 0 or (shape[j] == 1 and space[d] != 1):
            pat.append(None)
        else:
            pat.append(j)
    return pat, len(shape)


def kernel_source(step, shapes, var_shapes, parallel, chunks=False):
    """Return ``(source, operand_list)`` for ``step``; operands are ('in'|'var'|'out', obj).
    ``chunks``: the plan runs on jitgraph's chunk workers, so a kernel that can be cut along dim 0
    is generated in chunk form (``chunked_kernels.py``) instead of as a ``prange``."""
    if getattr(step.kernel, "variance", None):
        return variance_source(step, parallel, shapes)
    if step.parts:   # a multi_apply group (or a member run alone through a group's module)
        return step.kernel.text, step.kernel.operands
    space = tuple(step.space)
    r = len(space)
    operands = [("in", t) for t in step.ins] + [("var", v) for v in step.vars] + [("out", t) for t, _ in step.outs]
    shape_of = {}
    for kind, obj in operands:
        shape_of[(kind, obj)] = var_shapes[obj] if kind == "var" else shapes[obj]
    red_out = {}
    for op in step.ops:
        if op.op_def.kind == "reduction":
            red_out[op] = lowering.reduction_spec(op)
    partial = any(len(s.axes) < r for s in red_out.values())
    opnd_index = {key: i for i, key in enumerate(operands)}
    # split inputs that ``_SplitPart`` members read with an offset (``views.py``): index -> (axis, size)
    views = {opnd_index[("in", op.inputs[0])]: (op.get_attr("axis"), op.get_attr("size"))
             for op in step.ops if op.type == "_SplitPart"}
    # ... and the results ``_ConcatParts`` members store their inputs into, each at its offset
    joins = {opnd_index[("out", op.outputs[0])] for op in step.ops if op.type == "_ConcatParts"}
    pats = {}
    for i, (kind, obj) in enumerate(operands):
        if (kind == "out" and obj.op in red_out) or i in views or i in joins:
            continue
        pats[i] = _pattern(shape_of[(kind, obj)], space)
    full = lambda p: all(x is not None for x in p[0]) and p[1] == r  # noqa: E731
    scalar = lambda p: all(x is None for x in p[0])  # noqa: E731
    flat = not views and not joins and (r <= 1 or (not partial and all(full(p) or scalar(p) for p in pats.values())))
    helpers, lines = [], []
    args = [f"a{i}" for i in range(len(operands))]
    names = {(kind, obj): f"a{i}" for i, (kind, obj) in enumerate(operands)}
    # iteration sizes
    dims = []
    for d in range(r):
        src = next((f"a{i}.shape[{p[0][d]}]" for i, p in pats.items() if p[0][d] is not None), None)
        if src is None:
            src = next((str(size) if d == axis else f"a{i}.shape[{d}]" for i, (axis, size) in views.items()), "1")
        dims.append(src)
    pre = []
    if flat and r > 1:
        first_full = next(i for i, p in pats.items() if full(p))
        pre.append(f"n = a{first_full}.size")
        for i, p in pats.items():
            if full(p):
                pre.append(f"a{i}f = a{i}.reshape(n)")
        idx_of = {i: (f"a{i}f[i]" if full(p) else f"a{i}[{_zeros(p[1])}]") for i, p in pats.items()}
        loops = ["i"]
        sizes = ["n"]
    elif r == 0:
        idx_of = {i: f"a{i}[{_zeros(p[1])}]" for i, p in pats.items()}
        loops, sizes = [], []
    else:
        for d in range(r):
            pre.append(f"n{d} = {dims[d]}")
        loops = [f"i{d}" for d in range(r)] if not flat else ["i"]
        sizes = [f"n{d}" for d in range(r)] if not flat else ["n0"]
        idx_of = {}
        for i, (pat, rank) in pats.items():
            if rank == 0:
                idx_of[i] = f"a{i}[0]"
                continue
            ix = ["0"] * rank
            for d, j in enumerate(pat):
                if j is not None:
                    ix[j] = loops[d] if not flat else "i"
            idx_of[i] = f"a{i}[{', '.join(ix)}]"
    cut_full = chunked_kernels.cut_operand(space, red_out, pats, operands, views or joins, full) if chunks else None
    cut = cut_full is not None
    # a large kernel whose only obstacle to ``prange`` is a reduction across dim 0 runs in chunks
    chunked = bool(parallel and r > 1 and not flat and not _parallel_ok(red_out, r) and not cut
                   and all(len(sp.axes) < r for sp in red_out.values()))
    # partial reductions into an array of the kernel's own: for large kernels (the allocation and
    # the copy cost more than they save on a [32, 64] bias gradient: a 64-layer MLP's step 4% slower)
    # every partial reduction over the inner dims ``inner..r-1``: a scalar per outer iteration
    inner = None if flat or cut or chunked else _inner_start(red_out, r)
    local = chunked or (partial and r > 1 and inner is None and _static_elements(space) >= LOCAL_REDUCTION_MIN)
    if cut:
        idx_of = chunked_kernels.sliced_indices(idx_of, pats, flat)
    elif local:
        pre.append(f"nch = max(1, min(n0, {REDUCTION_CHUNKS}))" if chunked else "nch = 1")
    # body
    body, after = [], []
    val, k = {}, [0]

    def fresh():
        k[0] += 1
        return f"t{k[0]}"

    hoisted = {}

    def load(t):
        if t in val:
            return val[t]
        i = opnd_index[("in", t)]
        if scalar(pats[i]) and r > 0:
            if t not in hoisted:
                hoisted[t] = fresh()
                pre.append(f"{hoisted[t]} = {idx_of[i]}")
            return hoisted[t]
        name = fresh()
        body.append(f"{name} = {idx_of[i]}")
        val[t] = name
        return name

    def read_var(t):
        from jitgraph.ops.state_ops import variable_of
        i = opnd_index[("var", variable_of(t))]
        name = fresh()
        body.append(f"{name} = {idx_of[i]}")
        return name

    def operand(op, t):
        return read_var(t) if t.dtype.is_ref_dtype else load(t)

    accs, partials, acc_init, acc_store = [], [], [], []
    for op in step.ops:
        typ = op.type
        if typ in ("Assign", "AssignAdd", "AssignSub"):
            from jitgraph.ops.state_ops import variable_of
            vi = opnd_index[("var", variable_of(op.inputs[0]))]
            v = operand(op, op.inputs[1])
            if typ != "Assign":
                cur = fresh()
                body.append(f"{cur} = {idx_of[vi]}")
                sign = "+" if typ == "AssignAdd" else "-"
                v2 = fresh()
                body.append(f"{v2} = {_ctor(op.inputs[1])}({cur} {sign} {v})")
                v = v2
            body.append(f"{idx_of[vi]} = {v}")
            if ("out", op.outputs[0]) in opnd_index:
                body.append(f"{idx_of[opnd_index[('out', op.outputs[0])]]} = {v}")
            continue
        if op.op_def.kind == "reduction":
            spec = red_out[op]
            oi = opnd_index[("out", op.outputs[0])]
            x = operand(op, op.inputs[0])
            acc_t = _acc_ctor(op)
            if len(spec.axes) == r:
                acc = f"acc{len(accs)}"
                accs.append(acc)
                pre.append(f"{acc} = {acc_t}({_ident(spec)})")
                if spec.combine == "add":
                    body.append(f"{acc} += {acc_t}({x})")
                else:
                    body.append(f"{acc} = {_combine(spec.combine, acc, f'{acc_t}({x})', op)}")
                cnt = " * ".join(f"n{d}" for d in range(r)) if not (flat and r > 1) else "n"
                res = f"{acc} / ({cnt or '1'})" if spec.mean else acc
                after.append(f"{_scalar_slot(oi, shape_of[operands[oi]])} = {_ctor(op.outputs[0])}({res})")
            else:
                oix = [loops[d] for d in range(r) if d not in spec.axes or spec.keepdims]
                if spec.keepdims:
                    oix = ["0" if d in spec.axes else loops[d] for d in range(r)]
                if inner is not None:   # in a scalar across the inner loops, stored once after them
                    acc = f"acc{len(accs)}"
                    accs.append(acc)
                    acc_init.append(f"{acc} = {_ctor(op.outputs[0])}({_ident(spec)})")
                    body.append(f"{acc} = {_ctor(op.outputs[0])}({_combine(spec.combine, acc, x, op)})")
                    acc_store.append(f"a{oi}[{', '.join(oix)}] = {acc}")
                elif cut:       # into q<oi>, then row ``ch`` of the argument p<oi>; combined (and a
                    # mean divided) by ``chunked_kernels.run``
                    tgt = f"q{oi}[{', '.join(oix)}]"
                    partials.append((oi, _ident(spec), spec.combine, tuple(spec.axes) if spec.mean else None))
                elif local:   # into the kernel's own p<oi>, a row per chunk, combined after the loop
                    tgt = f"p{oi}[{', '.join(['ch' if chunked else '0'] + oix)}]"
                    pre.append(f"p{oi} = np.empty((nch,) + a{oi}.shape, a{oi}.dtype)")
                    pre.append(f"p{oi}.fill({_ident(spec)})")
                    after.extend(_merge_chunks(oi, spec.combine, op))
                else:
                    tgt = f"a{oi}[{', '.join(oix)}]" if oix else _scalar_slot(oi, shape_of[operands[oi]])
                    pre.append(f"a{oi}.fill({_ident(spec)})")
                if inner is None:
                    body.append(f"{tgt} = {_combine(spec.combine, tgt, x, op)}")
                if spec.mean and not cut:
                    cnt = " * ".join(f"n{d}" for d in spec.axes) or "1"
                    after.append(f"a{oi}f = a{oi}.reshape(a{oi}.size)")
                    after.append(f"for j in range(a{oi}.size):")
                    after.append(f"    a{oi}f[j] = {_ctor(op.outputs[0])}(a{oi}f[j] / ({cnt}))")
            continue
        if typ == "_SplitPart":     # the part read in place: the split input at an offset
            ix = list(loops)
            axis, begin = op.get_attr("axis"), op.get_attr("begin")
            ix[axis] = f"{ix[axis]} + {begin}" if begin else ix[axis]
            name = fresh()
            body.append(f"{name} = a{opnd_index[('in', op.inputs[0])]}[{', '.join(ix)}]")
            val[op.outputs[0]] = name
            if ("out", op.outputs[0]) in opnd_index:
                body.append(f"{idx_of[opnd_index[('out', op.outputs[0])]]} = {name}")
            continue
        if typ == "_ConcatParts":    # each input stored into the result at its offset
            oi, axis, size = opnd_index[("out", op.outputs[0])], op.get_attr("axis"), op.get_attr("size")
            for part, t in enumerate(op.inputs):
                ix = list(loops)
                ix[axis] = f"{ix[axis]} + {part * size}" if part else ix[axis]
                body.append(f"a{oi}[{', '.join(ix)}] = {operand(op, t)}")
            continue
        tmpl, hs = ("{0}", ()) if typ == "Identity" else lowering.elementwise_template(op)
        helpers.extend(h for h in hs if h not in helpers)
        xs = [operand(op, t) for t in op.inputs]
        name = fresh()
        expr = tmpl.format(*xs)
        if op.outputs[0].dtype.base_dtype.name != "bool":
            expr = f"{_ctor(op.outputs[0])}({expr})"
        body.append(f"{name} = {expr}")
        val[op.outputs[0]] = name
        key = ("out", op.outputs[0])
        if key in opnd_index:
            body.append(f"{idx_of[opnd_index[key]]} = {name}")
    # assemble
    if cut:
        return chunked_kernels.chunk_source(helpers, args, pre, partials, loops, sizes, body, pats, flat, operands,
                                            cut_full)
    par = ", parallel=True" if chunked or parallel and loops and _parallel_ok(red_out, r) else ""
    src = [fastmath.PRELUDE, KERNEL_FASTMATH]
    if helpers:    # a one-thread kernel asks for 512-bit vectors (see llvm_tuning.WIDE_VECTORS)
        src.append(fastmath.helper_source(helpers, wide=not par) + "\n\n")
    src.append(DECO.format(par=par) + f"def kernel({', '.join(args)}):\n")
    ind = "    "
    src.extend(ind + ln + "\n" for ln in pre)
    depth = 1
    if chunked:
        src.append(ind + "for ch in prange(nch):\n")
        depth = 2
    for d, (lv, n) in enumerate(zip(loops, sizes)):
        if d == inner:
            src.extend(ind * depth + ln + "\n" for ln in acc_init)
            outer_depth = depth
        rng = "prange" if par and d == 0 and not chunked else "range"
        bounds = f"ch * {n} // nch, (ch + 1) * {n} // nch" if chunked and d == 0 else n
        src.append(ind * depth + f"for {lv} in {rng}({bounds}):\n")
        depth += 1
    src.extend(ind * depth + ln + "\n" for ln in body)
    if inner is not None:
        src.extend(ind * outer_depth + ln + "\n" for ln in acc_store)
    src.extend(ind + ln + "\n" for ln in after)
    src.append(ind + "return 0\n")
    text = "".join(src)
    if par:
        text = text.replace("from numba import njit\n", "from numba import njit, prange\n", 1)
    return text, operands


def _merge_chunks(oi, combine, op):
    """Lines combining the chunks' rows of ``p<oi>`` into the reduction result ``a<oi>``."""
    return [f"a{oi}f = a{oi}.reshape(a{oi}.size)",
            f"p{oi}f = p{oi}.reshape(nch, a{oi}.size)",
            f"for pj in range(a{oi}.size):",
            f"    ps = p{oi}f[0, pj]",
            "    for pc in range(1, nch):",
            f"        ps = {_combine(combine, 'ps', f'p{oi}f[pc, pj]', op)}",
            f"    a{oi}f[pj] = ps"]


class Operands(list):
    """A kernel's operand list; ``entry`` names the module function the runner calls."""

    entry = "kernel"


def group_source(form, parts):
    """The module of a ``multi_apply`` group: the form's kernel ``form`` (every member's source),
    renamed ``part``, and a ``kernel`` driver calling it once per member in program order.
    ``parts``: each member's operand list. The driver's operands are the members' operands in
    order, each once (a learning rate shared by every member is passed once)."""
    operands, slot, calls = Operands(), {}, []
    for ops in parts:
        args = []
        for key in ops:
            if key not in slot:
                slot[key] = len(operands)
                operands.append(key)
            args.append(f"a{slot[key]}")
        calls.append(f"    part({', '.join(args)})\n")
    head, sep, tail = form.rpartition("def kernel(")
    text = (head + sep.replace("kernel", "part") + tail + "\n\n" + DECO.format(par="")
            + f"def kernel({', '.join(f'a{i}' for i in range(len(operands)))}):\n" + "".join(calls)
            + "    return 0\n")
    return text, operands


def chain_source(form, link, out, parts):
    """The module of a ``chains`` run: the form's kernel ``form`` with its body run ``parts`` times,
    operand ``a<link>`` read and ``a<out>`` written through ``jg_src``/``jg_dst``: the chain's input
    and two buffers of its own in the first pass, those buffers and its output in the last."""
    head, sep, tail = form.rpartition("def kernel(")
    sig, _, body = tail.partition(":\n")
    lines = body.rstrip("\n").split("\n")
    assert lines[-1] == "    return 0", "a kernel's source ends with its return"
    rename = [(re.compile(rf"\ba{link}(f?)\b"), r"jg_src\1"), (re.compile(rf"\ba{out}(f?)\b"), r"jg_dst\1")]

    def renamed(ln):
        for pat, rep in rename:
            ln = pat.sub(rep, ln)
        return ln
    loop = [f"jg_b0 = np.empty_like(a{out})",
            f"jg_b1 = np.empty_like(a{out})",
            f"for jg_part in range({parts}):",
            f"    jg_src = a{link} if jg_part == 0 else (jg_b0 if jg_part % 2 == 1 else jg_b1)",
            f"    jg_dst = a{out} if jg_part == {parts - 1} else (jg_b0 if jg_part % 2 == 0 else jg_b1)"]
    text = "".join(f"    {ln}\n" for ln in loop) + "".join(f"    {renamed(ln)}\n" for ln in lines[:-1])
    return head + sep + sig + ":\n" + text + "    return 0\n"


def _static_elements(space):
    """Elements of the space's dims known at build time (a run-time dim counts as 1)."""
    n = 1
    for d in space:
        n *= d if isinstance(d, int) else 1
    return n


def _inner_start(red_out, r):
    """``k`` (>= 1) when every partial reduction reduces exactly the inner dims ``k..r-1``, else None.
    Such a kernel sums each result in a scalar across its inner loops (LLVM vectorizes that sum;
    a store per element into the result does not vectorize: P10's word2vec loss, a [128, 65] row
    sum fused with its 18 elementwise neighbours, took 0.18 ms that way)."""
    starts = {min(s.axes) if s.axes and sorted(s.axes) == list(range(min(s.axes), r)) else None
              for s in red_out.values() if len(s.axes) < r}
    return starts.pop() if len(starts) == 1 and None not in starts and 0 not in starts else None


def _parallel_ok(red_out, r):
    """prange over dim 0 is safe when no reduction combines across it except a full sum."""
    for s in red_out.values():
        if len(s.axes) == r and s.combine != "add":
            return False
        if len(s.axes) < r and 0 in s.axes:
            return False
    return True


def _zeros(rank):
    """Index of the only element of a size-1 operand of ``rank`` (rank 0 arrives as shape (1,))."""
    return ", ".join(["0"] * rank) if rank else "0"


def _scalar_slot(i, shape):
    """Target of a one-value store into operand ``a<i>``: ``[0]`` for a rank-0 operand (passed 1-d),
    else ``[()]`` (a broadcast store: every element of a size-1 array of any rank)."""
    return f"a{i}[0]" if len(tuple(shape)) == 0 else f"a{i}[()]"


def _acc_ctor(op):
    dt = op.inputs[0].dtype.base_dtype
    spec = lowering.reduction_spec(op)
    if spec.combine in ("add", "mul"):
        if dt.is_floating:
            return "np.float64"
        if dt.is_integer:
            return "np.uint64" if dt.is_unsigned else "np.int64"
    return lowering.CTOR[op.outputs[0].dtype.base_dtype.name]


def _ident(spec):
    v = spec.identity
    if v in ("inf", "-inf"):
        return "-np.inf" if v == "-inf" else "np.inf"
    return repr(v)


def _combine(c, a, x, op):
    if c == "add":
        return f"{a} + {x}"
    if c == "mul":
        return f"{a} * {x}"
    fl = op.inputs[0].dtype.base_dtype.is_floating
    if c == "max":
        return f"np.maximum({a}, {x})" if fl else f"max({a}, {x})"
    if c == "min":
        return f"np.minimum({a}, {x})" if fl else f"min({a}, {x})"
    if c == "and":
        return f"{a} and {x}"
    return f"{a} or {x}"


def variance_source(step, parallel, shapes):
    """One pass over x for ``mean = reduce_mean(x)``, ``sum((x - mean)**2)`` (see patterns.py)."""
    from jitgraph.ops.state_ops import variable_of
    x, mean_op, sum_op = step.kernel.variance
    operands = [("in", t) for t in step.ins] + [("var", v) for v in step.vars] + [("out", t) for t, _ in step.outs]
    key = ("var", variable_of(x)) if x.dtype.is_ref_dtype else ("in", x)
    xi = operands.index(key)
    names = {o: f"a{i}" for i, (kind, o) in enumerate(operands) if kind == "out"}
    par = parallel and len(step.space) > 0
    out = [fastmath.PRELUDE.replace("from numba import njit\n", "from numba import njit, prange\n") if par
           else fastmath.PRELUDE, KERNEL_FASTMATH,
           DECO.format(par=", parallel=True" if par else ""),
           f"def kernel({', '.join(f'a{i}' for i in range(len(operands)))}):\n",
           f"    x = a{xi}.reshape(a{xi}.size)\n",
           "    n = x.size\n",
           "    c = np.float64(x[0]) if n > 0 else 0.0\n",
           "    s1 = 0.0\n",
           "    s2 = 0.0\n",
           f"    for i in {'prange' if par else 'range'}(n):\n",
           "        d = np.float64(x[i]) - c\n",
           "        s1 += d\n",
           "        s2 += d * d\n"]
    ctor_m, ctor_s = _ctor(mean_op.outputs[0]), _ctor(sum_op.outputs[0])
    slot = {o: _scalar_slot(names[o][1:], shapes[o]) for o in (mean_op.outputs[0], sum_op.outputs[0]) if o in names}
    if mean_op.outputs[0] in names:
        out.append(f"    {slot[mean_op.outputs[0]]} = {ctor_m}(c + s1 / n)\n")
    out.append(f"    {slot[sum_op.outputs[0]]} = {ctor_s}(s2 - s1 * s1 / n)\n")
    out.append("    return 0\n")
    return "".join(out), operands
