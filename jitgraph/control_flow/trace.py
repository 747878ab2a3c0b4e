"""Tracing a Python function into a ``FuncGraph`` and converting what it returns.

Leaves of loop variables and results: a ``Tensor`` (an outer one is captured), a ``Variable``
(read where it is returned), a ``TensorArray`` (its flow tensor carries it), a Python or NumPy
value (a constant). ``template``s remember how to turn flat tensors back into the user's leaves.
"""

from jitgraph.control_flow import nest
from jitgraph.control_flow.func_graph import FuncGraph
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.ops.control_ops import identity
from jitgraph.ops.registry import convert_to_tensor


def _tensor_array_class():
    from jitgraph.control_flow.tensor_array import TensorArray
    return TensorArray


def leaf_tensor(x, what):
    """The tensor standing for leaf ``x`` (a TensorArray's flow; a variable read)."""
    ta = _tensor_array_class()
    if isinstance(x, ta):
        return x.flow
    if x is None:
        raise ValueError(f"{what} returned None; every returned element must be a Tensor or convertible to one")
    t = convert_to_tensor(x)
    if t.dtype.is_ref_dtype:
        t = identity(t)
    return t


def rebuild_leaf(like, t):
    """``t`` as the kind of leaf ``like`` was (a TensorArray for a TensorArray)."""
    ta = _tensor_array_class()
    if isinstance(like, ta):
        return like._with_flow(t)
    return t


def new_func_graph(outer, scope):
    return FuncGraph(outer, scope.rstrip("/"))


def trace(fg, fn, args, what):
    """Call ``fn(*args)`` building into ``fg``; returns ``(result, flat output tensors of fg)``."""
    with fg.as_default():
        result = fn(*args)
        flat = [leaf_tensor(x, what) if not isinstance(x, Operation) else x for x in nest.flatten(result)]
        flat = [fg.capture(t) if isinstance(t, Tensor) else t for t in flat]
    return result, flat


def placeholders_like(fg, flat_leaves, shapes, names=None):
    """One ``_Arg`` per flat leaf (TensorArrays by their flow), with ``shapes`` as static shapes."""
    out = []
    for i, (x, shape) in enumerate(zip(flat_leaves, shapes)):
        t = leaf_tensor(x, "loop_vars") if not isinstance(x, Tensor) else x
        name = names[i] if names else "Placeholder"
        out.append(fg.add_input(t.dtype.base_dtype, shape, name))
    return out
