"""``tf.contrib.layers``' regularizers: ``l1_regularizer``, ``l2_regularizer``,
``l1_l2_regularizer``, ``sum_regularizer`` and ``apply_regularization``.

A regularizer is a function ``weights -> scalar loss`` (or None). Give it to a layer
(``fully_connected(x, 10, weights_regularizer=tf.contrib.layers.l2_regularizer(1e-4))``) or to
``tf.get_variable(..., regularizer=...)`` and its loss goes into
``GraphKeys.REGULARIZATION_LOSSES``; ``apply_regularization`` sums it over a list of weights.
"""

import numbers

from jitgraph import tf_logging
from jitgraph.api_graph import name_scope
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.math_api import abs as abs_, multiply
from jitgraph.ops.nn_ops import l2_loss
from jitgraph.ops.reduction_ops import add_n, reduce_sum
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer", "apply_regularization"]


def _check_scale(scale, what="scale"):
    """``False`` when ``scale`` is 0 (the regularizer is disabled); errors as TF's."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"{what} cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale:g}")
        if scale == 0.0:
            tf_logging.info("Scale of 0 disables regularizer.")
            return False
    return True


def l1_regularizer(scale, scope=None):
    """``weights -> scale * sum(|weights|)``, as op ``l1_regularizer`` (``scope`` renames it).
    ``scale`` must be a float >= 0 (0 disables it: the function returns None)."""
    if not _check_scale(scale):
        return lambda _: None

    def l1(weights, name=None):
        with name_scope(scope, "l1_regularizer", [weights]) as name:
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return multiply(my_scale, reduce_sum(abs_(weights)), name=name)
    return l1


def l2_regularizer(scale, scope=None):
    """``weights -> scale * sum(weights**2) / 2`` (``tf.nn.l2_loss``), as op ``l2_regularizer``.
    ``scale`` must be a float >= 0 (0 disables it: the function returns None)."""
    if not _check_scale(scale):
        return lambda _: None

    def l2(weights):
        with name_scope(scope, "l2_regularizer", [weights]) as name:
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return multiply(my_scale, l2_loss(weights), name=name)
    return l2


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """The sum of ``l1_regularizer(scale_l1)`` and ``l2_regularizer(scale_l2)`` (just one of them
    when the other scale is 0)."""
    if isinstance(scale_l1, numbers.Integral):
        raise ValueError(f"scale_l1 cannot be an integer: {scale_l1}")
    if isinstance(scale_l2, numbers.Integral):
        raise ValueError(f"scale_l2 cannot be an integer: {scale_l2}")
    scope = scope or "l1_l2_regularizer"
    if scale_l1 == 0.0:
        return l2_regularizer(scale_l2, scope)
    if scale_l2 == 0.0:
        return l1_regularizer(scale_l1, scope)
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


def sum_regularizer(regularizer_list, scope=None):
    """A regularizer adding the losses of ``regularizer_list`` (None entries are dropped; None if
    none is left)."""
    regularizer_list = [reg for reg in regularizer_list if reg is not None]
    if not regularizer_list:
        return None

    def sum_reg(weights):
        with name_scope(scope, "sum_regularizer", [weights]) as name:
            losses = [t for t in (reg(weights) for reg in regularizer_list) if t is not None]
            return add_n(losses, name=name) if losses else None
    return sum_reg


def apply_regularization(regularizer, weights_list=None):
    """``regularizer`` applied to each of ``weights_list`` (default: the ``GraphKeys.WEIGHTS``
    collection) and summed, as op ``get_regularization_penalty``; the sum is also added to
    ``GraphKeys.REGULARIZATION_LOSSES``::

        penalty = tf.contrib.layers.apply_regularization(
            tf.contrib.layers.l2_regularizer(1e-3), tf.trainable_variables())
    """
    graph = get_default_graph()
    if not weights_list:
        weights_list = graph.get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize: pass `weights_list` or add weights to the "
                         "GraphKeys.WEIGHTS collection.")
    with name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [p if p is not None else constant(0.0) for p in penalties]
        for p in penalties:
            if p.shape.ndims != 0:
                raise ValueError(f"regularizer must return a scalar Tensor instead of a Tensor with rank "
                                 f"{p.shape.ndims}.")
        summed = add_n(penalties, name=scope)
        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, summed)
        return summed
