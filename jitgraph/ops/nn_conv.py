"""Convolution and pooling: ``BiasAdd``, ``Conv2D``, ``MaxPool``, ``AvgPool`` and their gradient ops.

All are ``library`` ops (kernel boundaries); their fast paths (``extra["fast"]``) are in
``jitgraph/kernels``. The NumPy references gather the input patches with
strided slices (im2col) and contract them with the filter in one BLAS matmul; the gradient ops
(``Conv2DBackpropInput``/``Filter``, ``MaxPoolGrad``, ``AvgPoolGrad``, ``BiasAddGrad``) are TF's.
Layout is NHWC; NCHW is accepted and handled by transposing around the NHWC kernels.
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops.nn_window import out_dim
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op


# ---- geometry ---------------------------------------------------------------------------------------
def _seq(value, name, data_format="NHWC"):
    """TF's ``_get_sequence``: an int or a list of 1, 2 or 4 ints → 4 ints in ``data_format``."""
    if isinstance(value, (int, np.integer)):
        value = [int(value)]
    value = [int(v) for v in value]
    if len(value) == 1:
        value = value * 2
    if len(value) == 2:
        return [1, 1] + value if data_format == "NCHW" else [1] + value + [1]
    if len(value) != 4:
        raise ValueError(f"{name} should be of length 1, 2 or 4 but was {len(value)}")
    return value


def _hw(seq, data_format):
    return (seq[2], seq[3]) if data_format == "NCHW" else (seq[1], seq[2])


def _check_padding(padding):
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")


def _nhwc(shape, data_format):
    """A rank-4 shape as an NHWC dim list (None entries for unknown)."""
    dims = shape.as_list() if shape.ndims is not None else [None] * 4
    return [dims[0], dims[2], dims[3], dims[1]] if data_format == "NCHW" else dims


def _from_nhwc(dims, data_format):
    return [dims[0], dims[3], dims[1], dims[2]] if data_format == "NCHW" else dims


def _rank4(t, what):
    if t.shape.ndims is not None and t.shape.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {t.shape.ndims} ({what})")


def _float(t, op_type):
    if not t.dtype.base_dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'input' has DataType {t.dtype.base_dtype.name} not in "
                        f"list of allowed values for {op_type}: float16, float32, float64")


def _check_strides(strides, op_type):
    if strides[0] != 1 or strides[3] != 1:
        raise ValueError(f"{op_type}: current implementation does not yet support strides in the batch "
                         f"and depth dimensions.")


# ---- NumPy kernels (NHWC) -------------------------------------------------------------------------
def _window_slices(i, j, oh, ow, sh, sw, dh=1, dw=1):
    """Index of the input rows/cols that kernel tap (i, j) reads for every output position."""
    return (slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw), slice(None))


def _pad(x, ph, pw, value=0):
    if not any(ph + pw):
        return x
    return np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=value)


def _geom(x_shape, kh, kw, strides, dilations, padding):
    oh, ph0, ph1 = out_dim(x_shape[1], kh, strides[1], dilations[1], padding)
    ow, pw0, pw1 = out_dim(x_shape[2], kw, strides[2], dilations[2], padding)
    return oh, ow, (ph0, ph1), (pw0, pw1)


def _im2col(x, kh, kw, strides, dilations, padding):
    """Patches of ``x`` as a ``[N*OH*OW, KH*KW*C]`` matrix (one copy, row order matches the filter)."""
    n, _, _, c = x.shape
    oh, ow, ph, pw = _geom(x.shape, kh, kw, strides, dilations, padding)
    xp = _pad(x, ph, pw)
    view = np.lib.stride_tricks.sliding_window_view(
        xp, ((kh - 1) * dilations[1] + 1, (kw - 1) * dilations[2] + 1), axis=(1, 2))
    view = view[:, ::strides[1], ::strides[2], :, ::dilations[1], ::dilations[2]][:, :oh, :ow]
    cols = np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3))
    return cols.reshape(n * oh * ow, kh * kw * c), (oh, ow, ph, pw)


def _conv_nhwc(x, w, strides, dilations, padding):
    kh, kw, _, o = w.shape
    cols, (oh, ow, _, _) = _im2col(x, kh, kw, strides, dilations, padding)
    return (cols @ w.reshape(-1, o)).reshape(x.shape[0], oh, ow, o)


