"""Fused ops: ``_FusedConv2D`` and ``_FusedMatMul``, ``act(Conv2D / MatMul + bias)`` in one step,
as TF's Grappler remapper builds them.

Never in a user's graph: the compiler's ``remap`` pass makes them from chains ``Conv2D`` (NHWC)
or ``MatMul`` -> ``BiasAdd`` / ``Add`` (a bias over the last dim) -> optionally one activation of
``ACTIVATIONS``, whose intermediates nothing else reads.  So they need no gradient
(``tf.gradients`` runs on the user's graph before any compilation), and their references are
exactly the unfused ops' references, one after the other.  ``fused_ops`` names the chain:
``("BiasAdd",)`` or ``("BiasAdd", act)``.  Fast paths: ``kernels.conv`` and ``kernels.matmul``
(the bias and activation applied to each block of the output while it is in cache).
"""

from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops import linalg_ops, nn_conv
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
          extra={"threads": True, "fast": lazy("conv", "fused_conv2d_fast")})
define_op("_FusedMatMul", _bias_and_act("_FusedMatMul", linalg_ops._matmul_infer), _fused_matmul, kind="library",
          extra={"fast": lazy("matmul", "fused_matmul_fast")})
