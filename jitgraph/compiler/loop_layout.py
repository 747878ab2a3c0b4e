"""Native-loop code for the layout and library ops of a body (see ``loop_ops.py`` for the
elementwise core): matmuls (large ones shared with chunk workers, ``kernels/loop_gemm.py``),
concat/transpose as copy loops, split/slice/reshape as views, constants as arguments."""

import numpy as np

from jitgraph.compiler.loop_ops import Spec, contiguous, emit_reduction, materialize, open_loop, static_ints, store
from jitgraph.compiler.loop_values import Unsupported, V, broadcast_shape, view_base
from jitgraph.kernels import blas


def emit_matmul(em, block, op, ins, ctx):
    a, b = (contiguous(em, block, x) for x in ins)
    if len(a.shape) != 2 or len(b.shape) != 2 or a.dtype.kind != "f" or a.dtype != b.dtype:
        raise Unsupported("MatMul of non-2-D or non-float operands")
    if not blas.numba_can_call_blas():
        raise Unsupported("MatMul: Numba calls SciPy's BLAS, and SciPy is not installed")
    ta, tb = op.attrs.get("transpose_a"), op.attrs.get("transpose_b")
    m, k = (a.shape[1], a.shape[0]) if ta else a.shape
    k2, n = (b.shape[1], b.shape[0]) if tb else b.shape
    em.guard_equal(k, k2, op.name)
    buf = em.buffer((m, n), a.dtype)
    if ta:
        block.add(f"np.dot({a.name}.T, {b.name}{'.T' if tb else ''}, {buf})")
    else:   # rows split with a chunk worker when large (``kernels/loop_gemm.py``)
        block.add(f"jg_sdot({a.name}, {b.name}{'.T' if tb else ''}, {buf}, {em.mailbox()})")
    return [V("array", buf, a.dtype, (m, n), owned=True)]


def emit_concat(em, block, op, ins, ctx):
    axis = op.get_attr("axis")
    r = len(ins[0].shape)
    axis %= r
    dtype = op.outputs[0].dtype.base_dtype.as_np
    total = [x.shape[axis] for x in ins]
    size = sum(total) if all(isinstance(d, int) for d in total) else em.dim(" + ".join(str(d) for d in total))
    out_shape = tuple(size if i == axis else ins[0].shape[i] for i in range(r))
    for x in ins[1:]:
        for i in range(r):
            if i != axis:
                em.guard_equal(x.shape[i], ins[0].shape[i], op.name)
    buf = em.buffer(out_shape, dtype)
    off = "0"
    for x, d in zip(ins, total):
        view = em.fresh("w")
        sl = ", ".join(f"{off}:{off} + {d}" if i == axis else ":" for i in range(r))
        block.add_view(f"{view} = {buf}[{sl}]")
        if x.kind == "scalar":
            block.add(f"{view}[...] = {x.name}")
        else:
            store(em, block, x.shape, x, view, contig=False, base=(buf, tuple(off if i == axis else "0"
                                                                           for i in range(r))))
        off = f"{off} + {d}" if off != "0" else str(d)
    return [V("array", buf, dtype, out_shape, owned=True)]