def _conv_backprop_input_nhwc(x_shape, w, dy, strides, dilations, padding):
    kh, kw, c, o = w.shape
    n, h, wd, _ = x_shape
    oh, ow, ph, pw = _geom(x_shape, kh, kw, strides, dilations, padding)
    dyf = dy.reshape(-1, o)
    dxp = np.zeros((n, h + sum(ph), wd + sum(pw), c), dy.dtype)
    for i in range(kh):        # one tap's [pixels, C] product at a time, not all taps' patch matrix
        for j in range(kw):
            dxp[_window_slices(i, j, oh, ow, strides[1], strides[2], dilations[1], dilations[2])] += (
                dyf @ w[i, j].T).reshape(n, oh, ow, c)
    return dxp[:, ph[0]:ph[0] + h, pw[0]:pw[0] + wd]


def _conv_backprop_filter_nhwc(x, w_shape, dy, strides, dilations, padding):
    kh, kw, c, o = w_shape
    cols, _ = _im2col(x, kh, kw, strides, dilations, padding)
    return (cols.T @ dy.reshape(-1, o)).reshape(kh, kw, c, o)


def _to_nhwc(a, data_format):
    return a.transpose(0, 2, 3, 1) if data_format == "NCHW" else a


def _from_nhwc_arr(a, data_format):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2)) if data_format == "NCHW" else a


def _nhwc_seq(seq, data_format):
    return [seq[0], seq[2], seq[3], seq[1]] if data_format == "NCHW" else list(seq)


# ---- BiasAdd -----------------------------------------------------------------------------------------
def _bias_add_infer(ins, a):
    x, b = ins
    if x.dtype.base_dtype != b.dtype.base_dtype:
        raise TypeError(f"Input 'bias' of 'BiasAdd' Op has type {b.dtype.base_dtype.name} that does not "
                        f"match type {x.dtype.base_dtype.name} of argument 'value'.")
    if b.shape.ndims is not None and b.shape.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {b.shape.ndims}")
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {x.shape.ndims}")
    shape = x.shape
    if x.shape.ndims is not None:
        axis = 1 if a["data_format"] == "NCHW" else -1
        dims = x.shape.as_list()
        c, n = dims[axis], b.shape.as_list()[0] if b.shape.ndims == 1 else None
        if c is not None and n is not None and c != n:
            raise ValueError(f"Dimensions must be equal, but are {c} and {n}")
        dims[axis] = c if c is not None else n
        shape = TensorShape(dims)
    return [(x.dtype.base_dtype, shape)]


def _bias_add(x, b, data_format="NHWC"):
    if data_format == "NCHW":
        return x + b.reshape((-1,) + (1,) * (x.ndim - 2))
    return x + b


def _bias_add_grad_infer(ins, a):
    g = ins[0]
    axis = 1 if a["data_format"] == "NCHW" else -1
    n = g.shape.as_list()[axis] if g.shape.ndims is not None else None
    return [(g.dtype.base_dtype, [n])]


def _summed_axes(data_format, rank):
    """The axes BiasAddGrad sums: all but the channels'."""
    channels = 1 if data_format == "NCHW" else rank - 1
    return tuple(i for i in range(rank) if i != channels)


def _bias_add_grad(g, data_format="NHWC"):
    return g.sum(axis=_summed_axes(data_format, g.ndim), dtype=g.dtype)


def _bias_add_grad_axes(op, rank):
    return _summed_axes(op.attrs.get("data_format"), rank)


# A reduction the compiler fuses into the kernel that computes the gradient (P8's four bias
# gradients each read a [32, 32, 32, 32] tensor again as a NumPy step); alone, the fast path runs.
define_op("BiasAddGrad", _bias_add_grad_infer, _bias_add_grad, kind="reduction",
          extra={"fast": lazy("epilogue", "bias_add_grad_fast"), "combine": "add", "identity": 0, "mean": False,
                 "axes": _bias_add_grad_axes})
define_op("BiasAdd", _bias_add_infer, _bias_add, kind="library",
          grad=lambda op, g: [g, make_op("BiasAddGrad", [g], {"data_format": op.get_attr("data_format")},
                                         "BiasAddGrad").outputs[0]])


