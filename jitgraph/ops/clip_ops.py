"""Functions built from reductions and elementwise math: ``reduce_logsumexp``, ``count_nonzero``,
``norm``, ``global_norm`` and ``clip_by_value``/``clip_by_norm``/``clip_by_global_norm``. They add
no op kinds (their gradients come from the ops they are made of). Re-exported by
``reduction_ops`` (and so by ``tf``).
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.ops import math_ops
from jitgraph.ops.op_util import op_scope, shape_tensor
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["reduce_logsumexp", "count_nonzero", "norm", "global_norm", "clip_by_value", "clip_by_norm",
           "clip_by_global_norm"]


def _red():
    from jitgraph.ops import reduction_ops
    return reduction_ops


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None, reduction_indices=None, keep_dims=None):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (the max is subtracted first)."""
    from jitgraph.ops.gradients import stop_gradient
    x = convert_to_tensor(input_tensor)
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    axis = reduction_indices if axis is None else axis
    with op_scope(name or "ReduceLogSumExp", [x]) as scope:
        m = _red().reduce_max(x, axis, keepdims=True)
        m = stop_gradient(math_ops.where(math_ops.unary("IsFinite", m), m, _zeros_like(m)))
        e = math_ops.unary("Exp", math_ops.binary("Sub", x, m))
        s = math_ops.unary("Log", _red().reduce_sum(e, axis, keepdims))
        if not keepdims:
            m = _red()._ao().reshape(m, shape_tensor(s))
        return math_ops.binary("Add", s, m, name=scope)


def _zeros_like(t):
    from jitgraph.ops.constant_ops import zeros_like
    return zeros_like(t)


def count_nonzero(input_tensor=None, axis=None, keepdims=None, dtype=dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None, input=None):
    """The number of non-zero (true, non-empty) elements over ``axis``, as ``dtype`` (int64)."""
    x = convert_to_tensor(input if input_tensor is None else input_tensor)
    with op_scope(name or "count_nonzero", [x]) as scope:
        zero = _zeros_like(x) if x.dtype.base_dtype == dtypes.string else \
            convert_to_tensor(np.zeros((), x.dtype.base_dtype.as_np))
        nz = math_ops.cast(math_ops.binary("NotEqual", x, zero), dtypes.int64)
        total = _red()._reduce("Sum", nz, axis, keepdims, scope if dtypes.as_dtype(dtype) == dtypes.int64 else None,
                        reduction_indices, keep_dims)
        return total if dtypes.as_dtype(dtype) == dtypes.int64 else math_ops.cast(total, dtype, name=scope)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None, keep_dims=None):
    """The vector norm of ``tensor`` over ``axis`` (all dims by default): ``ord`` is "euclidean"
    (or "fro", 2), 1 or ``np.inf``."""
    x = convert_to_tensor(tensor)
    keepdims = bool(keep_dims if keepdims is None else keepdims)
    with op_scope(name or "norm", [x]) as scope:
        if ord in ("euclidean", "fro", 2, 2.0):
            s = _red().reduce_sum(math_ops.binary("Mul", x, x), axis, keepdims)
            return math_ops.unary("Sqrt", s, name=scope)
        if ord in (1, 1.0):
            return _red().reduce_sum(math_ops.unary("Abs", x), axis, keepdims, name=scope)
        if ord == np.inf:
            return _red().reduce_max(math_ops.unary("Abs", x), axis, keepdims, name=scope)
        raise ValueError(f"norm: ord must be 'euclidean', 'fro', 1, 2 or np.inf, got {ord!r}")


def global_norm(t_list, name=None):
    """``sqrt(sum of squares of every element of every tensor in t_list)`` (None entries skipped)."""
    ts = [convert_to_tensor(t) for t in t_list if t is not None]
    if not ts:
        raise ValueError("global_norm: t_list holds no tensors")
    with op_scope(name or "global_norm", ts) as scope:
        sq = _red().add_n([_red().reduce_sum(math_ops.binary("Mul", t, t)) for t in ts])
        return math_ops.unary("Sqrt", sq, name=scope)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clamp ``t`` elementwise to ``[clip_value_min, clip_value_max]`` (broadcasting)."""
    x = convert_to_tensor(t)
    with op_scope(name or "clip_by_value", [x]) as scope:
        lo = math_ops.binary("Minimum", x, clip_value_max)
        out = math_ops.binary("Maximum", lo, clip_value_min, name=scope)
        if x.shape.ndims is not None and out.shape.ndims is not None and not out.shape.is_compatible_with(x.shape):
            raise ValueError(f"clip_by_value: clip bounds would change the shape {x.shape} to {out.shape}")
        return out


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(l2norm(t, axes), clip_norm)``: rescale so the L2 norm is at most ``clip_norm``."""
    x = convert_to_tensor(t)
    with op_scope(name or "clip_by_norm", [x]) as scope:
        l2sum = _red().reduce_sum(math_ops.binary("Mul", x, x), axes, keepdims=True)
        pred = math_ops.binary("Greater", l2sum, 0)
        safe = math_ops.where(pred, l2sum, _ones_like(l2sum))
        l2norm = math_ops.where(pred, math_ops.unary("Sqrt", safe), l2sum)
        scaled = math_ops.binary("Mul", x, clip_norm)
        return math_ops.binary("RealDiv", scaled, math_ops.binary("Maximum", l2norm, clip_norm), name=scope)


def _ones_like(t):
    from jitgraph.ops.constant_ops import ones_like
    return ones_like(t)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``; returns
    ``(clipped_list, global_norm)`` (None entries stay None)."""
    ts = [None if t is None else convert_to_tensor(t) for t in t_list]
    with op_scope(name or "clip_by_global_norm", [t for t in ts if t is not None]):
        gn = global_norm(ts) if use_norm is None else convert_to_tensor(use_norm)
        dt = gn.dtype.base_dtype
        cn = convert_to_tensor(clip_norm, dt) if hasattr(clip_norm, "op") else \
            convert_to_tensor(np.asarray(clip_norm, dt.as_np))
        scale = math_ops.binary("RealDiv", cn, math_ops.binary("Maximum", gn, cn))
        out = [None if t is None else math_ops.binary("Mul", t, math_ops.cast(scale, t.dtype.base_dtype))
               for t in ts]
        return out, gn
