"""Symbolic shapes for one specialization (a feed signature: per feed its rank and size-1 dims).

A dim is an ``int`` or a ``str``: the runner expression that yields it at run time
(``"f0.shape[1]"`` for a fed dim, ``"t7.shape[0]"`` for an unknown dim of a NumPy step's result).
Broadcasting two different non-1 dims records a guard ``(op, a, b)``: the runner checks ``a == b``
before the kernel that relies on it. A shape is a tuple of dims, or None for unknown rank.
"""

from jitgraph.compiler import lowering


def var_shape(var):
    """Static shape of a ``VariableV2`` as a tuple of ints, or None if not fully defined."""
    s = var.get_attr("shape")
    return tuple(s.as_list()) if s.is_fully_defined() else None


class Guards(list):
    """Recorded equalities ``(op, a, b)`` plus a substitution making equal symbols one name."""

    def __init__(self):
        super().__init__()
        self.subst = {}

    def canon(self, d):
        while isinstance(d, str) and d in self.subst:
            d = self.subst[d]
        return d

    def equate(self, op, p, q):
        p, q = self.canon(p), self.canon(q)
        if p == q:
            return p
        self.append((op, p, q))
        if isinstance(p, str):
            self.subst[p] = q
            return q
        if isinstance(q, str):
            self.subst[q] = p
        return p


def broadcast(a, b, op, guards):
    """Broadcast two symbolic shapes, recording the equalities the result depends on."""
    if a is None or b is None:
        return None
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for p, q in zip(a, b):
        p, q = guards.canon(p), guards.canon(q)
        if p == 1 or p == q:
            out.append(q)
        elif q == 1:
            out.append(p)
        else:
            out.append(guards.equate(op, p, q))
    return tuple(out)


def static_or_symbolic(t, name):
    """``t``'s static shape with unknown dims replaced by ``name.shape[i]``."""
    s = t.shape
    if s.ndims is None:
        return None
    return tuple(d if d is not None else f"{name}.shape[{i}]" for i, d in enumerate(s.as_list()))


def infer(ops, feed_tensors, signature, producer_name, consts=None):
    """Symbolic shapes of every tensor of ``ops``: returns ``(shapes, guards)``.

    ``signature[i]`` is ``(ndim, ones)`` for feed ``i``; ``producer_name(t)`` is the runner name
    of a tensor computed by a NumPy step (used for its unknown dims).
    """
    shapes, guards = {t: tuple(v.shape) for t, v in (consts or {}).items()}, Guards()
    for i, t in enumerate(feed_tensors):
        ndim, ones = signature[i]
        static = t.shape.as_list() if t.shape.ndims is not None else [None] * ndim
        shapes[t] = tuple(1 if one else (d if d is not None else f"f{i}.shape[{j}]")
                          for j, (d, one) in enumerate(zip(static, ones)))
    for op in ops:
        if all(t in shapes for t in op.outputs):
            continue
        for t, s in zip(op.outputs, _op_shapes(op, shapes, guards, producer_name)):
            shapes.setdefault(t, s)
    for t, s in shapes.items():
        if s is not None:
            shapes[t] = tuple(guards.canon(d) for d in s)
    return shapes, guards


def _op_shapes(op, shapes, guards, producer_name):
    kind, typ = op.op_def.kind, op.type

    def shape_of(t):
        if t.dtype.is_ref_dtype:
            from jitgraph.ops.state_ops import variable_of
            var = variable_of(t)
            return var_shape(var) if var is not None else None
        return shapes.get(t)

    if typ == "Const":
        return [tuple(op.get_attr("value").shape)]
    if typ == "VariableV2" or typ in ("Assign", "AssignAdd", "AssignSub"):
        return [shape_of(op.outputs[0])]
    if kind == "elementwise" or typ == "Identity":
        out = ()
        for t in op.inputs:
            out = broadcast(out, shape_of(t), op, guards)
        return [out]
    if kind == "reduction":
        spec = lowering.reduction_spec(op)
        src = shape_of(op.inputs[0])
        if spec is not None and src is not None:
            if spec.keepdims:
                return [tuple(1 if i in spec.axes else d for i, d in enumerate(src))]
            return [tuple(d for i, d in enumerate(src) if i not in spec.axes)]
    return [static_or_symbolic(t, producer_name(t)) for t in op.outputs]