def bias_add(value, bias, data_format=None, name=None):
    """``value + bias`` where ``bias`` is 1-D and matches the channel (last, or NCHW's 1) dim."""
    value = convert_to_tensor(value)
    bias = convert_to_tensor(bias, value.dtype.base_dtype)
    return make_op("BiasAdd", [value, bias], {"data_format": data_format or "NHWC"}, name or "BiasAdd").outputs[0]


# ---- Conv2D ------------------------------------------------------------------------------------------
def _conv_attrs(strides, padding, data_format, dilations, use_cudnn_on_gpu=True):
    data_format = data_format or "NHWC"
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    _check_padding(padding)
    return {"strides": _seq(strides, "strides", data_format), "padding": padding, "data_format": data_format,
            "dilations": _seq(dilations if dilations is not None else 1, "dilations", data_format),
            "use_cudnn_on_gpu": bool(use_cudnn_on_gpu)}


def _conv_out_shape(x_dims, kh, kw, o, a):
    df = a["data_format"]
    s, d = _nhwc_seq(a["strides"], df), _nhwc_seq(a["dilations"], df)
    _check_strides(s, "Conv2D")
    oh, ow, _, _ = _geom(x_dims, kh, kw, s, d, a["padding"])
    return _from_nhwc([x_dims[0], oh, ow, o], df)


def _conv2d_infer(ins, a):
    x, w = ins
    _float(x, "Conv2D")
    if x.dtype.base_dtype != w.dtype.base_dtype:
        raise TypeError(f"Input 'filter' of 'Conv2D' Op has type {w.dtype.base_dtype.name} that does not "
                        f"match type {x.dtype.base_dtype.name} of argument 'input'.")
    _rank4(x, "input")
    _rank4(w, "filter")
    xd = _nhwc(x.shape, a["data_format"])
    kh, kw, ci, o = w.shape.as_list() if w.shape.ndims is not None else [None] * 4
    if xd[3] is not None and ci is not None and xd[3] != ci:
        raise ValueError(f"Depth of input ({xd[3]}) is not a multiple of input depth of filter ({ci})"
                         if xd[3] % ci else f"Grouped convolution (input depth {xd[3]}, filter depth {ci}) "
                         f"is not supported")
    if kh is None or kw is None:
        return [(x.dtype.base_dtype, TensorShape([xd[0], None, None, o]))]
    return [(x.dtype.base_dtype, _conv_out_shape(xd, kh, kw, o, a))]


def _conv2d(x, w, strides, padding, data_format, dilations, **_):
    s, d = _nhwc_seq(strides, data_format), _nhwc_seq(dilations, data_format)
    return _from_nhwc_arr(_conv_nhwc(_to_nhwc(x, data_format), w, s, d, padding), data_format)


def _sizes(t):
    v = constant_value(t)
    return None if v is None else [int(e) for e in np.asarray(v).reshape(-1)]


def _conv_grad(op, g):
    from jitgraph.ops.array_ops import shape
    x, w = op.inputs
    attrs = {k: op.get_attr(k) for k in ("strides", "padding", "data_format", "dilations", "use_cudnn_on_gpu")}
    dx = make_op("Conv2DBackpropInput", [shape(x), w, g], attrs, "Conv2DBackpropInput").outputs[0]
    dw = make_op("Conv2DBackpropFilter", [x, shape(w), g], attrs, "Conv2DBackpropFilter").outputs[0]
    return [dx, dw]


def _sized_infer(index):
    def infer(ins, a):
        dims = _sizes(ins[index])
        return [(ins[2].dtype.base_dtype, TensorShape(dims if dims is not None else [None] * 4))]
    return infer


def _conv_bp_input(sizes, w, dy, strides, padding, data_format, dilations, **_):
    s, d = _nhwc_seq(strides, data_format), _nhwc_seq(dilations, data_format)
    xs = _nhwc_seq([int(v) for v in sizes], data_format)
    dx = _conv_backprop_input_nhwc(xs, w, _to_nhwc(dy, data_format), s, d, padding)
    return _from_nhwc_arr(dx, data_format)


def _conv_bp_filter(x, sizes, dy, strides, padding, data_format, dilations, **_):
    s, d = _nhwc_seq(strides, data_format), _nhwc_seq(dilations, data_format)
    return _conv_backprop_filter_nhwc(_to_nhwc(x, data_format), [int(v) for v in sizes],
                                      _to_nhwc(dy, data_format), s, d, padding)


