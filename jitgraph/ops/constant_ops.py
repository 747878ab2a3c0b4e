"""Source ops: ``constant``, ``placeholder``, ``placeholder_with_default``, ``fill``, zeros/ones."""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape, as_shape
from jitgraph.ops.registry import (constant_value, convert_to_tensor, define_op, get_default_graph,
                                   make_op, _shape_str)


# ---- converting Python/NumPy values with TF's dtype rules --------------------------------------
def _python_kind(value):
    """'bool', 'int', 'float', 'str', 'complex' or None for a Python scalar or nested list of them."""
    if isinstance(value, (list, tuple)):
        kinds = {_python_kind(v) for v in value}
        kinds.discard(None)
        for k in ("str", "complex", "float", "int", "bool"):
            if k in kinds:
                return k
        return None
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (str, bytes)):
        return "str"
    if isinstance(value, np.generic):
        return None
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, complex):
        return "complex"
    return None


def to_numpy(value, dtype=None, what="value"):
    """Convert ``value`` to an ndarray of ``dtype`` (a DType or None: inferred as TF does).

    Python floats infer float32, ints int32 (int64 if too large), NumPy arrays keep their dtype.
    A float into an integer dtype, or a bool/str into a number, raises ``TypeError``."""
    if isinstance(value, dict) or callable(value) and not isinstance(value, np.ndarray):
        raise TypeError(f"Failed to convert object of type {type(value).__name__} to Tensor. "
                        f"Contents: {value!r}. Consider casting elements to a supported type.")
    kind = _python_kind(value)
    if kind == "str" or (isinstance(value, np.ndarray) and value.dtype.kind in "SUO"):
        arr = np.asarray(value, dtype=object)
        arr = np.vectorize(lambda s: s.encode() if isinstance(s, str) else s, otypes=[object])(arr) if arr.size else arr
        if dtype is not None and dtype.base_dtype != dtypes.string:
            raise TypeError(f"Expected {dtype.base_dtype.name}, got {value!r} of type 'str' instead.")
        return arr
    try:
        arr = np.asarray(value)
    except ValueError as e:
        raise ValueError(f"Can't convert non-rectangular Python sequence to Tensor: {e}") from None
    if arr.dtype == object:
        raise TypeError(f"Failed to convert object of type {type(value).__name__} to Tensor. Contents: {value!r}.")
    if dtype is None:
        if kind == "float" or (kind is None and isinstance(value, (list, tuple)) and arr.size == 0):
            return arr.astype(np.float32)    # tf.constant([]) is float32
        if kind == "int":
            if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
                return arr.astype(np.int64)
            return arr.astype(np.int32)
        if kind == "complex":
            raise TypeError("complex values are not supported by jitgraph")
        dtypes.as_dtype(arr.dtype)   # raises TypeError for unsupported NumPy dtypes
        return arr
    dtype = dtypes.as_dtype(dtype).base_dtype
    if dtype == dtypes.string:
        raise TypeError(f"Expected string, got {value!r} of type '{type(value).__name__}' instead.")
    src = arr.dtype
    bad = ((src.kind == "f" and not dtype.is_floating) or
           (src.kind == "b" and not dtype.is_bool and kind is not None) or
           (src.kind in "iu" and dtype.is_bool))
    if bad:
        raise TypeError(f"Expected {dtype.name}, got {value!r} of type '{type(value).__name__}' instead.")
    if src.kind in "iu" and dtype.is_integer and arr.size:
        info = np.iinfo(dtype.as_np)
        if arr.max() > info.max or arr.min() < info.min:
            raise TypeError(f"Value {value!r} is out of range for {dtype.name}")
    return arr.astype(dtype.as_np)


# ---- Const ----------------------------------------------------------------------------------------
define_op("Const", kind="source",
          infer=lambda ins, a: [(a["dtype"], a["value"].shape)],
          compute=lambda value, dtype: value)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A tensor with a fixed value. ``tf.constant([1., 2.])`` is float32, ``tf.constant(1)`` int32."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else None
    arr = to_numpy(value, dt)
    if shape is not None:
        shape = [int(d) for d in as_shape(shape).as_list()]
        n = int(np.prod(shape))
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor {value!r} "
                            f"(converted from {arr.shape}) has {arr.size} elements, but got `shape` "
                            f"{tuple(shape)} with {n} elements).")
    arr.flags.writeable = False
    return make_op("Const", [], {"value": arr, "dtype": dtypes.as_dtype(arr.dtype)}, name).outputs[0]


# ---- Placeholder -------------------------------------------------------------------------------
def _placeholder_run(ctx, op, inputs):
    shape = op.get_attr("shape")
    raise errors.InvalidArgumentError(
        None, op, f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                  f"{op.get_attr('dtype').name}" + ("" if shape.ndims is None else f" and shape {_shape_str(shape)}"))


