"""Sparse updates: ``tf.scatter_update/add/sub/mul/div/max/min`` and ``tf.scatter_nd_update/add/sub``
write rows (or elements) of a variable in place; ``tf.tensor_scatter_nd_update/add/sub`` compute
the same on a tensor, with gradients.

The variable scatters are state ops like ``AssignAdd``: their first input is the variable's
reference (``ref_writes``: the compiler orders them as writes), the variable must be
initialized, and an index out of range raises ``InvalidArgumentError`` leaving it unchanged. They
return the variable's new value (a copy, never an alias of its buffer). Repeated indices: the
accumulating ops (add, sub, mul, div, max, min) apply every update; ``*_update`` keeps the last.
No gradient flows through a state update, as in TF.
"""

import numpy as np

from jitgraph import errors
from jitgraph.ops.op_util import check_int_tensor, op_scope
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op
from jitgraph.ops.state_ops import _ref_of, _value_for

__all__ = ["scatter_update", "scatter_add", "scatter_sub", "scatter_mul", "scatter_div", "scatter_max",
           "scatter_min", "scatter_nd_update", "scatter_nd_add", "scatter_nd_sub", "tensor_scatter_nd_update",
           "tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_update", "tensor_scatter_add",
           "tensor_scatter_sub"]


def _trunc_div(a, b):
    """C's integer division (towards zero), as TF's integer ``scatter_div``."""
    q = np.abs(a) // np.where(b == 0, 1, np.abs(b))
    return np.where(b == 0, 0, np.where((a < 0) != (b < 0), -q, q)).astype(a.dtype)


def _apply(kind, out, index, updates):
    """``out[index] op= updates`` with every repeated index applied (the last one for update)."""
    if kind == "update":
        out[index] = updates
    elif kind == "div" and out.dtype.kind in "iu":   # one update at a time, so repeats compound
        idx = index if isinstance(index, tuple) else (index,)
        upd = np.broadcast_to(updates, out[index].shape)
        for pos in np.ndindex(idx[0].shape):
            target = tuple(i[pos] for i in idx)
            out[target] = _trunc_div(out[target], upd[pos])
    else:
        ufunc = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                 "max": np.maximum, "min": np.minimum}[kind]
        ufunc.at(out, index, updates)


def _check_index(indices, n, op_type, what="indices"):
    bad = (indices < 0) | (indices >= n)
    if np.any(bad):
        pos = np.argwhere(bad)[0]
        raise errors.InvalidArgumentError(None, None, f"{op_type}: {what}[{','.join(map(str, pos))}] = "
                                                      f"{indices[tuple(pos)]} is not in [0, {n})")


def _nd_index(indices, shape, op_type):
    k = indices.shape[-1]
    if k > len(shape):
        raise errors.InvalidArgumentError(None, None, f"{op_type}: index depth {k} exceeds the rank {len(shape)}")
    for j in range(k):
        _check_index(indices[..., j], shape[j], op_type, f"indices[..., {j}]")
    return tuple(np.moveaxis(indices, -1, 0))


def _updates_shape_ok(updates, indices, ref_shape, nd):
    """TF's rule: updates are a scalar, or ``indices.shape[:-1] + ref.shape[K:]`` for the nd
    scatters (``indices.shape + ref.shape[1:]`` for the row scatters)."""
    if updates.ndims == 0 or updates.ndims is None or indices.ndims is None or ref_shape.ndims is None:
        return True
    if nd:
        k = indices[-1].value
        if k is None:
            return True
        want = indices[:-1].concatenate(ref_shape[k:])
    else:
        want = indices.concatenate(ref_shape[1:])
    return updates.is_compatible_with(want)


# ---- variable scatters -----------------------------------------------------------------------------
def _scatter_infer(op_type, nd):
    def infer(ins, a):
        ref, idx, upd = ins
        if not ref.dtype.is_ref_dtype:
            raise TypeError(f"{op_type} requires a variable reference as its first input, got {ref.dtype.name}")
        check_int_tensor(idx, op_type, "indices")
        if upd.dtype.base_dtype != ref.dtype.base_dtype:
            raise TypeError(f"Input 'updates' of '{op_type}' Op has type {upd.dtype.base_dtype.name} that does "
                            f"not match type {ref.dtype.base_dtype.name} of argument 'ref'.")
        if nd and idx.shape.ndims == 0:
            raise ValueError(f"{op_type}: indices must be at least rank 1, got a scalar")
        if not _updates_shape_ok(upd.shape, idx.shape, ref.shape, nd):
            want = "indices.shape[:-1] + ref.shape[indices.shape[-1]:]" if nd else "indices.shape + ref.shape[1:]"
            raise ValueError(f"{op_type}: updates of shape {upd.shape} must have shape {want} (indices {idx.shape}, "
                             f"ref {ref.shape}) or be a scalar")
        return [(ref.dtype.base_dtype, ref.shape)]
    return infer


