"""Joining and splitting: ``stack``/``unstack`` (Pack/Unpack) and ``concat``/``split``
(ConcatV2/Split/SplitV). Axes are static attrs, normalized to ``[0, rank)`` when the rank is known.
Re-exported by ``array_ops`` (and so by ``tf``).
"""

import numpy as np

from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.constant_ops import zeros_like
from jitgraph.ops.op_util import dim_of, int_vector, normalize_axis, shape_tensor, static_axes
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["stack", "unstack", "concat", "split"]


def _dt(ins):
    return ins[0].dtype.base_dtype


# ---- Pack (stack), Unpack (unstack) ----------------------------------------------------------------
def _same_dtype(ins, op_type, param="values"):
    dt = ins[0].dtype.base_dtype
    if any(t.dtype.base_dtype != dt for t in ins):
        raise TypeError(f"Tensors in list passed to '{param}' of '{op_type}' Op have types "
                        f"[{', '.join(t.dtype.base_dtype.name for t in ins)}] that don't all match.")
    return dt


def _pack_infer(ins, a):
    if not ins:
        raise ValueError("stack needs at least one tensor")
    dt = _same_dtype(ins, "Pack")
    merged = TensorShape(None)
    for t in ins:
        if not merged.is_compatible_with(t.shape):
            raise ValueError(f"Shapes of all inputs must match: values[0].shape = {ins[0].shape} != "
                             f"values[{ins.index(t)}].shape = {t.shape}")
        merged = merged.merge_with(t.shape)
    if merged.ndims is None:
        return [(dt, TensorShape(None))]
    dims = merged.as_list()
    axis = a["axis"]
    if not -len(dims) - 1 <= axis <= len(dims):
        raise ValueError(f"Argument `axis` = {axis} not in range [{-len(dims) - 1}, {len(dims) + 1})")
    a["axis"] = axis % (len(dims) + 1)
    return [(dt, dims[:a["axis"]] + [len(ins)] + dims[a["axis"]:])]


define_op("Pack", _pack_infer, lambda *xs, axis: np.stack(xs, axis=axis), kind="layout",
          grad=lambda op, g: unstack(g, num=len(op.inputs), axis=op.get_attr("axis")))


def stack(values, axis=0, name="stack"):
    """Stack rank-R tensors into one rank-(R+1) tensor along ``axis``."""
    ts = [convert_to_tensor(v) for v in values]
    return make_op("Pack", ts, {"axis": axis}, name).outputs[0]


def _unpack_infer(ins, a):
    x = ins[0]
    if x.shape.ndims is None:
        if a["num"] is None:
            raise ValueError("Cannot infer argument `num` from shape <unknown>")
        return [(_dt(ins), TensorShape(None))] * a["num"]
    dims = x.shape.as_list()
    axis = a["axis"] = normalize_axis(a["axis"], len(dims), "Unpack")
    num = a["num"] if a["num"] is not None else dims[axis]
    if num is None:
        raise ValueError(f"Cannot infer argument `num` from shape {x.shape}")
    if dims[axis] not in (None, num):
        raise ValueError(f"Dimension {axis} of the input has {dims[axis]} elements, not num={num}")
    a["num"] = num
    return [(_dt(ins), dims[:axis] + dims[axis + 1:])] * num


def _unpack_grad(op, *grads):
    parts = [g if g is not None else zeros_like(t) for g, t in zip(grads, op.outputs)]
    return [stack(parts, axis=op.get_attr("axis"))]


define_op("Unpack", _unpack_infer, lambda x, num, axis: tuple(np.moveaxis(x, axis, 0)), kind="layout",
          grad=_unpack_grad)


def unstack(value, num=None, axis=0, name="unstack"):
    """Split ``value`` along ``axis`` into a list of rank-(R-1) tensors."""
    x = convert_to_tensor(value)
    return make_op("Unpack", [x], {"num": num, "axis": axis}, name).outputs


# ---- ConcatV2, Split, SplitV -----------------------------------------------------------------------
def _concat_infer(ins, a):
    dt = _same_dtype(ins, "ConcatV2")
    ranks = {t.shape.ndims for t in ins} - {None}
    if len(ranks) > 1:
        raise ValueError(f"Shape must be rank {min(ranks)} but is rank {max(ranks)} (all inputs of concat "
                         f"need the same rank)")
    if not ranks:
        return [(dt, TensorShape(None))]
    r = ranks.pop()
    if not -r <= a["axis"] < r:
        raise ValueError(f"Shape must be at least rank {a['axis'] + 1 if a['axis'] >= 0 else -a['axis']} but is "
                         f"rank {r}")
    axis = a["axis"] = a["axis"] % r
    out = [None] * r
    total = 0
    for t in ins:
        if t.shape.ndims is None:
            total = None
            continue
        d = t.shape.as_list()
        for i in range(r):
            if i == axis:
                continue
            if out[i] is not None and d[i] is not None and out[i] != d[i]:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {out[i]} and {d[i]}. "
                                 f"Shapes are {ins[0].shape} and {t.shape}.")
            out[i] = out[i] if out[i] is not None else d[i]
        total = None if total is None or d[axis] is None else total + d[axis]
    out[axis] = total
    return [(dt, out)]


def _concat_grad(op, g):
    from jitgraph.ops.slicing_ops import slice as slice_
    axis, r = op.get_attr("axis"), op.outputs[0].shape.ndims
    grads, offset = [], 0
    for x in op.inputs:
        begin = [0] * r
        begin[axis] = offset
        grads.append(slice_(g, int_vector(begin), shape_tensor(x)))
        offset = offset + dim_of(x, axis)
    return grads


