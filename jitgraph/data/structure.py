"""Element structures of ``tf.data``: nested tuples, dicts and namedtuples of components.

As in ``tf.data`` (not ``tf.nest``), a *list* is a value, not a structure: ``[1, 2]`` is one
component (converted to a tensor). Dicts flatten in sorted key order. An ``ElementSpec`` is the
structure with the static dtype and shape of each component; the pipeline itself moves flat
tuples of NumPy arrays.
"""

import numpy as np

from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Tensor


def _is_namedtuple(s):
    return isinstance(s, tuple) and hasattr(s, "_fields")


def flatten(s):
    """The components of structure ``s`` in order."""
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in flatten(s[k])]
    if isinstance(s, tuple):
        return [x for item in s for x in flatten(item)]
    return [s]


def pack(template, flat):
    """``template``'s structure with ``flat`` as its components."""
    it = iter(flat)
    out = _pack(template, it)
    if next(it, _END) is not _END:
        raise ValueError("pack: more components than the structure has")
    return out


_END = object()


def _pack(s, it):
    if isinstance(s, dict):
        packed = {k: _pack(s[k], it) for k in sorted(s)}
        return {k: packed[k] for k in s}
    if isinstance(s, tuple):
        items = [_pack(x, it) for x in s]
        return type(s)(*items) if _is_namedtuple(s) else tuple(items)
    return next(it)


def map_structure(fn, s):
    return pack(s, [fn(x) for x in flatten(s)])


def same_structure(a, b):
    """Do ``a`` and ``b`` have the same nesting (tuple lengths, dict keys)?"""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return True


def structure_str(s, leaf=repr):
    if isinstance(s, dict):
        return "{" + ", ".join(f"{k!r}: {structure_str(s[k], leaf)}" for k in s) + "}"
    if isinstance(s, tuple):
        inner = ", ".join(structure_str(x, leaf) for x in s)
        return "(" + inner + ("," if len(s) == 1 else "") + ")"
    return leaf(s)


class ElementSpec:
    """The static type of a dataset's elements: a structure whose leaves are (dtype, shape)."""

    __slots__ = ("structure", "dtypes", "shapes")

    def __init__(self, structure, dtypes_, shapes):
        self.structure = structure          # the nesting, with anything at the leaves
        self.dtypes = tuple(dtypes_)        # flat DTypes
        self.shapes = tuple(TensorShape(s) for s in shapes)   # flat TensorShapes

    @classmethod
    def of_tensors(cls, structure):
        flat = flatten(structure)
        return cls(structure, [t.dtype.base_dtype for t in flat], [t.shape for t in flat])

    def __len__(self):
        return len(self.dtypes)

    @property
    def output_types(self):
        return pack(self.structure, self.dtypes)

    @property
    def output_shapes(self):
        return pack(self.structure, self.shapes)

    @property
    def output_classes(self):
        return pack(self.structure, [Tensor] * len(self.dtypes))

    def with_shapes(self, shapes):
        return ElementSpec(self.structure, self.dtypes, shapes)

    def describe(self):
        specs = [f"TensorSpec(shape={_shape_tuple(s)}, dtype=tf.{d.name}, name=None)" for d, s in zip(self.dtypes, self.shapes)]
        return structure_str(pack(self.structure, specs), leaf=str)


def _shape_tuple(shape):
    if shape.ndims is None:
        return "<unknown>"
    dims = ["None" if d is None else str(d) for d in shape.as_list()]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def most_specific_compatible(a, b):
    """The most specific shape both ``a`` and ``b`` are instances of (dims that differ become None)."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def as_component(value, dtype):
    """A value (array-like) as a NumPy array of ``dtype`` (strings: object arrays of bytes)."""
    np_dtype = dtype.as_np
    if np_dtype == np.dtype(object):
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 0:
            v = arr[()]
            return np.array(v.encode() if isinstance(v, str) else v, dtype=object)
        return np.vectorize(lambda v: v.encode() if isinstance(v, str) else v, otypes=[object])(arr)
    arr = np.asarray(value)
    if arr.dtype.kind in "SUO" and np_dtype.kind not in "SUO":
        raise TypeError(f"cannot convert {value!r} to {dtype.name}")
    return arr if arr.dtype == np_dtype else arr.astype(np_dtype)
