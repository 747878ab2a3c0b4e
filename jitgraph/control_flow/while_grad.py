"""The gradient of ``While``: ``WhileGrad``, a loop that runs the body's gradient backwards over
the forward loop's tape (TF1's gradient while loop over its stacks).

Built once per ``While`` op: the body is differentiated inside its own graph (``grad_util``);
the forward values the gradient ops read are appended to the loop's ``recorded`` list, so every
forward iteration pushes them on the tape. Backward iteration k (from the last to the first)
feeds the gradients of iteration k's outputs, the captured values and iteration k's recorded
values, and yields the gradients of iteration k's inputs (carried to iteration k - 1) and of the
captured values (summed over iterations). A captured TensorArray read once per iteration
(``input_ta.read(t)``) accumulates row by row instead of adding a dense array per iteration.
"""

import numpy as np

from jitgraph.control_flow.body import Body, merged_accesses
from jitgraph.control_flow.grad_util import Derivative, differentiable, record
from jitgraph.control_flow.tape import unbox
from jitgraph.control_flow.tensor_array_grad import zeros_grad
from jitgraph.control_flow.while_op import native_loop
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import define_op, make_op


class LoopGradSpec:
    """``body`` maps [carried gradients, captured values, recorded values] to its outputs;
    ``dx[c]``: output index of carried gradient c's next value (None: zeros); ``acc[a]``:
    ``("dense", i)`` or ``("row", i_index, i_value)`` for captured gradient a; ``like[a]``:
    the op input whose zeros stand for an accumulator that never received anything."""

    def __init__(self, body, n_carried, cap_pos, keys, dx, acc, like, out_specs):
        self.body, self.n_carried, self.cap_pos, self.keys = body, n_carried, cap_pos, keys
        self.dx, self.acc, self.like, self.out_specs = dx, acc, like, out_specs
        self._accesses = None

    def accesses(self):
        if self._accesses is None:
            self._accesses = merged_accesses([self.body])
        return self._accesses


def _while_grad_run(ctx, op, args):
    g = op.get_attr("spec")
    tape = unbox(args[0])
    carried = [np.asarray(a) for a in args[1:1 + g.n_carried]]
    caps = [args[i] for i in g.cap_pos]
    g.body.check_initialized(ctx.store)
    accs = [None] * len(g.acc)
    for k in range(tape.n - 1, -1, -1):
        outs = g.body.run(ctx, carried + caps + [tape.value(j, k) for j in g.keys])
        carried = [outs[i] if i is not None else np.zeros_like(c) for i, c in zip(g.dx, carried)]
        for a, how in enumerate(g.acc):
            if how[0] == "dense":
                v = outs[how[1]]
                accs[a] = v.copy() if accs[a] is None else accs[a] + v
            else:
                row, v = int(outs[how[1]]), np.asarray(outs[how[2]])
                if accs[a] is None:
                    accs[a] = np.zeros((len(unbox(args[g.like[a]]).items),) + v.shape, v.dtype)
                accs[a][row] += v
    for a, how in enumerate(g.acc):
        if accs[a] is None:
            like = args[g.like[a]]
            if isinstance(like, np.ndarray) and like.dtype == object:
                from jitgraph.control_flow.tensor_array_grad import _zeros_grad
                accs[a] = _zeros_grad(like)
            else:
                accs[a] = np.zeros_like(like)
    return carried + accs


define_op("WhileGrad", kind="control", stateful=True, run=_while_grad_run,
          infer=lambda ins, a: list(a["spec"].out_specs),
          extra={"var_accesses": lambda op: op.get_attr("spec").accesses(), "fast": native_loop})


class _Built:
    def __init__(self, deriv, carried, caps_wanted, outputs, dx, acc, keys, cuts):
        self.deriv, self.carried, self.caps_wanted, self.outputs = deriv, carried, caps_wanted, outputs
        self.dx, self.acc, self.keys, self.cuts = dx, acc, keys, cuts


