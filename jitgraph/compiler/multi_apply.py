"""multi_apply: one kernel launch per update form and ``MAX_PARTS`` variables (fused multi-tensor apply).

Before: kernels from ``fuse``/``rewrite``; an optimizer leaves one kernel per variable (Adam: the
``m``, ``v`` and ``var`` assigns of one variable), all of the same structure over different shapes.
After: kernels of one *form* that are independent of each other become ``Group``s: one launch
of a generated driver that calls the form's kernel once per member, one after another, in place
(codegen's ``group_source``). The per-element code is the members' own kernel, byte for byte
(same fast-math flags), so values are identical to separate launches.

Form: a kernel's codegen source plus its argument types (dtype and rank per operand). Names in
kernel sources are positional, so two kernels have the same form exactly when they would have
shared one compiled kernel anyway; a group then compiles that kernel once plus a small driver.

Which kernels join (in creation order of their first op, each bucket of one form trying only its
last open group):
  - candidates: update kernels (they write a variable), no reduction, no rewrite pattern, static
    iteration space;
  - independence: no path (data, control or variable-effect edge of ``order``) between the kernel
    and any member: ``k.members & (g.anc | g.desc) == 0`` on ``fuse``'s transitive bitsets, so an
    update that reads a variable another member writes never joins it;
  - convexity: no op outside the union is both an ancestor and a descendant of it, so the group
    runs as one step where every member's inputs are ready and before every reader of its results
    (the ``order`` pass's read-before-overwrite and read-after-write edges included);
  - at most ``MAX_PARTS`` members (bounds the driver's compile time): a form with more kernels
    gets one launch per ``MAX_PARTS`` of them, all of one driver source. A kernel of a grouped
    form left alone (the remainder, or one a dependency kept out) calls the group module's
    ``part``, so a form compiles once however it is split.
The schedule pass then places a group like any kernel (``pipeline`` schedules the ungrouped
kernels instead should a group close a cycle through two ops of one other kernel).

Cost: a sort of the kernels by position (n log n), one walk over them with one codegen per
candidate (linear in its size) and at most one merge attempt per kernel, each a constant number
of word-parallel operations on n-bit sets: O(n log n) Python work plus n*n/64 machine words, the
bitset cost ``fuse`` already pays.
"""

from jitgraph.compiler import codegen, config
from jitgraph.compiler.fuse import Kernel
from jitgraph.compiler.order import var_accesses
from jitgraph.compiler.remap import _consumers
from jitgraph.compiler.schedule import KernelStep, _operands
from jitgraph.compiler.shapes import var_shape

# Members per launch. LLVM inlines the form's kernel at every call of the driver, so a driver's
# compile time grows faster than its length (a driver of a small update kernel: 8 / 32 / 130
# calls compiled in 0.3 / 1.7 / 11 s on top of the kernel); groups of 8 are one driver source for
# every graph (compiled once, then shared on disk) and still cut the launches eightfold.
MAX_PARTS = 8


class Group(Kernel):
    """Independent kernels of one form run by one launch; ``parts`` in program order. ``text`` and
    ``operands`` are its module source and operand list (codegen's ``group_source``)."""

    def __init__(self, first, form):
        super().__init__(first.space)
        self.parts, self.part_operands = [], []
        self.form = form              # (the form's kernel source, its key)
        self.text = self.operands = None
        self.add(first)

    def add(self, k):
        self.parts.append(k)
        self.part_operands.append(k._mta_operands)
        self.ops.extend(k.ops)
        self.helpers += k.helpers
        self.members |= k.members
        self.anc |= k.anc
        self.desc |= k.desc

    def __repr__(self):
        return f"Group({len(self.parts)} x {self.parts[0]!r})"


