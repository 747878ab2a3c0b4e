"""3-D convolution and pooling: ``Conv3D``, ``MaxPool3D``, ``AvgPool3D`` and their gradient ops
(``Conv3DBackpropInputV2``/``FilterV2``, ``MaxPool3DGrad``, ``AvgPool3DGrad``), as TF names them.

``library`` ops over the N-d NumPy kernels of ``nn_window``. Layout ``NDHWC`` (``NCDHW`` is
accepted and transposed around the kernels). The small layout/attribute helpers here are shared
with the depthwise convolution (``nn_depthwise``), which has two spatial dims.
"""

import numpy as np

from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import nn_window
from jitgraph.ops.op_util import shape_tensor, shape_value
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op


# ---- layout helpers (any spatial rank) --------------------------------------------------------------
def channels_first(data_format):
    return data_format.startswith("NC")


def full_seq(value, name, data_format, spatial_rank):
    """TF's ``_get_sequence``: an int or 1, ``spatial_rank`` or ``spatial_rank + 2`` ints → the full
    per-dim list in ``data_format`` order (1 for the batch and channel dims)."""
    if value is None:
        value = 1
    value = [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]
    if len(value) == 1:
        value = value * spatial_rank
    if len(value) == spatial_rank:
        return [1, 1] + value if channels_first(data_format) else [1] + value + [1]
    if len(value) != spatial_rank + 2:
        raise ValueError(f"{name} should be of length 1, {spatial_rank} or {spatial_rank + 2} but was {len(value)}")
    return value


def spatial_of(seq, data_format):
    """The spatial entries of a full per-dim list."""
    return list(seq[2:]) if channels_first(data_format) else list(seq[1:-1])


def batch_and_channel(seq, data_format):
    return (seq[0], seq[1]) if channels_first(data_format) else (seq[0], seq[-1])


def dims_last(shape, rank, data_format):
    """A static shape as a channels-last dim list (None for unknown)."""
    dims = shape.as_list() if shape.ndims is not None else [None] * rank
    return [dims[0]] + dims[2:] + [dims[1]] if channels_first(data_format) else dims


def dims_back(dims, data_format):
    return [dims[0], dims[-1]] + dims[1:-1] if channels_first(data_format) else dims


def check_rank(t, rank, what):
    if t.shape.ndims is not None and t.shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {t.shape.ndims} ({what})")


def check_float(t, op_type, param="input"):
    if not t.dtype.base_dtype.is_floating:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.base_dtype.name} not in "
                        f"list of allowed values for {op_type}: float16, float32, float64")


def check_same_dtype(x, w, op_type):
    if x.dtype.base_dtype != w.dtype.base_dtype:
        raise TypeError(f"Input 'filter' of '{op_type}' Op has type {w.dtype.base_dtype.name} that does not "
                        f"match type {x.dtype.base_dtype.name} of argument 'input'.")


def check_unit_batch_channel(seq, data_format, op_type, what="strides"):
    if batch_and_channel(seq, data_format) != (1, 1):
        raise ValueError(f"{op_type}: {what} in the batch and depth dimensions must be 1, got {seq}")


def window_attrs(op_type, strides, padding, data_format, spatial_rank, dilations=None, ksize=None):
    """Validated attrs of a windowed op (``strides``/``dilations``/``ksize`` as full lists)."""
    nn_window.check_padding(padding, op_type)
    attrs = {"strides": full_seq(strides, "strides", data_format, spatial_rank), "padding": padding,
             "data_format": data_format}
    if ksize is not None:
        attrs["ksize"] = full_seq(ksize, "ksize", data_format, spatial_rank)
    else:
        attrs["dilations"] = full_seq(dilations, "dilations", data_format, spatial_rank)
    return attrs


