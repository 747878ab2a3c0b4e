"""Neural-network ops (``tf.nn``): softmax, cross-entropies, ``l2_loss``, ``dropout``; convolution,
pooling and ``bias_add`` live in ``nn_conv.py`` and are re-exported here.

``Softmax``, ``LogSoftmax`` and the cross-entropy ops are ``library`` ops over the last axis. Their
gradients use jitgraph's own library ops (``SoftmaxGrad``, ``LogSoftmaxGrad``, ``XentGrad``), so
they need nothing from the array/reduction libraries. The cross-entropy ops return
``(loss, backprop)`` like TF's kernels; ``backprop`` (softmax - labels) becomes the logits gradient.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.api_graph import get_seed
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.kernels import lazy
from jitgraph.ops import math_ops
from jitgraph.ops.nn_conv import (avg_pool, bias_add, conv2d, conv2d_backprop_input, conv2d_transpose,  # noqa: F401
                                  max_pool)
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["bias_add", "conv2d", "conv2d_backprop_input", "conv2d_transpose", "max_pool", "avg_pool",
           "softmax", "log_softmax", "softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits_v2", "sparse_softmax_cross_entropy_with_logits",
           "sigmoid_cross_entropy_with_logits", "l2_loss", "dropout"]


def _float_input(t, op_type, param="logits"):
    if not t.dtype.base_dtype.is_floating:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {t.dtype.base_dtype.name} not in "
                        f"list of allowed values for {op_type}: float16, float32, float64")


def _at_least_rank1(t):
    if t.shape.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")


def _axis_attr(axis, dim):
    axis = dim if axis is None else axis
    return -1 if axis is None else int(axis)


# ---- softmax / log_softmax ---------------------------------------------------------------------------
def _softmax_np(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_np(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _same_infer(op_type):
    def infer(ins, a):
        _float_input(ins[0], op_type)
        _at_least_rank1(ins[0])
        nd = ins[0].shape.ndims
        if nd is not None and not -nd <= a.get("axis", -1) < nd:
            raise ValueError(f"axis {a['axis']} is out of range for a tensor of rank {nd}")
        return [(ins[0].dtype.base_dtype, ins[0].shape)]
    return infer


def _softmax_grad_np(y, g, axis=-1):
    return (g - (g * y).sum(axis=axis, keepdims=True)) * y


def _log_softmax_grad_np(y, g, axis=-1):
    return g - g.sum(axis=axis, keepdims=True) * np.exp(y)


define_op("SoftmaxGrad", _same_infer("SoftmaxGrad"), _softmax_grad_np, kind="library",
          extra={"fast": lazy("softmax", "softmax_grad_fast")})
define_op("LogSoftmaxGrad", _same_infer("LogSoftmaxGrad"), _log_softmax_grad_np, kind="library",
          extra={"fast": lazy("softmax", "log_softmax_grad_fast")})
define_op("Softmax", _same_infer("Softmax"), _softmax_np, kind="library",
          extra={"fast": lazy("softmax", "softmax_fast")},
          grad=lambda op, g: [make_op("SoftmaxGrad", [op.outputs[0], g], dict(op.attrs), "SoftmaxGrad").outputs[0]])
define_op("LogSoftmax", _same_infer("LogSoftmax"), _log_softmax_np, kind="library",
          extra={"fast": lazy("softmax", "log_softmax_fast")},
          grad=lambda op, g: [make_op("LogSoftmaxGrad", [op.outputs[0], g], dict(op.attrs),
                                      "LogSoftmaxGrad").outputs[0]])


def softmax(logits, axis=None, name=None, dim=None):
    """``exp(logits) / reduce_sum(exp(logits), axis)`` along ``axis`` (default last), computed stably."""
    x = convert_to_tensor(logits)
    return make_op("Softmax", [x], {"axis": _axis_attr(axis, dim)}, name or "Softmax").outputs[0]


def log_softmax(logits, axis=None, name=None, dim=None):
    """``logits - log(reduce_sum(exp(logits), axis))``, computed stably."""
    x = convert_to_tensor(logits)
    return make_op("LogSoftmax", [x], {"axis": _axis_attr(axis, dim)}, name or "LogSoftmax").outputs[0]


# ---- cross-entropies ---------------------------------------------------------------------------------
def _reduced_shape(shape, axis):
    if shape.ndims is None:
        return TensorShape(None)
    dims = shape.as_list()
    del dims[axis]
    return TensorShape(dims)


def _xent_infer(ins, a):
    labels, logits = ins
    _float_input(logits, "SoftmaxCrossEntropyWithLogits")
    if labels.dtype.base_dtype != logits.dtype.base_dtype:
        raise TypeError(f"Input 'labels' of 'SoftmaxCrossEntropyWithLogits' Op has type "
                        f"{labels.dtype.base_dtype.name} that does not match type "
                        f"{logits.dtype.base_dtype.name} of argument 'features'.")
    _at_least_rank1(logits)
    shape = math_ops.broadcast_shapes(labels.shape, logits.shape)
    if shape.ndims is not None and logits.shape.ndims is not None and shape.ndims != logits.shape.ndims:
        raise ValueError(f"labels of rank {labels.shape.ndims} do not match logits of rank {logits.shape.ndims}")
    dt = logits.dtype.base_dtype
    return [(dt, _reduced_shape(shape, a["axis"])), (dt, shape)]


def _xent_np(labels, logits, axis=-1):
    logp = _log_softmax_np(logits, axis)
    labels = np.broadcast_to(labels, logp.shape)
    return -(labels * logp).sum(axis=axis), np.exp(logp) - labels


def _xent_grad_infer(ins, a):
    return [(ins[1].dtype.base_dtype, ins[1].shape)]


def _xent_grad_np(g, backprop, axis=-1):
    """``expand_dims(g, axis) * backprop``: the loss gradient spread over the class axis."""
    return np.expand_dims(g, axis) * backprop


define_op("XentGrad", _xent_grad_infer, _xent_grad_np, kind="library",
          extra={"fast": lazy("softmax", "xent_grad_fast")})


def _xent_grad(op, g_loss, g_backprop):
    axis = op.get_attr("axis")
    d_logits = make_op("XentGrad", [g_loss, op.outputs[1]], {"axis": axis}, "mul").outputs[0]
    labels, logits = op.inputs
    if not labels.dtype.base_dtype.is_floating:  # sparse: integer labels get no gradient
        return [None, d_logits]
    neg_logp = math_ops.unary("Neg", log_softmax(logits, axis=axis))
    d_labels = make_op("XentGrad", [g_loss, neg_logp], {"axis": axis}, "mul_1").outputs[0]
    return [d_labels, d_logits]


define_op("SoftmaxCrossEntropyWithLogits", _xent_infer, _xent_np, kind="library", grad=_xent_grad,
          extra={"fast": lazy("softmax", "xent_fast")})


def softmax_cross_entropy_with_logits_v2(labels, logits, axis=None, name=None, dim=None):
    """Per-example ``-sum(labels * log_softmax(logits), axis)``; gradients flow into both inputs."""
    with get_default_graph().name_scope(name or "softmax_cross_entropy_with_logits") as scope:
        logits = convert_to_tensor(logits)
        labels = math_ops.cast(convert_to_tensor(labels, preferred_dtype=logits.dtype.base_dtype),
                               logits.dtype.base_dtype)
        op = make_op("SoftmaxCrossEntropyWithLogits", [labels, logits], {"axis": _axis_attr(axis, dim)},
                     scope)
    return op.outputs[0]


def softmax_cross_entropy_with_logits(labels=None, logits=None, dim=-1, name=None, axis=None):
    """TF1's cross-entropy: as ``_v2`` but no gradient flows into ``labels``."""
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    from jitgraph.ops.gradients import stop_gradient
    with get_default_graph().name_scope(name or "softmax_cross_entropy_with_logits_sg") as scope:
        labels = stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels, logits, axis=axis if axis is not None else dim,
                                                    name=scope)


