"""Emitting a traced body (``control_flow.body.Body``) and loops over bodies into native code.

``BodyCtx.emit`` walks the body's ops in program order, so variable reads and in-place assigns
keep the reference's order inside an iteration. ``emit_loop`` is a while loop over a condition
and a body: loop variables live in buffers made before the loop; at the end of an iteration a
variable takes its new value by swapping buffers with the op that computed it (or by a copy),
all in one tuple assignment so every read of the iteration saw the old values. Nested ``While``
ops become nested loops, ``If`` ops an ``if``/``else``.
"""

import numpy as np

from jitgraph.compiler import loop_layout as LL
from jitgraph.compiler import loop_ops as L
from jitgraph.compiler.loop_values import Block, Unsupported, V, ctor, same_shape, shape_src
from jitgraph.ops.state_ops import variable_of

_LAYOUT_EMIT = {"MatMul": LL.emit_matmul, "ConcatV2": LL.emit_concat, "Split": LL.emit_split,
                "SplitV": LL.emit_split, "Slice": LL.emit_slice, "Reshape": LL.emit_reshape_like,
                "ExpandDims": LL.emit_reshape_like, "Squeeze": LL.emit_reshape_like, "Transpose": LL.emit_transpose,
                "Const": LL.emit_const, "Fill": LL.emit_fill, "Shape": LL.emit_shape, "Pack": LL.emit_pack,
                "Unpack": LL.emit_unpack, "StridedSlice": LL.emit_strided_slice, "BiasAddGrad": L.emit_bias_add_grad,
                "BroadcastTo": LL.emit_broadcast_to, "SumToShape": LL.emit_sum_to_shape,
                "DropoutMask": LL.emit_dropout_mask}


class BodyCtx:
    """Values of one body's tensors during emission, and the fusion decisions."""

    def __init__(self, em, body, env, recorder=None):
        self.em, self.body, self.recorder = em, body, recorder
        self.values = dict(env)
        self.consumers = {}
        for op in body.ops:
            for t in op.inputs:
                self.consumers.setdefault(t, []).append(op)
        self.keep = set(body.outputs) | set(recorder.tensors if recorder else ())   # never lazy
        self.shape_dims = {}
        self._into_stack = None
        self.overrides = {}   # op -> emitter replacing the generic one (loops.py's deferred weight gradients)

    def lazy_ok(self, op):
        if op is self._into_stack:
            return True
        t = op.outputs[0]
        users = self.consumers.get(t, [])
        if t in self.keep or len(users) != 1 or any(x.dtype.is_ref_dtype for x in op.inputs):
            return False
        return L.elementwise_ok(users[0]) and users[0].type not in L.PASS_THROUGH

    def note_dims(self, t, dims):
        self.shape_dims[t] = dims

    def dims_of(self, t):
        return self.shape_dims.get(t)

    def value(self, t):
        v = self.values.get(t)
        if v is not None:
            return v
        if t.dtype.is_ref_dtype:
            var = variable_of(t)
            if var is None:
                raise Unsupported(f"reference {t.name} of no variable")
            return self.em.var(var)
        raise Unsupported(f"{t.name} has no value in the native loop")

    def emit(self, block):
        rec = self.recorder
        if rec is not None:
            for t in self.body.inputs:
                if t in rec.index:
                    rec.push(self.em, block, t, self.values[t])
        for op in self.body.ops:
            ins = [self.value(t) for t in op.inputs]
            direct = rec is not None and len(op.outputs) == 1 and op.outputs[0] in rec.index and L.elementwise_ok(op) \
                and op.type not in L.PASS_THROUGH
            self._into_stack = op if direct else None
            emit = self.overrides.get(op, emit_op)
            outs = emit(self.em, block, op, ins, self)
            self._into_stack = None
            for t, v in zip(op.outputs, outs):
                if rec is not None and t in rec.index:
                    v = rec.push(self.em, block, t, v)   # (a fused result is computed straight into its stack row)
                self.values[t] = v
        return [self.value(t) for t in self.body.outputs]


