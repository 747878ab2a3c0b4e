"""Array ops: shape, size, rank, reshape, transpose, expand/squeeze, stack/unstack, concat/split,
tile, pad, broadcast_to, reverse, range, one_hot.

Layout ops keep what the compiler needs to see statically as attrs (``perm``, ``axis``,
``squeeze_dims``); operands that are often computed at run time (``Reshape``'s shape, ``Tile``'s
multiples, ``Pad``'s paddings, ``Range``'s bounds) stay inputs, as in TF, and are folded into the
static shape when they are known. Slicing and gathering live in ``slicing_ops.py``; their public
functions are re-exported here (``tf.gather`` …).
"""

import builtins

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.constant_ops import constant, zeros_like
from jitgraph.ops.op_util import (check_dtype, int_tensor, no_gradient, normalize_axis, op_scope, partial_value,
                                  shape_value, static_axes)
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["shape", "shape_n", "size", "rank", "reshape", "transpose", "expand_dims", "squeeze", "stack",
           "unstack", "concat", "split", "tile", "pad", "broadcast_to", "reverse", "reverse_v2", "range",
           "one_hot", "newaxis"]

newaxis = None
_INT = (dtypes.int32, dtypes.int64)


def _dt(ins):
    return ins[0].dtype.base_dtype


def _shape_of(x):
    """``x``'s shape as an int32 tensor: a constant when it is static."""
    return int_tensor(x.shape.as_list(), name="Shape") if x.shape.is_fully_defined() else shape(x)


def _check_index_tensor(t, op_type, param):
    check_dtype(t, lambda d: d in _INT, op_type, param, "int32, int64")


# ---- Shape, Size, Rank -------------------------------------------------------------------------------
define_op("Shape", kind="layout", grad=no_gradient,
          infer=lambda ins, a: [(a["out_type"], [ins[0].shape.ndims])],
          compute=lambda x, out_type: np.array(x.shape, dtype=out_type.as_np))


def shape(input, name=None, out_type=dtypes.int32):
    """The dynamic shape of ``input`` as a 1-D int32 tensor."""
    x = convert_to_tensor(input)
    return make_op("Shape", [x], {"out_type": dtypes.as_dtype(out_type)}, name or "Shape").outputs[0]


def shape_n(input, out_type=dtypes.int32, name=None):
    """``[shape(t) for t in input]``."""
    return [shape(t, out_type=out_type) for t in input]


define_op("Size", kind="layout", grad=no_gradient, infer=lambda ins, a: [(a["out_type"], [])],
          compute=lambda x, out_type: np.array(x.size, dtype=out_type.as_np))
define_op("Rank", kind="layout", grad=no_gradient, infer=lambda ins, a: [(dtypes.int32, [])],
          compute=lambda x: np.array(x.ndim, dtype=np.int32))


def size(input, name=None, out_type=dtypes.int32):
    """The number of elements of ``input`` (a constant when its shape is static, as in TF)."""
    x, out_type = convert_to_tensor(input), dtypes.as_dtype(out_type)
    if x.shape.is_fully_defined():
        return constant(np.array(x.shape.num_elements(), out_type.as_np), out_type, name=name or "Size")
    return make_op("Size", [x], {"out_type": out_type}, name or "Size").outputs[0]


def rank(input, name=None):
    """The rank of ``input`` as a scalar int32 tensor."""
    x = convert_to_tensor(input)
    if x.shape.ndims is not None:
        return constant(np.int32(x.shape.ndims), name=name or "Rank")
    return make_op("Rank", [x], {}, name or "Rank").outputs[0]


# ---- Reshape ---------------------------------------------------------------------------------------
def _reshape_infer(ins, a):
    x, shp = ins
    _check_index_tensor(shp, "Reshape", "shape")
    if shp.shape.ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {shp.shape.ndims}")
    v = partial_value(shp)
    if v is None:
        return [(_dt(ins), shape_value(shp))]
    dims = [None if e is None else int(e) for e in v]
    if any(d is not None and d < -1 for d in dims):
        raise ValueError(f"Reshape: size {min(d for d in dims if d is not None)} must be non-negative, or -1 "
                         f"(infer this dimension)")
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape: only one dimension may be -1, got shape {dims}")
    n_in = x.shape.num_elements()
    known = int(np.prod([d for d in dims if d not in (None, -1)]))
    if -1 in dims:
        i = dims.index(-1)
        if n_in is not None and None not in dims and known:
            if n_in % known:
                raise ValueError(f"Dimension size must be evenly divisible by {known} but is {n_in}")
            dims[i] = n_in // known
        else:
            dims[i] = None
    elif n_in is not None and None not in dims and known != n_in:
        raise ValueError(f"Cannot reshape a tensor with {n_in} elements to shape {dims} ({known} elements)")
    return [(_dt(ins), dims)]


