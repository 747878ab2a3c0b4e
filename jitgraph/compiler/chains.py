"""chains: a run of same-form kernels, each reading the one before it, as one launch.

Before: kernels from ``fuse`` (and ``multi_apply``'s groups). ``fuse`` caps the inlined
transcendental helpers per kernel (``MAX_HELPERS``: LLVM's time grows faster than the loop body),
so a long elementwise chain becomes many byte-equal kernels, one launch each: C2's chain3000
(1,000 x ``tanh(y) * a + b``) runs 250 kernels of four tanh, and each launch costs ~0.4 us of
Numba dispatch and Python on top of its ~2 us of work.
After: such a run is one ``Chain``: the form's kernel with an outer loop that runs its loop nest
once per part, reading the chain's input in the first pass, writing the chain's output in the
last and two buffers of its own in between (codegen's ``chain_source``). Every element goes
through the same code as in separate launches, so values are identical.

A kernel ``k`` continues the chain whose last part is ``prev`` when:
  - both are pure elementwise kernels of one form (``multi_apply.kernel_form``: codegen source,
    dtype and rank of each operand), over a static space, one thread, no variable operand, one
    output of the space's shape;
  - ``k``'s operands are ``prev``'s except its output and, at the chain's input position, ``prev``'s
    output, which nothing else reads and no one fetches (the other operands are the same
    tensors: the shared constants of the chain);
  - the union stays convex (``fuse``'s bitsets, as ``multi_apply`` checks).
Runs shorter than ``MIN_PARTS`` stay separate launches.

A long chain is cut along dim 0 for the chunk workers (``split_operands``): its elements are
independent, so each chunk of rows runs every part on slices of the chain's input and output
(``chunked_kernels.run_split``), values unchanged. C2's chain3000 ran 0.5 ms a step on one core
while the other idled.

Cost: one codegen per candidate kernel (linear in its size), then per kernel one lookup per
input and one operand-list comparison: linear in the graph, plus the word-parallel bitset
operations ``fuse`` already pays (n*n/64 machine words).
"""

import re

from jitgraph.compiler import codegen
from jitgraph.compiler.multi_apply import Group, graph_maps, kernel_form, replace_grouped

# Shorter runs are not worth a module of their own (~0.5 s of compile for ~0.4 us a launch).
MIN_PARTS = 3
#: A chain estimated to take longer (ns, ``_estimated_ns``) runs in chunks on the chunk workers:
#: a hand-off costs ~10-20 us here, a sleeping worker's wake-up ~50 us.
SPLIT_MIN_NS = 60_000
#: Estimated ns per element of one part: per inlined transcendental helper call (C2's chain,
#: 1,000 x tanh on [1000] in 0.49 ms: ~0.45 ns with its multiply and add) and per other line.
HELPER_NS, LINE_NS = 0.45, 0.03
_HELPER_CALL = re.compile(r"\bjg_\w+_f(?:32|64)\(")


class Chain(Group):
    """Same-form kernels run in sequence by one launch, part ``p + 1`` reading part ``p``'s
    output at operand position ``link`` (None until a second part joins); ``out`` is the form's
    output position."""

    def __init__(self, first, form, out):
        super().__init__(first, form)
        self.link, self.out = None, out

    def __repr__(self):
        return f"Chain({len(self.parts)} x {self.parts[0]!r})"


def chain_launches(ops, kernels, kernel_of, shapes, fetch_tensors):
    """Return ``(kernels, kernel_of)`` with every run of at least ``MIN_PARTS`` chained same-form
    kernels replaced by one ``Chain`` (new containers; the inputs are left as they were)."""
    index, consumers, fetched = graph_maps(ops, fetch_tensors)
    open_chain = {}          # the output of a chain's last part -> that chain
    chains = []
    for k in sorted(kernels, key=lambda k: index[k.ops[0]]):
        cand = _candidate(k, shapes, consumers, fetched)
        if cand is None:
            continue
        form, out = cand
        operands = k._mta_operands
        for j, (kind, t) in enumerate(operands):
            c = open_chain.get(t) if kind == "in" else None
            if (c is not None and c.form[0] == form[0] and c.link in (None, j)
                    and _follows(c, k, j, out, consumers, fetched)):
                del open_chain[t]
                c.add(k)
                c.link = j
                break
        else:
            c = Chain(k, form, out)
            chains.append(c)
        open_chain[operands[out][1]] = c
    chains = [c for c in chains if len(c.parts) >= MIN_PARTS]
    if not chains:
        return kernels, kernel_of
    for c in chains:
        operands = codegen.Operands(c.part_operands[0])
        operands[c.out] = c.part_operands[-1][c.out]
        c.operands = operands
        c.text = codegen.chain_source(c.form[1], c.link, c.out, len(c.parts))
        if _estimated_ns(c, shapes) >= SPLIT_MIN_NS:
            operands.split = split_operands(operands, shapes, c.parts[0].space)
    return replace_grouped(kernels, kernel_of, chains, index)


def _estimated_ns(chain, shapes):
    """One launch's time as ``HELPER_NS`` per helper call and ``LINE_NS`` per other line of the
    form's body, per element and part (linear in the form's source)."""
    body = chain.form[1].rpartition("def kernel(")[2]
    helpers = len(_HELPER_CALL.findall(body))
    elements = 1
    for d in chain.parts[0].space:
        elements *= d
    return elements * len(chain.parts) * (HELPER_NS * helpers + LINE_NS * body.count("\n"))


def split_operands(operands, shapes, space):
    """Positions of the operands indexed along the space's dim 0 (codegen's ``_pattern``): the ones
    a chunk of rows slices. The others (constants, rows broadcast over dim 0) are passed whole."""
    if not space or space[0] < 2:
        return ()
    return tuple(i for i, (_, t) in enumerate(operands) if codegen._pattern(shapes[t], space)[0][0] == 0)


def _candidate(k, shapes, consumers, fetched):
    """``(form, output position)`` of a kernel that can be a part of a chain, else None."""
    if getattr(k, "parts", None) or any(op.op_def.kind != "elementwise" for op in k.ops):
        return None   # (a multi_apply group: its updates are no elementwise ops either)
    form = kernel_form(k, shapes, consumers, fetched)
    if form is None or "parallel=True" in form[1]:
        return None
    operands = k._mta_operands
    outs = [i for i, (kind, _) in enumerate(operands) if kind != "in"]
    if len(outs) != 1 or operands[outs[0]][0] != "out":
        return None
    if tuple(shapes[operands[outs[0]][1]]) != tuple(k.space):
        return None
    return form, outs[0]


def _follows(chain, k, j, out, consumers, fetched):
    """Does ``k`` read the chain's last output at position ``j`` and otherwise the same operands,
    with that output read by ``k`` alone and not fetched, and the union convex? (One form: the
    operand at ``j`` is indexed as a full-size one in every part, so the chain's input, its
    output and the buffers between have one shape.)"""
    prev, ops = chain.part_operands[-1], k._mta_operands
    t = prev[out][1]
    if len(ops) != len(prev) or prev[j][0] != "in" or t in fetched:
        return False
    if any(a != b for i, (a, b) in enumerate(zip(prev, ops)) if i not in (j, out)):
        return False
    inside = set(k.ops)
    if not all(c in inside for c in consumers.get(t, ())):
        return False
    return not ((chain.anc | k.anc) & (chain.desc | k.desc) & ~(chain.members | k.members))