def _build(op, spec):
    fg, body = spec.graphs[1], spec.body
    n = spec.n_vars
    carried = [j for j in range(n) if differentiable(op.outputs[j])]
    ys = [body.outputs[j] for j in carried]
    dense = {i: (spec.ta_specs[j][0], TensorShape([None]).concatenate(spec.ta_specs[j][1]))
             for i, j in enumerate(carried) if j in spec.ta_specs}
    cap_ph = dict(zip(spec.body_pos, body.inputs[n:]))
    cap_x = [(p, ph) for p, ph in cap_ph.items() if differentiable(ph)]
    ref_x = [(i, t) for i, t in enumerate(op.inputs) if t.dtype.is_ref_dtype and t in body.refs
             and t.dtype.base_dtype.is_floating]
    xs = [body.inputs[j] for j in carried] + [ph for _, ph in cap_x] + [t for _, t in ref_x]
    deriv = Derivative(fg, ys, xs, dense)
    grads = deriv.grads
    outputs, index = [], {}

    def out(t):
        if id(t) not in index:
            index[id(t)] = len(outputs)
            outputs.append(t)
        return index[id(t)]

    dx = [out(grads[c]) if grads[c] is not None else None for c in range(len(carried))]
    acc, caps_wanted = [], []
    for (pos, x), g in zip(cap_x + ref_x, grads[len(carried):]):
        if g is None:
            continue
        if g.op.type == "TensorArrayReadGrad" and g.op.inputs[0] is x:
            acc.append(("row", out(g.op.inputs[1]), out(g.op.inputs[2])))
        else:
            acc.append(("dense", out(g)))
        caps_wanted.append(pos)
    fed = set(deriv.dys) | set(body.inputs[n:])
    cuts = [t for t in deriv.cuts if t not in fed]
    keys = record(spec.recorded, cuts)
    return _Built(deriv, carried, caps_wanted, outputs, dx, acc, keys, cuts)


def while_grad(op, *grads):
    spec = op.get_attr("spec")
    if not spec.back_prop:
        return [None] * len(op.inputs)
    if spec.grad_cache is None:
        spec.grad_cache = _build(op, spec)
    b = spec.grad_cache
    if not b.carried or (not b.acc and all(i is None for i in b.dx)):
        return [None] * len(op.inputs)
    dys = []
    for j in b.carried:
        g = grads[j]
        if g is None:   # a TensorArray nothing downstream differentiates
            dtype, shape = spec.ta_specs[j]
            g = zeros_grad(op.outputs[j], dtype, shape)
        dys.append(g)
    fg = spec.graphs[1]
    inputs = [op.outputs[-1]] + dys
    pos = {}
    for src in fg.captures:
        pos[src] = len(inputs)
        inputs.append(src)
    refs = [r for r in fg.ref_captures if r not in pos]
    for r in refs:
        pos[r] = len(inputs)
        inputs.append(r)
    fed = list(b.deriv.dys) + list(fg.captures.values()) + b.cuts
    gbody = Body(fg, fed, b.outputs)
    like = [pos[op.inputs[p]] for p in b.caps_wanted]
    out_specs = [(t.dtype.base_dtype, t.shape) for t in dys]
    out_specs += [(b.outputs[how[-1]].dtype.base_dtype, op.inputs[p].shape if how[0] == "dense" and
                   not op.inputs[p].dtype.base_dtype.name == "variant" else TensorShape(None))
                  for p, how in zip(b.caps_wanted, b.acc)]
    gspec = LoopGradSpec(gbody, len(dys), [pos[s] for s in fg.captures], b.keys, b.dx, b.acc, like, out_specs)
    gop = make_op("WhileGrad", inputs, {"spec": gspec}, "WhileGrad", graph=op.graph)
    result = [None] * len(op.inputs)
    for j, t in zip(b.carried, gop.outputs[:len(dys)]):
        result[j] = t
    for p, t in zip(b.caps_wanted, gop.outputs[len(dys):]):
        result[p] = t
    return result
