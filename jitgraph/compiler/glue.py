"""glue: gradient glue that symbolic shapes decide at compile time.

Before: the simplified ops and their symbolic shapes (``shapes.py``). After: a ``Simplified``
(as ``simplify`` returns) without the ``SumToShape`` steps whose answer the shapes already give,
and without the ``Shape`` ops that only fed them.

``tf.gradients`` sums the gradient of a broadcasting op back to each input's shape with
``SumToShape(grad, Shape(x))`` whenever the graph's static shapes cannot tell which dims were
broadcast (a batch dim of ``None``). Per run that is two NumPy steps (one ``Shape``, one sum that
finds nothing to sum) per layer. Symbolic shapes name each unknown dim once per value and equate
the dims a broadcast requires to be equal (the runner checks those equalities before the kernels
that rely on them; a failed check reruns the whole step on the reference executor), so when
``grad`` and ``x`` have the same symbolic shape the sum is the identity: its consumers read
``grad`` directly, and the elementwise work around it fuses into one kernel.

A mean's gradient ``BroadcastTo(g, Shape(x))`` whose result has x's symbolic shape becomes the
elementwise ``_BroadcastLike(g, x)`` (x only lends the loop its dims), which fuses with the
division by the count and whatever reads it; its ``Shape`` op then is dead too.

Shape donors: an op that reads a tensor only for its shape (``Shape``, ``Size``, the ``like`` of
``_BroadcastLike``) reads instead the first feed or NumPy-step result of the same symbolic shape,
which exists anyway. Reading a value computed inside a fused kernel made the kernel write it out
in full for its shape alone: batch norm's gradient glue wrote three [32, 32, 32, 32] tensors per
layer (P8, the CIFAR batch-norm CNN) that nothing else read. Equal queries of one donor then
run once (P8: 27 ``Shape`` steps a run, 12 after).

The gradient of a ``Slice`` is a ``Pad`` of the slice's gradient back to the input's shape; when
slices of one tensor are all used (``nce_loss`` slices the true and the sampled rows out of one
gathered matrix), their padded gradients are added up. An ``Add``/``AddN`` of zero-``Pad``s that
tile one axis of their common result without overlap is a ``ConcatV2`` of the unpadded parts
along that axis (``_pad_sum``): one copy of each part instead of a zero-filled buffer per part
and an add (word2vec's step: four ``Pad`` steps and two adds become two concats).

Cost: one walk over the ops (a dict lookup per op for the donors), one map of each tensor's
consumers (``remap``'s), and one backwards walk to drop dead ``Shape`` ops and the replaced ``Pad``s: linear.
"""

from jitgraph.compiler.fuse import fusible_space
from jitgraph.compiler.remap import _consumers, _only_consumer
from jitgraph.compiler.simplify import Simplified, _frozen, replace, rewire_shaped

DROPPABLE = {"Shape", "Size", "Rank"}     # pure shape queries: dead once nothing reads them
SHAPE_ONLY_INPUT = {"Shape": 0, "Size": 0, "_BroadcastLike": 1}   # the input read for its shape alone
SUMS = {"Add", "AddV2", "AddN"}


def glue(ops, shapes, fetched, fed, consts=None):
    """Resolve ``SumToShape`` ops that the symbolic shapes make identities, and sums of ``Pad``s
    that tile their result (see module doc); ``consts`` holds the folded values (``simplify``)."""
    keep, fed = set(fetched) | set(fed), set(fed)
    out, op_map, tmap, aliased = [], {}, {}, set()
    donors, queries = {}, {}
    consumers = _consumers(ops)[0]
    replaced = set()                          # Pads whose sum became a concat of their inputs
    for t in fed:
        _offer(donors, t, shapes)
    for orig in ops:
        op = rewire_shaped(orig, tmap, op_map, fed, shapes)
        cat = _pad_sum(orig, consts or {}, shapes, consumers, keep) if orig.type in SUMS else None
        if cat is not None:
            pads, axis = cat
            new = replace(orig, op, "ConcatV2", [op_map[p].inputs[0] for p in pads], tmap, fed, {"axis": axis})
            shapes[new.outputs[0]] = shapes.get(op.outputs[0])
            op = op_map[orig] = new
            replaced.update(op_map[p] for p in pads)
        like = _like(op, shapes) if op.type == "BroadcastTo" and orig.outputs[0] not in keep else None
        if like is not None:
            new = replace(orig, op, "_BroadcastLike", [op.inputs[0], like], tmap, fed)
            shapes[new.outputs[0]] = shapes.get(op.outputs[0])
            op = op_map[orig] = new
        if op.type in SHAPE_ONLY_INPUT and orig.outputs[0] not in keep:   # (a fetched query stays)
            op = op_map[orig] = _from_donor(orig, op, donors, shapes, tmap, fed)
        if op.type in DROPPABLE and orig.outputs[0] not in keep:      # (same control inputs: same order)
            key = (op.type, op.inputs[0], tuple(sorted((k, _frozen(v)) for k, v in op.attrs.items())),
                   tuple(sorted(c._id for c in op.control_inputs)))
            twin = queries.setdefault(key, op)       # the same query of one donor: asked once
            if twin is not op:
                tmap[orig.outputs[0]] = twin.outputs[0]
                op_map[orig] = twin
                aliased.add(orig)
                continue
        same = _identity_sum(op, shapes) if op.type == "SumToShape" and orig.outputs[0] not in keep else None
        if same is not None:
            tmap[orig.outputs[0]] = same
            op_map[orig] = same.op
            aliased.add(orig)
            continue
        out.append(op)
        if op.type not in DROPPABLE and any(map(_symbolic, (shapes.get(t) for t in op.outputs))) \
                and fusible_space(op, shapes) is None:
            for t in op.outputs:
                _offer(donors, t, shapes)
    used = set(keep) | {tmap[t] for t in keep if t in tmap}    # a fetch may now be a rewired copy's
    live = []
    for op in reversed(out):
        dead = not op.control_inputs and not any(t in used for t in op.outputs)
        if dead and (op.type in DROPPABLE or op in replaced):
            aliased.add(op)
            continue
        used.update(op.inputs)
        live.append(op)
    live.reverse()
    return Simplified(live, {}, op_map, tmap, aliased)