define_op("Conv2DBackpropInput", _sized_infer(0), _conv_bp_input, kind="library",
          extra={"threads": True, "side_thread": True, "fast": lazy("conv", "conv2d_backprop_input_fast")})
define_op("Conv2DBackpropFilter", _sized_infer(1), _conv_bp_filter, kind="library",
          extra={"threads": True, "side_thread": True, "fast": lazy("conv", "conv2d_backprop_filter_fast")})
define_op("Conv2D", _conv2d_infer, _conv2d, kind="library", grad=_conv_grad,
          extra={"threads": True, "side_thread": True, "fast": lazy("conv", "conv2d_fast"), "fast_bias_act": lazy("conv", "conv2d_bias_act_fast")})


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
           dilations=(1, 1, 1, 1), name=None, filters=None):
    """2-D convolution: ``input`` [N,H,W,C] (NHWC) with ``filter`` [KH,KW,C,O].

    ``strides``/``dilations`` are an int or 1, 2 or 4 ints; ``padding`` is ``"SAME"`` (output
    ``ceil(in/stride)``) or ``"VALID"`` (output ``ceil((in - (k-1)*dilation) / stride)``).
    """
    filter = filters if filter is None else filter
    if strides is None or padding is None:
        raise TypeError("conv2d() requires `strides` and `padding`")
    x, w = convert_to_tensor(input), convert_to_tensor(filter)
    attrs = _conv_attrs(strides, padding, data_format, dilations, use_cudnn_on_gpu)
    return make_op("Conv2D", [x, w], attrs, name or "Conv2D").outputs[0]


def conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding, use_cudnn_on_gpu=True,
                          data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """The gradient of ``conv2d`` with respect to its input (of shape ``input_sizes``)."""
    attrs = _conv_attrs(strides, padding, data_format, dilations, use_cudnn_on_gpu)
    ins = [convert_to_tensor(input_sizes, dtypes.int32), convert_to_tensor(filter), convert_to_tensor(out_backprop)]
    return make_op("Conv2DBackpropInput", ins, attrs, name or "Conv2DBackpropInput").outputs[0]


def conv2d_transpose(value, filter, output_shape, strides, padding="SAME", data_format="NHWC", name=None):
    """Transposed convolution (the input-gradient of ``conv2d``); ``filter`` is [KH,KW,out,in]."""
    return conv2d_backprop_input(output_shape, filter, value, strides, padding, data_format=data_format,
                                 name=name or "conv2d_transpose")


# ---- pooling -----------------------------------------------------------------------------------------
def _pool_infer(op_type):
    def infer(ins, a):
        x = ins[0]
        _rank4(x, "input")
        if op_type == "AvgPool":
            _float(x, op_type)
        k, s = _nhwc_seq(a["ksize"], a["data_format"]), _nhwc_seq(a["strides"], a["data_format"])
        if k[0] != 1 or k[3] != 1:
            raise ValueError(f"{op_type}: pooling is not yet supported on the batch or depth dimensions.")
        _check_strides(s, op_type)
        xd = _nhwc(x.shape, a["data_format"])
        oh, ow, _, _ = _geom(xd, k[1], k[2], s, [1, 1, 1, 1], a["padding"])
        return [(x.dtype.base_dtype, _from_nhwc([xd[0], oh, ow, xd[3]], a["data_format"]))]
    return infer


def _pool_windows(x, k, s, padding, fill):
    oh, ow, ph, pw = _geom(x.shape, k[1], k[2], s, [1, 1, 1, 1], padding)
    return _pad(x, ph, pw, fill), oh, ow, ph, pw


def _lowest(dt):
    return -np.inf if dt.kind == "f" else np.iinfo(dt).min


def _lowest_finite(dt):
    return np.finfo(dt).min if dt.kind == "f" else np.iinfo(dt).min


def _max_pool(x, ksize, strides, padding, data_format, **_):
    """TF's MaxPool: the largest value of each window, NaN never wins (``fmax``) and a window
    without a larger value than the dtype's lowest finite number (all -inf or NaN) gives that."""
    k, s = _nhwc_seq(ksize, data_format), _nhwc_seq(strides, data_format)
    x = _to_nhwc(x, data_format)
    xp, oh, ow, _, _ = _pool_windows(x, k, s, padding, _lowest(x.dtype))
    out = np.full((x.shape[0], oh, ow, x.shape[3]), _lowest_finite(x.dtype), x.dtype)
    for i in range(k[1]):
        for j in range(k[2]):
            np.fmax(out, xp[_window_slices(i, j, oh, ow, s[1], s[2])], out=out)
    return _from_nhwc_arr(out, data_format)


