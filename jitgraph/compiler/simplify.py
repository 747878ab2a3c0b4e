"""simplify: constant folding.

Before: ordered ops. After: fewer ops, plus ``consts`` (tensor -> folded value, read-only).
Folding evaluates pure elementwise/reduction/layout ops whose inputs are all constants (results of
at most ``FOLD_MAX_ELEMENTS``). Ops touching variables, random or stateful ops are never folded.
(CSE is not done yet: TF1 graphs built by hand rarely repeat pure subexpressions, and fusion
already computes each value once per element.)
"""

import numpy as np

FOLD_MAX_ELEMENTS = 1 << 12
PURE_KINDS = {"elementwise", "reduction", "layout"}


def _pure(op):
    d = op.op_def
    return (d.kind in PURE_KINDS and not d.stateful and d.run is None and d.compute is not None
            and not any(t.dtype.is_ref_dtype for t in op.inputs))


def simplify(ops, keep):
    """Return ``(ops, consts)``; ops producing a fetched or fed tensor (``keep``) are kept."""
    consts, out = {}, []
    for op in ops:
        inputs = op.inputs
        if _pure(op) and not op.control_inputs:
            vals = [consts.get(t, t.op.get_attr("value") if t.op.type == "Const" else None) for t in inputs]
            static = op.outputs[0].shape if op.outputs else None
            small = static is not None and static.is_fully_defined() and int(np.prod(static.as_list() or [1])) <= FOLD_MAX_ELEMENTS
            if (inputs and all(v is not None for v in vals) and small and len(op.outputs) == 1
                    and op.outputs[0] not in keep):
                try:
                    with np.errstate(all="ignore"):
                        r = op.op_def.compute(*vals, **op.attrs)
                    r = np.asarray(r, dtype=op.outputs[0].dtype.base_dtype.as_np)
                    if r.shape == tuple(static.as_list()):
                        r.flags.writeable = False
                        consts[op.outputs[0]] = r
                        continue
                except Exception:   # noqa: BLE001 - folding is an optimization; the step will raise
                    pass
        out.append(op)
    return out, consts