define_op("Reshape", _reshape_infer, lambda x, shape: np.reshape(x, tuple(int(d) for d in shape)),
          kind="layout", grad=lambda op, g: [reshape(g, _shape_of(op.inputs[0])), None])


def reshape(tensor, shape, name=None):
    """``tensor`` with the same elements in row-major order and a new ``shape`` (one dim may be -1)."""
    x = convert_to_tensor(tensor)
    with op_scope(name or "Reshape", [x]) as scope:
        return make_op("Reshape", [x, int_tensor(shape, "shape")], {}, scope).outputs[0]


# ---- Transpose -------------------------------------------------------------------------------------
def _transpose_infer(ins, a):
    x, perm = ins[0], a["perm"]
    if perm is None:
        return [(_dt(ins), TensorShape(None if x.shape.ndims is None else x.shape.as_list()[::-1]))]
    if x.shape.ndims is not None and len(perm) != x.shape.ndims:
        raise ValueError(f"Dimension must be {x.shape.ndims} but is {len(perm)}")
    if sorted(perm) != list(builtins.range(len(perm))):
        raise ValueError(f"transpose: perm {list(perm)} is not a permutation of 0..{len(perm) - 1}")
    if x.shape.ndims is None:
        return [(_dt(ins), [None] * len(perm))]
    dims = x.shape.as_list()
    return [(_dt(ins), [dims[p] for p in perm])]


def _transpose_grad(op, g):
    perm = op.get_attr("perm")
    return [transpose(g, None if perm is None else list(np.argsort(perm)))]


define_op("Transpose", _transpose_infer, lambda x, perm: np.transpose(x, perm), kind="layout",
          grad=_transpose_grad)


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permute the dimensions of ``a``; ``perm=None`` reverses them."""
    x = convert_to_tensor(a)
    perm = static_axes(perm, "transpose perm")
    if perm is not None:
        perm = tuple(normalize_axis(p, len(perm), "Transpose", "perm entry") for p in perm)
    return make_op("Transpose", [x], {"perm": perm}, name).outputs[0]


# ---- ExpandDims, Squeeze ---------------------------------------------------------------------------
def _expand_infer(ins, a):
    x, axis = ins[0], a["axis"]
    r = x.shape.ndims
    if r is None:
        return [(_dt(ins), TensorShape(None))]
    if not -r - 1 <= axis <= r:
        raise ValueError(f"dim {axis} not in the interval [{-r - 1}, {r}].")
    a["axis"] = axis % (r + 1)
    dims = x.shape.as_list()
    return [(_dt(ins), dims[:a["axis"]] + [1] + dims[a["axis"]:])]


define_op("ExpandDims", _expand_infer, lambda x, axis: np.expand_dims(x, axis), kind="layout",
          grad=lambda op, g: [reshape(g, _shape_of(op.inputs[0]))])


def expand_dims(input, axis=None, name=None, dim=None):
    """Insert a dimension of size 1 at ``axis``."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("expand_dims: `axis` must be given")
    x = convert_to_tensor(input)
    return make_op("ExpandDims", [x], {"axis": static_axes(axis, "expand_dims axis")[0]}, name or "ExpandDims").outputs[0]


def _squeeze_infer(ins, a):
    x, axes = ins[0], a["squeeze_dims"]
    r = x.shape.ndims
    if r is None:
        return [(_dt(ins), TensorShape(None))]
    axes = tuple(sorted({normalize_axis(d, r, "Squeeze", "dim") for d in axes}))
    a["squeeze_dims"] = axes
    dims = x.shape.as_list()
    if not axes:
        if None in dims:
            return [(_dt(ins), TensorShape(None))]
        return [(_dt(ins), [d for d in dims if d != 1])]
    for d in axes:
        if dims[d] not in (None, 1):
            raise ValueError(f"Can not squeeze dim[{d}], expected a dimension of 1, got {dims[d]}")
    return [(_dt(ins), [d for i, d in enumerate(dims) if i not in axes])]