def _sparse_infer(ins, a):
    labels, logits = ins
    _float_input(logits, "SparseSoftmaxCrossEntropyWithLogits", "features")
    if labels.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'labels' has DataType {labels.dtype.base_dtype.name} not in "
                        f"list of allowed values: int32, int64")
    if labels.shape.ndims is not None and logits.shape.ndims is not None:
        if labels.shape.ndims != logits.shape.ndims - 1:
            raise ValueError(f"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: labels.shape="
                             f"{labels.shape} of rank {labels.shape.ndims} and logits.shape={logits.shape} of "
                             f"rank {logits.shape.ndims}")
        labels.shape.merge_with(TensorShape(logits.shape.as_list()[:-1]))
    _at_least_rank1(logits)
    dt = logits.dtype.base_dtype
    return [(dt, TensorShape(logits.shape.as_list()[:-1]) if logits.shape.ndims is not None else TensorShape(None)),
            (dt, logits.shape)]


def _sparse_xent_np(labels, logits, axis=-1):
    n = logits.shape[-1]
    bad = (labels < 0) | (labels >= n)
    if np.any(bad):
        raise errors.InvalidArgumentError(
            None, None, f"Received a label value of {labels[bad].reshape(-1)[0]} which is outside the valid "
                        f"range of [0, {n}).  Label values: {' '.join(map(str, labels.reshape(-1)))}")
    logp = _log_softmax_np(logits)
    onehot = np.zeros_like(logp)
    np.put_along_axis(onehot, labels[..., None].astype(np.intp), 1, axis=-1)
    return -np.take_along_axis(logp, labels[..., None].astype(np.intp), axis=-1)[..., 0], np.exp(logp) - onehot


