"""Gradients of TensorArray ops. The gradient of an array of ``n`` elements of shape ``S`` is one
dense float tensor ``[n, *S]`` (row i: the gradient of element i; zeros for elements nothing
read), so gradients arriving from several reads add up with ordinary ``Add`` ops. An element is
written once (TF1 refuses a second write), so a write passes the array's gradient on unchanged."""

import numpy as np

from jitgraph import errors
from jitgraph.control_flow.tape import unbox
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import define_op, make_op


def _size(ta):
    return len(unbox(ta).items)


def _read_grad(ta, index, g):
    out = np.zeros((_size(ta),) + np.shape(g), np.asarray(g).dtype)
    out[int(index)] = g
    return out


def _scatter_grad(ta, indices, g):
    g = np.asarray(g)
    out = np.zeros((_size(ta),) + g.shape[1:], g.dtype)
    np.add.at(out, np.asarray(indices).reshape(-1), g)
    return out


def _concat_grad(g, lengths):
    lengths = np.asarray(lengths).reshape(-1)
    if len(lengths) and (lengths != lengths[0]).any():
        raise errors.UnimplementedError(None, None, "the gradient of TensorArray.concat needs elements with equal "
                                                    f"first dims, got lengths {lengths.tolist()}")
    n = len(lengths)
    return np.asarray(g).reshape((n, -1) + np.shape(g)[1:]) if n else np.zeros((0, 0) + np.shape(g)[1:], g.dtype)


def _rows_of(dense, index):
    return np.asarray(dense)[int(index)]


def _dense_spec(ins, a):
    g = ins[2]
    return [(g.dtype.base_dtype, TensorShape([None]).concatenate(g.shape))]


define_op("TensorArrayReadGrad", _dense_spec, _read_grad, kind="tensor_array")
define_op("TensorArrayScatterGrad", lambda ins, a: [(ins[2].dtype.base_dtype, TensorShape([None]).concatenate(
    ins[2].shape[1:] if ins[2].shape.ndims else TensorShape(None)))], _scatter_grad, kind="tensor_array")
define_op("TensorArrayGradRow", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape[1:] if ins[0].shape.ndims
                                                 else TensorShape(None))], _rows_of, kind="tensor_array",
          grad=lambda op, g: [None, None])
define_op("TensorArrayConcatGrad", lambda ins, a: [(ins[0].dtype.base_dtype, TensorShape([None, None]).concatenate(
    ins[0].shape[1:]) if ins[0].shape.ndims else TensorShape(None))], _concat_grad, kind="tensor_array")


def read_grad(op, g):
    ta, index = op.inputs
    return [make_op("TensorArrayReadGrad", [ta, index, g], {}, "TensorArrayReadGrad").outputs[0], None]


def gather_grad(op, g):
    ta, indices = op.inputs
    return [make_op("TensorArrayScatterGrad", [ta, indices, g], {}, "TensorArrayScatterGrad").outputs[0], None]


def pack_grad(op, g):
    return [g]


def write_grad(op, g_ta):
    ta, index, value = op.inputs
    row = make_op("TensorArrayGradRow", [g_ta, index], {}, "TensorArrayGradRow").outputs[0]
    return [g_ta, None, _like(row, value)]


def scatter_grad(op, g_ta):
    from jitgraph.ops.slicing_ops import gather
    ta, indices, value = op.inputs
    return [g_ta, None, _like(gather(g_ta, indices), value)]


def unpack_grad(op, g_ta):
    ta, value = op.inputs
    return [None, _like(g_ta, value)]


def concat_grad(op, g, g_lengths=None):
    return [make_op("TensorArrayConcatGrad", [g, op.outputs[1]], {}, "TensorArrayConcatGrad").outputs[0]]


def split_grad(op, g_ta):
    from jitgraph.ops.array_ops import reshape
    from jitgraph.ops.concat_ops import concat
    ta, value, lengths = op.inputs
    flat = reshape(g_ta, concat([[-1], _rest_shape(value)], 0))
    return [g_ta, _like(flat, value), None]


def _rest_shape(value):
    from jitgraph.ops.array_ops import shape
    return shape(value)[1:]


def _like(g, value):
    """``g`` with the static shape of ``value`` where that is more specific."""
    if value.shape.is_fully_defined() and not g.shape.is_fully_defined() and g.shape.is_compatible_with(value.shape):
        g.set_shape(value.shape)
    return g


def _zeros_grad(ta):
    v = unbox(ta)
    shape = v.element_shape
    if shape is None or any(d is None for d in shape):
        first = next((x for x in v.items if x is not None), None)
        shape = () if first is None else first.shape
    return np.zeros((len(v.items),) + tuple(shape), v.dtype)


define_op("TensorArrayZerosGrad", lambda ins, a: [(a["dtype"], TensorShape([None]).concatenate(a["element_shape"]))],
          lambda ta, dtype, element_shape: _zeros_grad(ta), kind="tensor_array")


def zeros_grad(ta, dtype, element_shape):
    """The (all-zero) dense gradient of TensorArray flow ``ta``."""
    return make_op("TensorArrayZerosGrad", [ta], {"dtype": dtype, "element_shape": element_shape},
                   "TensorArrayZerosGrad").outputs[0]