define_op("Squeeze", _squeeze_infer, lambda x, squeeze_dims: np.squeeze(x, axis=squeeze_dims or None),
          kind="layout", grad=lambda op, g: [reshape(g, _shape_of(op.inputs[0]))])


def squeeze(input, axis=None, name=None, squeeze_dims=None):
    """Remove dimensions of size 1 (all of them, or those in ``axis``)."""
    axis = squeeze_dims if axis is None else axis
    axes = static_axes(axis, "squeeze axis") or []
    x = convert_to_tensor(input)
    return make_op("Squeeze", [x], {"squeeze_dims": tuple(axes)}, name or "Squeeze").outputs[0]


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
        for i in builtins.range(r):
            if i == axis:
                continue
            if out[i] is not None and d[i] is not None and out[i] != d[i]:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {out[i]} and {d[i]}. "
                                 f"Shapes are {ins[0].shape} and {t.shape}.")
            out[i] = out[i] if out[i] is not None else d[i]
        total = None if total is None or d[axis] is None else total + d[axis]
    out[axis] = total
    return [(dt, out)]


def _int_vector(items):
    """A 1-D int32 tensor from a list of Python ints and scalar int32 tensors."""
    return stack(items) if any(hasattr(v, "op") for v in items) else int_tensor(items)


def _concat_grad(op, g):
    from jitgraph.ops.slicing_ops import slice as slice_
    axis, r = op.get_attr("axis"), op.outputs[0].shape.ndims
    grads, offset = [], 0
    for x in op.inputs:
        begin = [0] * r
        begin[axis] = offset
        grads.append(slice_(g, _int_vector(begin), _shape_of(x)))
        d = x.shape[axis].value
        offset = offset + (d if d is not None else shape(x)[axis])
    return grads