def _offer(donors, t, shapes):
    """Make ``t`` (a feed or a NumPy step's result) the donor of its symbolic shape if it is the
    first with a shape of unknown dims (a fully static shape has no run-time question to answer)."""
    s = shapes.get(t)
    if _symbolic(s) and not t.dtype.is_ref_dtype:
        donors.setdefault(s, t)


def _symbolic(s):
    """Whether shape ``s`` is known with at least one dim known only at run time."""
    return s is not None and any(isinstance(d, str) for d in s)


def _from_donor(orig, op, donors, shapes, tmap, fed):
    """``op`` reading its shape-only input from that shape's donor (a copy), or ``op`` itself."""
    i = SHAPE_ONLY_INPUT[op.type]
    t = op.inputs[i]
    donor = None if t.dtype.is_ref_dtype else donors.get(shapes.get(t))
    if donor is None or donor is t or len(op.inputs) <= i:
        return op
    inputs = list(op.inputs)
    inputs[i] = donor
    new = replace(orig, op, op.type, inputs, tmap, fed, op.attrs)
    for a, b in zip(op.outputs, new.outputs):
        shapes[b] = shapes.get(a)
    return new


def _like(op, shapes):
    """``like`` if ``op`` is ``BroadcastTo(x, Shape(like))`` (a mean's gradient) whose result has
    ``like``'s symbolic shape, so that it can run as ``_BroadcastLike(x, like)``, else None."""
    target = op.inputs[1]
    if target.op.type != "Shape" or not target.op.inputs:
        return None
    like = target.op.inputs[0]
    s = shapes.get(like)
    if like.dtype.is_ref_dtype or s is None or s != shapes.get(op.outputs[0]) or op.inputs[0].shape.ndims is None:
        return None
    return like if op.inputs[0].shape.ndims <= len(s) else None


def _identity_sum(op, shapes):
    """``grad`` if ``op`` is ``SumToShape(grad, Shape(x))`` with equal symbolic shapes, else None."""
    if op.type != "SumToShape" or op.inputs[1].op.type != "Shape":
        return None
    grad, x = op.inputs[0], op.inputs[1].op.inputs[0]
    sg, sx = shapes.get(grad), shapes.get(x)
    if sg is None or sx is None or sg != sx or shapes.get(op.outputs[0]) != sg or grad.dtype != op.outputs[0].dtype:
        return None
    return grad


def _pad_sum(op, consts, shapes, consumers, keep):
    """``(pads, axis)`` if ``op`` adds up zero-``Pad``s (each read only here, no control inputs)
    that pad one ``axis`` only, whose inputs agree on every other dim and tile ``axis`` of the
    common result in order without overlap (sizes on ``axis`` known), else None."""
    if len(op.inputs) < 2 or op.control_inputs:
        return None
    pads, axis, rest, total = [], None, None, None
    for t in op.inputs:
        p = t.op
        if (p.type != "Pad" or _only_consumer(t, consumers, keep) is not op or p.control_inputs
                or p.attrs.get("constant_values", 0) != 0):
            return None
        pv = consts.get(p.inputs[1], p.inputs[1].op.get_attr("value") if p.inputs[1].op.type == "Const" else None)
        xs = shapes.get(p.inputs[0])
        if pv is None or xs is None or t.dtype != op.outputs[0].dtype:
            return None
        pv = [tuple(int(v) for v in row) for row in pv]
        moved = [d for d, (lo, hi) in enumerate(pv) if lo or hi]
        if len(moved) != 1 or (axis is not None and moved[0] != axis) or not isinstance(xs[moved[0]], int):
            return None
        axis = moved[0]
        lo, hi = pv[axis]
        others = tuple(xs[:axis]) + tuple(xs[axis + 1:])
        if rest is not None and (others != rest or lo + xs[axis] + hi != total):
            return None
        rest, total = others, lo + xs[axis] + hi
        pads.append((lo, xs[axis], p))
    pads.sort(key=lambda e: e[0])
    at = 0
    for lo, size, _ in pads:
        if lo != at:
            return None
        at += size
    return ([p for _, _, p in pads], axis) if at == total else None
