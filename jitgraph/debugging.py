"""``tf.debugging``: ``check_numerics`` and ``add_check_numerics_ops``.

``CheckNumerics`` passes a float tensor through unchanged and fails the run with
``InvalidArgumentError`` (naming the op and the message) when the tensor holds a NaN or an Inf.
A failed run rolls every variable back, like any other run-time error.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.graph import get_default_graph
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["check_numerics", "add_check_numerics_ops", "assert_all_finite"]

_FLOATS = (dtypes.float16, dtypes.float32, dtypes.float64)


def _infer(ins, attrs):
    (x,) = ins
    if x.dtype.base_dtype not in _FLOATS:
        raise TypeError(f"Value for attr 'T' of {x.dtype.base_dtype.name} is not in the list of allowed "
                        f"values: half, float, double")
    return [(x.dtype.base_dtype, x.shape)]


def _compute(x, message):
    x = np.asarray(x)
    if x.size and not np.isfinite(x).all():
        nan, inf = bool(np.isnan(x).any()), bool(np.isinf(x).any())
        what = "NaN and Inf" if nan and inf else "NaN" if nan else "Inf"
        raise errors.InvalidArgumentError(None, None, f"{message} : Tensor had {what} values")
    return x


define_op("CheckNumerics", _infer, _compute, kind="library",
          grad=lambda op, dy: [dy])


def check_numerics(tensor, message, name=None):
    """``tensor`` unchanged; running it raises ``InvalidArgumentError`` if it holds NaN or Inf."""
    x = convert_to_tensor(tensor)
    return make_op("CheckNumerics", [x], {"message": str(message)}, name or "CheckNumerics").outputs[0]


verify_tensor_all_finite = assert_all_finite = lambda t, msg, name=None: check_numerics(t, msg, name)


def add_check_numerics_ops():
    """A group op checking every float output of every op now in the default graph.

    The checks are chained by control dependencies in program (creation) order, so when several
    tensors hold NaN/Inf the error names the op that produced the first of them."""
    graph = get_default_graph()
    from jitgraph.ops.control_ops import group
    checks, prev = [], None
    for op in graph.get_operations():
        for t in op.outputs:
            if t.dtype in _FLOATS:   # not ref dtypes: the variable's reads are checked instead
                with graph.control_dependencies([prev] if prev is not None else []):
                    prev = check_numerics(t, f"{op.name}:{t.value_index}").op
                checks.append(prev)
    return group(*checks)
