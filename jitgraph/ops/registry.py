"""``OpDef``: everything the system knows about one op kind, defined in one place.

An op module defines each op once with ``define_op`` — its static shape/dtype rule, its NumPy
reference implementation, its Numba lowering and its gradient — and the user-facing function that
builds it with ``make_op``. Rule tables live here (``OPS``); the compiler and the reference
executor look ops up by ``Operation.type``.

Kinds (what the compiler may do with an op):
  ``elementwise``  same-shape (broadcasting) scalar function; fusible, lowered from ``scalar``
  ``reduction``    reduces axes of one input; fuses with its elementwise producers
  ``layout``       reshape/transpose/slice-like: moves data, computes nothing
  ``library``      matmul, conv2d, softmax …: a kernel boundary run by NumPy/BLAS or a kernel
  ``source``       constants and placeholders
  ``state``        variables and assigns (``ref_inputs`` say which inputs are variable references)
  ``random``       stateful random number generators (per-session stream per op)
  ``control``      no_op, identity-like grouping
"""

import dataclasses
import os
import sys
import traceback
from typing import Any, Callable

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.graph import get_default_graph, graph_of
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Operation, Tensor

OPS = {}


@dataclasses.dataclass(eq=False)
class OpDef:
    """The rules of one op kind. See the module docstring for ``kind``."""

    type: str
    infer: Callable            # (inputs: list[Tensor], attrs: dict) -> list[(DType, TensorShape)]
    compute: Callable = None   # NumPy reference: (*arrays, **attrs) -> array | tuple of arrays
    kind: str = "opaque"
    run: Callable = None       # stateful reference impl: (ctx, op, arrays) -> list of values
    stateful: bool = False
    ref_inputs: tuple = ()     # input indices taken as variable references, not dereferenced
    ref_requires_init: bool = False   # those refs must be initialized (assign_add, assign_sub)
    ref_initializes: bool = False     # running the op initializes the ref (assign)
    ref_writes: bool = False          # running the op writes its ref inputs (assigns, scatters)
    scalar: Any = None         # Numba scalar expression template for elementwise ops: "({0} + {1})"
    grad: Callable = None      # (op, *output_grads) -> list of input grads (Tensors or None)
    # backend-specific data: "fast" (a faster ``compute``, ``jitgraph.kernels``), "threads" (that
    # kernel runs on several threads: its plans run in ``kernels.blas.owned``), "side_thread" (that
    # kernel is pure and its threads are the chunk workers': a plan may run it on a worker beside
    # its other steps, ``compiler/concurrency.py``), lowering hints
    extra: dict = dataclasses.field(default_factory=dict)


def define_op(type, infer, compute=None, **kw):
    """Register an op kind; returns its ``OpDef``."""
    if type in OPS:
        raise ValueError(f"op type {type!r} is defined twice")
    op_def = OpDef(type, infer, compute, **kw)
    OPS[type] = op_def
    return op_def


def get_op_def(type):
    try:
        return OPS[type]
    except KeyError:
        raise LookupError(f"No op named {type!r} is registered") from None


def make_op(op_type, inputs=(), attrs=None, name=None, graph=None):
    """Build and add an op: infer output dtypes/shapes first, so a bad op never enters the graph."""
    op_def = get_op_def(op_type)
    attrs = dict(attrs or {})
    inputs = list(inputs)
    graph = graph or graph_of(inputs)
    if graph.building_function:   # a loop/cond body: outer tensors become captured inputs
        inputs = graph.capture_all(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op_type}: input {t!r} is not a Tensor")
    graph._check_not_finalized()
    op_name = name or op_type
    try:
        specs = op_def.infer(inputs, attrs)
    except (ValueError, TypeError) as e:
        shapes = ", ".join(str(_shape_str(t.shape)) for t in inputs)
        where = op_name[:-1] if op_name.endswith("/") else graph.unique_name(op_name, mark_as_used=False)
        raise type(e)(f"{e} for '{where}' (op: '{op_type}') with input shapes: {shapes}.") from None
    control = [c for c in graph._current_control_inputs() if all(c is not t.op for t in inputs)]
    final_name = op_name[:-1] if op_name.endswith("/") else graph.unique_name(op_name)
    op = Operation(graph, final_name, op_def, inputs, control, attrs,
                   [(dt, TensorShape(sh)) for dt, sh in specs])
    op._traceback = _user_frames()
    graph._apply_device(op)
    graph._add_op(op)
    return op


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frames(limit=5):
    """The innermost ``limit`` stack frames outside jitgraph: where the user built this op."""
    frames, f = [], sys._getframe(2)
    while f is not None and len(frames) < limit:
        if not f.f_code.co_filename.startswith(_PACKAGE_DIR):
            frames.append(traceback.FrameSummary(f.f_code.co_filename, f.f_lineno, f.f_code.co_name,
                                                 lookup_line=False))
        f = f.f_back
    return frames[::-1]