def conv_output_dims(x_last, ksize, a, op_type, out_channels):
    """Channels-last output dims of a convolution with attrs ``a``."""
    df = a["data_format"]
    check_unit_batch_channel(a["strides"], df, op_type)
    geo = nn_window.geometry(x_last[1:-1], ksize, spatial_of(a["strides"], df), spatial_of(a["dilations"], df),
                             a["padding"])
    return dims_back([x_last[0]] + [o for o, _, _ in geo] + [out_channels], df)


def sized_infer(index, rank):
    """Shape rule of a backprop op whose output shape is its int input ``index``."""
    def infer(ins, a):
        shape = shape_value(ins[index])
        return [(ins[2].dtype.base_dtype, shape if shape.ndims is not None else TensorShape([None] * rank))]
    return infer


def run_last(kernel, data_format, *arrays):
    """Run a channels-last kernel on arrays in ``data_format``; the result back in it."""
    cf = channels_first(data_format)
    return nn_window.from_channels_last(kernel(*(nn_window.to_channels_last(a, cf) for a in arrays)), cf)


def sizes_last(sizes, data_format):
    return dims_last(TensorShape([int(v) for v in sizes]), len(sizes), data_format)


# ---- Conv3D ---------------------------------------------------------------------------------------------
def _conv3d_infer(ins, a):
    x, w = ins
    check_float(x, "Conv3D")
    check_same_dtype(x, w, "Conv3D")
    check_rank(x, 5, "input")
    check_rank(w, 5, "filter")
    xd = dims_last(x.shape, 5, a["data_format"])
    kd = w.shape.as_list() if w.shape.ndims is not None else [None] * 5
    if xd[-1] is not None and kd[3] is not None and xd[-1] != kd[3]:
        raise ValueError(f"Conv3D: input depth {xd[-1]} does not match the filter's input depth {kd[3]}")
    if None in kd[:3]:
        return [(x.dtype.base_dtype, TensorShape(dims_back([xd[0], None, None, None, kd[4]], a["data_format"])))]
    return [(x.dtype.base_dtype, TensorShape(conv_output_dims(xd, kd[:3], a, "Conv3D", kd[4])))]


def define_conv_family(op_type, input_type, filter_type, infer, rank, forward, backprop_input, backprop_filter):
    """Define a convolution op and its two gradient ops as TF has them (``<op>BackpropInput`` from
    the input's sizes, ``<op>BackpropFilter`` from the filter's), computed by the channels-last
    ``nn_window`` kernels ``forward(x, w, strides, dilations, padding)``,
    ``backprop_input(x_shape, w, dy, ...)`` and ``backprop_filter(x, w_shape, dy, ...)``."""
    def geometry(strides, dilations, data_format):
        return spatial_of(strides, data_format), spatial_of(dilations, data_format)

    def compute(x, w, strides, padding, data_format, dilations):
        s, d = geometry(strides, dilations, data_format)
        return run_last(lambda xl: forward(xl, w, s, d, padding), data_format, x)

    def compute_bp_input(sizes, w, dy, strides, padding, data_format, dilations):
        s, d = geometry(strides, dilations, data_format)
        x_shape = sizes_last(sizes, data_format)
        return run_last(lambda g: backprop_input(x_shape, w, g, s, d, padding), data_format, dy)

    def compute_bp_filter(x, sizes, dy, strides, padding, data_format, dilations):
        s, d = geometry(strides, dilations, data_format)
        cf = channels_first(data_format)
        return backprop_filter(nn_window.to_channels_last(x, cf), [int(v) for v in sizes],
                               nn_window.to_channels_last(dy, cf), s, d, padding)

    def attrs_of(op):
        return {k: op.get_attr(k) for k in ("strides", "padding", "data_format", "dilations")}

    def grad(op, g):
        x, w = op.inputs
        a = attrs_of(op)
        dx = make_op(input_type, [shape_tensor(x), w, g], a, input_type).outputs[0]
        dw = make_op(filter_type, [x, shape_tensor(w), g], a, filter_type).outputs[0]
        return [dx, dw]

    def bp_input_grad(op, g):
        """``y = conv_transpose(dy, w)``: ``dL/d dy = conv(g, w)``, ``dL/dw`` = the filter gradient
        of a convolution whose input is ``g`` and whose output gradient is ``dy``."""
        _, w, dy = op.inputs
        a = attrs_of(op)
        d_dy = make_op(op_type, [g, w], a, op_type).outputs[0]
        dw = make_op(filter_type, [g, shape_tensor(w), dy], a, filter_type).outputs[0]
        return [None, dw, d_dy]

    define_op(input_type, sized_infer(0, rank), compute_bp_input, kind="library", grad=bp_input_grad)
    define_op(filter_type, sized_infer(1, rank), compute_bp_filter, kind="library")
    define_op(op_type, infer, compute, kind="library", grad=grad)


