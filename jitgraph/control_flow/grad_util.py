"""Differentiating a traced body: the gradient ops are built inside the body's own graph, and the
forward values they read become *cuts*: tensors the forward op records on its tape, so the
gradient body starts from them instead of recomputing (or re-running the assigns of) the
forward ops."""

from jitgraph.ops.gradients import gradients
from jitgraph.ops.registry import make_op


def differentiable(t):
    return t.dtype.base_dtype.is_floating or t.dtype.base_dtype.name == "variant"


def grad_placeholder(fg, y, dense_spec=None):
    """An ``_Arg`` of ``fg`` for the gradient of ``y`` (a TensorArray's is dense: ``dense_spec``)."""
    dtype, shape = dense_spec if dense_spec is not None else (y.dtype.base_dtype, y.shape)
    return make_op("_Arg", [], {"dtype": dtype, "shape": shape}, "grad_y", graph=fg).outputs[0]


class Derivative:
    """``grads[i]``: d(sum ys * dys)/d xs[i] (or None) built in ``fg``; ``dys``: the placeholders
    for the incoming gradients; ``cuts``: forward tensors of ``fg`` the gradient ops read."""

    def __init__(self, fg, ys, xs, dense_specs=None):
        self.fg = fg
        start = len(fg._ops)
        self.dys = [grad_placeholder(fg, y, (dense_specs or {}).get(i)) for i, y in enumerate(ys)]
        with fg.as_default():
            self.grads = gradients(ys, xs, grad_ys=self.dys) if ys else [None] * len(xs)
        dy_set = set(self.dys)
        grad_ops = fg._ops[start:]
        cuts = {}
        for op in grad_ops:
            for t in op.inputs:
                if t.graph is fg and t.op._id < start and t not in dy_set:
                    cuts.setdefault(t, None)
        for g in self.grads:   # a gradient that is a forward value itself
            if g is not None and g.graph is fg and g.op._id < start and g not in dy_set:
                cuts.setdefault(g, None)
        self.cuts = list(cuts)


def record(recorded, tensors):
    """Indices of ``tensors`` in the op's ``recorded`` list, appending the new ones."""
    index = {id(t): i for i, t in enumerate(recorded)}
    keys = []
    for t in tensors:
        if id(t) not in index:
            index[id(t)] = len(recorded)
            recorded.append(t)
        keys.append(index[id(t)])
    return keys

