"""order: dependencies that make any topological schedule equal to creation order.

Before: the pruned ops in creation order, with data and control inputs.
After: for every op, the set of ops that must run before it (``deps``): its data and control
producers plus, per variable, the effect edges of program order — a read depends on the last
write of its variable created before it, and a write depends on every earlier read and write of
that variable (read-before-overwrite). Any schedule respecting ``deps`` gives the reference's
results, so later passes may regroup ops freely within these edges.
"""

from jitgraph.ops.state_ops import variable_of


def var_accesses(op):
    """``(var, is_write)`` pairs for the variables ``op`` touches when it runs (computed once per op:
    every pass asks, often several times per op)."""
    cached = op._accesses
    if cached is not None:
        return cached
    op._accesses = out = tuple(_var_accesses(op))
    return out


def _var_accesses(op):
    d = op.op_def
    if "var_accesses" in d.extra:   # loops and conds: what their bodies touch
        return d.extra["var_accesses"](op)
    out = []
    for i, t in enumerate(op.inputs):
        if not t.dtype.is_ref_dtype:
            continue
        var = variable_of(t)
        if var is None:
            continue
        is_write = i in d.ref_inputs and d.ref_writes
        out.append((var, is_write))
    return out


def order(ops):
    """Return ``{op: set(ops it depends on)}`` including per-variable effect edges."""
    in_plan = set(ops)
    deps = {}
    last_write = {}       # var -> last writing op so far
    since_write = {}      # var -> ops that touched var since (and including) the last write
    for op in ops:
        dset = {t.op for t in op.inputs if t.op in in_plan}
        dset.update(c for c in op.control_inputs if c in in_plan)
        for var, is_write in var_accesses(op):
            touched = since_write.setdefault(var, [])
            if is_write:
                dset.update(touched)
                if var in last_write:
                    dset.add(last_write[var])
                last_write[var] = op
                since_write[var] = [op]
            else:
                if var in last_write:
                    dset.add(last_write[var])
                touched.append(op)
        dset.discard(op)
        deps[op] = dset
    return deps