define_conv_family("Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2", _conv3d_infer, 5,
                   nn_window.conv, nn_window.conv_backprop_input, nn_window.conv_backprop_filter)


def _format_3d(data_format):
    data_format = data_format or "NDHWC"
    if data_format not in ("NDHWC", "NCDHW"):
        raise ValueError(f"data_format must be 'NDHWC' or 'NCDHW', got {data_format!r}")
    return data_format


def conv3d(input, filter=None, strides=None, padding=None, data_format="NDHWC", dilations=(1, 1, 1, 1, 1),
           name=None, filters=None):
    """3-D convolution: ``input`` [N,D,H,W,C] with ``filter`` [KD,KH,KW,C,O].

    ``strides``/``dilations``: an int or 1, 3 or 5 ints; ``padding`` ``"SAME"`` or ``"VALID"``."""
    filter = filters if filter is None else filter
    if strides is None or padding is None:
        raise TypeError("conv3d() requires `strides` and `padding`")
    x, w = convert_to_tensor(input), convert_to_tensor(filter)
    attrs = window_attrs("Conv3D", strides, padding, _format_3d(data_format), 3, dilations=dilations)
    return make_op("Conv3D", [x, w], attrs, name or "Conv3D").outputs[0]


def conv3d_transpose(value, filter=None, output_shape=None, strides=None, padding="SAME", data_format="NDHWC",
                     name=None, input=None, filters=None, dilations=None):
    """Transposed 3-D convolution (the input-gradient of ``conv3d``); ``filter`` is
    [KD,KH,KW,out_channels,in_channels] and ``output_shape`` the 5-D result shape."""
    value = input if value is None else value
    filter = filters if filter is None else filter
    if output_shape is None or strides is None:
        raise TypeError("conv3d_transpose() requires `output_shape` and `strides`")
    data_format = _format_3d(data_format)
    attrs = window_attrs("Conv3DBackpropInputV2", strides, padding, data_format, 3, dilations=dilations)
    from jitgraph.ops.op_util import int_vector
    sizes = output_shape if hasattr(output_shape, "op") else int_vector(list(output_shape))
    w, dy = convert_to_tensor(filter), convert_to_tensor(value)
    check_same_dtype(dy, w, "Conv3DBackpropInputV2")
    y = make_op("Conv3DBackpropInputV2", [convert_to_tensor(sizes), w, dy], attrs,
                name or "conv3d_transpose").outputs[0]
    _check_transpose_channels(y, w, dy, data_format)
    return y


def _check_transpose_channels(y, w, dy, data_format):
    wd = w.shape.as_list() if w.shape.ndims is not None else None
    if wd is None:
        return
    in_ch = dims_last(dy.shape, len(wd), data_format)[-1]
    out_ch = dims_last(y.shape, len(wd), data_format)[-1]
    if in_ch is not None and wd[-1] is not None and in_ch != wd[-1]:
        raise ValueError(f"input channels ({in_ch}) must match the filter's last dimension ({wd[-1]})")
    if out_ch is not None and wd[-2] is not None and out_ch != wd[-2]:
        raise ValueError(f"output_shape channels ({out_ch}) must match the filter's out_channels ({wd[-2]})")


