"""Repeating, padding and reversing: ``tile``, ``broadcast_to``, ``pad`` (constant, REFLECT,
SYMMETRIC) and ``reverse``. Re-exported by ``array_ops`` (and so by ``tf``).
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import (check_int_tensor, int_tensor, normalize_axis, op_scope, partial_value, shape_tensor,
                                  shape_value, static_axes)
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["tile", "broadcast_to", "pad", "reverse", "reverse_v2"]


def _dt(ins):
    return ins[0].dtype.base_dtype


def _ao():
    from jitgraph.ops import array_ops
    return array_ops


# ---- Tile, BroadcastTo, Pad, ReverseV2 -------------------------------------------------------------
def _tile_infer(ins, a):
    x, mult = ins
    check_int_tensor(mult, "Tile", "multiples")
    m = partial_value(mult)
    r = x.shape.ndims
    n = len(m) if m is not None else (mult.shape[0].value if mult.shape.ndims == 1 else None)
    if r is not None and n is not None and n != r:
        raise ValueError(f"Shape must be rank {r} but is rank {n} (Tile multiples need one entry per dimension)")
    if r is None or m is None:
        return [(_dt(ins), TensorShape(None if r is None and n is None else [None] * (r if r is not None else n)))]
    if any(e is not None and e < 0 for e in m):
        raise ValueError(f"Tile: multiples {list(m)} must be non-negative")
    return [(_dt(ins), [None if d is None or e is None else d * e for d, e in zip(x.shape.as_list(), m)])]


def _tile_grad(op, g):
    from jitgraph.ops.reduction_ops import reduce_sum
    x, mult = op.inputs
    inter = _ao().reshape(_ao().transpose(_ao().stack([mult, shape_tensor(x)])), [-1])   # [m0, d0, m1, d1, ...]
    r = x.shape.ndims
    return [reduce_sum(_ao().reshape(g, inter), axis=list(range(0, 2 * r, 2))), None]


define_op("Tile", _tile_infer, lambda x, multiples: np.tile(x, tuple(int(m) for m in multiples)), kind="layout",
          grad=_tile_grad)


def tile(input, multiples, name=None):
    """Repeat ``input`` ``multiples[i]`` times along each dimension ``i``."""
    x = convert_to_tensor(input)
    with op_scope(name or "Tile", [x]) as scope:
        return make_op("Tile", [x, int_tensor(multiples, "multiples")], {}, scope).outputs[0]


def _broadcast_to_infer(ins, a):
    x, shp = ins
    check_int_tensor(shp, "BroadcastTo", "shape")
    target = shape_value(shp)
    if target.ndims is None or x.shape.ndims is None:
        return [(_dt(ins), target)]
    if x.shape.ndims > target.ndims:
        raise ValueError(f"Rank of input ({x.shape.ndims}) must be no greater than rank of output shape "
                         f"({target.ndims})")
    from jitgraph.ops.math_ops import broadcast_shapes
    out = broadcast_shapes(x.shape, target)
    for d, t in zip(out.as_list(), target.as_list()):
        if t is not None and d is not None and d != t:
            raise ValueError(f"Dimensions must be equal, but are {d} and {t}")
    return [(_dt(ins), target.merge_with(out))]


def _broadcast_to_grad(op, g):
    from jitgraph.ops.reduction_ops import unbroadcast
    return [unbroadcast(g, op.inputs[0]), None]


define_op("BroadcastTo", _broadcast_to_infer, lambda x, shape: np.broadcast_to(x, tuple(int(d) for d in shape)),
          kind="layout", grad=_broadcast_to_grad)


def _broadcast_like_infer(ins, a):
    from jitgraph.ops.math_ops import broadcast_shapes
    return [(ins[0].dtype.base_dtype, broadcast_shapes(ins[0].shape, ins[1].shape))]


# ``BroadcastTo(x, Shape(like))`` as the compiler's ``glue`` pass rewrites it once symbolic shapes
# prove the two equal: an elementwise op (so it fuses into the loop that reads it) whose second
# operand only lends its shape; the loop never reads its values.
define_op("_BroadcastLike", _broadcast_like_infer,
          lambda x, like: np.array(np.broadcast_to(x, np.broadcast_shapes(np.shape(x), np.shape(like)))),
          kind="elementwise", scalar="{0}", grad=_broadcast_to_grad)


def broadcast_to(input, shape, name=None):
    """``input`` broadcast (NumPy rules) to ``shape``."""
    x = convert_to_tensor(input)
    with op_scope(name or "BroadcastTo", [x]) as scope:
        return make_op("BroadcastTo", [x, int_tensor(shape, "shape")], {}, scope).outputs[0]


def _pad_infer(ins, a):
    x, pads = ins
    check_int_tensor(pads, a["op_type"], "paddings")
    r = x.shape.ndims
    if pads.shape.ndims is not None and pads.shape.ndims != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {pads.shape.ndims} (paddings are [rank, 2])")
    if r is not None and pads.shape.ndims == 2 and pads.shape[0].value not in (None, r) or \
            pads.shape.ndims == 2 and pads.shape[1].value not in (None, 2):
        raise ValueError(f"paddings must be of shape [{r}, 2], got {pads.shape}")
    p = partial_value(pads)
    if r is None:
        return [(_dt(ins), TensorShape(None if p is None else [None] * len(p)))]
    if p is None:
        return [(_dt(ins), [None] * r)]
    out = []
    for d, (lo, hi) in zip(x.shape.as_list(), p):
        if lo is not None and lo < 0 or hi is not None and hi < 0:
            raise ValueError(f"{a['op_type']}: paddings must be non-negative, got {p.tolist()}")
        limit = {"REFLECT": 0, "SYMMETRIC": 1}.get(a.get("mode"), None)
        if limit is not None and d is not None and any(v is not None and v > d - 1 + limit for v in (lo, hi)):
            raise ValueError(f"{a['op_type']}: paddings {p.tolist()} must be less than{' or equal to' * limit} the "
                             f"dimension size {d} in {a['mode']} mode")
        out.append(None if d is None or lo is None or hi is None else d + lo + hi)
    return [(_dt(ins), out)]


def _mirror_pad_grad_compute(g, paddings, mode):
    g = np.array(g, copy=True)
    off = 1 if mode == "REFLECT" else 0
    for ax, (lo, hi) in enumerate(np.asarray(paddings, dtype=np.int64)):
        g = np.moveaxis(g, ax, 0)
        n = g.shape[0]
        core = g[lo:n - hi].copy()
        if lo:
            core[off:off + lo] += g[:lo][::-1]
        if hi:
            core[core.shape[0] - off - hi:core.shape[0] - off] += g[n - hi:][::-1]
        g = np.moveaxis(core, 0, ax)
    return g


def _pad_compute(x, paddings, op_type, constant_values=0):
    """``np.pad`` with a constant, as one fill and one copy (``np.pad`` spends ~20 us in Python)."""
    x, p = np.asarray(x), np.asarray(paddings, dtype=np.int64)
    if p.shape != (x.ndim, 2) or (p < 0).any():
        return np.pad(x, p, constant_values=constant_values)     # (its error for bad paddings)
    out = np.full(tuple(int(n + lo + hi) for n, (lo, hi) in zip(x.shape, p)), constant_values, x.dtype)
    out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, p))] = x
    return out


define_op("Pad", _pad_infer, kind="layout", compute=_pad_compute,
          grad=lambda op, g: [_slice_for_pad(g, op), None])
define_op("MirrorPad", _pad_infer, kind="layout",
          compute=lambda x, paddings, op_type, mode: np.pad(x, np.asarray(paddings, dtype=np.int64), mode=mode.lower()),
          grad=lambda op, g: [make_op("MirrorPadGrad", [g, op.inputs[1]], {"mode": op.get_attr("mode")},
                                      "MirrorPadGrad").outputs[0], None])
define_op("MirrorPadGrad", lambda ins, a: [(_dt(ins), TensorShape(None if ins[0].shape.ndims is None
                                                                  else [None] * ins[0].shape.ndims))],
          _mirror_pad_grad_compute, kind="library")


def _slice_for_pad(g, op):
    from jitgraph.ops.slicing_ops import slice as slice_
    x, pads = op.inputs
    return slice_(g, pads[:, 0], shape_tensor(x))


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """Pad ``tensor``: ``paddings[i] = [before, after]`` for dimension ``i``; ``mode`` is "CONSTANT",
    "REFLECT" or "SYMMETRIC"."""
    x = convert_to_tensor(tensor)
    mode = mode.upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"pad: unknown padding mode {mode!r}; expected CONSTANT, REFLECT or SYMMETRIC")
    op_type = "Pad" if mode == "CONSTANT" else "MirrorPad"
    attrs = {"op_type": op_type}
    if mode == "CONSTANT":
        cv = constant_value(constant_values) if hasattr(constant_values, "op") else constant_values
        if cv is None:
            raise ValueError("pad: constant_values must be known when the graph is built")
        if x.dtype.base_dtype == dtypes.string:   # TF pads strings with b"" by default
            attrs["constant_values"] = b"" if isinstance(cv, (int, np.integer)) and cv == 0 else \
                (cv.encode() if isinstance(cv, str) else cv)
        else:
            attrs["constant_values"] = np.asarray(cv).astype(x.dtype.base_dtype.as_np)[()]
    else:
        attrs["mode"] = mode
    with op_scope(name or op_type, [x]) as scope:
        return make_op(op_type, [x, int_tensor(paddings, "paddings")], attrs, scope).outputs[0]


def _reverse_infer(ins, a):
    r = ins[0].shape.ndims
    axes = [normalize_axis(d, r, "ReverseV2") for d in a["axis"]]
    if len(set(axes)) != len(axes):
        raise ValueError(f"ReverseV2: axis {list(a['axis'])} names a dimension twice")
    a["axis"] = tuple(axes)
    return [(_dt(ins), ins[0].shape)]


define_op("ReverseV2", _reverse_infer, lambda x, axis: np.flip(x, axis=axis) if axis else x, kind="layout",
          grad=lambda op, g: [reverse(g, list(op.get_attr("axis")))])


def reverse(tensor, axis, name=None):
    """Reverse ``tensor`` along each dimension in ``axis``."""
    x = convert_to_tensor(tensor)
    return make_op("ReverseV2", [x], {"axis": tuple(static_axes(axis, "reverse axis"))}, name or "ReverseV2").outputs[0]


reverse_v2 = reverse
