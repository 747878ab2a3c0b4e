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
# Inlined transcendental helpers (tanh, exp, log, sigmoid) per kernel. LLVM's time grows faster
# than linearly with the loop body: a chain of 2 / 4 / 8 / 16 inlined tanh compiled in 0.5 / 0.9 /
# 2.8 / 12 s. Capping them also cuts long chains into equal segments, which compile once (and
# ``chains`` runs as one launch).
MAX_HELPERS = 4


class Kernel:
    """Fused ops over one iteration ``space`` (symbolic shape)."""

    def __init__(self, space):
        self.space = space
        self.ops = []
        self.members = self.anc = self.desc = 0   # bitsets kept by ``Reach``
        self.helpers = 0                          # inlined fastmath helper calls
        self.joins = []                           # horizontal merges that built it (``_horizontal``)

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
    if typ == "_ConcatParts":      # loops over its (equal) inputs' shape, storing each at its offset
        if not all(lowering.dtype_ok(t) for t in op.inputs):
            return None
        return _known(shapes.get(op.inputs[0]))
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
    """Return ``(kernels, kernel_of)``: the kernels and a map op -> its kernel (fused ops only).

    Cost: one walk over the ops, each trying to join at most its producers' kernels, then one
    walk over (kernel, shared operand) pairs for horizontal merges: O(n) merge attempts. Each
    attempt is a constant number of word-parallel operations on n-bit reachability sets
    (``Reach``), so the pass does O(n) Python work plus n*n/64 machine words of bit operations
    (3,500 ops: ~0.2 M words), the technique of XLA's HloReachabilityMap.

    Convexity is tested on ops, and a kernel's reachability sets are not propagated to the ops
    outside it, so two kernels that are each convex can still reach each other (``a <- a/2 +
    sum(b)`` beside ``b <- b/2 + sum(a)``: each sum joins the other variable's update by the shared
    operand). A linear check over the kernel graph (``_acyclic``) catches that; the pass then
    fuses again without the horizontal merges that built the kernels of one cycle found (the
    scalar parts of two batch norms that read one batch size closed a cycle through the layers
    between them; dropping every horizontal merge of such a graph left its Adam updates three
    passes a variable), cycle after cycle up to ``MAX_DISSOLVED`` times; failing that, without
    horizontal merges at all and, should that still close a cycle, splits in each of the two
    groupings the smallest kernel of one cycle back into single ops, cycle after cycle, up to
    ``MAX_DISSOLVED`` times (then every kernel), and keeps the grouping with fewer kernels: a
    bounded number of linear walks.
    """
    tries, banned = [], set()
    for _ in range(MAX_DISSOLVED + 1):
        kernels, kernel_of, reach = _fuse(ops, deps, shapes, banned)
        if _acyclic(ops, deps, kernel_of):
            return kernels, kernel_of
        undo = {j for k in _cycle(ops, deps, kernel_of) for j in k.joins}
        if not undo:
            break
        banned |= undo
    tries.append((kernels, kernel_of, reach))
    kernels, kernel_of, reach = _fuse(ops, deps, shapes, None)
    if _acyclic(ops, deps, kernel_of):
        return kernels, kernel_of
    tries.append((kernels, kernel_of, reach))
    for kernels, kernel_of, reach in tries:
        for _ in range(MAX_DISSOLVED):
            cycle = _cycle(ops, deps, kernel_of)
            if cycle is None:
                break
            _dissolve(min(cycle, key=lambda k: len(k.ops)), kernels, kernel_of, reach)
        else:
            for k in [k for k in kernels if len(k.ops) > 1]:
                _dissolve(k, kernels, kernel_of, reach)
    kernels, kernel_of, _ = min(tries, key=lambda t: len(t[0]))
    return kernels, kernel_of


