"""Reverse-mode differentiation of a graph: ``tf.gradients`` and ``tf.stop_gradient``.

``gradients(ys, xs)`` finds the ops that lie on a path from some x to some y (through ordinary
inputs; control edges carry no gradient), walks them in reverse creation order, sums the
gradients arriving at each output, and asks each op's ``OpDef.grad(op, *output_grads)`` for its
input gradients. Only floating-point tensors carry gradients. All new ops go under the name scope
``gradients/`` (``gradients/<op name>_grad/...`` per op).

Variables. A variable's value is read by ops that consume its reference tensor ``v:0`` (or its
``v/read:0`` snapshot), so the gradient of a variable is the sum of the gradients flowing into
both. Ops that take the reference *as a reference* (assigns) are not differentiated.
"""

from jitgraph.framework.graph import graph_of
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["gradients", "stop_gradient", "AggregationMethod"]


class AggregationMethod:
    """Accepted for compatibility; gradients are always summed with ``add`` ops."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


define_op("StopGradient", kind="layout", infer=lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)],
          compute=lambda x: x, grad=lambda op, g: [None])


def stop_gradient(input, name=None):
    """The same value as ``input``, but ``tf.gradients`` treats it as a constant."""
    return make_op("StopGradient", [convert_to_tensor(input)], {}, name or "StopGradient").outputs[0]


def _targets(x):
    """The tensors whose gradients make up d/dx: a tensor itself; a variable's ref and its reads."""
    if isinstance(x, Tensor):
        out = [x]
    elif hasattr(x, "_ref"):
        out = [x._ref()]
        for attr in ("_snapshot", "_read"):
            t = getattr(x, attr, None)
            if isinstance(t, Tensor):
                out.append(t)
        if hasattr(x, "value"):
            try:
                out.append(x.value())
            except Exception:  # noqa: BLE001  (a variable without a cached read)
                pass
    else:
        out = [convert_to_tensor(x)]
    ref = out[0]
    if ref.dtype.is_ref_dtype:   # reads made by ``tf.identity(v)``/``v.read_value()`` of the ref
        for op in ref.graph.get_operations():
            if op.type == "Identity" and op.inputs and op.inputs[0] is ref and op.name.endswith("/read"):
                out.append(op.outputs[0])
    seen, uniq = set(), []
    for t in out:
        if id(t) not in seen:
            seen.add(id(t))
            uniq.append(t)
    return uniq


def _differentiable(t):
    return t.dtype.base_dtype.is_floating or t.dtype.base_dtype.name == "variant"   # (a TensorArray's)


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _sum(grads, name="AddN"):
    grads = [g for g in grads if g is not None]
    if not grads:
        return None
    total = grads[0]
    for g in grads[1:]:
        total = make_op("Add", [total, g], {}, name).outputs[0]
    return total


def gradients(ys, xs, grad_ys=None, name="gradients", stop_gradients=None, colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None):
    """Symbolic ``d(sum(ys))/dx`` for each x in ``xs``: a list aligned with ``xs``.

    ``grad_ys`` weights each y (default ones); ``stop_gradients`` tensors are held constant. An
    x unconnected to ys (or reached only through integer tensors) gets ``None``. An op on the path
    with no gradient rule raises ``LookupError``.
    """
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = _as_list(xs)
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    graph = graph_of(ys)
    x_targets = [_targets(x) for x in xs]
    stops = {id(convert_to_tensor(t).op) for t in _as_list(stop_gradients or [])}

    with graph.as_default(), graph.name_scope(name or "gradients"):
        between = _ops_between(graph, ys, [t for ts in x_targets for t in ts])
        grads = {}   # id(tensor) -> list of gradient tensors
        for i, (y, gy) in enumerate(zip(ys, grad_ys)):
            if not _differentiable(y):
                continue
            if gy is None:
                from jitgraph.ops.constant_ops import ones_like
                gy = ones_like(y, name=f"grad_ys_{i}")
            else:
                gy = convert_to_tensor(gy)
                if gy.dtype.base_dtype != y.dtype.base_dtype and y.dtype.base_dtype.name != "variant":
                    raise TypeError(f"Gradient type {gy.dtype.base_dtype.name} does not match the type "
                                    f"{y.dtype.base_dtype.name} of y {y.name}")
            grads.setdefault(id(y), []).append(gy)

        for op in sorted(between, key=lambda o: o._id, reverse=True):
            _backprop_op(graph, op, grads, stops)

        result = []
        for ts in x_targets:
            found = [g for t in ts for g in grads.get(id(t), [])]
            result.append(_sum(found) if len(found) != 1 else found[0])
        return result


def _ops_between(graph, ys, targets):
    """Ops reachable (forward) from ``targets`` that also reach some y (backward)."""
    target_ids = {id(t) for t in targets}
    last = max(y.op._id for y in ys)
    forward = set()
    for op in graph.get_operations()[:last + 1]:
        ref_in = op.op_def.ref_inputs
        if any((id(t) in target_ids or t.op in forward) and i not in ref_in for i, t in enumerate(op.inputs)):
            forward.add(op)
    backward, stack = set(), [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in backward:
            continue
        backward.add(op)
        stack.extend(t.op for t in op.inputs)
    return forward & backward


def _backprop_op(graph, op, grads, stops):
    outs = op.outputs
    out_grads = [_sum(grads.get(id(t), []), f"{op.name}_grad/AddN") if len(grads.get(id(t), [])) > 1
                 else (grads.get(id(t)) or [None])[0] for t in outs]
    if all(g is None for g in out_grads) or id(op) in stops:
        return
    op_def = op.op_def
    if op_def.kind == "state" or op_def.ref_inputs:
        return   # assigns and variables: no gradient flows through a state update
    if not any(_differentiable(t) for t in op.inputs):
        return   # nothing upstream can receive a gradient (integer inputs only)
    if op_def.grad is None:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}). In general "
                          f"every operation must have an associated gradient function.")
    if len(outs) > 1 and any(g is None for g in out_grads):
        from jitgraph.ops.constant_ops import zeros_like
        with graph.name_scope(op.name + "_grad"):
            out_grads = [g if g is not None or not t.dtype.base_dtype.is_floating else zeros_like(t)
                         for g, t in zip(out_grads, outs)]
    with graph.name_scope(op.name + "_grad"):
        in_grads = op_def.grad(op, *out_grads)
    in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
    if len(in_grads) != len(op.inputs):
        raise ValueError(f"Gradient function of {op.type} returned {len(in_grads)} gradients, expected "
                         f"{len(op.inputs)}")
    for t, g in zip(op.inputs, in_grads):
        if g is None or not _differentiable(t):
            continue
        g = convert_to_tensor(g)
        grads.setdefault(id(t), []).append(g)


