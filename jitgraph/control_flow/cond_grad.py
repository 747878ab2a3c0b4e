"""The gradient of ``If``: another ``If`` on the same predicate whose branches are the branches'
gradients. Each branch's gradient reads the forward values it needs from the forward op's tape
(the taken branch recorded them), so nothing of the forward branch runs again."""

from jitgraph.control_flow.body import Body
from jitgraph.control_flow.cond_op import CondSpec
from jitgraph.control_flow.grad_util import Derivative, record
from jitgraph.ops.constant_ops import zeros_like
from jitgraph.ops.registry import make_op


class _BranchGrad:
    def __init__(self, deriv, outputs, keys, caps):
        self.deriv, self.outputs, self.keys, self.caps = deriv, outputs, keys, caps


def _positions(op, spec):
    """Forward input positions that get a gradient: float captures and variable references."""
    skip = {0, spec.tape_pos}
    return [i for i, t in enumerate(op.inputs) if i not in skip and t.dtype.base_dtype.is_floating]


def _build(op, spec, wanted):
    out = []
    for b in (0, 1):
        fg, body = spec.graphs[b], spec.bodies[b]
        ph_at = {pos: ph for pos, ph in zip(spec.arg_pos[b], body.inputs)}
        xs = [ph_at.get(i, op.inputs[i] if op.inputs[i].dtype.is_ref_dtype else None) for i in wanted]
        ys = [t for t in body.outputs if t.dtype.base_dtype.is_floating]
        live = [x for x in xs if x is not None]
        deriv = Derivative(fg, ys, live)
        by_x = dict(zip(map(id, live), deriv.grads))
        with fg.as_default():
            outputs = []
            for i, x in zip(wanted, xs):
                g = by_x.get(id(x)) if x is not None else None
                if g is None:
                    g = zeros_like(fg.capture(op.inputs[i]))
                outputs.append(g)
        fed = set(body.inputs)
        cuts = [t for t in deriv.cuts if t not in fed]
        keys = record(spec.recorded[b], cuts)
        out.append(_BranchGrad(deriv, outputs, keys, cuts))
    return out


def if_grad(op, *grads):
    spec = op.get_attr("spec")
    dys = [g for g, t in zip(grads[:-1], op.outputs[:-1]) if t.dtype.base_dtype.is_floating]
    wanted = _positions(op, spec)
    if not wanted or all(g is None for g in dys):
        return [None] * len(op.inputs)
    if spec.grad_cache is None:
        spec.grad_cache = _build(op, spec, wanted)
    branches = spec.grad_cache
    graph = op.graph
    inputs, pos = [op.inputs[0]] + list(dys), {}
    tape_pos = len(inputs)
    inputs.append(op.outputs[-1])
    bodies, arg_pos, keys, refs = [], [], [], []
    for b, bg in enumerate(branches):
        fg = spec.graphs[b]
        caps = list(fg.captures.items())
        for src, _ in caps:
            if src not in pos:
                pos[src] = len(inputs)
                inputs.append(src)
        for r in fg.ref_captures:
            if r not in refs:
                refs.append(r)
        fed = list(bg.deriv.dys) + [ph for _, ph in caps] + bg.caps
        bodies.append(Body(fg, fed, bg.outputs))
        arg_pos.append(list(range(1, 1 + len(dys))) + [pos[src] for src, _ in caps])
        keys.append(bg.keys)
    inputs += refs
    out_specs = [(op.inputs[i].dtype.base_dtype, op.inputs[i].shape) for i in wanted]
    gspec = CondSpec(spec.graphs, bodies, arg_pos, out_specs, tape_pos, keys)
    gop = make_op("If", inputs, {"spec": gspec}, "cond_grad", graph=graph)
    result = [None] * len(op.inputs)
    for i, t in zip(wanted, gop.outputs[:-1]):
        result[i] = t
    return result

