"""Control ops: ``no_op``, ``group``, ``tuple``, ``identity``."""

import builtins

from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

define_op("NoOp", kind="control", infer=lambda ins, a: [], compute=lambda: ())


def no_op(name=None):
    """An op that does nothing; useful as a control-dependency anchor."""
    return make_op("NoOp", [], {}, name or "NoOp")


define_op("Identity", kind="layout",
          infer=lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)],
          compute=lambda x: x, grad=lambda op, g: [g])


def identity(input, name=None):
    """Return a tensor with the same value; on a variable it is a read at this point of the program."""
    x = convert_to_tensor(input)
    return make_op("Identity", [x], {}, name or "Identity").outputs[0]


def _as_op(x):
    if isinstance(x, Operation):
        return x
    if isinstance(x, Tensor):
        return x.op
    if hasattr(x, "_as_graph_element"):
        el = x._as_graph_element()
        return el.op if isinstance(el, Tensor) else el
    if hasattr(x, "op"):
        return x.op
    raise TypeError(f"Expected an Operation or Tensor, got {x!r}")


def group(*inputs, **kwargs):
    """An Operation that runs all ``inputs`` (named ``group_deps``)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Unknown keyword arguments: {', '.join(kwargs)}")
    flat = []
    for x in inputs:
        if isinstance(x, (list, builtins.tuple)):  # ``tuple`` below shadows the builtin
            flat.extend(x)
        elif isinstance(x, dict):
            flat.extend(x.values())
        else:
            flat.append(x)
    ops = [_as_op(x) for x in flat if x is not None]
    graph = ops[0].graph if ops else get_default_graph()
    with graph.name_scope(name or "group_deps") as scope:
        with graph.control_dependencies(ops):
            return make_op("NoOp", [], {}, scope, graph=graph)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001  (TF's name)
    """Tensors with the same values, each available only after all of them are computed."""
    tensors = [convert_to_tensor(t) if t is not None else None for t in tensors]
    gating = [t.op for t in tensors if t is not None] + [_as_op(c) for c in (control_inputs or [])]
    graph = get_default_graph()
    with graph.name_scope(name or "tuple"):
        gate = group(*gating)
        with graph.control_dependencies([gate]):
            return [identity(t) if t is not None else None for t in tensors]