def emit_split(em, block, op, ins, ctx):
    x = materialize(em, block, ins[0])
    if x.kind not in ("array", "ref"):
        raise Unsupported("Split of a non-array")
    axis = op.get_attr("axis") % len(x.shape)
    sizes = op.attrs.get("size_splits")
    if sizes is None:
        n = op.get_attr("num_split")
        d = x.shape[axis]
        sizes = [d // n if isinstance(d, int) else em.dim(f"{d} // {n}")] * n
    outs, off = [], "0"
    for s in sizes:
        name = em.fresh("w")
        sl = ", ".join(f"{off}:{off} + {s}" if i == axis else ":" for i in range(len(x.shape)))
        block.add_view(f"{name} = {x.name}[{sl}]")
        shape = tuple(s if i == axis else d for i, d in enumerate(x.shape))
        # (never ``contig``: Numba types a sliced view 'A', which it cannot flatten with reshape)
        outs.append(V("array", name, x.dtype, shape, contig=False, base=view_base(x, {axis: off})))
        off = f"{off} + {s}" if off != "0" else str(s)
    return outs


def emit_slice(em, block, op, ins, ctx):
    x = materialize(em, block, ins[0])
    begin = static_ints(op.inputs[1])
    size = static_ints(op.inputs[2])
    if size is None:          # concat's gradient slices to a Shape's dims
        size = ctx.dims_of(op.inputs[2])
    if begin is None or size is None or x.kind != "array":
        raise Unsupported("Slice with dynamic bounds")
    parts, shape = [], []
    for b, s, d in zip(begin, size, x.shape):
        if s == -1:
            s = d - b if isinstance(d, int) else em.dim(f"{d} - {b}")
        parts.append(f"{b}:{b} + {s}")
        shape.append(s)
    name = em.fresh("w")
    block.add_view(f"{name} = {x.name}[{', '.join(parts)}]")
    return [V("array", name, x.dtype, tuple(shape), contig=False, base=view_base(x, dict(enumerate(begin))))]


def emit_reshape_like(em, block, op, ins, ctx):
    x = ins[0]
    out = op.outputs[0]
    if out.shape.ndims is None:
        raise Unsupported("reshape to an unknown rank")
    if x.kind == "scalar":
        if out.shape.ndims == 0:
            return [x]
        buf = em.buffer((1,) * out.shape.ndims, x.dtype)
        block.add(f"{buf}[{', '.join('0' for _ in range(out.shape.ndims))}] = {x.name}")
        return [V("array", buf, x.dtype, (1,) * out.shape.ndims, owned=True)]
    x = contiguous(em, block, x)
    shape = _target_shape(em, op, x)
    if shape == ():
        name = em.fresh("s")
        block.add(f"{name} = {x.name}.reshape({x.name}.size)[0]")
        return [V("scalar", name, x.dtype)]
    name = em.fresh("w")
    block.add(f"{name} = {x.name}.reshape(({', '.join(str(d) for d in shape)},))")
    return [V("array", name, x.dtype, shape)]


def _target_shape(em, op, x):
    out = op.outputs[0].shape.as_list()
    if op.type == "ExpandDims":
        ax = op.get_attr("axis") % (len(x.shape) + 1)
        return tuple(x.shape[:ax]) + (1,) + tuple(x.shape[ax:])
    if op.type == "Squeeze":
        axes = op.attrs.get("squeeze_dims") or [i for i, d in enumerate(x.shape) if d == 1]
        axes = {a % len(x.shape) for a in axes}
        return tuple(d for i, d in enumerate(x.shape) if i not in axes)
    target = static_ints(op.inputs[1])
    if target is None:
        raise Unsupported("Reshape to a shape computed at run time")
    known = [d if d is not None else t for d, t in zip(out, target)]
    if -1 in known:
        rest = " * ".join(str(d) for d in known if d != -1) or "1"
        total = " * ".join(str(d) for d in x.shape) or "1"
        known[known.index(-1)] = em.dim(f"({total}) // ({rest})")
    return tuple(known)


def emit_transpose(em, block, op, ins, ctx):
    x = materialize(em, block, ins[0])
    perm = op.attrs.get("perm")
    perm = list(range(len(x.shape)))[::-1] if perm is None else list(perm)
    shape = tuple(x.shape[p] for p in perm)
    buf = em.buffer(shape, x.dtype)
    inner, index = open_loop(em, block, shape, [], allow_flat=False)
    src = [None] * len(perm)
    for i, p in enumerate(perm):
        src[p] = index[i]
    inner.add(f"{buf}[{', '.join(index[i] for i in range(len(shape)))}] = {x.name}[{', '.join(src)}]")
    return [V("array", buf, x.dtype, shape, owned=True)]


def emit_const(em, block, op, ins, ctx):
    from jitgraph.compiler.loop_values import literal
    value = np.asarray(op.get_attr("value"))
    if value.ndim == 0:
        return [V("scalar", literal(value, value.dtype), value.dtype)]
    if value.dtype == object:
        raise Unsupported("string constant")
    name = em.arg("k", ("const", np.ascontiguousarray(value).copy()))
    return [V("array", name, value.dtype, value.shape)]


def emit_fill(em, block, op, ins, ctx):
    dims = static_ints(op.inputs[0])
    src = ctx.dims_of(op.inputs[0])
    shape = tuple(dims) if dims is not None else src
    if shape is None:
        raise Unsupported("Fill with a shape computed at run time")
    v = ins[1]
    if v.kind != "scalar":
        raise Unsupported("Fill with a non-scalar value")
    buf = em.buffer(shape, v.dtype)
    block.add(f"{buf}[...] = {v.name}")
    return [V("array", buf, v.dtype, shape, owned=True)]


def emit_shape(em, block, op, ins, ctx):
    x = ins[0]
    dtype = op.outputs[0].dtype.base_dtype.as_np
    buf = em.buffer((len(x.shape),), dtype)
    for i, d in enumerate(x.shape):
        em.pro.add(f"{buf}[{i}] = {d}")
    v = V("array", buf, dtype, (len(x.shape),))
    ctx.note_dims(op.outputs[0], x.shape)
    return [v]


def emit_pack(em, block, op, ins, ctx):
    axis = op.get_attr("axis")
    if axis != 0:
        raise Unsupported("Pack along an axis other than 0")
    dtype = op.outputs[0].dtype.base_dtype.as_np
    shape = (len(ins),) + tuple(ins[0].shape)
    buf = em.buffer(shape, dtype)
    for j, x in enumerate(ins):
        if x.kind == "scalar":
            block.add(f"{buf}[{j}] = {x.name}")
        else:
            row = em.fresh("w")
            block.add_view(f"{row} = {buf}[{j}]")
            store(em, block, x.shape, x, row)
    return [V("array", buf, dtype, shape, owned=True)]


def emit_unpack(em, block, op, ins, ctx):
    x = materialize(em, block, ins[0])
    if op.get_attr("axis") % len(x.shape) != 0:
        raise Unsupported("Unpack along an axis other than 0")
    outs = []
    for j in range(op.get_attr("num")):
        if len(x.shape) == 1:
            name = em.fresh("s")
            block.add(f"{name} = {x.name}[{j}]")
            outs.append(V("scalar", name, x.dtype))
        else:
            name = em.fresh("w")
            block.add(f"{name} = {x.name}[{j}]")
            outs.append(V("array", name, x.dtype, x.shape[1:], contig=x.contig))
    return outs


def emit_strided_slice(em, block, op, ins, ctx):
    from jitgraph.ops.slicing_ops import _index
    x = materialize(em, block, ins[0])
    spec = [static_ints(t) for t in op.inputs[1:4]]
    masks = {k: op.attrs.get(k, 0) for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                               "shrink_axis_mask")}
    if any(s is None for s in spec) or masks["ellipsis_mask"] or masks["new_axis_mask"] or x.kind != "array":
        raise Unsupported("StridedSlice with run-time bounds, ellipsis or new axes")
    idx = _index(*spec, **masks)
    parts, shape = [], []
    for j, k in enumerate(idx):
        if isinstance(k, int):
            parts.append(str(k))
            continue
        d = x.shape[j]
        if not isinstance(d, int):
            if (k.start in (None, 0)) and k.stop is None and k.step in (None, 1):
                parts.append(":")
                shape.append(d)
                continue
            raise Unsupported("StridedSlice of a run-time dim")
        r = range(d)[k]
        parts.append(f"{k.start if k.start is not None else ''}:{k.stop if k.stop is not None else ''}:"
                     f"{k.step if k.step is not None else ''}")
        shape.append(len(r))
    shape += list(x.shape[len(idx):])
    name = em.fresh("w" if shape else "s")
    block.add_view(f"{name} = {x.name}[{', '.join(parts)}]")
    if not shape:
        return [V("scalar", name, x.dtype)]
    return [V("array", name, x.dtype, tuple(shape), contig=False)]


