"""Fused ops: ``_FusedConv2D`` and ``_FusedMatMul``, ``act(Conv2D / MatMul + bias)`` in one step,
as TF's Grappler remapper builds them.

Never in a user's graph: the compiler's ``remap`` pass makes them from chains ``Conv2D`` (NHWC)
or ``MatMul`` -> ``BiasAdd`` / ``Add`` (a bias over the last dim) -> optionally one activation of
``ACTIVATIONS``, whose intermediates nothing else reads.  So they need no gradient
(``tf.gradients`` runs on the user's graph before any compilation), and their references are
exactly the unfused ops' references, one after the other.  ``fused_ops`` names the chain:
``("BiasAdd",)`` or ``("BiasAdd", act)``.  Fast paths: ``kernels.conv`` and ``kernels.matmul``
(the bias and activation applied to each block of the output while it is in cache).

``_SparseGradientDescent(ref, lr, data, ids)`` is SGD's ``AssignSub(ref, Mul(lr,
UnsortedSegmentSum(data, ids, rows)))`` (the update of an embedding table, whose gradient is a
segment sum of the looked-up rows' gradients) as one in-place step that writes only the rows
``ids`` names: a 50,000 x 128 table no longer costs a zeroed 25 MB gradient and a pass over
every row per step. Its values are the chain's, bit for bit (see ``_sparse_sgd_run``).
"""

import numpy as np

from jitgraph import errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops import linalg_ops, nn_conv, slicing_ops
from jitgraph.ops.registry import OPS, define_op

ACTIVATIONS = ("Relu", "Relu6", "Tanh", "Sigmoid")   # elementwise ops a fused kernel may apply


def _check_fused_ops(op_type, fused_ops):
    fused_ops = tuple(fused_ops)
    if fused_ops[:1] != ("BiasAdd",) or len(fused_ops) > 2 or fused_ops[1:] and fused_ops[1] not in ACTIVATIONS:
        raise ValueError(f"{op_type}: fused_ops must be ('BiasAdd',) or ('BiasAdd', one of {ACTIVATIONS}), "
                         f"got {fused_ops}")
    return fused_ops


def _bias_and_act(op_type, main_infer):
    def infer(ins, a):
        _check_fused_ops(op_type, a["fused_ops"])
        (dt, shape), = main_infer(ins[:2], a)
        b = ins[2]
        shape = TensorShape(shape)
        if b.dtype.base_dtype != dt or b.shape.ndims not in (None, 1):
            raise TypeError(f"{op_type}: bias must be a 1-D {dt.name} tensor, got {b.dtype.base_dtype.name} "
                            f"of shape {b.shape}")
        n = shape.as_list()[-1] if shape.ndims else None
        k = b.shape.as_list()[0] if b.shape.ndims == 1 else None
        if n is not None and k is not None and n != k:
            raise ValueError(f"{op_type}: bias has {k} elements for {n} output channels")
        return [(dt, shape)]
    return infer


def apply_epilogue(y, bias, fused_ops, data_format="NHWC"):
    """The reference of the fused tail: ``BiasAdd`` then the activation's own ``compute``."""
    y = OPS["BiasAdd"].compute(y, bias, data_format=data_format)
    for act in fused_ops[1:]:
        y = OPS[act].compute(y)
    return y


def _fused_conv(x, w, bias, strides, padding, data_format, dilations, fused_ops, **_):
    return apply_epilogue(nn_conv._conv2d(x, w, strides, padding, data_format, dilations), bias, fused_ops,
                          data_format)


def _fused_matmul(a, b, bias, transpose_a, transpose_b, fused_ops, **_):
    return apply_epilogue(linalg_ops._matmul_compute(a, b, transpose_a, transpose_b), bias, fused_ops)


define_op("_FusedConv2D", _bias_and_act("_FusedConv2D", nn_conv._conv2d_infer), _fused_conv, kind="library",
          extra={"threads": True, "side_thread": True, "fast": lazy("conv", "fused_conv2d_fast")})
define_op("_FusedMatMul", _bias_and_act("_FusedMatMul", linalg_ops._matmul_infer), _fused_matmul, kind="library",
          extra={"fast": lazy("matmul", "fused_matmul_fast")})


def _sparse_sgd_infer(ins, a):
    ref, lr, data, ids = ins
    if not ref.dtype.is_ref_dtype or lr.shape.ndims not in (None, 0):
        raise TypeError("_SparseGradientDescent takes (variable reference, scalar learning rate, data, ids)")
    return [(ref.dtype, ref.shape)]


def _sparse_sgd_run(ctx, op, ins):
    """``ref -= lr * unsorted_segment_sum(data, ids, rows)``, in place, touching only the rows in
    ``ids``. The rows are summed in the order of ``ids`` (``np.add.at``'s order, as the segment
    sum), then multiplied and subtracted as two rounded steps, so every row equals the chain's. A
    row no id names changes by ``lr * 0``: nothing, unless ``lr`` is not finite, where the chain
    makes every row NaN or inf and so does this step (densely). Everything is checked before the
    first write; the store's journal keeps the old rows for a failed run's rollback."""
    ref, lr, data, ids = ins
    var = ref.var
    buf = ctx.store.get(var)
    data, ids = np.asarray(data), np.asarray(ids).reshape(-1)
    if buf.ndim == 0 or data.shape != ids.shape + buf.shape[1:]:
        raise errors.InvalidArgumentError(
            None, op, f"{op.name}: the gradient of variable '{var.name}' of shape {list(buf.shape)} has rows of "
                      f"shape {list(data.shape)} for {ids.size} ids; expected {[ids.size] + list(buf.shape[1:])}")
    lr = buf.dtype.type(lr)
    if np.isfinite(lr):
        written = _SPARSE_SGD_IN_PLACE(buf, lr, data, ids)       # (None: nothing written)
        if written is not None:
            ctx.store.wrote_rows(var, *written)
            return [ref]
    slicing_ops._check_range(ids, buf.shape[0], f"the row ids of variable '{var.name}': segment_ids")
    with np.errstate(all="ignore"):
        if not np.isfinite(lr):
            dense = np.zeros_like(buf)
            np.add.at(dense, ids, data)
            ctx.store.set(var, buf - lr * dense)
        else:
            ctx.store.update_rows(var, *_sparse_sgd_rows(buf, lr, data, ids))
    return [ref]


def _sparse_sgd_rows(var, lr, data, ids):
    """The reference of the row update: ``(rows, var[rows] - lr * their segment sums)``, rows sorted."""
    rows, slot = np.unique(ids, return_inverse=True)
    sums = np.zeros((rows.size,) + var.shape[1:], var.dtype)
    np.add.at(sums, slot.reshape(-1), data)
    return rows, var[rows] - lr * sums


_SPARSE_SGD_IN_PLACE = lazy("segment", "sparse_sgd_in_place")


define_op("_SparseGradientDescent", _sparse_sgd_infer, kind="state", stateful=True, ref_inputs=(0,),
          ref_requires_init=True, ref_writes=True, run=_sparse_sgd_run, extra={"in_place": True})
