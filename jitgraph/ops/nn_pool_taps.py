"""``_MaxPoolTaps`` and ``_MaxPoolGradTaps``: a 2x2, stride-2 max pool that also records which
input of each window gets the gradient, and the gradient scattered from that record.

The compiler's ``pool_taps`` pass makes them from a ``MaxPool`` and the ``MaxPoolGrad`` that
reads its input and output, when the windows tile the image exactly (NHWC, even height and width
known at build time): ``MaxPoolGrad`` would read the whole input again to find each window's
maximum, ``_MaxPoolGradTaps`` reads one byte per output instead (oneDNN keeps the same record,
its "workspace", between TF's forward and backward pool).

``taps`` is int8 [N, OH, OW, C]: the row-major window tap (0: top left, 1: top right, 2: bottom
left, 3: bottom right) that ``MaxPoolGrad`` gives the gradient, by its rules for ties, NaN and
-inf (``nn_conv.max_pool_args``). So the pair gives exactly ``MaxPool`` and ``MaxPoolGrad``'s
values.
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops import nn_conv
from jitgraph.ops.registry import define_op, make_op


def tiles_2x2(x_shape, attrs):
    """Do 2x2 windows at stride 2 tile an NHWC input of static shape ``x_shape`` exactly?"""
    dims = list(x_shape)
    return (attrs.get("data_format", "NHWC") == "NHWC" and list(attrs["ksize"]) == [1, 2, 2, 1]
            and list(attrs["strides"]) == [1, 2, 2, 1] and len(dims) == 4
            and all(isinstance(d, int) and d > 0 and d % 2 == 0 for d in dims[1:3]))


def _taps_infer(ins, a):
    (dt, shape), = nn_conv._pool_infer("MaxPool")(ins, a)
    return [(dt, shape), (dtypes.int8, shape)]


def _max_pool_taps(x, ksize, strides, padding, data_format, **_):
    taps = nn_conv.max_pool_args(x, ksize, strides, padding).astype(np.int8)
    return nn_conv._max_pool(x, ksize, strides, padding, data_format), taps


def _grad_infer(ins, a):
    taps, g = ins
    s = g.shape.as_list() if g.shape.ndims == 4 else [None] * 4
    double = [None if d is None else 2 * d for d in s[1:3]]
    return [(g.dtype.base_dtype, TensorShape([s[0]] + double + [s[3]]))]


def _max_pool_grad_taps(taps, g, **_):
    """dx: each output's ``g`` at its window's tap, zero elsewhere (``g + 0``, as the reference's
    sum into zeros: -0 becomes +0)."""
    n, oh, ow, c = g.shape
    dx = np.empty((n, 2 * oh, 2 * ow, c), g.dtype)
    zero = g.dtype.type(0)
    for t in range(4):
        dx[:, t // 2::2, t % 2::2] = np.where(taps == t, g, zero) + zero
    return dx


def _taps_grad(op, g, _g_taps=None):
    """The pool's gradient from its taps (the int8 taps have none)."""
    return [make_op("_MaxPoolGradTaps", [op.outputs[1], g], dict(op.attrs), "MaxPoolGrad").outputs[0]]


define_op("_MaxPoolTaps", _taps_infer, _max_pool_taps, kind="library", grad=_taps_grad,
          extra={"threads": True, "fast": lazy("pool_taps", "max_pool_taps_fast")})
define_op("_MaxPoolGradTaps", _grad_infer, _max_pool_grad_taps, kind="library",
          extra={"threads": True, "fast": lazy("pool_taps", "max_pool_grad_taps_fast")})
