"""views: split parts that fused kernels read, read in place from the split's input; concats of
kernel results, stored in place by the kernel.

Before: the ops after ``glue``, with their symbolic shapes. After: a ``Simplified`` (as
``simplify`` returns) in which each output of a ``Split``/``SplitV`` that an op fusible over the
part's shape reads is computed by its own ``_SplitPart(x)`` (``axis``, ``begin``, ``size``
attrs), and the split is gone once no output of it is read any more; and each ``ConcatV2`` of
equally shaped inputs, one of them computed by a fusible op, is a ``_ConcatParts`` that joins the
kernel computing them: the kernel stores each input into the result at its offset (an LSTM's
backward pass concatenated its four [batch, units] gate gradients 28 times a step; P5 A/B
19.25 -> 18.3 ms). The pass equates the dims the shape pass named apart (a split's outputs and a
concat's result get names of their own) with those of the split's input and the concat's inputs.

Why: a ``Split`` step returns strided views of its input, and a kernel takes C-contiguous
operands, so the runner copied every part before the kernel read it. An LSTM cell splits its
[batch, 4 * units] gate pre-activations into four parts that one kernel reads: the static LSTM
(P5) copied 172 parts a step (0.9 ms) after 56 ``Split`` steps (0.45 ms). A ``_SplitPart`` is
elementwise over the part's shape, so it joins the kernel of its reader, and the kernel indexes
``x`` with ``begin`` added on ``axis`` (``codegen``): no step, no copy, and the loop stays a
vectorizable C-contiguous read.

Only parts of a known extent on ``axis`` (a static dim of ``x``) are made, so ``begin`` and
``size`` are constants of the kernel source. Fetched parts, and splits some op depends on by a
control edge, stay as they were.

Cost: one walk over the ops and one over their inputs (the consumer lists): linear.
"""

from jitgraph.compiler.fuse import fusible_space
from jitgraph.compiler.lowering import dtype_ok
from jitgraph.compiler.simplify import Simplified, replace, rewire_shaped
from jitgraph.framework.tensor import Operation
from jitgraph.ops.registry import get_op_def

SPLITS = ("Split", "SplitV")


def split_views(ops, shapes, fetched, fed):
    """Rewrite split outputs that fusible ops read into ``_SplitPart`` ops and concats of kernel
    results into ``_ConcatParts`` (module doc)."""
    keep, fed = set(fetched) | set(fed), set(fed)
    consumers, controlled = {}, set()
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
        controlled.update(op.control_inputs)
    out, op_map, tmap, aliased, rename = [], {}, {}, set(), {}
    part_def = get_op_def("_SplitPart")
    fresh_id = None     # parts take ids no op of the graph has (the runner names values by op id)
    for orig in ops:
        op = rewire_shaped(orig, tmap, op_map, fed, shapes)
        if op.type == "ConcatV2" and orig not in controlled:
            joined = _concat_parts(orig, op, shapes, tmap, fed, rename)
            if joined is not None:
                op_map[orig] = joined
                out.append(joined)
                continue
        parts = _parts(op, shapes) if op.type in SPLITS and orig not in controlled else None
        if parts is None:
            out.append(op)
            continue
        left, axis, sx = False, op.get_attr("axis"), shapes[op.inputs[0]]
        for k, (t, (begin, size)) in enumerate(zip(orig.outputs, parts)):
            space = shapes.get(t)
            if t in keep or not any(fusible_space(c, shapes) == tuple(space) for c in consumers.get(t, ())):
                left = True
                continue
            for d, (a, b) in enumerate(zip(space, sx)):     # the part's dims are x's
                if d != axis:
                    _union(rename, a, b)
            attrs = {"axis": axis, "begin": begin, "size": size}
            new = Operation(op.graph, f"{op.name}/part{k}", part_def, [op.inputs[0]], list(op.control_inputs),
                            attrs, [(t.dtype, t.shape)])
            if fresh_id is None:
                fresh_id = len(op.graph.get_operations())
            new._id, new._traceback, new._device = fresh_id, op.traceback, op.device
            fresh_id += 1
            shapes[new.outputs[0]] = tuple(size if d == axis else b for d, b in enumerate(sx))
            tmap[t] = new.outputs[0]
            out.append(new)
        if left:
            out.append(op)
        else:
            aliased.add(orig)
            op_map[orig] = orig      # not kept: edges to the split are not carried to any part
    if rename:
        _rename_dims(shapes, rename)
    return Simplified(out, {}, op_map, tmap, aliased)


def _root(rename, d):
    while d in rename:
        d = rename[d]
    return d


def _union(rename, a, b):
    """Record that dims ``a`` and ``b`` are one (an ``int`` stays the name of its class)."""
    a, b = _root(rename, a), _root(rename, b)
    if a != b and not (isinstance(a, int) and isinstance(b, int)):
        if isinstance(a, int):
            a, b = b, a
        rename[a] = b


def _rename_dims(shapes, rename):
    """Give equal dims one name in every shape. The shape pass names a split's output dims afresh
    (one name shared by the parts of every split it equated, say every LSTM step's gates) and the
    split inputs' dims by their own producers; a part is now computed from its input, so a kernel
    reading it takes its dims from the input, and the two names must be one. Linear in the
    shapes."""
    for t, s in list(shapes.items()):
        if s is not None and any(d in rename for d in s):
            shapes[t] = tuple(_root(rename, d) for d in s)


def _concat_parts(orig, op, shapes, tmap, fed, rename):
    """``op`` (a ``ConcatV2``) as a ``_ConcatParts`` when its inputs share one shape of static
    extent on the axis and one of them comes from an op fusible over that shape, else None."""
    def canon(t):     # (dims equated earlier in this pass compare equal)
        sh = shapes.get(t)
        return None if sh is None else tuple(_root(rename, d) for d in sh)
    ins, s, so = op.inputs, canon(op.inputs[0]), shapes.get(op.outputs[0])
    if len(ins) < 2 or s is None or so is None or len(so) != len(s) or any(canon(t) != s for t in ins):
        return None
    axis = op.get_attr("axis")
    if not isinstance(s[axis], int) or not all(dtype_ok(t) and not t.dtype.is_ref_dtype for t in ins):
        return None
    if not any(fusible_space(t.op, shapes) == shapes.get(t) for t in ins):
        return None
    new = replace(orig, op, "_ConcatParts", list(ins), tmap, fed, {"axis": axis, "size": s[axis]})
    joined = tuple(len(ins) * s[axis] if d == axis else b for d, b in enumerate(s))
    for a, b in zip(so, joined):
        _union(rename, a, b)
    shapes[new.outputs[0]] = joined
    return new


def _parts(op, shapes):
    """``[(begin, size), ...]`` of ``op``'s outputs along its axis when every extent is static, else
    None."""
    x = op.inputs[0]
    sx = shapes.get(x)
    if x.dtype.is_ref_dtype or not dtype_ok(x) or sx is None:
        return None
    axis = op.get_attr("axis")
    outs = [shapes.get(t) for t in op.outputs]
    if len(outs) < 2 or any(s is None or len(s) != len(sx) or not isinstance(s[axis], int) for s in outs):
        return None
    out, begin = [], 0
    for s in outs:
        out.append((begin, s[axis]))
        begin += s[axis]
    return out if begin == sx[axis] else None