define_op("Placeholder", kind="source", stateful=True, run=_placeholder_run,
          infer=lambda ins, a: [(a["dtype"], a["shape"])])


def placeholder(dtype, shape=None, name=None):
    """A tensor whose value must be fed: ``sess.run(y, {x: value})``."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    return make_op("Placeholder", [], {"dtype": dtype, "shape": TensorShape(shape)},
                   name or "Placeholder").outputs[0]


define_op("PlaceholderWithDefault", kind="control",
          infer=lambda ins, a: [(ins[0].dtype.base_dtype, a["shape"])],
          compute=lambda x, shape: x, grad=lambda op, g: [g])


def placeholder_with_default(input, shape, name=None):
    """Pass ``input`` through unless this tensor is fed."""
    x = convert_to_tensor(input)
    shape = TensorShape(shape)
    if not x.shape.is_compatible_with(shape):
        raise ValueError(f"Shape {x.shape} of the default is incompatible with shape {shape}")
    return make_op("PlaceholderWithDefault", [x], {"shape": shape}, name or "PlaceholderWithDefault").outputs[0]


# ---- Fill, zeros, ones -----------------------------------------------------------------------------
def _fill_infer(ins, a):
    dims, value = ins
    if value.shape.ndims not in (None, 0):
        raise ValueError(f"value must be a scalar, got shape {value.shape}")
    known = constant_value(dims)
    if known is not None:
        return [(value.dtype.base_dtype, [int(d) for d in np.asarray(known).reshape(-1)])]
    from jitgraph.ops.op_util import shape_value
    return [(value.dtype.base_dtype, shape_value(dims))]     # [tf.shape(x)[0], 10] -> [None, 10], as TF


def _fill_grad(op, g):
    from jitgraph.ops.reduction_ops import reduce_sum
    return [None, reduce_sum(g)]


define_op("Fill", kind="source", infer=_fill_infer, grad=_fill_grad,
          compute=lambda dims, value: np.full(tuple(int(d) for d in dims), value, dtype=value.dtype))


def _shape_tensor(shape):
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and all(not hasattr(d, "op") for d in shape):
        if any(d is None for d in shape):
            raise ValueError(f"Cannot convert a partially known TensorShape {shape} to a Tensor.")
        shape = [int(d) for d in shape]
        big = any(d > np.iinfo(np.int32).max for d in shape)   # TF switches to int64 dims
        return constant(np.array(shape, dtype=np.int64 if big else np.int32).reshape(len(shape)), name="shape")
    t = convert_to_tensor(shape)
    if t.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"dims must be an int32 or int64 tensor, got {t.dtype.base_dtype.name}")
    return t


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with the scalar ``value``."""
    return make_op("Fill", [_shape_tensor(dims), convert_to_tensor(value)], {}, name or "Fill").outputs[0]


def _const_fill(shape, dtype, v, name):
    dtype = dtypes.as_dtype(dtype).base_dtype
    static = isinstance(shape, TensorShape) or (isinstance(shape, (list, tuple)) and
                                                all(not hasattr(d, "op") for d in shape))   # [tf.shape(x)[0], 10]: a Fill
    if static and as_shape(shape).is_fully_defined() and _small(as_shape(shape)):
        dims = [int(d) for d in as_shape(shape).as_list()]
        return constant(np.full(dims, v, dtype=dtype.as_np if dtype != dtypes.string else object), dtype, name=name)
    return fill(shape, constant(v, dtype), name=name)


def _small(shape):
    """TF's ``_constant_if_small``: fewer than 1000 elements become a Const, larger ones a Fill (so a
    huge shape costs nothing until it runs, and then fails with ``ResourceExhaustedError``)."""
    return int(np.prod([int(d) for d in shape.as_list()], dtype=object)) < 1000


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of zeros (``False``/``b""`` for bool/string)."""
    dtype = dtypes.as_dtype(dtype)
    return _const_fill(shape, dtype, b"" if dtype == dtypes.string else 0, name or "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    return _const_fill(shape, dtype, 1, name or "ones")


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    t = convert_to_tensor(tensor)
    return _like(t, dtype, 0, name or "zeros_like")


def ones_like(tensor, dtype=None, name=None, optimize=True):
    t = convert_to_tensor(tensor)
    return _like(t, dtype, 1, name or "ones_like")


def _like(t, dtype, v, name):
    dtype = dtypes.as_dtype(dtype or t.dtype.base_dtype)
    if t.shape.is_fully_defined():
        return _const_fill(t.shape, dtype, v, name)
    from jitgraph.ops.array_ops import shape as shape_of
    return fill(shape_of(t), constant(v, dtype), name=name)


def _graph():
    return get_default_graph()