def emit_broadcast_to(em, block, op, ins, ctx):
    target = static_ints(op.inputs[1])
    if target is None:
        raise Unsupported("BroadcastTo a shape computed at run time")
    x = ins[0]
    shape = broadcast_shape(em, [x.shape, tuple(target)], op.name)
    buf = em.buffer(shape, x.dtype)
    if x.kind == "scalar":
        block.add(f"{buf}[...] = {x.name}")
    else:
        store(em, block, shape, x, buf)
    return [V("array", buf, x.dtype, shape, owned=True)]


def emit_sum_to_shape(em, block, op, ins, ctx):
    """``SumToShape(g, shape)``, the gradient glue of a broadcast whose static shapes left it open
    (a batch dim of ``None``): ``g`` summed over the dims that broadcasting added. The target's dims
    are those of the ``Shape`` op that made ``shape`` in this body, or constants. A target dim of 1
    is summed; a dim equal to ``g``'s by name is kept; two different names are checked equal at run
    time (a run where they are not reruns on the reference, which sums)."""
    g = ins[0]
    target = ctx.dims_of(op.inputs[1])
    if target is None:
        target = static_ints(op.inputs[1])
    if target is None:
        raise Unsupported("SumToShape to a shape computed at run time")
    target = tuple(target)
    if g.kind == "scalar":
        if target:
            raise Unsupported("SumToShape of a scalar to a shape")
        return [g]
    lead = len(g.shape) - len(target)
    if lead < 0:
        raise Unsupported("SumToShape to a higher rank")
    axes = list(range(lead))
    for i, d in enumerate(target):
        gd = g.shape[lead + i]
        if em.canon(d) == em.canon(gd):
            continue
        if d == 1:
            axes.append(lead + i)
        else:
            em.guard_equal(d, gd, op.name)
    if not axes:
        return [g]
    inner = any(a >= lead for a in axes)
    out = emit_reduction(em, block, op, [g], ctx, Spec(tuple(axes), keepdims=inner))[0]
    if not inner or lead == 0:
        return [out]
    name = em.fresh("w")      # the leading dims kept as 1s by keepdims: dropped by a view
    block.add(f"{name} = {out.name}.reshape(({', '.join(str(d) for d in target)},))")
    return [V("array", name, out.dtype, target)]