def _tap_valid(size, k, s, out, pad):
    """[k, out] bool: tap a of output i reads input row i*s + a - pad, inside [0, size)."""
    rows = np.arange(out)[None, :] * s + np.arange(k)[:, None] - pad
    return (rows >= 0) & (rows < size)


def _max_pool_grad(x, y, g, ksize, strides, padding, data_format, **_):
    """Each output's gradient goes to one input of its window, as TF 2.21's CPU kernels choose it
    (``tests/oracle/record_pooling.py``): the first maximal input in row-major window order, so
    ties go to the first (``max_pool_args``).

    Each tap adds ``where(arg == tap, g, +0)`` into its window of dx, selected by AND-ing g's bits
    with an all-ones or all-zeros mask: the same bits as ``np.where``, without its branch per
    element (P1's [128, 28, 28, 32] pool: 10.4 -> 4.6 ms)."""
    k, s = _nhwc_seq(ksize, data_format), _nhwc_seq(strides, data_format)
    x, g = _to_nhwc(x, data_format), _to_nhwc(g, data_format)
    arg = max_pool_args(x, k, s, padding)
    oh, ow, ph, pw = _geom(x.shape, k[1], k[2], s, [1, 1, 1, 1], padding)
    dxp = np.zeros((x.shape[0], x.shape[1] + sum(ph), x.shape[2] + sum(pw), x.shape[3]), g.dtype)
    bits = np.dtype(f"u{g.dtype.itemsize}")
    g_bits, mine = np.ascontiguousarray(g).view(bits), np.empty(arg.shape, bool)
    picked, ones = np.empty(arg.shape, bits), bits.type(np.iinfo(bits).max)
    for i in range(k[1]):
        for j in range(k[2]):
            np.equal(arg, i * k[2] + j, out=mine)
            np.bitwise_and(np.multiply(mine, ones, out=picked), g_bits, out=picked)
            dxp[_window_slices(i, j, oh, ow, s[1], s[2])] += picked.view(g.dtype)
    return _from_nhwc_arr(dxp[:, ph[0]:ph[0] + x.shape[1], pw[0]:pw[0] + x.shape[2]], data_format)


def max_pool_args(x, k, s, padding):
    """The row-major window tap of each output of an NHWC max pool that gets the gradient. Where
    NaN or -inf make the maximum ambiguous the two kernels TF picks differ: float32 (oneDNN)
    starts from the window's first tap with -inf and moves on a strictly greater input (NaN never
    wins; a window of -inf only keeps its first tap, dropped if that is padding); other dtypes
    (Eigen) start from the first input inside the image and move while ``best < v`` (a NaN there
    keeps the gradient).

    Taps are visited in increasing order, so the tap an output moves to is larger than the one it
    had: ``arg = max(arg, take * tap)`` in the smallest integer type that holds the taps, without
    a branch per element (``putmask``/``where`` on a mask of ties: 3.3 ms a tap of P1's first
    pool, this 0.1)."""
    xp, oh, ow, ph, pw = _pool_windows(x, k, s, padding, _lowest(x.dtype))
    shape = (x.shape[0], oh, ow, x.shape[3])
    best = np.full(shape, _lowest(x.dtype), x.dtype)
    arg = np.zeros(shape, np.min_scalar_type(-max(1, k[1] * k[2])))
    first_valid = x.dtype != np.float32
    found = np.zeros(shape, bool)
    rows, cols = _tap_valid(x.shape[1], k[1], s[1], oh, ph[0]), _tap_valid(x.shape[2], k[2], s[2], ow, pw[0])
    take, moved = np.empty(shape, bool), np.empty(shape, arg.dtype)
    for i in range(k[1]):
        for j in range(k[2]):
            v = xp[_window_slices(i, j, oh, ow, s[1], s[2])]
            np.greater(v, best, out=take)
            if first_valid:
                valid = (rows[i][:, None] & cols[j][None, :])[None, :, :, None]
                np.logical_and(valid, take | ~found, out=take)
                found |= valid
                np.copyto(best, v, where=take)
            else:               # the same comparisons as best = where(take, v, best): NaN never wins
                np.fmax(best, v, out=best)
            np.maximum(arg, np.multiply(take, arg.dtype.type(i * k[2] + j), out=moved), out=arg)
    return arg