# Kernels split back into single ops, one per cycle found, before every kernel is (linear: at most
# this many walks). A VAE's ``z_std`` and its ``random_normal(shape(z_std))`` noise closed one
# cycle between two kernels; splitting every kernel left its RMSProp updates as 13 one-op passes
# over each weight matrix: 201 kernels, 5.5 ms a step; 20 kernels and 3.9-4.1 ms with one kernel
# of the cycle split (TF1: 3.3-4.0 ms, same runs).
MAX_DISSOLVED = 16


def _cycle(ops, deps, kernel_of):
    """The kernels on one cycle of the graph of kernels and unfused ops, or None: Kahn's algorithm,
    then a walk back along edges between the nodes it could not order (each has such a
    predecessor), which must repeat a node: linear."""
    node = {op: kernel_of.get(op, op) for op in ops}
    preds, succs = {}, {}
    for op in ops:
        b = node[op]
        for d in deps[op]:
            a = node.get(d)
            if a is None or a is b or a in preds.setdefault(b, set()):
                continue
            preds[b].add(a)
            succs.setdefault(a, []).append(b)
    indeg = {n: len(preds.get(n, ())) for n in set(node.values())}
    ready = [n for n, k in indeg.items() if k == 0]
    while ready:
        for m in succs.get(ready.pop(), ()):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    left = {n for n, k in indeg.items() if k}
    if not left:
        return None
    n, path, at = next(iter(left)), [], {}
    while n not in at:
        at[n] = len(path)
        path.append(n)
        n = next(p for p in preds[n] if p in left)
    return [k for k in path[at[n]:] if isinstance(k, Kernel)]


def _dissolve(kernel, kernels, kernel_of, reach):
    """Replace ``kernel`` by one kernel per member op, in its place."""
    singles = []
    for op in kernel.ops:
        single = Kernel(kernel.space)
        reach.add(single, op)
        singles.append(single)
        kernel_of[op] = single
    i = kernels.index(kernel)
    kernels[i:i + 1] = singles


