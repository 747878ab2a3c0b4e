"""Lowering tables: how each fusible op becomes Numba scalar code inside a fused loop.

The op's own ``OpDef.scalar`` template is the default. The table below overrides templates whose
Numba reading differs from the NumPy reference (NaN propagation of maximum/minimum, branchy
``and``/``or``), routes float transcendental math to the vectorizable helpers of
``fastmath.py``, and lowers ``Cast`` per (src, dst) pair. Every result is cast back to the op's
output dtype (``f32(...)``), so int32 wraps and float32 rounds exactly as NumPy does per op.

Reductions are described by ``reduction_spec(op)`` from their ``extra`` data (or a built-in table
keyed by op type until the op library provides it).
"""

import numpy as np

from jitgraph.compiler import fastmath

# dtype name -> the NumPy scalar constructor name available in kernel modules
CTOR = {"float16": None, "float32": "np.float32", "float64": "np.float64", "int8": "np.int8",
        "int16": "np.int16", "int32": "np.int32", "int64": "np.int64", "uint8": "np.uint8",
        "uint16": "np.uint16", "uint32": "np.uint32", "uint64": "np.uint64", "bool": "np.bool_"}

FLOAT_OVERRIDES = {
    "Maximum": "np.maximum({0}, {1})",
    "Minimum": "np.minimum({0}, {1})",
    "Relu": "np.maximum({0}, 0)",
    "Relu6": "np.minimum(np.maximum({0}, 0), 6)",
    "Sign": "np.sign({0})",
}
ANY_OVERRIDES = {
    "LogicalAnd": "({0} & {1})",
    "LogicalOr": "({0} | {1})",
    "LogicalXor": "({0} ^ {1})",
    "Identity": "{0}",
    "Relu": "max({0}, 0)",
}
HELPER_OPS = {"Tanh": "tanh", "Exp": "exp", "Log": "log", "Sigmoid": "sigmoid", "Log1p": "log1p",
              "Softplus": "softplus", "Expm1": "expm1"}

# Integer variants of these raise InvalidArgumentError in the reference (division by zero,
# negative powers): they stay NumPy steps so the error surfaces identically.
RAISING_FOR_INT = {"FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Pow"}
# Ops whose Numba scalar form is missing or unreliable: never fused. (A ``HELPER_OPS`` op is not
# fused either for a dtype without a helper: float64 ``Expm1``.)
NOT_FUSIBLE = {"TruncateDiv", "Round"}

_NUMBA_DTYPES = set(k for k, v in CTOR.items() if v is not None)


def dtype_ok(t):
    """Can a kernel hold values of tensor ``t``'s dtype?"""
    return t.dtype.base_dtype.name in _NUMBA_DTYPES


def elementwise_template(op):
    """The scalar template of an elementwise ``op`` and the fastmath helpers it needs, or None."""
    d = op.op_def
    if op.type in NOT_FUSIBLE or not all(dtype_ok(t) for t in list(op.inputs) + op.outputs):
        return None
    in_dt = op.inputs[0].dtype.base_dtype if op.inputs else None
    if op.type == "Cast":
        return _cast_template(in_dt.name, op.outputs[0].dtype.base_dtype.name), ()
    if op.type == "SelectV2":
        return "({1} if {0} else {2})", ()
    if in_dt is not None and in_dt.is_integer and op.type in RAISING_FOR_INT:
        return None
    if in_dt is not None and in_dt.is_floating and op.type in HELPER_OPS:
        helper = fastmath.HELPER_FOR.get((HELPER_OPS[op.type], in_dt.name))
        return (helper + "({0})", (helper,)) if helper else None
    if in_dt is not None and in_dt.is_floating and op.type in FLOAT_OVERRIDES:
        return FLOAT_OVERRIDES[op.type], ()
    if op.type in ANY_OVERRIDES:
        return ANY_OVERRIDES[op.type], ()
    if d.scalar is None and (d.extra or {}).get("nary"):
        return "(" + d.extra["nary"].join("{%d}" % i for i in range(len(op.inputs))) + ")", ()
    if d.scalar is None:
        return None
    return d.scalar, ()


def _cast_template(src, dst):
    if dst == "bool":
        return "({0} != 0)"
    if src.startswith("float") and not dst.startswith("float"):
        return CTOR[dst] + "(np.trunc({0}))"
    return CTOR[dst] + "({0})"


# ---- reductions ---------------------------------------------------------------------------------
# combine: how two partial results join; identity: the start value (per dtype kind);
# mean: divide by the count at the end.
REDUCTIONS = {
    "Sum": ("add", 0, False), "Mean": ("add", 0, True), "Prod": ("mul", 1, False),
    "Max": ("max", "-inf", False), "Min": ("min", "inf", False),
    "All": ("and", True, False), "Any": ("or", False, False),
}


class ReductionSpec:
    """A lowered reduction: ``combine``, start value, ``mean``, reduced ``axes``, ``keepdims``."""

    __slots__ = ("combine", "identity", "mean", "axes", "keepdims")

    def __init__(self, combine, identity, mean, axes, keepdims):
        self.combine, self.identity, self.mean, self.axes, self.keepdims = combine, identity, mean, axes, keepdims


def reduction_spec(op):
    """The ``ReductionSpec`` of a reduction ``op`` with static axes and known input rank, else None."""
    d = op.op_def
    extra = d.extra or {}
    row = REDUCTIONS.get(op.type)
    combine = extra.get("combine", row[0] if row else None)
    if combine is None or len(op.inputs) < 1 or not all(dtype_ok(t) for t in op.inputs[:1] + tuple(op.outputs)):
        return None
    x = op.inputs[0]
    rank = x.shape.ndims
    if rank is None:
        return None
    axes = _static_axes(op, rank)
    if axes is None:
        return None
    ident = extra.get("identity", row[1] if row else 0)
    mean = extra.get("mean", row[2] if row else False)
    keep = bool(op.attrs.get("keep_dims", op.attrs.get("keepdims", False)))
    if combine in ("max", "min") and not x.dtype.base_dtype.is_floating:
        info = np.iinfo(x.dtype.base_dtype.as_np) if not x.dtype.base_dtype.is_bool else None
        if info is None:
            return None
        ident = info.min if combine == "max" else info.max
    return ReductionSpec(combine, ident, mean, axes, keep)


def _static_axes(op, rank):
    """Reduced axes as a sorted tuple, from an ``axis`` attr or a constant second input."""
    from jitgraph.ops.registry import constant_value
    axes_of = (op.op_def.extra or {}).get("axes")      # an op that says its axes (BiasAddGrad)
    if axes_of is not None:
        return axes_of(op, rank)
    if "axis" in op.attrs or "reduction_indices" in op.attrs:
        ax = op.attrs.get("axis", op.attrs.get("reduction_indices"))
    elif len(op.inputs) > 1:
        ax = constant_value(op.inputs[1])
        if ax is None:
            return None
    else:
        ax = None
    if ax is None:
        return tuple(range(rank))
    ax = np.asarray(ax).reshape(-1).tolist()
    if any(not -rank <= a < max(rank, 1) for a in ax):
        return None
    return tuple(sorted({int(a) % rank for a in ax})) if rank else ()
