"""Shape steps the runner writes as one expression instead of a NumPy-step call.

A NumPy step costs ~5-8 us a run in the call machinery (context, argument list, output checks)
whatever it computes. Gradient glue makes many steps that compute next to nothing: a mean's
gradient puts each reduced axis back with an ``ExpandDims`` (three per batch norm statistic),
``Shape``/``Size`` feed the counts, a dense layer's input is a ``Reshape`` (P8, the CIFAR
batch-norm CNN: 31 such steps a run). When the static shapes prove the step cannot fail, the
runner writes ``x.reshape(...)``, ``np.array(x.shape, ...)`` or ``np.array(x.size, ...)``, which
return what the reference's ``compute`` returns (the same view, the same values and dtype).

A ``Shape``/``Size`` of a variable itself (a conv's filter gradient takes ``Shape(filter)``, and
``tf.nn.conv2d`` reads the variable, not a snapshot) reads the runner's value of the variable:
the reference checks that the variable is initialized before its first read, and so does the
runner (``schedule.must_init``), and the runner reloads that value after each step that writes
it, so an ``Assign`` with ``validate_shape=False`` earlier in the run is seen as the reference
sees it. The C2 CNN: two steps of 7-8 us each a run; P1: 4 and 22 us.

``inline_expr`` looks at one op: constant time, so linear over the plan.
"""

import math

_VIEWS = ("Reshape", "ExpandDims", "Squeeze")


def inline_expr(op, args, ns, si):
    """The runner expression computing ``op``'s only output from ``args`` (the runner names of its
    inputs), or None when ``op`` must run as a NumPy step. May bind constants in ``ns``."""
    if len(op.outputs) != 1 or not op.inputs:
        return None
    x, out = op.inputs[0], op.outputs[0]
    if op.type in ("Shape", "Size"):
        ns[f"_dt{si}"] = out.dtype.base_dtype.as_np
        what = "shape" if op.type == "Shape" else "size"
        return f"np.array({args[0]}.{what}, _dt{si})"
    if x.dtype.is_ref_dtype:
        return None
    static_args = all(t.op.type == "Const" for t in op.inputs[1:])   # Reshape's shape, ExpandDims' axis
    if op.type in _VIEWS and static_args and _always_fits(_dims(x), _dims(out)):
        dims = tuple(-1 if d is None else d for d in out.shape.as_list())
        return f"{args[0]}.reshape({dims!r})"
    return None


def _dims(t):
    """``t``'s static dims (None where unknown), or None when its rank is unknown."""
    return t.shape.as_list() if t.shape.ndims is not None else None


def _always_fits(src, dst):
    """Does every array of static shape ``src`` reshape to ``dst`` (at most one unknown dim, which
    NumPy's -1 then fills)? With unknown dims in ``src`` the known part of ``dst`` must divide the
    known part of ``src``, so any run-time size fits, and as many dims must be unknown on both
    sides (a squeeze of an unknown dim must fail when it is not 1, as the reference does)."""
    if src is None or dst is None or sum(d is None for d in dst) > 1:
        return False
    if src.count(None) != dst.count(None):   # a squeezed dim of unknown size may not be 1 at run time
        return False
    known_src = math.prod(d for d in src if d is not None)
    known_dst = math.prod(d for d in dst if d is not None)
    if None not in dst:
        return None not in src and known_src == known_dst
    return known_dst > 0 and known_src % known_dst == 0
