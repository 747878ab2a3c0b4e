"""``Body``: the part of a traced ``FuncGraph`` that one run of a loop body, loop condition or
cond branch executes, and its NumPy reference execution (the oracle of the compiled loops).

A body runs the ops its ``outputs`` need (data and control inputs, TF1's rule: an assign made in
a branch that nothing returns or depends on does not run), cut at its ``inputs``, in creation
order, so variable reads inside follow the program-order rule of ``compiler/order.py`` once per
run of the body. The op list, argument slots and dtypes are resolved once, not per iteration.
"""

from jitgraph.compiler.order import var_accesses
from jitgraph.ops.state_ops import VarRef, variable_of
from jitgraph.runtime.reference import _arguments, call_op, check_initialized


class Body:
    """Ops of ``graph`` computing ``outputs`` from ``inputs`` (see the module docstring)."""

    def __init__(self, graph, inputs, outputs):
        self.graph, self.inputs, self.outputs = graph, list(inputs), list(outputs)
        fed = set(self.inputs)
        needed, stack = set(), [t.op for t in self.outputs if t not in fed and t.graph is graph]
        while stack:
            op = stack.pop()
            if op in needed:
                continue
            needed.add(op)
            stack.extend(t.op for t in op.inputs if t not in fed and t.graph is graph)
            stack.extend(c for c in op.control_inputs if c.graph is graph)
        self.ops = sorted(needed, key=lambda op: op._id)
        refs = {}
        for op in self.ops:
            for t in op.inputs:
                if t.dtype.is_ref_dtype and t.graph is not graph:
                    refs.setdefault(t, None)
        self.refs = list(refs)
        self._ref_values = [(id(t), VarRef(variable_of(t))) for t in self.refs]
        self._plan = [(op, [t.dtype.base_dtype.as_np for t in op.outputs]) for op in self.ops]
        self._fed_ids = set(map(id, self.inputs))

    def var_accesses(self):
        """``{var: written?}`` over every op of the body (nested loops and conds included)."""
        out = {}
        for op in self.ops:
            for var, w in var_accesses(op):
                out[var] = out.get(var, False) or w
        return out

    def check_initialized(self, store):
        check_initialized(self.ops, self._fed_ids, store)

    def run(self, ctx, args, extra=(), fast=False):
        """The values of ``outputs`` (then of the tensors ``extra``) for input values ``args``;
        ``fast``: ops use their ``extra["fast"]`` implementation (a compiled plan's cond running
        a loop natively), else the reference."""
        store = ctx.store
        values = dict(zip(map(id, self.inputs), args))
        values.update(self._ref_values)
        for op, dtypes in self._plan:
            d = op.op_def
            fn = (d.extra.get("fast") or d.compute) if fast else d.compute
            results = call_op(ctx, op, fn, _arguments(op, values, store), dtypes)
            for t, v in zip(op.outputs, results):
                values[id(t)] = v
        out = [values[id(t)] for t in self.outputs]
        return out + [values[id(t)] for t in extra] if extra else out

    def __repr__(self):
        return f"<Body of {len(self.ops)} ops: {[o.name for o in self.ops[:6]]}>"


def merged_accesses(bodies):
    """Union of ``var_accesses`` of ``bodies`` as the ``(var, is_write)`` list ``order`` expects."""
    out = {}
    for b in bodies:
        for var, w in b.var_accesses().items():
            out[var] = out.get(var, False) or w
    return list(out.items())
