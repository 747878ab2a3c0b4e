"""The gradient of ``Conv2DBackpropInput`` (``conv2d_transpose``), which ``nn_conv.py`` does not
define yet: without it a ``tf.layers.conv2d_transpose`` model cannot be trained.

It belongs with the op's other rules in ``nn_conv.py``; it is attached here only while that file
is being moved (by another change) and is skipped if the op already has a gradient.
"""

from jitgraph.ops.op_util import shape_tensor
from jitgraph.ops.registry import get_op_def, make_op


def _conv2d_backprop_input_grad(op, g):
    """``y = conv2d_transpose(dy, w)``: ``dL/d dy = conv2d(g, w)``; ``dL/dw`` is the filter gradient
    of a convolution whose input is ``g`` and whose output gradient is ``dy``."""
    _, w, dy = op.inputs
    attrs = {k: op.get_attr(k) for k in ("strides", "padding", "data_format", "dilations", "use_cudnn_on_gpu")}
    d_dy = make_op("Conv2D", [g, w], attrs, "Conv2D").outputs[0]
    dw = make_op("Conv2DBackpropFilter", [g, shape_tensor(w), dy], attrs, "Conv2DBackpropFilter").outputs[0]
    return [None, dw, d_dy]


_OP_DEF = get_op_def("Conv2DBackpropInput")
if _OP_DEF.grad is None:
    _OP_DEF.grad = _conv2d_backprop_input_grad