class Recorder:
    """Per-iteration values a forward loop keeps for its gradient: stack ``j`` holds recorded tensor
    ``j`` of every iteration (``[capacity, ...]``). With a known iteration bound (TF1's
    ``maximum_iterations`` counter) the capacity is that bound; otherwise stacks double as needed."""

    def __init__(self, em, tensors, bounded):
        self.tensors = list(tensors)
        self.index = {t: j for j, t in enumerate(self.tensors)}
        self.stacks = [None] * len(self.tensors)
        self.bounded = bounded
        self.k = em.fresh("k")
        self.cap = em.arg("cap", ("cap",))
        self.top = None     # where the capacity check goes (the first line of the iteration)

    def push(self, em, block, t, v):
        j = self.index[t]
        if v.kind == "scalar":
            st = self.stacks[j] = self.stacks[j] or em.fresh("st")
            em.pro.add(f"{st} = np.empty(({self.cap}[0],), np.{v.dtype.name})")
            block.add(f"{st}[{self.k}] = {v.name}")
            return v
        if v.kind not in ("array", "ref", "lazy"):
            raise Unsupported(f"a recorded value of kind {v.kind} ({t.name})")
        st = self.stacks[j] = em.fresh("st")
        em.pro.add(f"{st} = np.empty(({self.cap}[0],) + {shape_src(v.shape)}, np.{v.dtype.name})")
        row = em.fresh("w")
        block.add_view(f"{row} = {st}[{self.k}]")
        L.store(em, block, v.shape, v, row)
        return v if v.kind != "lazy" else V("array", row, v.dtype, v.shape)

    def check(self, em, lines, at, depth):
        """Insert the capacity check (or growth) at line ``at`` of the iteration."""
        pad = "    " * depth
        stacks = [s for s in self.stacks if s]
        if not stacks:
            return
        if self.bounded:
            code = [f"{pad}if {self.k} >= {self.cap}[0]: {em.error('more iterations than the loop bound')}"]
        else:
            code = [f"{pad}if {self.k} == {stacks[0]}.shape[0]:"]
            code += [f"{pad}    {s} = jg_grow({s}, {self.k})" for s in stacks]
        lines[at:at] = code


def emit_op(em, block, op, ins, ctx):
    typ = op.type
    if typ == "NoOp":
        return []
    if typ in ("Identity", "StopGradient") and op.inputs and op.inputs[0].dtype.is_ref_dtype:
        return [_snapshot(em, block, ins[0])]
    if L.elementwise_ok(op):
        return L.emit_elementwise(em, block, op, ins, ctx)
    if op.op_def.kind == "reduction":
        return L.emit_reduction(em, block, op, ins, ctx)
    if typ in _LAYOUT_EMIT:
        return _LAYOUT_EMIT[typ](em, block, op, ins, ctx)
    if typ in ("Assign", "AssignAdd", "AssignSub"):
        return _assign(em, block, op, ins)
    if typ in _TA_EMIT:
        return _TA_EMIT[typ](em, block, op, ins)
    if typ == "If":
        return _if(em, block, op, ins)
    if typ == "While":
        spec = op.get_attr("spec")
        if spec.recorded:
            raise Unsupported("a nested loop whose gradient is taken (its tape)")
        n = spec.n_vars
        outs = emit_loop(em, block, spec.cond, spec.body, ins[:n], [ins[i] for i in spec.cond_pos],
                         [ins[i] for i in spec.body_pos])
        return outs + [V("none")]
    raise Unsupported(f"op {typ} ({op.name})")


def _snapshot(em, block, v):
    if v.shape == ():
        name = em.fresh("s")
        block.add(f"{name} = {v.name}[0]")
        return V("scalar", name, v.dtype)
    buf = em.buffer(v.shape, v.dtype)
    L.store(em, block, v.shape, v, buf)
    return V("array", buf, v.dtype, v.shape, owned=True)


def _assign(em, block, op, ins):
    ref, value = ins
    if ref.kind != "ref":
        raise Unsupported("assign to a non-variable")
    if value.kind not in ("scalar", "lazy") and value.shape != ref.shape:
        for a, b in zip(value.shape, ref.shape):
            em.guard_equal(a, b, op.name)
        if len(value.shape) != len(ref.shape):
            raise Unsupported("assign with broadcasting")
    mode = {"Assign": "=", "AssignAdd": "+=", "AssignSub": "-="}[op.type]
    L.store(em, block, ref.shape, value, ref.name, mode)
    return [ref]


# ---- TensorArrays --------------------------------------------------------------------------------
def _checked_index(em, block, i, size, what):
    if i.kind != "scalar":
        raise Unsupported("TensorArray index that is not a scalar")
    block.add(f"if {i.name} < 0 or {i.name} >= {size}: {em.error(what + ': index out of range')}")
    return i.name


