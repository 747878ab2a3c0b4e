"""1-D convolution and pooling as TF builds them — a size-1 height is inserted, the 2-D op runs,
the height is squeezed away — plus the rank-dispatching ``convolution`` and ``pool``. All are
compositions of existing ops, so their gradients come for free.
"""

from jitgraph.api_graph import name_scope
from jitgraph.ops.array_ops import expand_dims, squeeze
from jitgraph.ops.registry import convert_to_tensor


def _layout(data_format):
    """``(2-D data_format, index of the inserted height dim)`` for a 1-D ``data_format``."""
    if data_format in (None, "NWC", "NHWC"):
        return "NHWC", 1
    if data_format in ("NCW", "NCHW"):
        return "NCHW", 2
    raise ValueError(f"data_format must be 'NWC' or 'NCW', got {data_format!r}")


def _one(value, what):
    """A 1-D ``stride``/``ksize``/``dilation``: an int or a list of 1 or 3 ints → the int."""
    if value is None:
        return 1
    if isinstance(value, int):
        return value
    value = [int(v) for v in value]
    if len(value) == 1:
        return value[0]
    if len(value) == 3:
        return value[1] if value[0] == value[2] == 1 else value[2]
    raise ValueError(f"{what} should be of length 1 or 3 but was {len(value)}")


def conv1d(value=None, filters=None, stride=None, padding=None, use_cudnn_on_gpu=None, data_format=None, name=None,
           input=None, dilations=None):
    """1-D convolution: ``value`` [N,W,C] (``NWC``) or [N,C,W] (``NCW``) with ``filters`` [K,C,O]."""
    from jitgraph.ops.nn_ops import conv2d
    value = input if value is None else value
    if stride is None or padding is None:
        raise TypeError("conv1d() requires `stride` and `padding`")
    df, axis = _layout(data_format)
    s, d = _one(stride, "stride"), _one(dilations, "dilations")
    with name_scope(name, "conv1d", [value, filters]) as scope:
        x = expand_dims(convert_to_tensor(value), axis)
        w = expand_dims(convert_to_tensor(filters), 0)
        y = conv2d(x, w, [1, 1, s, 1] if df == "NHWC" else [1, 1, 1, s], padding, data_format=df,
                   dilations=[1, 1, d, 1] if df == "NHWC" else [1, 1, 1, d])
        return squeeze(y, [axis], name=scope)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC", dilations=None,
                     name=None):
    """Transposed 1-D convolution; ``filters`` [K, out_channels, in_channels]."""
    from jitgraph.ops.concat_ops import concat
    from jitgraph.ops.nn_ops import conv2d_backprop_input
    if dilations not in (None, 1, [1], (1,)):
        raise NotImplementedError("conv1d_transpose: dilations > 1 are not supported by jitgraph")
    df, axis = _layout(data_format)
    s = _one(strides, "strides")
    with name_scope(name, "conv1d_transpose", [input, filters, output_shape]) as scope:
        if hasattr(output_shape, "op"):
            sizes = concat([output_shape[:axis], [1], output_shape[axis:]], 0)
        else:
            sizes = list(output_shape)
            sizes.insert(axis, 1)
        x = expand_dims(convert_to_tensor(input), axis)
        w = expand_dims(convert_to_tensor(filters), 0)
        y = conv2d_backprop_input(sizes, w, x, [1, 1, s, 1] if df == "NHWC" else [1, 1, 1, s], padding,
                                  data_format=df)
        return squeeze(y, [axis], name=scope)


def _pool1d(pool2d, default, input, ksize, strides, padding, data_format, name):
    df, axis = _layout(data_format)
    k, s = _one(ksize, "ksize"), _one(strides, "strides")
    with name_scope(name, default, [input]) as scope:
        x = expand_dims(convert_to_tensor(input), axis)
        shape = (lambda n: [1, 1, n, 1]) if df == "NHWC" else (lambda n: [1, 1, 1, n])
        return squeeze(pool2d(x, shape(k), shape(s), padding, data_format=df), [axis], name=scope)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """Max over windows of ``ksize`` along the width of [N,W,C] (``NWC``) or [N,C,W] (``NCW``)."""
    from jitgraph.ops.nn_ops import max_pool
    return _pool1d(max_pool, "MaxPool1d", input, ksize, strides, padding, data_format, name)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """Mean over windows of ``ksize`` along the width; SAME padding is not counted."""
    from jitgraph.ops.nn_ops import avg_pool
    return _pool1d(avg_pool, "AvgPool1D", input, ksize, strides, padding, data_format, name)