define_op("ConcatV2", _concat_infer, lambda *xs, axis: np.concatenate(xs, axis=axis), kind="layout",
          grad=_concat_grad)
# A ConcatV2 of equally shaped inputs (static ``size`` each on ``axis``), as the compiler's
# ``views`` pass makes it: the fused kernel computing the inputs loops over their shape and stores
# each one into the result at its offset (``codegen``), so the inputs are never written alone.
define_op("_ConcatParts", _concat_infer, lambda *xs, axis, size: np.concatenate(xs, axis=axis), kind="layout",
          grad=_concat_grad)


def concat(values, axis, name="concat"):
    """Join tensors along ``axis``; all other dimensions must agree."""
    ts = [convert_to_tensor(v) for v in values]
    if not ts:
        raise ValueError("concat needs at least one tensor")
    axis = static_axes(axis, "concat axis")[0]
    if len(ts) == 1:
        from jitgraph.ops.control_ops import identity
        return identity(ts[0], name=name)
    return make_op("ConcatV2", ts, {"axis": axis}, name).outputs[0]


def _split_sizes(x, a, op_type):
    r = x.shape.ndims
    if r is not None:
        a["axis"] = normalize_axis(a["axis"], r, op_type)
    dim = None if r is None else x.shape[a["axis"]].value
    sizes = a.get("size_splits")
    if sizes is None:
        n = a["num_split"]
        if n <= 0:
            raise ValueError(f"{op_type}: num_split must be positive, got {n}")
        if dim is not None and dim % n:
            raise ValueError(f"Dimension size must be evenly divisible by {n} but is {dim}")
        return [None if dim is None else dim // n] * n
    sizes = list(sizes)
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"{op_type}: size_splits {sizes} may hold at most one -1 and no other negative value")
    rest = sum(s for s in sizes if s != -1)
    if dim is not None:
        if -1 in sizes:
            if rest > dim:
                raise ValueError(f"{op_type}: size_splits {sizes} exceed dimension {dim}")
            sizes[sizes.index(-1)] = dim - rest
        elif rest != dim:
            raise ValueError(f"Determined shape must either match input shape along split_dim exactly if fully "
                             f"specified, or be less than the size of the input along split_dim if not fully "
                             f"specified.  Got: {rest} vs {dim} (size_splits {sizes})")
        a["size_splits"] = tuple(sizes)
    return [None if s == -1 else s for s in sizes]


def _split_infer(op_type):
    def infer(ins, a):
        x = ins[0]
        sizes = _split_sizes(x, a, op_type)
        if x.shape.ndims is None:
            return [(_dt(ins), TensorShape(None))] * len(sizes)
        dims = x.shape.as_list()
        return [(_dt(ins), dims[:a["axis"]] + [s] + dims[a["axis"] + 1:]) for s in sizes]
    return infer


def _split_compute(x, axis, num_split=None, size_splits=None):
    if size_splits is None:
        return tuple(np.split(x, num_split, axis=axis))
    sizes = list(size_splits)
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - sum(s for s in sizes if s != -1)
    if sum(sizes) != x.shape[axis] or min(sizes) < 0:
        raise ValueError(f"size_splits {list(size_splits)} do not add up to dimension {x.shape[axis]}")
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


def _split_grad(op, *grads):
    parts = [g if g is not None else zeros_like(t) for g, t in zip(grads, op.outputs)]
    return [concat(parts, op.get_attr("axis"))]


define_op("Split", _split_infer("Split"), _split_compute, kind="layout", grad=_split_grad)
define_op("SplitV", _split_infer("SplitV"), _split_compute, kind="layout", grad=_split_grad)


def _split_part_infer(ins, a):
    dims = ins[0].shape.as_list()
    dims[a["axis"]] = a["size"]
    return [(_dt(ins), dims)]


def _split_part_grad(op, g):
    from jitgraph.ops.tile_pad_ops import pad
    x, axis, begin, size = op.inputs[0], op.get_attr("axis"), op.get_attr("begin"), op.get_attr("size")
    widths = [[0, 0] for _ in range(x.shape.ndims)]
    widths[axis] = [begin, x.shape[axis].value - begin - size]
    return [pad(g, widths)]


# One part of a Split/SplitV, ``x[..., begin:begin + size, ...]`` along ``axis`` (static; the
# compiler's ``views`` pass makes them, so that a fused kernel reads the part in place from ``x``
# instead of a copy of a strided view). Elementwise for fusion: its loop is the part's shape and
# the kernel indexes ``x`` with ``begin`` added on ``axis`` (``codegen``).
define_op("_SplitPart", _split_part_infer,
          lambda x, axis, begin, size: x[(slice(None),) * axis + (slice(begin, begin + size),)],
          kind="elementwise", scalar="{0}", grad=_split_part_grad)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split ``value`` along ``axis`` into ``n`` equal parts (an int) or parts of the given sizes (a list)."""
    x = convert_to_tensor(value)
    axis = static_axes(axis, "split axis")[0]
    if isinstance(num_or_size_splits, (int, np.integer)):
        return make_op("Split", [x], {"axis": axis, "num_split": int(num_or_size_splits)}, name).outputs
    sizes = static_axes(num_or_size_splits, "split sizes")
    return make_op("SplitV", [x], {"axis": axis, "size_splits": tuple(sizes)}, name).outputs
