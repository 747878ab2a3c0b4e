"""Linear algebra: ``matmul`` (``MatMul`` for matrices, ``BatchMatMulV2`` with broadcast batch
dims), ``tensordot``, ``eye``, ``matrix_transpose`` and the ``tf.linalg`` namespace.

``MatMul``/``BatchMatMulV2`` are ``library`` ops (BLAS through ``np.matmul``); their attrs
``transpose_a``/``transpose_b`` (``adj_x``/``adj_y``) tell the kernel which operand to read
transposed, so no transpose is materialized.
"""

import types

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops import reduction_ops
from jitgraph.ops.math_ops import broadcast_shapes, cast
from jitgraph.ops.op_util import check_dtype, int_vector, op_scope, static_axes
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["matmul", "tensordot", "eye", "matrix_transpose", "linalg"]

_ALLOWED = "float16, float32, float64, int32, int64"


def _matmul_dtype(a, b, op_type):
    if a.dtype.base_dtype != b.dtype.base_dtype:
        raise TypeError(f"Input 'b' of '{op_type}' Op has type {b.dtype.base_dtype.name} that does not match type "
                        f"{a.dtype.base_dtype.name} of argument 'a'.")
    check_dtype(a, lambda d: d.is_floating or d in (dtypes.int32, dtypes.int64), op_type, "a", _ALLOWED)
    return a.dtype.base_dtype


def _inner(ka, kb):
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"Dimensions must be equal, but are {ka} and {kb}")


# ---- MatMul ----------------------------------------------------------------------------------------
def _matmul_infer(ins, a):
    x, y = ins
    dt = _matmul_dtype(x, y, "MatMul")
    for t in (x, y):
        if t.shape.ndims not in (None, 2):
            raise ValueError(f"Shape must be rank 2 but is rank {t.shape.ndims}")
    xd = x.shape.as_list() if x.shape.ndims else [None, None]
    yd = y.shape.as_list() if y.shape.ndims else [None, None]
    m, k1 = xd[::-1] if a["transpose_a"] else xd
    k2, n = yd[::-1] if a["transpose_b"] else yd
    _inner(k1, k2)
    return [(dt, [m, n])]


def _matmul_compute(a, b, transpose_a, transpose_b):
    return np.matmul(a.T if transpose_a else a, b.T if transpose_b else b)


def _matmul_grad(op, g):
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(g, b, transpose_b=True), matmul(a, g, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, g, transpose_b=True), matmul(a, g)]
    if not ta and tb:
        return [matmul(g, b), matmul(g, a, transpose_a=True)]
    return [matmul(b, g, transpose_a=True, transpose_b=True), matmul(g, a, transpose_a=True, transpose_b=True)]


define_op("MatMul", _matmul_infer, _matmul_compute, kind="library", grad=_matmul_grad,
          extra={"fast": lazy("matmul", "matmul_fast")})


# ---- BatchMatMulV2 ---------------------------------------------------------------------------------
def _batch_matmul_infer(ins, a):
    x, y = ins
    dt = _matmul_dtype(x, y, "BatchMatMulV2")
    for t in (x, y):
        if t.shape.ndims is not None and t.shape.ndims < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {t.shape.ndims}")
    if x.shape.ndims is None or y.shape.ndims is None:
        return [(dt, TensorShape(None))]
    xd, yd = x.shape.as_list(), y.shape.as_list()
    m, k1 = xd[-2:][::-1] if a["adj_x"] else xd[-2:]
    k2, n = yd[-2:][::-1] if a["adj_y"] else yd[-2:]
    _inner(k1, k2)
    batch = broadcast_shapes(TensorShape(xd[:-2]), TensorShape(yd[:-2]))
    return [(dt, batch.as_list() + [m, n])]


def _batch_matmul_compute(x, y, adj_x, adj_y):
    for i, v in enumerate((x, y)):   # a rank left unknown at build time is checked here, as TF does
        if np.ndim(v) < 2:
            raise ValueError(f"In[{i}] ndims must be >= 2: {np.ndim(v)} (In[{i}] is not a matrix)")
    return np.matmul(np.swapaxes(x, -1, -2) if adj_x else x, np.swapaxes(y, -1, -2) if adj_y else y)


def _batch_matmul_grad(op, g):
    x, y = op.inputs
    ax, ay = op.get_attr("adj_x"), op.get_attr("adj_y")
    if not ax and not ay:
        gx, gy = matmul(g, y, adjoint_b=True), matmul(x, g, adjoint_a=True)
    elif ax and not ay:
        gx, gy = matmul(y, g, adjoint_b=True), matmul(x, g)
    elif not ax and ay:
        gx, gy = matmul(g, y), matmul(g, x, adjoint_a=True)
    else:
        gx, gy = matmul(y, g, adjoint_a=True, adjoint_b=True), matmul(g, x, adjoint_a=True, adjoint_b=True)
    return [reduction_ops.unbroadcast(gx, x), reduction_ops.unbroadcast(gy, y)]


