"""Depthwise and separable 2-D convolution: ``DepthwiseConv2dNative`` and its gradient ops
(``DepthwiseConv2dNativeBackpropInput``/``Filter``); ``separable_conv2d`` is a depthwise
convolution followed by a 1x1 ``conv2d``, so its gradient comes from theirs.

A depthwise filter is ``[KH, KW, C, M]``: input channel ``c`` is convolved with its own ``M``
filters, giving output channels ``c*M + m`` (``C*M`` in all).
"""

from jitgraph.api_graph import name_scope
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import nn_window
from jitgraph.ops.nn_conv3d import (check_float, check_rank, check_same_dtype, conv_output_dims, define_conv_family,
                                    dims_back, dims_last, spatial_of, window_attrs)
from jitgraph.ops.registry import convert_to_tensor, make_op

_OP = "DepthwiseConv2dNative"


def _infer(ins, a):
    x, w = ins
    check_float(x, _OP)
    check_same_dtype(x, w, _OP)
    check_rank(x, 4, "input")
    check_rank(w, 4, "filter")
    xd = dims_last(x.shape, 4, a["data_format"])
    kh, kw, c, m = w.shape.as_list() if w.shape.ndims is not None else [None] * 4
    if xd[-1] is not None and c is not None and xd[-1] != c:
        raise ValueError(f"{_OP}: input depth {xd[-1]} does not match the filter's input depth {c}")
    out_ch = None if c is None or m is None else c * m
    if kh is None or kw is None:
        return [(x.dtype.base_dtype, TensorShape(dims_back([xd[0], None, None, out_ch], a["data_format"])))]
    return [(x.dtype.base_dtype, TensorShape(conv_output_dims(xd, [kh, kw], a, _OP, out_ch)))]


define_conv_family(_OP, _OP + "BackpropInput", _OP + "BackpropFilter", _infer, 4, nn_window.depthwise,
                   nn_window.depthwise_backprop_input, nn_window.depthwise_backprop_filter)


def _format(data_format):
    data_format = data_format or "NHWC"
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    return data_format


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC", dilations=(1, 1, 1, 1),
                            name=None):
    """The depthwise convolution op itself: ``strides``/``dilations`` of length 1, 2 or 4."""
    x, w = convert_to_tensor(input), convert_to_tensor(filter)
    attrs = window_attrs(_OP, strides, padding, _format(data_format), 2, dilations=dilations)
    return make_op(_OP, [x, w], attrs, name or _OP).outputs[0]


def _dilations(rate, dilations, strides, data_format):
    rate = dilations if rate is None else rate
    if rate is None:
        return 1
    rate = [int(rate)] * 2 if isinstance(rate, int) else [int(r) for r in rate]
    if len(rate) == 4:
        rate = spatial_of(rate, data_format)
    stride = window_attrs(_OP, strides, "VALID", data_format, 2, dilations=1)["strides"]
    if any(r > 1 for r in rate) and any(s > 1 for s in spatial_of(stride, data_format)):
        raise ValueError("strides > 1 not supported in conjunction with rate > 1 (dilations)")
    return rate


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None, data_format=None, dilations=None):
    """Depthwise 2-D convolution: ``filter`` [KH,KW,C,M] gives ``C*M`` output channels; ``rate``
    (or ``dilations``) dilates the filter and needs unit ``strides``."""
    data_format = _format(data_format)
    with name_scope(name, "depthwise", [input, filter]) as scope:
        return depthwise_conv2d_native(input, filter, strides, padding, data_format,
                                       _dilations(rate, dilations, strides, data_format), name=scope)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, rate=None, name=None,
                     data_format=None, dilations=None):
    """``depthwise_conv2d`` then a 1x1 ``conv2d`` with ``pointwise_filter`` [1,1,C*M,O]."""
    from jitgraph.ops.nn_ops import conv2d
    data_format = _format(data_format)
    with name_scope(name, "separable_conv2d", [input, depthwise_filter, pointwise_filter]) as scope:
        dw, pw = convert_to_tensor(depthwise_filter), convert_to_tensor(pointwise_filter)
        check_rank(dw, 4, "depthwise_filter")
        check_rank(pw, 4, "pointwise_filter")
        pd, dd = pw.shape.as_list(), dw.shape.as_list()
        if pd[0] not in (1, None) or pd[1] not in (1, None):
            raise ValueError(f"pointwise_filter must be [1, 1, in, out], got shape {pw.shape}")
        if None not in (pd[2], dd[2], dd[3]) and pd[2] != dd[2] * dd[3]:
            raise ValueError(f"pointwise_filter input channels ({pd[2]}) must equal depthwise channels * "
                             f"multiplier ({dd[2]} * {dd[3]})")
        depthwise = depthwise_conv2d_native(input, dw, strides, padding, data_format,
                                            _dilations(rate, dilations, strides, data_format), name="depthwise")
        return conv2d(depthwise, pw, [1, 1, 1, 1], "VALID", data_format=data_format, name=scope)


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides, padding,
                                           data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    attrs = window_attrs(_OP, strides, padding, _format(data_format), 2, dilations=dilations)
    ins = [convert_to_tensor(input_sizes), convert_to_tensor(filter), convert_to_tensor(out_backprop)]
    return make_op(_OP + "BackpropInput", ins, attrs, name or _OP + "BackpropInput").outputs[0]


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                                            data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    attrs = window_attrs(_OP, strides, padding, _format(data_format), 2, dilations=dilations)
    ins = [convert_to_tensor(input), convert_to_tensor(filter_sizes), convert_to_tensor(out_backprop)]
    return make_op(_OP + "BackpropFilter", ins, attrs, name or _OP + "BackpropFilter").outputs[0]


__all__ = ["depthwise_conv2d", "depthwise_conv2d_native", "separable_conv2d",
           "depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter"]
