"""``tf.train.ExponentialMovingAverage``: shadow copies of variables (or tensors) that follow them
with an exponential decay, as TF1 keeps them for evaluation with averaged weights::

    ema = tf.train.ExponentialMovingAverage(0.999)
    with tf.control_dependencies([train_op]):
        train_op = ema.apply(tf.trainable_variables())   # shadow -= (1 - decay) * (shadow - var)
    ...
    saver = tf.train.Saver(ema.variables_to_restore())   # evaluation restores the averages

A shadow is a non-trainable variable named ``<var>/ExponentialMovingAverage``, started at the
variable's initial value (zeros for a tensor), in GLOBAL_VARIABLES and MOVING_AVERAGE_VARIABLES.
With ``num_updates`` the decay is ``min(decay, (1 + num_updates) / (10 + num_updates))``.
``zero_debias`` (TF's bias correction of tensor averages) is not supported and raises.
"""

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys
from jitgraph.ops import math_api, math_ops, state_ops
from jitgraph.ops.control_ops import group
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["ExponentialMovingAverage"]


class ExponentialMovingAverage:
    """Maintains moving averages of variables by an exponential decay (see the module doc)."""

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        if zero_debias:
            raise NotImplementedError("ExponentialMovingAverage(zero_debias=True) is not supported by jitgraph")
        self._decay, self._num_updates, self._name = decay, num_updates, name
        self._averages = {}          # var op / tensor -> shadow Variable

    name = property(lambda self: self._name)

    def apply(self, var_list=None):
        """Create the shadows of ``var_list`` (default: the trainable variables) and return the op
        that moves every shadow one step towards its variable."""
        from jitgraph.framework.graph import get_default_graph
        from jitgraph.variables.variables import Variable
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)
        for v in var_list:
            dt = v.dtype.base_dtype
            if not dt.is_floating:
                raise TypeError(f"The variables must be half, float, or double: {v.name}")
            key = _key(v)
            if key in self._averages:
                raise ValueError(f"Moving average already computed for: {v.name}")
            graph = v.graph
            with graph.name_scope(""), graph.device(None), graph.device(v.device):
                if isinstance(v, Variable):
                    init = v.initialized_value()
                else:
                    from jitgraph.ops.constant_ops import zeros
                    init = zeros(v.shape, dt)
                shadow = Variable(init, name=f"{_op_name(v)}/{self._name}", trainable=False, dtype=dt)
            graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, shadow if not isinstance(v, Variable) else v)
            self._averages[key] = shadow
        from jitgraph.api_graph import name_scope
        with name_scope(self._name):
            decay = convert_to_tensor(self._decay, dtypes.float32, name="decay")
            if self._num_updates is not None:
                n = math_ops.cast(convert_to_tensor(self._num_updates), dtypes.float32)
                decay = math_api.minimum(decay, (1.0 + n) / (10.0 + n))
            updates = []
            for v in var_list:
                shadow = self._averages[_key(v)]
                value = v.read_value() if isinstance(v, Variable) else convert_to_tensor(v)
                rate = 1.0 - math_ops.cast(decay, v.dtype.base_dtype)
                updates.append(state_ops.assign_sub(shadow, (shadow.read_value() - value) * rate,
                                                    name="AssignMovingAvg"))
            return group(*updates, name=self._name)

    def average(self, var):
        """The shadow variable of ``var`` (None if ``apply`` did not see it)."""
        return self._averages.get(_key(var))

    def average_name(self, var):
        """The name the shadow of ``var`` has (or would have): ``<var op name>/<ema name>``."""
        return f"{_op_name(var)}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None):
        """``{checkpoint name: variable}`` that restores each averaged variable from its shadow's
        checkpoint entry and every other global variable from its own (TF's evaluation recipe)."""
        from jitgraph.framework.graph import get_default_graph
        graph = get_default_graph()
        if moving_avg_variables is None:
            moving_avg_variables = graph.get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES)
            moving_avg_variables += graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        averaged = {_key(v) for v in moving_avg_variables}
        shadows = {_key(s) for s in self._averages.values()}
        out = {}
        for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES):
            if _key(v) in shadows:
                continue
            out[self.average_name(v) if _key(v) in averaged else _op_name(v)] = v
        return out


def _key(v):
    return getattr(v, "op", v)


def _op_name(v):
    return v.op.name if hasattr(v, "op") else v.name.split(":")[0]
