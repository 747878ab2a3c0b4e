"""fuse: group fusible ops into kernels (one loop nest each).

Before: ordered ops with ``deps`` (order pass) and symbolic shapes.
After: a list of ``Kernel``s (member ops sharing one iteration space) and the ops left alone.
Rules (PyTensor/XLA style): walking in creation order, a fusible op joins the kernels of its
producers when they share its iteration space, the union stays convex (no path leaves and
re-enters it) and the caps hold; several producer kernels merge at a common consumer (W1's final
add joins the ``relu`` chain and ``tanh(x)``). A reduction joins as the consumer of its
producers; nothing consumes a reduction inside its own kernel. An assign whose value comes from
the kernel becomes the kernel's store into the variable buffer. No op is ever duplicated.
"""

from jitgraph.compiler import lowering
from jitgraph.compiler.order import var_accesses
from jitgraph.compiler.shapes import var_shape

MAX_MEMBERS = 64
MAX_OPERANDS = 64


class Kernel:
    """Fused ops over one iteration ``space`` (symbolic shape)."""

    def __init__(self, space):
        self.space = space
        self.ops = []

    def __repr__(self):
        return f"Kernel(space={self.space}, ops=[{', '.join(o.type for o in self.ops)}])"


def fusible_space(op, shapes):
    """The iteration space ``op`` would run over inside a kernel, or None if it stays a step."""
    kind, typ = op.op_def.kind, op.type
    for var, _ in var_accesses(op):
        if var_shape(var) is None or not lowering.dtype_ok(var.outputs[0]):
            return None
    if typ in ("Assign", "AssignAdd", "AssignSub"):
        val = shapes.get(op.inputs[1])
        vs = var_shape(op.inputs[0].op) if op.inputs[0].op.type == "VariableV2" else None
        if vs is None or val is None or tuple(val) != vs or not op.attrs.get("validate_shape", True):
            return None
        return vs if lowering.dtype_ok(op.inputs[1]) else None
    if kind == "reduction":
        if lowering.reduction_spec(op) is None:
            return None
        return _known(shapes.get(op.inputs[0]))
    if kind == "elementwise" or typ == "Identity":
        if typ == "Identity" and not op.inputs:
            return None
        if typ != "Identity" and lowering.elementwise_template(op) is None:
            return None
        if not lowering.dtype_ok(op.outputs[0]) or any(not lowering.dtype_ok(t) for t in op.inputs):
            return None
        if any(shapes.get(t) is None and not t.dtype.is_ref_dtype for t in op.inputs):
            return None
        return _known(shapes.get(op.outputs[0]))
    return None


def _known(s):
    return None if s is None else tuple(s)


def fuse(ops, deps, shapes):
    """Return ``(kernels, kernel_of)``: the kernels and a map op -> its kernel (fused ops only)."""
    index = {op: i for i, op in enumerate(ops)}
    anc = _ancestors(ops, deps, index)
    kernel_of, kernels = {}, []
    for op in ops:
        space = fusible_space(op, shapes)
        if space is None:
            continue
        cands = []
        for t in _value_inputs(op):
            k = kernel_of.get(t.op)
            if k is None or k.space != space or k in cands:
                continue
            if t.op.op_def.kind == "reduction":
                continue
            cands.append(k)
        # a reduction output produced in a candidate kernel cannot be consumed in that kernel
        cands = [k for k in cands if not any(kernel_of.get(t.op) is k and t.op.op_def.kind == "reduction"
                                             for t in op.inputs)]
        merged, absorbed = _try_merge(op, cands, anc, ops, index)
        if merged is None:
            merged = Kernel(space)
            kernels.append(merged)
        for k in absorbed:
            kernels.remove(k)
            merged.ops.extend(k.ops)
        merged.ops.append(op)
        merged.ops.sort(key=lambda o: index[o])
        for o in merged.ops:
            kernel_of[o] = merged
    _horizontal(kernels, kernel_of, anc, ops, index)
    return kernels, kernel_of


def _horizontal(kernels, kernel_of, anc, ops, index):
    """Merge sibling kernels over the same space that read a common array or variable, so the
    shared operand is loaded once (``sum(v*v)`` and ``max(v-2, axis=1)`` become one pass)."""
    def reads(k):
        inside = set(k.ops)
        out = {t for o in k.ops for t in o.inputs if t.op not in inside and not t.dtype.is_ref_dtype}
        out |= {var for o in k.ops for var, _ in var_accesses(o)}
        return out
    changed = True
    while changed:
        changed = False
        for a in kernels:
            for b in kernels:
                if a is b or a.space != b.space or not (reads(a) & reads(b)):
                    continue
                trial = a.ops + b.ops
                if not _mergeable(trial, anc, ops, index):
                    continue
                a.ops = sorted(trial, key=lambda o: index[o])
                kernels.remove(b)
                for o in a.ops:
                    kernel_of[o] = a
                changed = True
                break
            if changed:
                break


def _value_inputs(op):
    if op.type in ("Assign", "AssignAdd", "AssignSub"):
        return [op.inputs[1]]
    return [t for t in op.inputs if not t.dtype.is_ref_dtype]


def _try_merge(op, cands, anc, ops, index):
    """Pick candidate kernels (greedily, in order) whose union with ``op`` stays convex and within
    the caps: returns (the kernel to grow, the other kernels it absorbs)."""
    chosen, members = [], [op]
    for k in cands:
        trial = members + k.ops
        if not _mergeable(trial, anc, ops, index):
            continue
        chosen.append(k)
        members = trial
    if not chosen:
        return None, []
    return chosen[0], chosen[1:]


def _mergeable(members, anc, ops, index):
    """Within the caps, convex, and no member consumes a reduction computed in the same loop."""
    if len(members) > MAX_MEMBERS or _operand_count(members) > MAX_OPERANDS:
        return False
    inside = set(members)
    if any(t.op in inside and t.op.op_def.kind == "reduction" for o in members for t in o.inputs):
        return False
    return _convex(members, anc, ops, index)


def _operand_count(members):
    inside = set(members)
    return len({t for o in members for t in o.inputs if t.op not in inside})


def _ancestors(ops, deps, index):
    anc = {}
    for op in ops:
        bits = 0
        for d in deps[op]:
            bits |= anc[d] | (1 << index[d])
        anc[op] = bits
    return anc


def _convex(members, anc, ops, index):
    """No op outside ``members`` lies on a path between two members."""
    mbits = 0
    for m in members:
        mbits |= 1 << index[m]
    outside = 0
    for m in members:
        outside |= anc[m]
    outside &= ~mbits
    while outside:
        low = outside & -outside
        j = low.bit_length() - 1
        if anc[ops[j]] & mbits:
            return False
        outside ^= low
    return True