def _acyclic(ops, deps, kernel_of):
    """Whether the graph of kernels and unfused ops (an op's edges taken by its kernel) has no
    cycle: Kahn's algorithm, linear in ops and edges."""
    node = {op: id(kernel_of.get(op, op)) for op in ops}
    edges, indeg = {}, {n: 0 for n in node.values()}
    for op in ops:
        for d in deps[op]:
            a, b = node.get(d), node[op]
            if a is None or a == b or (a, b) in edges:
                continue
            edges[(a, b)] = True
            indeg[b] += 1
    out = {}
    for a, b in edges:
        out.setdefault(a, []).append(b)
    ready = [n for n, k in indeg.items() if k == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for m in out.get(n, ()):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return seen == len(indeg)


def _fuse(ops, deps, shapes, banned):
    """One grouping: ``banned`` holds the horizontal merges to skip (None: make none). Returns
    the kernels, the op -> kernel map and the ``Reach``."""
    reach = Reach(ops, deps)
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
        single = Kernel(space)
        reach.add(single, op)
        merged = single
        for k in cands:
            if _mergeable(k, merged, reach):
                merged = _merge(k, merged, reach, kernels)
        if merged is single:
            kernels.append(single)
        for o in merged.ops:
            kernel_of[o] = merged
    if banned is not None:
        _horizontal(kernels, kernel_of, reach, shapes, banned)
    for k in kernels:
        k.ops.sort(key=reach.index.__getitem__)
    return kernels, kernel_of, reach


class Reach:
    """Reachability as bitsets over the ops' positions: ``anc[op]`` (every op ``op`` depends on,
    transitively) and ``desc[op]``. A kernel keeps the unions over its members (``members``,
    ``anc``, ``desc``), so merging is OR-ing and convexity is one test: a union stays convex iff no
    op outside it is both an ancestor and a descendant of members."""

    def __init__(self, ops, deps):
        self.index = {op: i for i, op in enumerate(ops)}
        anc = {}
        for op in ops:
            bits = 0
            for d in deps[op]:
                bits |= anc[d] | (1 << self.index[d])
            anc[op] = bits
        users = {op: [] for op in ops}
        for op in ops:
            for d in deps[op]:
                users[d].append(op)
        desc = {}
        for op in reversed(ops):
            bits = 0
            for u in users[op]:
                bits |= desc[u] | (1 << self.index[u])
            desc[op] = bits
        self.anc, self.desc = anc, desc
        self.checks = 0     # convexity tests made (tests count them to guard the complexity)

    def add(self, kernel, op):
        kernel.helpers += _helper_calls(op)
        kernel.ops.append(op)
        kernel.members |= 1 << self.index[op]
        kernel.anc |= self.anc[op]
        kernel.desc |= self.desc[op]

    def convex(self, a, b):
        self.checks += 1
        members = a.members | b.members
        return not ((a.anc | b.anc) & (a.desc | b.desc) & ~members)


def _merge(into, other, reach, kernels):
    """Move ``other``'s members into ``into`` (dropping ``other`` from ``kernels``); returns ``into``."""
    into.ops.extend(other.ops)
    into.helpers += other.helpers
    into.members |= other.members
    into.anc |= other.anc
    into.desc |= other.desc
    if other in kernels:
        kernels.remove(other)
    return into


def _horizontal(kernels, kernel_of, reach, shapes, banned):
    """Merge sibling kernels over the same space that read a common array or variable, so the
    shared operand is loaded once (``sum(v*v)`` and ``max(v-2, axis=1)`` become one pass): for each
    (space, operand) the kernels reading it, in order, try to join the first. Only operands as
    large as the space count: sharing a broadcast scalar (a learning rate) saves nothing and would
    weld every optimizer update into one irregular kernel instead of many equal ones that compile
    once. A merge is named by the first ops of its two kernels (the same in every grouping made
    with the same bans); those in ``banned`` are skipped, the others go to the kernel's ``joins``."""
    readers = {}
    for k in kernels:
        inside = set(k.ops)
        seen = set()
        for o in k.ops:
            for t in o.inputs:
                if t.op in inside or t.dtype.is_ref_dtype or t in seen:
                    continue
                seen.add(t)
                if _known(shapes.get(t)) == k.space:
                    readers.setdefault((k.space, t), []).append(k)
            for var, _ in var_accesses(o):
                if var not in seen:
                    seen.add(var)
                    if var_shape(var) == k.space:
                        readers.setdefault((k.space, var), []).append(k)
    alive = set(kernels)
    for group in readers.values():
        if len(group) < 2:
            continue
        first = None
        for k in group:
            k = _current(k, kernel_of)
            if first is None:
                first = k
                continue
            join = (first.ops[0], k.ops[0])
            if k is not first and k in alive and first in alive and join not in banned \
                    and _mergeable(first, k, reach):
                _merge(first, k, reach, kernels)
                alive.discard(k)
                first.joins += [join] + k.joins
                for o in k.ops:
                    kernel_of[o] = first


def _current(k, kernel_of):
    """The kernel now holding ``k``'s ops (``k`` itself unless it was merged away)."""
    return kernel_of[k.ops[0]]


def _value_inputs(op):
    if op.type in ("Assign", "AssignAdd", "AssignSub"):
        return [op.inputs[1]]
    return [t for t in op.inputs if not t.dtype.is_ref_dtype]


def _mergeable(a, b, reach):
    """Within the caps, convex, and no member consumes a reduction computed in the same loop."""
    if len(a.ops) + len(b.ops) > MAX_MEMBERS or a.helpers + b.helpers > MAX_HELPERS:
        return False
    members = a.ops + b.ops
    if _operand_count(members) > MAX_OPERANDS:
        return False
    inside = set(members)
    if any(t.op in inside and t.op.op_def.kind == "reduction" for o in members for t in o.inputs):
        return False
    return reach.convex(a, b)


def _helper_calls(op):
    if op.op_def.kind != "elementwise":
        return 0
    lowered = lowering.elementwise_template(op)
    return len(lowered[1]) if lowered else 0


def _operand_count(members):
    inside = set(members)
    return len({t for o in members for t in o.inputs if t.op not in inside})
