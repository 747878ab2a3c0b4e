"""TF's rules for loss and metric ``weights``: a scalar, or a tensor of the values' rank whose
every dimension is 1 or the values' size there. Checked when the graph is built wherever the
shapes are known."""

from jitgraph.ops.math_api import equal, truediv
from jitgraph.ops.math_ops import where
from jitgraph.ops.registry import convert_to_tensor

ERROR_PREFIX = "weights can not be broadcast to values."


def assert_broadcastable(weights, values):
    """``ValueError`` unless ``weights`` can scale ``values`` (scalar, or same rank with dims 1 or equal)."""
    w, v = weights.shape, values.shape
    if w.ndims is None or v.ndims is None or w.ndims == 0:
        return
    if w.ndims != v.ndims:
        raise ValueError(f"{ERROR_PREFIX} values.rank={v.ndims}. weights.rank={w.ndims}. values.shape={v}. "
                         f"weights.shape={w}.")
    for i, (wd, vd) in enumerate(zip(w.as_list(), v.as_list())):
        if wd is not None and vd is not None and wd not in (1, vd):
            raise ValueError(f"{ERROR_PREFIX} Mismatch at dim {i}. values.shape={v.as_list()}, "
                             f"weights.shape={w.as_list()}.")


def broadcast_weights(weights, values):
    """``weights`` broadcast to ``values``' shape (unchanged if the static shapes already agree)."""
    from jitgraph.api_graph import name_scope
    from jitgraph.ops.op_util import shape_tensor
    from jitgraph.ops.tile_pad_ops import broadcast_to
    values = convert_to_tensor(values)
    weights = convert_to_tensor(weights, values.dtype.base_dtype)
    if weights.shape.is_fully_defined() and values.shape.is_fully_defined() and \
            weights.shape.as_list() == values.shape.as_list():
        return weights
    assert_broadcastable(weights, values)
    with name_scope(None, "broadcast_weights", [weights, values]):
        return broadcast_to(weights, shape_tensor(values))


def div_no_nan(x, y, name=None):
    """``x / y``, or 0 where ``y == 0`` (no NaN, no gradient through the zero branch)."""
    from jitgraph.ops.constant_ops import zeros_like
    from jitgraph.ops.gradients import stop_gradient
    x, y = convert_to_tensor(x), convert_to_tensor(y)
    zero = equal(y, 0.0)
    safe = where(zero, y + 1.0, y)
    return where(zero, stop_gradient(zeros_like(x)), truediv(x, safe), name=name or "div_no_nan")