define_op("BatchMatMulV2", _batch_matmul_infer, _batch_matmul_compute, kind="library", grad=_batch_matmul_grad)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False,
           b_is_sparse=False, name=None):
    """The matrix product ``a @ b`` (optionally of transposed operands). Rank-2 operands build
    ``MatMul``; higher ranks build ``BatchMatMulV2``, whose leading (batch) dims broadcast."""
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    if a.shape.ndims == 2 and b.shape.ndims == 2:
        return make_op("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb}, name or "MatMul").outputs[0]
    for t in (a, b):
        if t.shape.ndims is not None and t.shape.ndims < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {t.shape.ndims} (matmul of {t.name})")
    return make_op("BatchMatMulV2", [a, b], {"adj_x": ta, "adj_y": tb}, name or "MatMul").outputs[0]


# ---- built from the ops above ----------------------------------------------------------------------
def _dims(x, idx):
    """The dims ``idx`` of ``x``: ints where static, scalar tensors where not."""
    from jitgraph.ops.array_ops import shape
    return [x.shape[i].value if x.shape[i].value is not None else shape(x)[i] for i in idx]


def _product(dims):
    if all(isinstance(d, int) for d in dims):
        return int(np.prod(dims, dtype=np.int64))
    out = 1
    for d in dims:
        out = d if isinstance(out, int) and out == 1 else out * d
    return out


def tensordot(a, b, axes, name=None):
    """Sum of products over ``axes`` of ``a`` and ``b``: an int ``n`` (last n of a with first n of b)
    or a pair of axis lists. Built from transpose, reshape and one ``MatMul``."""
    from jitgraph.ops import array_ops
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    ra, rb = a.shape.ndims, b.shape.ndims
    if ra is None or rb is None:
        raise ValueError("tensordot needs operands of known rank")
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > min(ra, rb):
            raise ValueError(f"tensordot: axes={axes} must be in [0, {min(ra, rb)}]")
        ax_a, ax_b = list(range(ra - axes, ra)), list(range(axes))
    else:
        if len(axes) != 2:
            raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
        ax_a, ax_b = (static_axes(x, "tensordot axes") for x in axes)
    ax_a, ax_b = [d % ra for d in _flat(ax_a)], [d % rb for d in _flat(ax_b)]
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot: {len(ax_a)} axes of a but {len(ax_b)} axes of b")
    for i, j in zip(ax_a, ax_b):
        _inner(a.shape[i].value, b.shape[j].value)
    free_a = [i for i in range(ra) if i not in ax_a]
    free_b = [j for j in range(rb) if j not in ax_b]
    with op_scope(name or "Tensordot", [a, b]) as scope:
        a2 = array_ops.reshape(array_ops.transpose(a, free_a + ax_a),
                               int_vector([_product(_dims(a, free_a)), _product(_dims(a, ax_a))]))
        b2 = array_ops.reshape(array_ops.transpose(b, ax_b + free_b),
                               int_vector([_product(_dims(b, ax_b)), _product(_dims(b, free_b))]))
        out_dims = _dims(a, free_a) + _dims(b, free_b)
        return array_ops.reshape(matmul(a2, b2), int_vector(out_dims) if out_dims else [], name=scope)


def _flat(axes):
    return [int(d) for d in np.asarray(axes).reshape(-1)]


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix ``[num_rows, num_columns]`` (square by default), tiled over ``batch_shape``."""
    from jitgraph.ops import array_ops
    from jitgraph.ops.constant_ops import constant
    from jitgraph.ops.math_ops import binary
    dtype = dtypes.as_dtype(dtype)
    num_columns = num_rows if num_columns is None else num_columns
    batch = [] if batch_shape is None else list(batch_shape)
    with op_scope(name or "eye") as scope:
        if all(isinstance(v, (int, np.integer)) for v in [num_rows, num_columns] + batch):
            m = np.eye(num_rows, num_columns, dtype=dtype.as_np)
            return constant(np.broadcast_to(m, tuple(batch) + m.shape).copy(), dtype, name=scope)
        rows = array_ops.expand_dims(array_ops.range(num_rows), 1)
        cols = array_ops.expand_dims(array_ops.range(num_columns), 0)
        m = cast(binary("Equal", rows, cols), dtype)
        if not batch:
            return _named(m, scope)
        return array_ops.broadcast_to(m, int_vector(batch + [num_rows, num_columns]), name=scope)


def _named(t, scope):
    from jitgraph.ops.control_ops import identity
    return identity(t, name=scope)


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swap the last two dimensions of ``a``."""
    from jitgraph.ops import array_ops
    a = convert_to_tensor(a)
    r = a.shape.ndims
    if r is None or r < 2:
        raise ValueError(f"matrix_transpose needs an input of known rank >= 2, got {a.shape}")
    return array_ops.transpose(a, list(range(r - 2)) + [r - 1, r - 2], name=name)


linalg = types.SimpleNamespace(
    matmul=matmul, tensordot=tensordot, eye=eye, matrix_transpose=matrix_transpose, transpose=matrix_transpose,
    norm=reduction_ops.norm, global_norm=reduction_ops.global_norm)
