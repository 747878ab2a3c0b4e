"""``tf.confusion_matrix``: ``cm[label, prediction] += weight`` over a batch (op ``ConfusionMatrix``).

Labels and predictions are class ids in ``[0, num_classes)``; one outside it raises
``InvalidArgumentError`` when run, as TF's assertions do. Without ``num_classes`` the matrix is
``max(labels, predictions) + 1`` square. Gradients flow into ``weights`` only.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.api_graph import name_scope
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op


def _infer(ins, a):
    labels, predictions, num_classes, weights = ins
    for t, what in ((labels, "labels"), (predictions, "predictions")):
        if not t.dtype.base_dtype.is_integer:
            raise TypeError(f"ConfusionMatrix: {what} must be integer class ids, got {t.dtype.base_dtype.name}")
        if t.shape.ndims not in (None, 1):
            raise ValueError(f"ConfusionMatrix: {what} must be 1-D, got shape {t.shape}")
    if not labels.shape.is_compatible_with(predictions.shape):
        raise ValueError(f"ConfusionMatrix: labels shape {labels.shape} and predictions shape {predictions.shape} "
                         f"are incompatible")
    n = constant_value(num_classes)
    n = None if n is None else int(n)
    return [(a["dtype"], TensorShape([n, n]))]


def _compute(labels, predictions, num_classes, weights, dtype):
    n = int(num_classes)
    for ids, what in ((labels, "labels"), (predictions, "predictions")):
        if ids.size and ids.min() < 0:
            raise errors.InvalidArgumentError(None, None, f"`{what}` contains negative values: {ids.min()}")
        if ids.size and ids.max() >= n:
            raise errors.InvalidArgumentError(None, None, f"`{what}` out of bound: {ids.max()} is not less than "
                                                          f"num_classes={n}")
    cm = np.zeros((n, n), dtype.as_np)
    np.add.at(cm, (labels.astype(np.intp), predictions.astype(np.intp)),
              np.broadcast_to(weights, labels.shape).astype(dtype.as_np))
    return cm


def _grad(op, g):
    from jitgraph.ops.array_ops import stack
    from jitgraph.ops.math_ops import cast
    from jitgraph.ops.slicing_ops import gather_nd
    labels, predictions, _, weights = op.inputs
    index = stack([cast(labels, dtypes.int64), cast(predictions, dtypes.int64)], axis=1)
    dw = cast(gather_nd(g, index), weights.dtype.base_dtype)
    if weights.shape.ndims == 0:
        from jitgraph.ops.reduction_ops import reduce_sum
        dw = reduce_sum(dw)
    return [None, None, None, dw]


define_op("ConfusionMatrix", _infer, _compute, kind="library", grad=_grad)


def confusion_matrix(labels, predictions, num_classes=None, dtype=dtypes.int32, name=None, weights=None):
    """The ``[num_classes, num_classes]`` matrix counting (or summing ``weights`` of) each
    (label, prediction) pair: rows are labels, columns predictions."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    with name_scope(name, "confusion_matrix", [labels, predictions, num_classes, weights]) as scope:
        labels = convert_to_tensor(labels)
        predictions = convert_to_tensor(predictions)
        labels, predictions = squeeze_pair(labels, predictions)
        if num_classes is None:
            from jitgraph.ops.math_api import maximum
            from jitgraph.ops.math_ops import cast
            from jitgraph.ops.reduction_ops import reduce_max
            num_classes = maximum(reduce_max(cast(labels, dtypes.int64)),
                                  reduce_max(cast(predictions, dtypes.int64))) + 1
        else:
            num_classes = convert_to_tensor(num_classes, preferred_dtype=dtypes.int64)
        weights = convert_to_tensor(1 if weights is None else weights, preferred_dtype=dtype)
        if weights.dtype.base_dtype != dtype:
            from jitgraph.ops.math_ops import cast
            weights = cast(weights, dtype)
        return make_op("ConfusionMatrix", [labels, predictions, num_classes, weights], {"dtype": dtype},
                       scope).outputs[0]


def squeeze_pair(labels, predictions):
    """Drop a trailing size-1 dim of whichever of the two has one more dimension."""
    from jitgraph.ops.array_ops import squeeze
    lr, pr = labels.shape.ndims, predictions.shape.ndims
    if lr is not None and pr is not None:
        if pr - lr == 1 and predictions.shape[-1].is_compatible_with(1):
            predictions = squeeze(predictions, [-1])
        elif lr - pr == 1 and labels.shape[-1].is_compatible_with(1):
            labels = squeeze(labels, [-1])
    return labels, predictions


__all__ = ["confusion_matrix"]