def _scatter_run(op_type, kind, nd):
    def run(ctx, op, ins):
        ref, indices, updates = ins
        var = ref.var
        out = ctx.store.get(var).copy()   # copy-on-write: a failed run rolls back to the old buffer
        if nd:
            index = _nd_index(indices, out.shape, op_type)
            want = indices.shape[:-1] + out.shape[indices.shape[-1]:]
        else:
            if out.ndim == 0:
                raise errors.InvalidArgumentError(None, op, f"{op_type}: variable '{var.name}' must be at least "
                                                            f"rank 1")
            _check_index(indices, out.shape[0], op_type)
            index, want = indices, indices.shape + out.shape[1:]
        if np.ndim(updates) and np.shape(updates) != want:
            raise errors.InvalidArgumentError(None, op, f"{op_type}: updates of shape {list(np.shape(updates))} "
                                                        f"must have shape {list(want)} for variable '{var.name}'")
        with np.errstate(all="ignore"):
            _apply(kind, out, index, updates)
        ctx.store.set(var, out)
        return [out.copy()]
    return run


def _define_scatter(op_type, kind, nd):
    define_op(op_type, _scatter_infer(op_type, nd), kind="state", stateful=True, ref_inputs=(0,),
              ref_requires_init=True, ref_writes=True, run=_scatter_run(op_type, kind, nd))

    def scatter(ref, indices, updates, use_locking=None, name=None):
        r = _ref_of(ref)
        with op_scope(name or op_type, [r]) as scope:
            upd = _value_for(r, updates, op_type)
            idx = convert_to_tensor(indices)
            return make_op(op_type, [r, idx, upd], {"use_locking": bool(use_locking)}, scope).outputs[0]
    return scatter


def _doc(fn, what):
    fn.__name__ = what.split("(")[0]
    fn.__doc__ = f"``{what}`` on variable ``ref``; returns its new value."
    return fn


scatter_update = _doc(_define_scatter("ScatterUpdate", "update", False), "scatter_update(ref[indices] = updates)")
scatter_add = _doc(_define_scatter("ScatterAdd", "add", False), "scatter_add(ref[indices] += updates)")
scatter_sub = _doc(_define_scatter("ScatterSub", "sub", False), "scatter_sub(ref[indices] -= updates)")
scatter_mul = _doc(_define_scatter("ScatterMul", "mul", False), "scatter_mul(ref[indices] *= updates)")
scatter_div = _doc(_define_scatter("ScatterDiv", "div", False), "scatter_div(ref[indices] /= updates)")
scatter_max = _doc(_define_scatter("ScatterMax", "max", False),
                   "scatter_max(ref[indices] = max(ref[indices], updates))")
scatter_min = _doc(_define_scatter("ScatterMin", "min", False),
                   "scatter_min(ref[indices] = min(ref[indices], updates))")
scatter_nd_update = _doc(_define_scatter("ScatterNdUpdate", "update", True),
                         "scatter_nd_update(ref[indices[..., :K]] = updates)")
scatter_nd_add = _doc(_define_scatter("ScatterNdAdd", "add", True), "scatter_nd_add(ref[indices[..., :K]] += updates)")
scatter_nd_sub = _doc(_define_scatter("ScatterNdSub", "sub", True), "scatter_nd_sub(ref[indices[..., :K]] -= updates)")


# ---- the optimizers' row writes ----------------------------------------------------------------------
def _rows_infer(ins, a):
    ref, rows, values = ins
    check_int_tensor(rows, "_ScatterRowsUpdate", "rows")
    return [(ref.dtype, ref.shape)]