def _avg_counts(shape, k, s, padding, dtype):
    ones, oh, ow, ph, pw = _pool_windows(np.ones((1,) + tuple(shape[1:3]) + (1,), dtype), k, s, padding, 0)
    cnt = np.zeros((1, oh, ow, 1), dtype)
    for i in range(k[1]):
        for j in range(k[2]):
            cnt += ones[_window_slices(i, j, oh, ow, s[1], s[2])]
    return cnt


def _avg_pool(x, ksize, strides, padding, data_format, **_):
    k, s = _nhwc_seq(ksize, data_format), _nhwc_seq(strides, data_format)
    x = _to_nhwc(x, data_format)
    xp, oh, ow, _, _ = _pool_windows(x, k, s, padding, 0)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]), x.dtype)
    for i in range(k[1]):
        for j in range(k[2]):
            out += xp[_window_slices(i, j, oh, ow, s[1], s[2])]
    return _from_nhwc_arr(out / _avg_counts(x.shape, k, s, padding, x.dtype), data_format)


def _avg_pool_grad(sizes, g, ksize, strides, padding, data_format, **_):
    k, s = _nhwc_seq(ksize, data_format), _nhwc_seq(strides, data_format)
    xs = _nhwc_seq([int(v) for v in sizes], data_format)
    g = _to_nhwc(g, data_format)
    oh, ow, ph, pw = _geom(xs, k[1], k[2], s, [1, 1, 1, 1], padding)
    share = g / _avg_counts(xs, k, s, padding, g.dtype)
    dxp = np.zeros((xs[0], xs[1] + sum(ph), xs[2] + sum(pw), xs[3]), g.dtype)
    for i in range(k[1]):
        for j in range(k[2]):
            dxp[_window_slices(i, j, oh, ow, s[1], s[2])] += share
    return _from_nhwc_arr(dxp[:, ph[0]:ph[0] + xs[1], pw[0]:pw[0] + xs[2]], data_format)


def _pool_attrs(op):
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding", "data_format")}


def _max_pool_grad_rule(op, g):
    return [make_op("MaxPoolGrad", [op.inputs[0], op.outputs[0], g], _pool_attrs(op), "MaxPoolGrad").outputs[0]]


def _avg_pool_grad_rule(op, g):
    from jitgraph.ops.array_ops import shape
    return [make_op("AvgPoolGrad", [shape(op.inputs[0]), g], _pool_attrs(op), "AvgPoolGrad").outputs[0]]


define_op("MaxPoolGrad", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], _max_pool_grad, kind="library",
          extra={"threads": True, "fast": lazy("pool", "max_pool_grad_fast")})
define_op("AvgPoolGrad", lambda ins, a: [(ins[1].dtype.base_dtype, TensorShape(_sizes(ins[0])))],
          _avg_pool_grad, kind="library", extra={"threads": True, "fast": lazy("pool", "avg_pool_grad_fast")})
define_op("MaxPool", _pool_infer("MaxPool"), _max_pool, kind="library", grad=_max_pool_grad_rule,
          extra={"threads": True, "fast": lazy("pool", "max_pool_fast")})
define_op("AvgPool", _pool_infer("AvgPool"), _avg_pool, kind="library", grad=_avg_pool_grad_rule,
          extra={"threads": True, "fast": lazy("pool", "avg_pool_fast")})


def _pool(op_type, value, ksize, strides, padding, data_format, name):
    data_format = data_format or "NHWC"
    _check_padding(padding)
    attrs = {"ksize": _seq(ksize, "ksize", data_format), "strides": _seq(strides, "strides", data_format),
             "padding": padding, "data_format": data_format}
    return make_op(op_type, [convert_to_tensor(value)], attrs, name or op_type).outputs[0]


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """Max over ``ksize`` windows moved by ``strides``; SAME pads with -inf."""
    return _pool("MaxPool", value if input is None else input, ksize, strides, padding, data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """Mean over ``ksize`` windows; with SAME the padded positions are not counted (as TF)."""
    return _pool("AvgPool", value if input is None else input, ksize, strides, padding, data_format, name)
