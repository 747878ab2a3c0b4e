"""Helpers shared by the op modules: what is statically known about small int tensors (shapes,
axes, slice bounds), axis normalization, and the rule for ops that have no gradient.

``partial_value(t)`` is TF's ``constant_value_as_shape`` idea generalized: an object array whose
entries are ints where they are known when the graph is built and None where they are not, e.g.
``tf.stack([tf.shape(x)[0], 3])`` with ``x`` of shape ``[None, 5]`` → ``[None, 3]``.
"""

import contextlib

import numpy as np

from jitgraph.framework.graph import graph_of
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import _contains_tensor, constant_value, convert_to_tensor


def partial_value(t):
    """The value of int tensor ``t`` as an object ndarray with None for unknown entries, or None
    if not even its shape is known."""
    v = constant_value(t)
    if v is not None:
        return np.asarray(v).astype(object)
    op = t.op
    if op.type == "Shape":
        dims = op.inputs[0].shape
        return None if dims.ndims is None else np.array(dims.as_list() + [0], dtype=object)[:-1]
    if op.type in ("Identity", "Cast", "StopGradient"):
        return partial_value(op.inputs[0])
    if op.type == "Pack":
        parts = [partial_value(x) for x in op.inputs]
        if any(p is None for p in parts):
            parts = [np.full(x.shape.as_list(), None, dtype=object) if p is None and x.shape.is_fully_defined()
                     else p for p, x in zip(parts, op.inputs)]
            if any(p is None for p in parts):
                return None
        return np.stack(parts, axis=op.get_attr("axis"))
    if op.type == "ConcatV2":
        parts = [partial_value(x) for x in op.inputs]
        if any(p is None for p in parts):
            return None
        return np.concatenate(parts, axis=op.get_attr("axis"))
    if op.type in ("StridedSlice", "GatherV2"):
        src = partial_value(op.inputs[0])
        rest = [constant_value(x) for x in op.inputs[1:]]
        if src is None or any(r is None for r in rest):
            return None
        try:
            return np.asarray(op.op_def.compute(src, *rest, **op.attrs), dtype=object)
        except (IndexError, ValueError):
            return None
    if t.shape.is_fully_defined():
        return np.full(t.shape.as_list(), None, dtype=object)
    return None


def static_ints(t):
    """``t`` (a Tensor or Python value) as a list of ints, or None if any entry is unknown."""
    if t is None:
        return None
    if not hasattr(t, "op"):
        return [int(v) for v in np.asarray(t).reshape(-1)]
    v = partial_value(t)
    if v is None or any(e is None for e in v.reshape(-1)):
        return None
    return [int(e) for e in v.reshape(-1)]


def shape_value(t):
    """The static ``TensorShape`` described by the 1-D int tensor ``t`` (negative → unknown)."""
    v = partial_value(t)
    if v is None or v.ndim != 1:
        n = t.shape[0].value if t.shape.ndims == 1 else None
        return TensorShape(None if n is None else [None] * n)
    return TensorShape([None if e is None or e < 0 else int(e) for e in v])


def int_tensor(value, name="Const"):
    """A Python int / list / TensorShape (or a Tensor, passed through) as an int tensor (int32
    unless a value needs int64, as TF infers)."""
    if hasattr(value, "op") or hasattr(value, "_as_graph_element"):
        return convert_to_tensor(value)
    if isinstance(value, (list, tuple)) and _contains_tensor(value):    # [tf.shape(x)[0], -1]: packed, as TF
        dt = next((t.dtype.base_dtype for t in value if hasattr(t, "dtype") and hasattr(t, "op")), None)
        if dt is None:
            return convert_to_tensor(value, name=name)
        return convert_to_tensor([v if hasattr(v, "op") else convert_to_tensor(v, dt) for v in value], name=name)
    from jitgraph.ops.constant_ops import constant
    if hasattr(value, "as_list"):
        value = value.as_list()
    arr = np.asarray(value)
    if arr.size == 0:
        return constant(arr.astype(np.int32), name=name)
    return constant(arr.astype(object).tolist() if arr.dtype.kind in "iu" else value, name=name)


def static_axes(axis, what="axis"):
    """``axis`` (int, list, None or a constant tensor) as a list of ints or None."""
    if axis is None:
        return None
    ints = static_ints(axis)
    if ints is None:
        raise ValueError(f"{what} must be known when the graph is built; got the computed tensor {axis!r}")
    return ints


def normalize_axis(axis, rank, op_type, what="axis"):
    """Map ``axis`` in ``[-rank, rank)`` to ``[0, rank)``; ``ValueError`` naming the op otherwise."""
    if rank is None:
        if axis < 0:
            raise ValueError(f"{op_type}: negative {what} {axis} needs an input of known rank")
        return axis
    if not -rank <= axis < rank:
        raise ValueError(f"{op_type}: {what} {axis} is out of range for an input of rank {rank} "
                         f"(expected a value in [{-rank}, {rank}))")
    return axis % rank


def no_gradient(op, *grads):
    """The gradient rule of ops that are not differentiable (indices, shapes, random numbers)."""
    return [None] * len(op.inputs)


def check_dtype(t, ok, op_type, param, allowed):
    """``TypeError`` in TF's words when tensor ``t``'s dtype fails the predicate ``ok``."""
    d = t.dtype.base_dtype
    if not ok(d):
        raise TypeError(f"Value passed to parameter '{param}' has DataType {d.name} not in list of "
                        f"allowed values for {op_type}: {allowed}")


@contextlib.contextmanager
def op_scope(name, values=()):
    """Enter the graph of ``values`` and the name scope ``name`` (made unique); yields the exact name
    (``"Reshape_1/"``) for the op that the scope stands for, so its helper constants are named
    ``Reshape_1/shape`` as in TF."""
    graph = graph_of([v for v in values if hasattr(v, "graph")])
    with graph.as_default(), graph.name_scope(name) as scope:
        yield scope


def check_int_tensor(t, op_type, param):
    """``TypeError`` unless ``t`` is int32 or int64 (shapes, indices, paddings)."""
    from jitgraph import dtypes
    check_dtype(t, lambda d: d in (dtypes.int32, dtypes.int64), op_type, param, "int32, int64")


def shape_tensor(x):
    """``x``'s shape as an int32 tensor: a constant when it is static, else a ``Shape`` op."""
    if x.shape.is_fully_defined():
        return int_tensor(x.shape.as_list(), name="Shape")
    from jitgraph.ops.array_ops import shape
    return shape(x)


def int_vector(items):
    """A 1-D int32 tensor from a list of Python ints and scalar int32 tensors."""
    if any(hasattr(v, "op") for v in items):
        from jitgraph.ops.concat_ops import stack
        return stack(items)
    return int_tensor(items)


def dim_of(x, i):
    """Dimension ``i`` of ``x``: an int when static, else a scalar int32 tensor."""
    d = x.shape[i].value
    if d is not None:
        return d
    from jitgraph.ops.array_ops import shape
    return shape(x)[i]