define_op("ConcatV2", _concat_infer, lambda *xs, axis: np.concatenate(xs, axis=axis), kind="layout",
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


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Split ``value`` along ``axis`` into ``n`` equal parts (an int) or parts of the given sizes (a list)."""
    x = convert_to_tensor(value)
    axis = static_axes(axis, "split axis")[0]
    if isinstance(num_or_size_splits, (int, np.integer)):
        return make_op("Split", [x], {"axis": axis, "num_split": int(num_or_size_splits)}, name).outputs
    sizes = static_axes(num_or_size_splits, "split sizes")
    return make_op("SplitV", [x], {"axis": axis, "size_splits": tuple(sizes)}, name).outputs


# ---- Tile, BroadcastTo, Pad, ReverseV2 -------------------------------------------------------------
def _tile_infer(ins, a):
    x, mult = ins
    _check_index_tensor(mult, "Tile", "multiples")
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
    inter = reshape(transpose(stack([mult, _shape_of(x)])), [-1])   # [m0, d0, m1, d1, ...]
    r = x.shape.ndims
    return [reduce_sum(reshape(g, inter), axis=list(builtins.range(0, 2 * r, 2))), None]


define_op("Tile", _tile_infer, lambda x, multiples: np.tile(x, tuple(int(m) for m in multiples)), kind="layout",
          grad=_tile_grad)


def tile(input, multiples, name=None):
    """Repeat ``input`` ``multiples[i]`` times along each dimension ``i``."""
    x = convert_to_tensor(input)
    with op_scope(name or "Tile", [x]) as scope:
        return make_op("Tile", [x, int_tensor(multiples, "multiples")], {}, scope).outputs[0]


def _broadcast_to_infer(ins, a):
    x, shp = ins
    _check_index_tensor(shp, "BroadcastTo", "shape")
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


def broadcast_to(input, shape, name=None):
    """``input`` broadcast (NumPy rules) to ``shape``."""
    x = convert_to_tensor(input)
    with op_scope(name or "BroadcastTo", [x]) as scope:
        return make_op("BroadcastTo", [x, int_tensor(shape, "shape")], {}, scope).outputs[0]


def _pad_infer(ins, a):
    x, pads = ins
    _check_index_tensor(pads, a["op_type"], "paddings")
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


define_op("Pad", _pad_infer, kind="layout",
          compute=lambda x, paddings, op_type, constant_values=0: np.pad(
              x, np.asarray(paddings, dtype=np.int64), constant_values=constant_values),
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
    return slice_(g, pads[:, 0], _shape_of(x))


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


# ---- Range, OneHot -------------------------------------------------------------------
def _range_infer(ins, a):
    for t, what in zip(ins, ("start", "limit", "delta")):
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"Range: {what} must be a scalar, got shape {t.shape}")
    vals = [constant_value(t) for t in ins]
    if any(v is None for v in vals):
        return [(a["Tidx"], [None])]
    start, limit, delta = (np.asarray(v).item() for v in vals)
    if delta == 0:
        raise ValueError("Range: delta must not be zero")
    return [(a["Tidx"], [max(0, int(np.ceil((limit - start) / delta)))])]


def _range_compute(start, limit, delta, Tidx):
    if delta == 0:
        raise ValueError("Requires delta != 0")
    return np.arange(start, limit, delta).astype(Tidx.as_np)


define_op("Range", _range_infer, _range_compute, kind="source", grad=no_gradient)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001  (TF's name)
    """``[start, start + delta, …]`` up to (excluding) ``limit``; ``range(n)`` is ``0 … n-1``."""
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    if dtype is None:
        kinds = [a.dtype.base_dtype if hasattr(a, "dtype") and hasattr(a, "op") else
                 (dtypes.float32 if isinstance(a, float) else dtypes.int32) for a in args]
        order = [dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64]
        dtype = max(kinds, key=lambda d: order.index(d) if d in order else 0)
    dtype = dtypes.as_dtype(dtype)
    from jitgraph.ops.math_ops import cast
    with op_scope(name, [a for a in args if hasattr(a, "op")]) as scope:
        ts = [cast(convert_to_tensor(v), dtype) if hasattr(v, "op") else
              constant(np.asarray(v).astype(dtype.as_np), dtype, name=n)
              for v, n in zip(args, ("start", "limit", "delta"))]
        return make_op("Range", ts, {"Tidx": dtype}, scope).outputs[0]


def _one_hot_infer(ins, a):
    idx = ins[0]
    _check_index_tensor(idx, "OneHot", "indices")
    if idx.shape.ndims is None:
        return [(a["dtype"], TensorShape(None))]
    dims = idx.shape.as_list()
    axis = a["axis"]
    if not -1 <= axis <= len(dims):
        raise ValueError(f"OneHot: axis {axis} must be -1 or in [0, {len(dims)}]")
    a["axis"] = len(dims) if axis == -1 else axis
    return [(a["dtype"], dims[:a["axis"]] + [a["depth"]] + dims[a["axis"]:])]


def _one_hot_compute(indices, depth, on_value, off_value, axis, dtype):
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, np.asarray(on_value, dtype.as_np), np.asarray(off_value, dtype.as_np))
    return np.moveaxis(out, -1, axis)


define_op("OneHot", _one_hot_infer, _one_hot_compute, kind="library", grad=no_gradient)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A tensor with ``on_value`` where the index equals the position along the new ``axis``
    (default last) and ``off_value`` elsewhere; out-of-range indices give all ``off_value``."""
    idx = convert_to_tensor(indices)
    if dtype is None:
        dtype = next((v.dtype.base_dtype if hasattr(v, "dtype") else
                      (dtypes.float32 if isinstance(v, float) else dtypes.int32)
                      for v in (on_value, off_value) if v is not None), dtypes.float32)
    dtype = dtypes.as_dtype(dtype)
    vals = []
    for v, default in ((on_value, 1), (off_value, 0)):
        if hasattr(v, "op"):
            v = constant_value(v)
            if v is None:
                raise ValueError("one_hot: on_value/off_value must be known when the graph is built")
        vals.append(np.asarray(default if v is None else v).astype(dtype.as_np)[()])
    depth = static_axes(depth, "one_hot depth")[0]
    return make_op("OneHot", [idx], {"depth": int(depth), "on_value": vals[0], "off_value": vals[1],
                                     "axis": -1 if axis is None else axis, "dtype": dtype},
                   name or "one_hot").outputs[0]


from jitgraph.ops.slicing_ops import *  # noqa: F401,F403,E402  (re-export tf.gather, tf.slice …)
from jitgraph.ops.slicing_ops import __all__ as _slicing_all  # noqa: E402
from jitgraph.ops.slicing_ops import strided_slice_from_key, where_indices  # noqa: F401,E402  (Tensor.__getitem__, tf.where(c))

__all__ += _slicing_all
