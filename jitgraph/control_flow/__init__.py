"""Control flow: ``tf.cond``, ``tf.case``, ``tf.while_loop`` as functional ``If``/``While`` ops
over traced bodies (``func_graph.py``, ``body.py``), their gradients, ``tf.TensorArray`` and the
loops built on them (``map_fn``, ``scan``, ``foldl``, ``foldr``)."""

from jitgraph.control_flow.cond_op import case, cond  # noqa: F401
from jitgraph.control_flow.functional import foldl, foldr, map_fn, scan  # noqa: F401
from jitgraph.control_flow.tensor_array import TensorArray  # noqa: F401
from jitgraph.control_flow.while_op import while_loop  # noqa: F401
from jitgraph.control_flow import cond_grad, tensor_array_grad, while_grad  # noqa: F401  (gradient ops)

__all__ = ["cond", "case", "while_loop", "TensorArray", "map_fn", "scan", "foldl", "foldr"]