def _rows_run(ctx, op, ins):
    """``ref[rows] = values`` in the variable's own buffer (distinct ``rows``: an optimizer's
    update of the rows an embedding lookup named). Checked before the write; the store's journal
    keeps the old rows for a failed run's rollback. Returns the reference, as ``Assign`` does, so
    no copy of the whole variable is made."""
    ref, rows, values = ins
    var = ref.var
    buf = ctx.store.get(var)
    rows = np.asarray(rows).reshape(-1)
    _check_index(rows, buf.shape[0] if buf.ndim else 0, op.type, "rows")
    want = rows.shape + buf.shape[1:]
    if np.shape(values) != want:
        raise errors.InvalidArgumentError(None, op, f"{op.type}: values of shape {list(np.shape(values))} must "
                                                    f"have shape {list(want)} for variable '{var.name}'")
    ctx.store.update_rows(var, rows, np.asarray(values, buf.dtype))
    return [ref]


define_op("_ScatterRowsUpdate", _rows_infer, kind="state", stateful=True, ref_inputs=(0,), ref_requires_init=True,
          ref_writes=True, run=_rows_run, extra={"in_place": True})


def scatter_rows_update(ref, rows, values, name=None):
    """``ref[rows] = values`` in place (``rows`` distinct), returning the variable's reference."""
    r = _ref_of(ref)
    return make_op("_ScatterRowsUpdate", [r, convert_to_tensor(rows), convert_to_tensor(values)], {},
                   name or "ScatterRowsUpdate").outputs[0]


# ---- tensor scatters (no state) --------------------------------------------------------------------
def _tensor_scatter_infer(op_type):
    def infer(ins, a):
        x, idx, upd = ins
        check_int_tensor(idx, op_type, "indices")
        if upd.dtype.base_dtype != x.dtype.base_dtype:
            raise TypeError(f"Input 'updates' of '{op_type}' Op has type {upd.dtype.base_dtype.name} that does "
                            f"not match type {x.dtype.base_dtype.name} of argument 'tensor'.")
        if idx.shape.ndims == 0:
            raise ValueError(f"{op_type}: indices must be at least rank 1, got a scalar")
        if upd.shape.ndims == 0 or not _updates_shape_ok(upd.shape, idx.shape, x.shape, True):
            raise ValueError(f"{op_type}: updates of shape {upd.shape} must have shape indices.shape[:-1] + "
                             f"tensor.shape[indices.shape[-1]:] (indices {idx.shape}, tensor {x.shape})")
        return [(x.dtype.base_dtype, x.shape)]
    return infer


def _tensor_scatter_compute(op_type, kind):
    def compute(tensor, indices, updates):
        out = np.array(tensor, copy=True)
        _apply(kind, out, _nd_index(indices, out.shape, op_type), updates)
        return out
    return compute


def _tensor_scatter_grad(kind):
    def grad(op, g):
        from jitgraph.ops.math_ops import unary
        from jitgraph.ops.slicing_ops import gather_nd
        idx = op.inputs[1]
        g_upd = gather_nd(g, idx)
        if kind == "update":   # overwritten entries of the tensor get no gradient
            from jitgraph.ops.constant_ops import zeros_like
            return [tensor_scatter_nd_update(g, idx, zeros_like(g_upd)), None, g_upd]
        return [g, None, unary("Neg", g_upd) if kind == "sub" else g_upd]
    return grad


def _define_tensor_scatter(op_type, kind):
    define_op(op_type, _tensor_scatter_infer(op_type), _tensor_scatter_compute(op_type, kind), kind="library",
              grad=_tensor_scatter_grad(kind))

    def scatter(tensor, indices, updates, name=None):
        x = convert_to_tensor(tensor)
        upd = convert_to_tensor(updates, preferred_dtype=x.dtype.base_dtype)
        return make_op(op_type, [x, convert_to_tensor(indices), upd], {}, name or op_type).outputs[0]
    return scatter


tensor_scatter_nd_update = _doc(_define_tensor_scatter("TensorScatterUpdate", "update"),
                                "tensor_scatter_nd_update(tensor[indices] = updates)")
tensor_scatter_nd_add = _doc(_define_tensor_scatter("TensorScatterAdd", "add"),
                             "tensor_scatter_nd_add(tensor[indices] += updates)")
tensor_scatter_nd_sub = _doc(_define_tensor_scatter("TensorScatterSub", "sub"),
                             "tensor_scatter_nd_sub(tensor[indices] -= updates)")
for _f in (tensor_scatter_nd_update, tensor_scatter_nd_add, tensor_scatter_nd_sub):
    _f.__doc__ = _f.__doc__.replace("on variable ``ref``; returns its new value", "on a copy of ``tensor``")
tensor_scatter_update, tensor_scatter_add, tensor_scatter_sub = (tensor_scatter_nd_update, tensor_scatter_nd_add,
                                                                 tensor_scatter_nd_sub)
