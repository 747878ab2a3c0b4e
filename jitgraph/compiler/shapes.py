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
    if typ == "_MaxPoolTaps":   # the pool and its taps: the input's batch dim, half its height and width
        src = shape_of(op.inputs[0])
        if src is not None and len(src) == 4:
            half = (src[0],) + tuple(d // 2 if isinstance(d, int) else None for d in src[1:3]) + (src[3],)
            return [_merge_static(t, half, producer_name) for t in op.outputs]
    if typ in XENT:
        per_example = _cross_entropy(op, shape_of, guards)
        if per_example is not None:
            return [_merge_static(t, d, producer_name) for t, d in zip(op.outputs, per_example)]
    if typ in _LAYOUT and op.inputs and len(op.outputs) == 1:
        src = shape_of(op.inputs[0])
        derived = _LAYOUT[typ](op, src, shape_of) if src is not None else None
        if derived is not None:
            return [_merge_static(op.outputs[0], derived, producer_name)]
    return [static_or_symbolic(t, producer_name(t)) for t in op.outputs]


# ---- shape rules that carry input dims (size-1 knowledge from the feed signature, batch symbols)
# through NumPy steps. A rule only states what the op computes; the runner re-checks every kernel
# operand against these claims, so a wrong claim costs a fallback to the reference, never a result.
def _transpose(op, src, shape_of):
    perm = op.attrs.get("perm")
    perm = tuple(range(len(src)))[::-1] if perm is None else tuple(perm)
    return tuple(src[p] for p in perm) if len(perm) == len(src) else None


def _expand_dims(op, src, shape_of):
    ax = op.attrs.get("axis")
    if ax is None or not -len(src) - 1 <= ax <= len(src):
        return None
    ax %= len(src) + 1
    return tuple(src[:ax]) + (1,) + tuple(src[ax:])


def _squeeze(op, src, shape_of):
    axes = op.attrs.get("squeeze_dims") or ()
    if not axes:
        return None if any(isinstance(d, str) for d in src) else tuple(d for d in src if d != 1)
    axes = {a % len(src) for a in axes}
    return tuple(d for i, d in enumerate(src) if i not in axes)


def _reshape(op, src, shape_of):
    from jitgraph.ops.registry import constant_value
    target = constant_value(op.inputs[1]) if len(op.inputs) > 1 else None
    if target is None:
        return None
    dims = [int(d) for d in target.reshape(-1)]
    if -1 in dims:
        known = 1
        for d in dims:
            known *= d if d != -1 else 1
        if not all(isinstance(d, int) for d in src) or known == 0:
            return tuple(None if d == -1 else d for d in dims)
        n = 1
        for d in src:
            n *= d
        dims[dims.index(-1)] = n // known
    return tuple(dims)


def _matmul(op, src, shape_of):
    b = shape_of(op.inputs[1])
    if b is None or len(src) != 2 or len(b) != 2:
        return None
    m = src[1] if op.attrs.get("transpose_a") else src[0]
    n = b[0] if op.attrs.get("transpose_b") else b[1]
    return (m, n)


def _same_as_input(op, src, shape_of):
    return tuple(src)


def _like_second(op, src, shape_of):
    s = shape_of(op.inputs[1]) if len(op.inputs) > 1 else None
    return None if s is None else tuple(s)


def _like_shape_of(op, src, shape_of):
    """``SumToShape``/``BroadcastTo`` to ``Shape(x)`` (the gradient glue): x's shape.  Without this
    rule the result got fresh symbols, and when ``glue`` later resolved the sum as an identity the
    ops after it kept shapes in symbols no operand gives (P3, the autoencoder, did not compile)."""
    target = op.inputs[1] if len(op.inputs) > 1 else None
    if target is None or target.op.type != "Shape" or not target.op.inputs:
        return None
    s = shape_of(target.op.inputs[0])
    return None if s is None else tuple(s)


def _pool_grad_taps(op, src, shape_of):
    """``_MaxPoolGradTaps(taps, g)``: the pool's input, twice the taps' height and width, with the
    taps' batch dim (the forward's symbol: a reduction of the scattered gradient, as batch norm's
    offset gradient after a ReLU and a pool in P8, then matches its target's shape)."""
    if len(src) != 4:
        return None
    return (src[0],) + tuple(2 * d if isinstance(d, int) else None for d in src[1:3]) + (src[3],)


XENT = {"SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits"}


def _cross_entropy(op, shape_of, guards):
    """The loss and the backprop of a cross-entropy ``(labels, logits)``: the backprop is the labels
    broadcast against the logits (the logits alone for sparse labels), the loss that without the
    class axis. Without this rule both got fresh symbols, so the gradient glue of ``logits = x @ w
    + b`` (``SumToShape(XentGrad, Shape(x @ w))``) could not be shown to be the identity: two NumPy
    steps a run in every classifier with a ``None`` batch."""
    labels, logits = shape_of(op.inputs[0]), shape_of(op.inputs[1])
    full = logits if op.type.startswith("Sparse") else broadcast(labels, logits, op, guards)
    if not full:
        return None
    axis = op.get_attr("axis") % len(full)
    return full[:axis] + full[axis + 1:], full


_LAYOUT = {"Transpose": _transpose, "ExpandDims": _expand_dims, "Squeeze": _squeeze, "Reshape": _reshape,
           "MatMul": _matmul, "BiasAdd": _same_as_input, "XentGrad": _like_second,
           "SumToShape": _like_shape_of, "BroadcastTo": _like_shape_of, "_MaxPoolGradTaps": _pool_grad_taps}


def _merge_static(t, derived, producer_name):
    """``derived`` dims where the op's static shape does not know them (static ints win)."""
    s = t.shape
    if s.ndims is not None and s.ndims != len(derived):
        return static_or_symbolic(t, producer_name(t))
    static = s.as_list() if s.ndims is not None else [None] * len(derived)
    return tuple(st if st is not None else (d if d is not None else f"{producer_name(t)}.shape[{i}]")
                 for i, (st, d) in enumerate(zip(static, derived)))