def _spatial_rank(x, window_shape, what):
    n = len(window_shape)
    if n not in (1, 2, 3):
        raise ValueError(f"{what}: only 1, 2 or 3 spatial dimensions are supported, got {n}")
    if x.shape.ndims is not None and x.shape.ndims != n + 2:
        raise ValueError(f"{what}: input must have rank {n + 2} for a {n}-D window, got rank {x.shape.ndims}")
    return n


def pool(input, window_shape, pooling_type, padding, dilation_rate=None, strides=None, name=None, data_format=None,
         dilations=None):
    """N-D pooling (N = 1, 2, 3): ``pooling_type`` ``"MAX"`` or ``"AVG"`` over ``window_shape``
    moved by ``strides`` (default 1). Dilated pooling is not supported."""
    from jitgraph.ops.nn_conv3d import avg_pool3d, max_pool3d
    from jitgraph.ops.nn_ops import avg_pool, max_pool
    dilation_rate = dilations if dilation_rate is None else dilation_rate
    x = convert_to_tensor(input)
    window_shape = [int(k) for k in window_shape]
    n = _spatial_rank(x, window_shape, "pool")
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pool: pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    if dilation_rate is not None and any(int(d) != 1 for d in dilation_rate):
        raise NotImplementedError("pool: dilation_rate > 1 is not supported by jitgraph")
    strides = [1] * n if strides is None else [int(s) for s in strides]
    if len(strides) != n:
        raise ValueError(f"pool: strides must have length {n} (the window's rank), got {strides}")
    fns = {1: (max_pool1d, avg_pool1d), 2: (max_pool, avg_pool), 3: (max_pool3d, avg_pool3d)}[n]
    fn = fns[0] if pooling_type == "MAX" else fns[1]
    channels_first = data_format is not None and data_format.startswith("NC")
    full = (lambda v: [1, 1] + v) if channels_first else (lambda v: [1] + v + [1])
    formats = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}[n]
    df = formats[1] if channels_first else formats[0]
    return fn(x, full(window_shape), full(strides), padding, data_format=df, name=name)


def convolution(input, filter=None, padding=None, strides=None, dilation_rate=None, name=None, data_format=None,
                filters=None, dilations=None):
    """N-D convolution (N = 1, 2, 3), dispatching on ``filter``'s rank to ``conv1d``/``conv2d``/``conv3d``."""
    from jitgraph.ops.nn_conv3d import conv3d
    from jitgraph.ops.nn_ops import conv2d
    filter = filters if filter is None else filter
    dilation_rate = dilations if dilation_rate is None else dilation_rate
    x, w = convert_to_tensor(input), convert_to_tensor(filter)
    if w.shape.ndims is None:
        raise ValueError("convolution: the filter's rank must be known")
    n = _spatial_rank(x, [0] * (w.shape.ndims - 2), "convolution")
    strides = [1] * n if strides is None else [int(s) for s in strides]
    rates = [1] * n if dilation_rate is None else [int(d) for d in dilation_rate]
    if any(r > 1 for r in rates) and any(s > 1 for s in strides):
        raise ValueError("convolution: strides > 1 not supported in conjunction with dilation_rate > 1")
    channels_first = data_format is not None and data_format.startswith("NC")
    if n == 1:
        return conv1d(x, w, strides, padding, data_format="NCW" if channels_first else "NWC", name=name,
                      dilations=rates)
    full = (lambda v: [1, 1] + v) if channels_first else (lambda v: [1] + v + [1])
    if n == 2:
        return conv2d(x, w, full(strides), padding, data_format="NCHW" if channels_first else "NHWC",
                      dilations=full(rates), name=name)
    return conv3d(x, w, full(strides), padding, data_format="NCDHW" if channels_first else "NDHWC",
                  dilations=full(rates), name=name)


__all__ = ["conv1d", "conv1d_transpose", "max_pool1d", "avg_pool1d", "pool", "convolution"]
