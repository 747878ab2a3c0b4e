"""TensorFlow's dtypes (``tf.float32`` …), including the ``*_ref`` dtypes of reference variables."""

import numpy as np


class DType:
    """A tensor element type. ``float32_ref`` is the dtype of a reference variable's output."""

    __slots__ = ("_name", "_np", "_is_ref")

    def __init__(self, name, np_dtype, is_ref=False):
        self._name = name
        self._np = np_dtype
        self._is_ref = is_ref

    @property
    def name(self):
        return self._name + ("_ref" if self._is_ref else "")

    @property
    def base_dtype(self):
        return _BASE[self._name] if self._is_ref else self

    @property
    def _as_ref(self):
        return self if self._is_ref else _REF[self._name]

    @property
    def is_ref_dtype(self):
        return self._is_ref

    @property
    def as_numpy_dtype(self):
        return self._np.type if self._name != "string" else object

    @property
    def as_np(self):
        """The NumPy dtype used to store values of this type."""
        return self._np

    @property
    def is_floating(self):
        return self._name in ("float16", "float32", "float64")

    @property
    def is_integer(self):
        return self._name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

    @property
    def is_unsigned(self):
        return self._name.startswith("uint")

    @property
    def is_bool(self):
        return self._name == "bool"

    @property
    def is_numeric(self):
        return self.is_floating or self.is_integer

    @property
    def size(self):
        return self._np.itemsize

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def is_compatible_with(self, other):
        """True if a value of ``other`` can be used where ``self`` is expected (TF's rule)."""
        other = as_dtype(other)
        return self._name == other._name and (not self._is_ref or other._is_ref)

    def __eq__(self, other):
        if other is None:
            return False
        try:
            other = as_dtype(other)
        except TypeError:
            return False
        return self._name == other._name and self._is_ref == other._is_ref

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self._name, self._is_ref))

    def __repr__(self):
        return f"tf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


_SPECS = [("float16", np.float16), ("float32", np.float32), ("float64", np.float64),
          ("int8", np.int8), ("int16", np.int16), ("int32", np.int32), ("int64", np.int64),
          ("uint8", np.uint8), ("uint16", np.uint16), ("uint32", np.uint32), ("uint64", np.uint64),
          ("bool", np.bool_), ("string", np.object_)]
_BASE = {n: DType(n, np.dtype(t)) for n, t in _SPECS}
_REF = {n: DType(n, np.dtype(t), True) for n, t in _SPECS}

float16 = half = _BASE["float16"]
float32 = _BASE["float32"]
float64 = double = _BASE["float64"]
int8, int16, int32, int64 = (_BASE[n] for n in ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = (_BASE[n] for n in ("uint8", "uint16", "uint32", "uint64"))
bool = _BASE["bool"]  # noqa: A001  (TF's name)
string = _BASE["string"]
float32_ref, float64_ref, int32_ref, int64_ref = (_REF[n] for n in ("float32", "float64", "int32", "int64"))

_BY_NP = {np.dtype(t): _BASE[n] for n, t in _SPECS}
_BY_NAME = {**{n: d for n, d in _BASE.items()}, **{n + "_ref": d for n, d in _REF.items()},
            "half": float16, "double": float64, "float": float32}
# An opaque value held in a 0-d object array (TensorArray contents, a loop's stacked values):
# named only by ``tf.variant``, never inferred from a NumPy dtype.
variant = _BASE["variant"] = _BY_NAME["variant"] = DType("variant", np.dtype(object))
# A handle to a stateful object (a queue): its value is the object's name in a 0-d object array.
resource = _BASE["resource"] = _BY_NAME["resource"] = DType("resource", np.dtype(object))


def as_dtype(value):
    """Convert a DType, NumPy dtype, NumPy scalar type or name to a ``DType``."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        raise TypeError(f"Cannot convert {value!r} to a dtype: unknown name")
    if value is str or value is bytes:
        return string
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert value {value!r} to a TensorFlow DType.") from None
    if npd.kind in "SUO":
        return string
    if npd in _BY_NP:
        return _BY_NP[npd]
    raise TypeError(f"Cannot convert {value!r} to a TensorFlow DType: unsupported dtype {npd}")


def numpy_value_dtype(dtype):
    """The NumPy dtype arrays of ``dtype`` are held in (object for strings)."""
    return as_dtype(dtype).base_dtype.as_np