define_op("SparseSoftmaxCrossEntropyWithLogits", _sparse_infer, _sparse_xent_np, kind="library", grad=_xent_grad,
          extra={"fast": lazy("softmax", "sparse_xent_fast")})


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None, _sentinel=None):
    """Per-example cross-entropy with integer class ``labels`` (shape ``logits.shape[:-1]``).

    A label outside ``[0, num_classes)`` raises ``InvalidArgumentError`` when run."""
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    with get_default_graph().name_scope(name or "SparseSoftmaxCrossEntropyWithLogits"):
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels)
        op = make_op("SparseSoftmaxCrossEntropyWithLogits", [labels, logits], {"axis": -1},
                     "SparseSoftmaxCrossEntropyWithLogits")
    return op.outputs[0]


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None, _sentinel=None):
    """``max(x, 0) - x * z + log(1 + exp(-|x|))``: per-element logistic loss, stable for any ``x``."""
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided.")
    with get_default_graph().name_scope(name or "logistic_loss"):
        x = convert_to_tensor(logits)
        z = convert_to_tensor(labels, x.dtype.base_dtype)
        relu = math_ops.unary("Relu", x)
        softplus_neg_abs = math_ops.unary("Log1p", math_ops.unary("Exp", math_ops.unary("Neg", math_ops.unary(
            "Abs", x))))
        return math_ops.binary("Add", math_ops.binary("Sub", relu, math_ops.binary("Mul", x, z)), softplus_neg_abs)


# ---- l2_loss -----------------------------------------------------------------------------------------
def _l2_infer(ins, a):
    _float_input(ins[0], "L2Loss", "t")
    return [(ins[0].dtype.base_dtype, TensorShape([]))]


define_op("L2Loss", _l2_infer, lambda t: np.asarray((t * t).sum() / 2, dtype=t.dtype), kind="library",
          grad=lambda op, g: [math_ops.binary("Mul", op.inputs[0], g, "mul")])


def l2_loss(t, name=None):
    """``sum(t ** 2) / 2``, a scalar."""
    return make_op("L2Loss", [convert_to_tensor(t)], {}, name or "L2Loss").outputs[0]


# ---- dropout -----------------------------------------------------------------------------------------
def _mask_infer(ins, a):
    dims = constant_value(ins[0])
    if dims is not None:
        shape = TensorShape([int(d) for d in np.asarray(dims).reshape(-1)])
    else:
        n = ins[0].shape.as_list()[0] if ins[0].shape.ndims == 1 else None
        shape = TensorShape(None if n is None else [None] * n)
    return [(ins[1].dtype.base_dtype, shape)]


def _mask_run(ctx, op, ins):
    """``(u >= rate) / (1 - rate)`` for ``u ~ U[0, 1)`` from the op's seeded stream."""
    shape, rate = ins
    u = ctx.rng(op).random(tuple(int(d) for d in shape))
    keep = 1 - rate
    return [np.where(u >= rate, 1 / keep if keep > 0 else 0, 0).astype(rate.dtype)]


define_op("DropoutMask", _mask_infer, kind="random", stateful=True, run=_mask_run,
          grad=lambda op, g: [None, None], extra={"fast": lazy("dropout", "dropout_mask_fast")})


def _static_noise_shape(x, noise_shape):
    """TF's rule: None entries of a list ``noise_shape`` take ``x``'s static dims."""
    if hasattr(noise_shape, "op") or x.shape.ndims is None or not isinstance(noise_shape, (list, tuple)):
        return noise_shape
    if len(noise_shape) != x.shape.ndims:
        return noise_shape
    return [d if d is not None else x.shape.as_list()[i] for i, d in enumerate(noise_shape)]


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keep each element with probability ``keep_prob`` (= ``1 - rate``) scaled by ``1/keep_prob``,
    else zero. ``noise_shape`` (broadcastable to ``x``) shares the keep decision; ``seed`` with the
    graph seed makes the mask reproducible."""
    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both keep_prob and rate")
    if keep_prob is None and rate is None:
        raise ValueError("You must provide a rate to dropout.")
    x = convert_to_tensor(x)
    if not x.dtype.base_dtype.is_floating:
        raise ValueError(f"x has to be a floating point tensor since it's going to be scaled. Got a "
                         f"{x.dtype.base_dtype.name} tensor instead.")
    for v, what in ((keep_prob, "keep_prob"), (rate, "rate")):
        if isinstance(v, (int, float)) and not 0 <= v <= 1:
            raise ValueError(f"{what} must be a scalar tensor or a float in the range [0, 1], got {v}")
    if isinstance(keep_prob, (int, float)) and keep_prob == 1:
        return x
    with get_default_graph().name_scope(name or "dropout"):
        if rate is None:
            rate = math_ops.binary("Sub", 1.0, convert_to_tensor(keep_prob, x.dtype.base_dtype), "sub")
        rate = convert_to_tensor(rate, x.dtype.base_dtype)
        from jitgraph.ops.array_ops import shape as shape_of
        ns = shape_of(x) if noise_shape is None else convert_to_tensor(_static_noise_shape(x, noise_shape),
                                                                         dtypes.int32)
        s1, s2 = get_seed(seed)
        mask = make_op("DropoutMask", [ns, rate], {"seed": s1 or 0, "seed2": s2 or 0}, "random_mask").outputs[0]
        return math_ops.binary("Mul", x, mask, "mul")