def _ta_read(em, block, op, ins):
    ta, i = ins
    if ta.kind != "ta":
        raise Unsupported("TensorArray read of a non-array")
    info = ta.ta
    if info.pending:
        raise Unsupported("a TensorArray read before its element shape is known")
    idx = _checked_index(em, block, i, info.size, op.name)
    if not info.elem:
        name = em.fresh("s")
        block.add(f"{name} = {info.buf}[{idx}]")
        return [V("scalar", name, info.dtype)]
    name = em.fresh("w")
    block.add_view(f"{name} = {info.buf}[{idx}]")
    static = op.outputs[0].shape
    elem = info.elem
    if static.ndims == len(elem):   # the graph's static element shape (checked against the buffer)
        for a, b in zip(static.as_list(), elem):
            if a is not None:
                em.guard_equal(a, b, op.name)
        elem = tuple(em.canon(d) for d in elem)
    return [V("array", name, info.dtype, elem)]


def _ta_write(em, block, op, ins):
    ta, i, value = ins
    if ta.kind != "ta":
        raise Unsupported("TensorArray write to a non-array")
    info = ta.ta
    idx = _checked_index(em, block, i, info.size, op.name)
    if value.kind != "scalar" and len(value.shape) != len(info.elem):
        raise Unsupported("TensorArray element of another rank")
    if info.pending:   # the buffer gets the shape of the first value written
        info.elem, info.pending = tuple(value.shape), False
        em.pro.add(f"{info.buf} = np.zeros(({info.size},) + {shape_src(info.elem)}, np.{info.dtype.name})")
    for a, b in zip(value.shape, info.elem):
        em.guard_equal(a, b, op.name)
    if not info.elem:
        block.add(f"{info.buf}[{idx}] = {value.name}")
    else:
        row = em.fresh("w")
        block.add_view(f"{row} = {info.buf}[{idx}]")
        L.store(em, block, info.elem, value, row)
    block.add(f"{info.mask}[{idx}] = True")
    return [ta]


def _ta_size(em, block, op, ins):
    return [V("scalar", f"np.int32({ins[0].ta.size})", np.int32)]


def _ta_pack(em, block, op, ins):
    info = ins[0].ta
    shape = (info.size,) + info.elem
    buf = em.buffer(shape, info.dtype)
    L.store(em, block, shape, V("array", info.buf, info.dtype, shape), buf)
    return [V("array", buf, info.dtype, shape, owned=True)]


def _ta_grad_row(em, block, op, ins):
    dense, i = ins
    dense = L.materialize(em, block, dense)
    idx = _checked_index(em, block, i, dense.shape[0], op.name)
    if len(dense.shape) == 1:
        name = em.fresh("s")
        block.add(f"{name} = {dense.name}[{idx}]")
        return [V("scalar", name, dense.dtype)]
    name = em.fresh("w")
    block.add(f"{name} = {dense.name}[{idx}]")
    return [V("array", name, dense.dtype, dense.shape[1:], contig=dense.contig)]


def _ta_read_grad(em, block, op, ins):
    ta, i, g = ins
    size = ta.ta.size
    shape = (size,) + tuple(g.shape)
    buf = em.buffer(shape, g.dtype)
    block.add(f"{buf}[...] = 0")
    idx = _checked_index(em, block, i, size, op.name)
    if g.kind == "scalar":
        block.add(f"{buf}[{idx}] = {g.name}")
    else:
        row = em.fresh("w")
        block.add(f"{row} = {buf}[{idx}]")
        L.store(em, block, g.shape, g, row)
    return [V("array", buf, g.dtype, shape, owned=True)]


_TA_EMIT = {"TensorArrayReadV3": _ta_read, "TensorArrayWriteV3": _ta_write, "TensorArraySizeV3": _ta_size,
            "TensorArrayPack": _ta_pack, "TensorArrayGradRow": _ta_grad_row, "TensorArrayReadGrad": _ta_read_grad}