def _shape_str(shape):
    return "?" if shape.ndims is None else "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


# ---- converting Python values to tensors --------------------------------------------------------
_conversion_registry = []   # (type or tuple, fn(value, dtype, name, as_ref) -> Tensor)


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    _conversion_registry.append((priority, base_type, conversion_func))
    _conversion_registry.sort(key=lambda e: e[0])


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, as_ref=False):
    """Return ``value`` as a Tensor: Tensors pass through, variables are read, Python values become
    constants. A requested ``dtype`` that differs from a Tensor's dtype raises ``ValueError``."""
    dtype = dtypes.as_dtype(dtype) if dtype is not None else None
    if isinstance(value, Tensor):
        t = value
    else:
        t = None
        for _, base, fn in _conversion_registry:
            if isinstance(value, base):
                t = fn(value, dtype, name, as_ref)
                break
        if t is None:
            if isinstance(value, (list, tuple)) and _contains_tensor(value):
                from jitgraph.ops.array_ops import stack
                return stack([convert_to_tensor(v, dtype) for v in value], name=name or "packed")
            from jitgraph.ops.constant_ops import constant
            if dtype is None and preferred_dtype is not None:
                try:
                    return constant(value, dtype=preferred_dtype, name=name or "Const")
                except (TypeError, ValueError):
                    pass
            return constant(value, dtype=dtype, name=name or "Const")
    if dtype is not None and not dtype.is_compatible_with(t.dtype.base_dtype):
        raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                         f"{t.dtype.base_dtype.name}: {t!r}")
    return t


def _contains_tensor(value):
    return any(isinstance(v, Tensor) or hasattr(v, "_as_graph_element") or
               (isinstance(v, (list, tuple)) and _contains_tensor(v)) for v in value)


def convert_n(values, dtype=None):
    return [convert_to_tensor(v, dtype) for v in values]


def convert_binary(x, y, op_name):
    """Convert two operands the way TF's binary operators do: a Python scalar or list takes the
    dtype of the Tensor operand; two tensors must have the same dtype (``TypeError`` otherwise)."""
    x_is_t = isinstance(x, Tensor) or _is_graph_value(x)
    y_is_t = isinstance(y, Tensor) or _is_graph_value(y)
    if x_is_t:
        x = convert_to_tensor(x)
    if y_is_t:
        y = convert_to_tensor(y)
    if x_is_t and not y_is_t:
        y = _convert_python_operand(y, x.dtype.base_dtype, op_name)
    elif y_is_t and not x_is_t:
        x = _convert_python_operand(x, y.dtype.base_dtype, op_name)
    elif not x_is_t and not y_is_t:
        x = convert_to_tensor(x)
        y = _convert_python_operand(y, x.dtype, op_name)
    if x.dtype.base_dtype != y.dtype.base_dtype:
        raise TypeError(f"Input 'y' of '{op_name}' Op has type {y.dtype.base_dtype.name} that does not "
                        f"match type {x.dtype.base_dtype.name} of argument 'x'.")
    return x, y


def _is_graph_value(v):
    return hasattr(v, "_as_graph_element") or any(isinstance(v, base) for _, base, _ in _conversion_registry)


def _convert_python_operand(value, dtype, op_name):
    from jitgraph.ops.constant_ops import constant
    if isinstance(value, np.ndarray) and dtypes.as_dtype(value.dtype) != dtype:
        if not np.can_cast(value.dtype, dtype.as_np, "same_kind"):
            raise TypeError(f"Cannot convert array of dtype {value.dtype} to {dtype.name} for '{op_name}'")
    return constant(value, dtype=dtype)


def constant_value(tensor):
    """The value of ``tensor`` if it is known while building the graph, else None."""
    op = tensor.op
    if op.type == "Const":
        return op.get_attr("value")
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=tensor.dtype.as_np)
    if op.type in ("Identity", "Cast") and op.inputs:
        v = constant_value(op.inputs[0])
        return None if v is None else np.asarray(v).astype(tensor.dtype.as_np)
    if op.type == "Pack":
        vals = [constant_value(t) for t in op.inputs]
        if all(v is not None for v in vals):
            return np.stack(vals, axis=op.get_attr("axis"))
    return None


def default_graph():
    return get_default_graph()
