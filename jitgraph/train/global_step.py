"""The global step: an int64 scalar variable ``global_step`` in the ``GLOBAL_STEP`` collection."""

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph

__all__ = ["get_global_step", "create_global_step", "get_or_create_global_step", "global_step"]


def get_global_step(graph=None):
    """The global step variable of ``graph`` (or the default graph), or None if it has none."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError("There should be only one global_step in the GLOBAL_STEP collection.")
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
    if not step.dtype.base_dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: {step.dtype.name}")
    if step.shape.ndims not in (None, 0):
        raise TypeError(f"Existing \"global_step\" is not scalar: {step.shape}")
    return step


def create_global_step(graph=None):
    """Create ``global_step:0`` (int64, zero-initialized, not trainable); ``ValueError`` if it exists."""
    from jitgraph.variables.initializers import zeros_initializer
    from jitgraph.variables.scopes import get_variable
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("\"global_step\" already exists.")
    with graph.as_default(), graph.name_scope(""):
        return get_variable(GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64, initializer=zeros_initializer(),
                            trainable=False, collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The global step variable, created first if the graph has none."""
    graph = graph or get_default_graph()
    return get_global_step(graph) or create_global_step(graph)


def global_step(sess, global_step_tensor):
    """The current value of the global step as a Python int."""
    return int(sess.run(global_step_tensor))
