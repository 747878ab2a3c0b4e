"""The loss collections: ``add_loss``, ``get_losses``, ``get_regularization_loss(es)``, ``get_total_loss``."""

from jitgraph.framework.graph import GraphKeys, get_default_graph


def add_loss(loss, loss_collection=GraphKeys.LOSSES):
    """Add ``loss`` to ``loss_collection`` (nothing if it is None/empty)."""
    if loss_collection:
        get_default_graph().add_to_collection(loss_collection, loss)


def get_losses(scope=None, loss_collection=GraphKeys.LOSSES):
    """The losses in ``loss_collection`` whose names match the regex ``scope``."""
    return get_default_graph().get_collection(loss_collection, scope)


def get_regularization_losses(scope=None):
    """The tensors in ``GraphKeys.REGULARIZATION_LOSSES`` (matching ``scope``)."""
    return get_default_graph().get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope=None, name="total_regularization_loss"):
    """Their sum, or a constant 0.0 if there are none."""
    from jitgraph.ops.constant_ops import constant
    from jitgraph.ops.reduction_ops import add_n
    losses = get_regularization_losses(scope)
    return add_n(losses, name=name) if losses else constant(0.0)


def get_total_loss(add_regularization_losses=True, name="total_loss", scope=None):
    """The sum of ``get_losses()`` (plus the regularization losses); ``ValueError`` if there are none."""
    from jitgraph.ops.reduction_ops import add_n
    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses += get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("No losses found: add some with tf.losses.* or tf.losses.add_loss before "
                         "calling get_total_loss().")
    return add_n(losses, name=name)