def emit_dropout_mask(em, block, op, ins, ctx):
    """``DropoutMask``: ``(u >= rate) / (1 - rate)`` for ``u ~ U[0, 1)`` from the op's stream in this
    session, drawn by Numba from that very ``np.random.Generator`` (an argument of the loop: the
    same numbers as the reference's ``rng.random(shape)`` each iteration, and the same state after;
    ``loop_runner`` restores the state when it hands the run to the reference)."""
    dims = static_ints(op.inputs[0])
    shape = tuple(dims) if dims is not None else ctx.dims_of(op.inputs[0])
    rate = ins[1]
    if shape is None or rate.kind != "scalar":
        raise Unsupported("DropoutMask with a shape computed at run time or a non-scalar rate")
    dtype = op.outputs[0].dtype.base_dtype.as_np
    gen = em.arg("rng", ("rng", op))
    ct = f"np.{np.dtype(dtype).name}"
    keep, inv, u = em.fresh("s"), em.fresh("s"), em.fresh("u")
    block.add(f"{keep} = {ct}(1) - {ct}({rate.name})")
    block.add(f"{inv} = {ct}(1) / {keep} if {keep} > 0 else {ct}(0)")
    block.add(f"{u} = {gen}.random(({''.join(f'{d}, ' for d in shape)}))")
    buf = em.buffer(shape, dtype)
    uf, bf, i = em.fresh("f"), em.fresh("f"), em.fresh("i")
    block.add(f"{uf} = {u}.reshape({u}.size)")
    block.add(f"{bf} = {buf}.reshape({buf}.size)")
    block.add(f"for {i} in range({uf}.size):")
    block.add(f"    {bf}[{i}] = {inv} if {uf}[{i}] >= {rate.name} else {ct}(0)")
    return [V("array", buf, dtype, shape, owned=True)]