# ---- MaxPool3D / AvgPool3D --------------------------------------------------------------------------------
def _pool_infer(op_type, rank):
    def infer(ins, a):
        x, df = ins[0], a["data_format"]
        check_rank(x, rank, "input")
        if op_type.startswith("Avg"):
            check_float(x, op_type)
        check_unit_batch_channel(a["ksize"], df, op_type, "ksize")
        check_unit_batch_channel(a["strides"], df, op_type)
        xd = dims_last(x.shape, rank, df)
        geo = nn_window.geometry(xd[1:-1], spatial_of(a["ksize"], df), spatial_of(a["strides"], df),
                                 [1] * (rank - 2), a["padding"])
        return [(x.dtype.base_dtype, TensorShape(dims_back([xd[0]] + [o for o, _, _ in geo] + [xd[-1]], df)))]
    return infer


def _pool_args(ksize, strides, data_format):
    return spatial_of(ksize, data_format), spatial_of(strides, data_format)


def _max_pool3d(x, ksize, strides, padding, data_format):
    k, s = _pool_args(ksize, strides, data_format)
    return run_last(lambda xl: nn_window.max_pool(xl, k, s, padding), data_format, x)


def _max_pool3d_grad(x, y, g, ksize, strides, padding, data_format):
    k, s = _pool_args(ksize, strides, data_format)
    return run_last(lambda xl, gl: nn_window.max_pool_grad(xl, gl, k, s, padding), data_format, x, g)


def _avg_pool3d(x, ksize, strides, padding, data_format):
    k, s = _pool_args(ksize, strides, data_format)
    return run_last(lambda xl: nn_window.avg_pool(xl, k, s, padding), data_format, x)


def _avg_pool3d_grad(sizes, g, ksize, strides, padding, data_format):
    k, s = _pool_args(ksize, strides, data_format)
    x_shape = sizes_last(sizes, data_format)
    return run_last(lambda gl: nn_window.avg_pool_grad(x_shape, gl, k, s, padding), data_format, g)


def _pool_attrs_of(op):
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding", "data_format")}


define_op("MaxPool3DGrad", lambda ins, a: [(ins[2].dtype.base_dtype, ins[0].shape)], _max_pool3d_grad,
          kind="library")
define_op("AvgPool3DGrad", lambda ins, a: [(ins[1].dtype.base_dtype, shape_value(ins[0]))], _avg_pool3d_grad,
          kind="library")
define_op("MaxPool3D", _pool_infer("MaxPool3D", 5), _max_pool3d, kind="library",
          grad=lambda op, g: [make_op("MaxPool3DGrad", [op.inputs[0], op.outputs[0], g], _pool_attrs_of(op),
                                      "MaxPool3DGrad").outputs[0]])
define_op("AvgPool3D", _pool_infer("AvgPool3D", 5), _avg_pool3d, kind="library",
          grad=lambda op, g: [make_op("AvgPool3DGrad", [shape_tensor(op.inputs[0]), g], _pool_attrs_of(op),
                                      "AvgPool3DGrad").outputs[0]])


def _pool3d(op_type, input, ksize, strides, padding, data_format, name):
    attrs = window_attrs(op_type, strides, padding, _format_3d(data_format), 3, ksize=ksize)
    return make_op(op_type, [convert_to_tensor(input)], attrs, name or op_type).outputs[0]


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """Max over ``ksize`` 3-D windows moved by ``strides``; SAME pads with -inf."""
    return _pool3d("MaxPool3D", input, ksize, strides, padding, data_format, name)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """Mean over ``ksize`` 3-D windows; with SAME the padded positions are not counted (as TF)."""
    return _pool3d("AvgPool3D", input, ksize, strides, padding, data_format, name)


__all__ = ["conv3d", "conv3d_transpose", "max_pool3d", "avg_pool3d"]
