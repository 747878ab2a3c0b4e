"""Variable collections and initialization: ``global_variables_initializer``,
``report_uninitialized_variables`` and friends."""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import state_ops
from jitgraph.ops.array_ops import stack
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.control_ops import group, no_op
from jitgraph.ops.registry import define_op, make_op


# ---- collections ----------------------------------------------------------------------------------
def global_variables(scope=None):
    """Variables in GLOBAL_VARIABLES, in creation order; ``scope`` is a prefix regex on names."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def all_variables():
    """Deprecated name of ``global_variables()``."""
    return global_variables()


def trainable_variables(scope=None):
    """Variables in TRAINABLE_VARIABLES, in creation order."""
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    """Variables in LOCAL_VARIABLES (``get_local_variable``, ``collections=[LOCAL_VARIABLES]``)."""
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


# ---- initializers ----------------------------------------------------------------------------------
def variables_initializer(var_list, name="init"):
    """An Operation running the initializers of exactly ``var_list`` (a no-op if it is empty)."""
    var_list = list(var_list)
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer():
    """An Operation named ``init`` that initializes the GLOBAL_VARIABLES existing now."""
    return variables_initializer(global_variables())


def local_variables_initializer():
    """An Operation that initializes the LOCAL_VARIABLES existing now."""
    return variables_initializer(local_variables())


initialize_all_variables = global_variables_initializer
initialize_variables = variables_initializer
initialize_local_variables = local_variables_initializer


def is_variable_initialized(variable):
    """A scalar bool tensor: is ``variable`` initialized in the running session?"""
    return state_ops.is_variable_initialized(variable)


define_op("UninitializedNames", kind="library",
          infer=lambda ins, a: [(dtypes.string, TensorShape([None]))],
          compute=lambda initialized, names: names[~np.asarray(initialized, dtype=bool)])


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor: the op names (as bytes) of the uninitialized variables of ``var_list``
    (default: global then local variables), in ``var_list`` order."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    graph = get_default_graph()
    with graph.name_scope(name):
        if not var_list:
            return constant(np.array([], dtype=object), dtypes.string)
        flags = stack([state_ops.is_variable_initialized(v) for v in var_list])
        names = np.array([v.op.name.encode() for v in var_list], dtype=object)
        names.flags.writeable = False
        return make_op("UninitializedNames", [flags], {"names": names}, "boolean_mask").outputs[0]


define_op("VariableRank", kind="library",
          infer=lambda ins, a: [(dtypes.int32, TensorShape([]))],
          compute=lambda x: np.int32(np.ndim(x)))


def assert_variables_initialized(var_list=None):
    """A tensor whose evaluation fails (``FailedPreconditionError``) if a variable of ``var_list``
    (default: global and local) is uninitialized; None if there are no variables."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    var_list = list(var_list)
    if not var_list:
        return None
    ranks = [make_op("VariableRank", [v._ref()], {}, "Rank").outputs[0] for v in var_list]
    return ranks[0] if len(ranks) == 1 else stack(ranks)


__all__ = ["global_variables", "all_variables", "trainable_variables", "local_variables", "model_variables",
           "moving_average_variables", "variables_initializer", "global_variables_initializer",
           "local_variables_initializer", "initialize_all_variables", "initialize_variables",
           "initialize_local_variables", "is_variable_initialized", "report_uninitialized_variables",
           "assert_variables_initialized"]