def multi_apply(ops, kernels, kernel_of, shapes, fetch_tensors):
    """Return ``(kernels, kernel_of)`` with same-form independent kernels grouped (new containers;
    the inputs are left as they were, so a caller can still schedule the ungrouped kernels).
    A kernel left alone whose form has a group runs that group's module's ``part`` (a one-member
    ``Group`` with ``entry = "part"``): the form compiles once."""
    index, consumers, fetched = graph_maps(ops, fetch_tensors)
    open_group = {}            # form -> the group a next kernel of that form may join
    host = {}                  # form -> its first group of several members
    groups = []
    for k in sorted(kernels, key=lambda k: index[k.ops[0]]):
        form = _form(k, shapes, consumers, fetched)
        if form is None:
            continue
        g = open_group.get(form[0])
        if g is not None and len(g.parts) < MAX_PARTS and _joinable(g, k):
            g.add(k)
            host.setdefault(form[0], g)
            continue
        g = open_group[form[0]] = Group(k, form)
        groups.append(g)
    groups = [g for g in groups if g.form[0] in host]
    if not groups:
        return kernels, kernel_of
    for g in groups:
        if len(g.parts) > 1:
            g.text, g.operands = codegen.group_source(g.form[1], g.part_operands)
    for g in groups:
        if len(g.parts) == 1:
            g.text = host[g.form[0]].text
            g.operands = codegen.Operands(g.part_operands[0])
            g.operands.entry = "part"
    return replace_grouped(kernels, kernel_of, groups, index)


def graph_maps(ops, fetch_tensors):
    """``(index, consumers, fetched)``: each op's position, each tensor's readers, the fetches."""
    return {op: i for i, op in enumerate(ops)}, _consumers(ops)[0], set(fetch_tensors)


def replace_grouped(kernels, kernel_of, groups, index):
    """``(kernels, kernel_of)`` with each group in the place of its first member and its members'
    ops mapped to it (new containers). Linear in the kernels and the groups' ops."""
    grouped = {id(p): g for g in groups for p in g.parts}
    out, placed = [], set()
    for k in kernels:
        g = grouped.get(id(k), k)
        if id(g) not in placed:
            placed.add(id(g))
            out.append(g)
    new_of = dict(kernel_of)
    for g in groups:
        g.ops.sort(key=index.__getitem__)
        for op in g.ops:
            new_of[op] = g
    return out, new_of


def _joinable(g, k):
    """No path between ``k`` and any member, and the union stays convex."""
    if k.members & (g.anc | g.desc):
        return False
    return not ((g.anc | k.anc) & (g.desc | k.desc) & ~(g.members | k.members))


def _form(k, shapes, consumers, fetched):
    """``kernel_form`` of an update kernel (one that writes a variable), else None."""
    if not any(w for op in k.ops for _, w in var_accesses(op)):
        return None   # not an update: a chain of layers has no independent same-form kernels
    return kernel_form(k, shapes, consumers, fetched)


def kernel_form(k, shapes, consumers, fetched):
    """``(key, source)`` of a kernel that can share a launch, else None (its operands go to
    ``k._mta_operands``): static space, no reduction. The key is its codegen source and the dtype
    and rank of each operand (what its compiled signature depends on)."""
    if getattr(k, "variance", None) or not all(isinstance(d, int) for d in k.space):
        return None
    if any(op.op_def.kind == "reduction" for op in k.ops):
        return None
    step = KernelStep(k)
    _operands(step, consumers, fetched)
    var_shapes = {v: var_shape(v) for v in step.vars}
    if any(shapes.get(t) is None for t in step.ins) or any(shapes.get(t) is None for t, _ in step.outs):
        return None   # the schedule pass reports it (NotCompilable)
    n = 1
    for d in k.space:
        n *= d
    par = n >= config.parallel_threshold()
    src, operands = codegen.kernel_source(step, shapes, var_shapes, par)
    spec = []
    for kind, obj in operands:
        if kind == "var":
            v = obj
        elif obj.dtype.is_ref_dtype:
            from jitgraph.ops.state_ops import variable_of
            v = variable_of(obj)
        else:
            spec.append((obj.dtype.base_dtype.as_np.str, len(tuple(shapes[obj]))))
            continue
        spec.append((v.get_attr("dtype").as_np.str, len(var_shapes.get(v) or var_shape(v))))
    k._mta_operands = operands
    return (src, tuple(spec)), src
