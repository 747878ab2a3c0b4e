"""Op definitions: one ``OpDef`` per op kind (see ``registry.py``)."""

from jitgraph.ops import (array_ops, constant_ops, control_ops, linalg_ops, math_api, math_ops,  # noqa: F401
                          nn_ops, random_ops, reduction_ops, state_ops)
from jitgraph.ops import fused_ops, nn_pool_taps  # noqa: F401
from jitgraph.ops import queue_ops, reader_ops  # noqa: F401
