"""NumPy arrays, dtypes and shapes as TensorFlow's ``TensorProto``/``DataType``/``TensorShapeProto``.

``make_tensor_proto`` follows TF: scalars in the typed ``*_val`` field, larger numeric arrays as
little-endian ``tensor_content`` (``content=True`` forces that, as the C++ ``AsProtoTensorContent``
of summary kernels does), strings in ``string_val``. ``make_ndarray`` reads all of these and repeats
the last value when fewer values than elements are stored (TF's compact constants).
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tf_protos import protos

_ENUM_NAMES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF", "int8": "DT_INT8",
               "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8",
               "uint16": "DT_UINT16", "uint32": "DT_UINT32", "uint64": "DT_UINT64", "bool": "DT_BOOL",
               "string": "DT_STRING"}
_VAL_FIELD = {"float32": "float_val", "float64": "double_val", "float16": "half_val", "int8": "int_val",
              "int16": "int_val", "int32": "int_val", "uint8": "int_val", "uint16": "int_val",
              "int64": "int64_val", "uint32": "uint32_val", "uint64": "uint64_val", "bool": "bool_val",
              "string": "string_val"}


def datatype_enum(dtype):
    """The ``DataType`` enum value of a jitgraph dtype (``_ref`` dtypes add 100, as in TF)."""
    dtype = dtypes.as_dtype(dtype)
    value = protos().types.DataType.Value(_ENUM_NAMES[dtype.base_dtype.name])
    return value + 100 if dtype.is_ref_dtype else value


def dtype_from_enum(value, where="tensor"):
    """The jitgraph dtype of a ``DataType`` enum value; ``TypeError`` for types jitgraph lacks."""
    ref = value > 100
    name = protos().types.DataType.Name(value - 100 if ref else value) if value in _known_values(ref) else None
    for jg, tf_name in _ENUM_NAMES.items():
        if tf_name == name:
            d = dtypes.as_dtype(jg)
            return d._as_ref if ref else d
    raise TypeError(f"{where}: TensorFlow data type {_enum_name(value)} is not supported by jitgraph")


def _known_values(ref):
    return {v + (100 if ref else 0) for v in protos().types.DataType.values()}


def _enum_name(value):
    try:
        return protos().types.DataType.Name(value)
    except ValueError:
        return str(value)


def shape_proto(shape):
    """A ``TensorShapeProto`` (unknown rank / ``-1`` for unknown dims, as TF writes them)."""
    shape = TensorShape(shape)
    p = protos().tensor_shape.TensorShapeProto()
    if shape.ndims is None:
        p.unknown_rank = True
    else:
        for d in shape.as_list():
            p.dim.add(size=-1 if d is None else int(d))
    return p


def shape_from_proto(p):
    if p.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else int(d.size) for d in p.dim])


def make_tensor_proto(value, dtype=None, content=False):
    """A ``TensorProto`` holding ``value`` (an ndarray, NumPy scalar or Python value)."""
    dtype = dtypes.as_dtype(dtype) if dtype is not None else None
    arr = np.asarray(value, dtype=object if dtype == dtypes.string else (dtype.as_np if dtype else None))
    dtype = dtype or dtypes.as_dtype(arr.dtype)
    p = protos().tensor.TensorProto(dtype=datatype_enum(dtype), tensor_shape=shape_proto(arr.shape))
    if dtype == dtypes.string:
        p.string_val.extend(x.encode() if isinstance(x, str) else bytes(x) for x in arr.reshape(-1))
    elif content or arr.size > 1:
        p.tensor_content = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    elif arr.size == 1:
        flat = arr.reshape(-1)
        if dtype == dtypes.float16:
            getattr(p, "half_val").append(int(flat.view(np.uint16)[0]))
        else:
            getattr(p, _VAL_FIELD[dtype.name]).append(flat[0].item())
    return p


def user_tensor_proto(values, dtype=None, shape=None, verify_shape=False, allow_broadcast=False):
    """``tf.make_tensor_proto``: ``values`` as a ``TensorProto`` of ``dtype``, reshaped to ``shape``
    when given (a single value fills it; ``verify_shape`` requires the shape to match as is)."""
    arr = np.asarray(values, dtype=object if dtype is not None and dtypes.as_dtype(dtype) == dtypes.string
                     else (dtypes.as_dtype(dtype).as_np if dtype is not None else None))
    if shape is not None:
        shape = [int(d) for d in shape]
        if verify_shape and list(arr.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {arr.shape}.")
        n = int(np.prod(shape, dtype=np.int64))
        if arr.size == 1 and (allow_broadcast or n != 1 or arr.ndim == 0):
            arr = np.full(shape, arr.reshape(-1)[0], dtype=arr.dtype)
        elif arr.size == n:
            arr = arr.reshape(shape)
        else:
            raise ValueError(f"Too many elements provided. Takes at most {n:d}, but got {arr.size:d}."
                             if arr.size > n else f"Expected {n} values for shape {shape}, got {arr.size}.")
    return make_tensor_proto(arr, dtype)


def make_ndarray(p, where="tensor"):
    """The ndarray a ``TensorProto`` holds (strings as an object array of bytes)."""
    dtype = dtype_from_enum(p.dtype, where)
    shape = tuple(int(d) for d in shape_from_proto(p.tensor_shape).as_list() or ())
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == dtypes.string:
        values = np.empty(len(p.string_val), dtype=object)
        values[:] = list(p.string_val)
    elif p.tensor_content:
        values = np.frombuffer(p.tensor_content, dtype=dtype.as_np.newbyteorder("<")).astype(dtype.as_np)
    elif dtype == dtypes.float16:
        values = np.array(list(p.half_val), dtype=np.uint16).view(np.float16)
    else:
        values = np.array(list(getattr(p, _VAL_FIELD[dtype.name])), dtype=dtype.as_np)
    if values.size == 0:
        return np.full(shape, b"" if dtype == dtypes.string else 0, dtype=dtype.as_np)
    if values.size != n:
        if values.size > n:
            raise ValueError(f"{where}: {values.size} values stored for a tensor of shape {list(shape)}")
        values = np.concatenate([values, np.repeat(values[-1:], n - values.size)])
    return values.reshape(shape)