# ---- conds and loops -----------------------------------------------------------------------------
def _if(em, block, op, ins):
    spec = op.get_attr("spec")
    if spec.tape_pos is not None or any(spec.recorded):
        raise Unsupported("a cond whose gradient is taken (its tape)")
    pred = ins[0]
    if pred.kind != "scalar":
        raise Unsupported("cond predicate that is not a scalar")
    results, outs = [], []
    for b in (0, 1):
        body = spec.bodies[b]
        sub = Block(block.depth + 1)
        ctx = BodyCtx(em, body, zip(body.inputs, [ins[i] for i in spec.arg_pos[b]]))
        results.append(([L.materialize(em, sub, v) for v in ctx.emit(sub)], sub))
    for j, (dtype, _) in enumerate(spec.out_specs):
        a, c = results[0][0][j], results[1][0][j]
        if a.kind != c.kind or (a.kind != "scalar" and not same_shape(a.shape, c.shape)):
            if a.kind == "scalar" or c.kind == "scalar" or len(a.shape) != len(c.shape):
                raise Unsupported("cond branches with outputs of different kinds")
            for x, y in zip(a.shape, c.shape):
                em.guard_equal(x, y, op.name)
        if a.kind == "scalar":
            name = em.fresh("s")
            for v, (_, sub) in zip((a, c), results):
                sub.add(f"{name} = {ctor(dtype.as_np)}({v.name})")
            outs.append(V("scalar", name, dtype.as_np))
        elif a.kind in ("array", "ref"):
            buf = em.buffer(a.shape, a.dtype)
            for v, (_, sub) in zip((a, c), results):
                L.store(em, sub, a.shape, v, buf)
            outs.append(V("array", buf, a.dtype, a.shape, owned=True))
        else:
            raise Unsupported(f"cond output of kind {a.kind}")
    for _, sub in results:
        if not sub.lines:
            sub.add("pass")
    block.add(f"if {pred.name}:")
    block.extend(results[0][1])
    block.add("else:")
    block.extend(results[1][1])
    return outs + [V("none")]


def carried_init(em, block, inits):
    """Loop variables in buffers of their own, holding the initial values."""
    cur = []
    for v in inits:
        if v.kind == "scalar":
            name = em.fresh("c")
            block.add(f"{name} = {v.name}")
            cur.append(V("scalar", name, v.dtype))
        elif v.kind in ("array", "lazy", "ref"):
            if v.shape == () and v.kind == "ref":
                name = em.fresh("c")
                block.add(f"{name} = {v.name}[0]")
                cur.append(V("scalar", name, v.dtype))
                continue
            buf = em.buffer(v.shape, v.dtype)
            L.store(em, block, v.shape, v, buf)
            cur.append(V("array", buf, v.dtype, v.shape))
        elif v.kind == "ta":
            cur.append(v)
        else:
            raise Unsupported(f"loop variable of kind {v.kind}")
    return cur


def carry(em, block, cur, outs, what):
    """Give the loop variables ``cur`` the values ``outs`` (one tuple assignment)."""
    lhs, rhs, swapped = [], [], set()
    for c, o in zip(cur, outs):
        o = L.materialize(em, block, o)
        if c.kind == "ta":
            if o.kind != "ta" or o.ta.buf != c.ta.buf:
                raise Unsupported("a loop body that returns another TensorArray")
            continue
        if c.kind == "scalar":
            if o.kind != "scalar":
                raise Unsupported("a scalar loop variable that becomes an array")
            if o.name != c.name:
                lhs.append(c.name)
                rhs.append(f"{ctor(c.dtype)}({o.name})")
            continue
        if o.kind == "scalar" or len(o.shape) != len(c.shape):
            raise Unsupported("a loop variable that changes rank")
        for a, b in zip(o.shape, c.shape):
            em.guard_equal(a, b, what + " (the shape of a loop variable changes)")
        if o.name == c.name:
            continue
        if o.kind == "array" and o.owned and o.name not in swapped and o.dtype == c.dtype:
            swapped.add(o.name)
            lhs += [c.name, o.name]
            rhs += [o.name, c.name]
            continue
        nx = em.buffer(c.shape, c.dtype)
        L.store(em, block, c.shape, o, nx)
        lhs += [c.name, nx]
        rhs += [nx, c.name]
    if lhs:
        block.add(f"{', '.join(lhs)} = {', '.join(rhs)}")


def emit_loop(em, block, cond, body, inits, cond_caps, body_caps, recorder=None):
    """``while cond: vars = body(vars)``; returns the final values (and the iteration count name
    when a ``Recorder`` keeps per-iteration values)."""
    cur = carried_init(em, block, inits)
    if recorder is not None:
        block.add(f"{recorder.k} = 0")
    block.add("while True:")
    inner = block.sub()
    cctx = BodyCtx(em, cond, zip(cond.inputs, cur + list(cond_caps)))
    pred = L.materialize(em, inner, cctx.emit(inner)[0])
    if pred.kind != "scalar":
        raise Unsupported("loop condition that is not a scalar")
    inner.add(f"if not {pred.name}:")
    inner.add("    break")
    top = len(inner.lines)
    bctx = BodyCtx(em, body, zip(body.inputs, cur + list(body_caps)), recorder)
    outs = bctx.emit(inner)
    if recorder is not None:
        inner.add(f"{recorder.k} += 1")
    carry(em, inner, cur, outs, "loop")
    if recorder is not None:
        recorder.check(em, inner.lines, top, inner.depth)
        return cur, recorder.k
    return cur
