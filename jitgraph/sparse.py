"""``tf.SparseTensor`` and ``tf.sparse``: a sparse tensor as its three dense tensors.

    sp = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0], dense_shape=[3, 4])
    dense = tf.sparse.to_dense(sp)            # also tf.sparse_tensor_to_dense(sp)
    sess.run(sp)                              # tf.SparseTensorValue(indices, values, dense_shape)

``indices`` is ``int64 [N, rank]`` (row-major order), ``values`` ``[N]``, ``dense_shape``
``int64 [rank]``. ``tf.io.parse_example`` returns one for each ``VarLenFeature``. Dataset elements
cannot hold one yet: convert it with ``tf.sparse.to_dense`` inside the ``map`` function.
"""

import collections
import types

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["SparseTensor", "SparseTensorValue", "sparse_tensor_to_dense", "sparse_to_dense"]

SparseTensorValue = collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])
SparseTensorValue.__doc__ = "The value of a fetched ``SparseTensor``: three NumPy arrays."


class SparseTensor:
    """A sparse tensor made of ``indices`` (int64 ``[N, rank]``), ``values`` (``[N]``) and
    ``dense_shape`` (int64 ``[rank]``), each a tensor or a value convertible to one."""

    def __init__(self, indices, values, dense_shape):
        self._indices = convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
        self._values = convert_to_tensor(values, name="values")
        self._dense_shape = convert_to_tensor(dense_shape, dtype=dtypes.int64, name="dense_shape")
        if self._indices.shape.ndims not in (None, 2):
            raise ValueError(f"indices must be a matrix, got shape {self._indices.shape}")
        if self._values.shape.ndims not in (None, 1):
            raise ValueError(f"values must be a vector, got shape {self._values.shape}")
        if self._dense_shape.shape.ndims not in (None, 1):
            raise ValueError(f"dense_shape must be a vector, got shape {self._dense_shape.shape}")

    @classmethod
    def from_value(cls, value):
        """A ``SparseTensor`` of constants from a ``SparseTensorValue`` (or a ``SparseTensor``)."""
        return value if isinstance(value, SparseTensor) else cls(value.indices, value.values, value.dense_shape)

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    graph = property(lambda self: self._values.graph)
    op = property(lambda self: self._values.op)

    @property
    def shape(self):
        """The static dense shape: known where ``dense_shape`` is a constant, else of known rank."""
        known = constant_value(self._dense_shape)
        if known is not None:
            return TensorShape([int(d) for d in np.asarray(known).reshape(-1)])
        n = self._dense_shape.shape.as_list()[0] if self._dense_shape.shape.ndims == 1 else None
        return TensorShape(None if n is None else [None] * n)

    def get_shape(self):
        return self.shape

    def eval(self, feed_dict=None, session=None):
        """The ``SparseTensorValue`` of this tensor in ``session`` (or the default session)."""
        from jitgraph.runtime.session import _session_for
        return _session_for(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        return f"SparseTensor(indices={self._indices}, values={self._values}, dense_shape={self._dense_shape})"


# ---- SparseToDense ----------------------------------------------------------------------------------
def _to_dense_infer(ins, a):
    indices, shape, values, default = ins
    index_type = indices.dtype.base_dtype
    if index_type not in (dtypes.int32, dtypes.int64) or shape.dtype.base_dtype != index_type:
        raise TypeError("SparseToDense: sparse_indices and output_shape must both be int32 or int64")
    if default.dtype.base_dtype != values.dtype.base_dtype:
        raise TypeError(f"SparseToDense: default_value has type {default.dtype.base_dtype.name}, values "
                        f"{values.dtype.base_dtype.name}")
    if default.shape.ndims not in (None, 0):
        raise ValueError(f"SparseToDense: default_value must be a scalar, got shape {default.shape}")
    known = constant_value(shape)
    if known is not None:
        out = TensorShape([int(d) for d in np.asarray(known).reshape(-1)])
    elif shape.shape.ndims == 1 and shape.shape[0].value is not None:
        out = TensorShape([None] * shape.shape[0].value)
    else:
        out = TensorShape(None)
    return [(values.dtype.base_dtype, out)]


def _to_dense_run(ctx, op, ins):
    indices, shape, values, default = ins
    shape = [int(d) for d in np.asarray(shape).reshape(-1)]
    indices = np.asarray(indices)
    indices = indices.reshape(-1, 1) if indices.ndim < 2 else indices   # a scalar or a vector: 1-D output
    values = np.asarray(values)
    out = np.full(shape, default, dtype=values.dtype)
    if values.ndim > 1 or (values.ndim == 1 and len(values) != len(indices)):
        raise errors.InvalidArgumentError(None, op, f"sparse_values has incorrect shape {list(values.shape)}, "
                                          f"should be [] or [{len(indices)}]")
    if len(indices):
        if indices.shape[1] != len(shape):
            raise errors.InvalidArgumentError(None, op, f"sparse_indices[0] has {indices.shape[1]} dimensions, "
                                              f"output_shape has {len(shape)}")
        bad = np.nonzero(((indices < 0) | (indices >= np.asarray(shape))).any(axis=1))[0]
        if bad.size:
            raise errors.InvalidArgumentError(None, op, f"indices[{bad[0]}] = {list(indices[bad[0]])} is out of "
                                              f"bounds: need 0 <= index < {shape}")
        if op.attrs.get("validate_indices", True):
            _check_order(op, indices)
        out[tuple(indices.T)] = values
    return [out]


def _check_order(op, indices):
    """TF's ``validate_indices``: rows strictly increasing in row-major order."""
    for i in range(1, len(indices)):
        a, b = tuple(indices[i - 1]), tuple(indices[i])
        if b <= a:
            what = "repeated" if a == b else ("out of order. Many sparse ops require sorted indices.\n"
                                              "    Use `tf.sparse.reorder` to create a correctly ordered copy.")
            raise errors.InvalidArgumentError(None, op, f"indices[{i}] = [{','.join(map(str, b))}] is {what}")


def _to_dense_grad(op, grad):
    from jitgraph.ops.slicing_ops import gather_nd
    indices, _, values, _ = op.inputs
    if values.shape.ndims == 1 and indices.shape.ndims == 2:
        return [None, None, gather_nd(grad, indices), None]
    return [None] * 4


define_op("SparseToDense", _to_dense_infer, kind="library", run=_to_dense_run, grad=_to_dense_grad)


def sparse_to_dense(sparse_indices, output_shape, sparse_values, default_value=0, validate_indices=True, name=None):
    """A dense tensor of ``output_shape`` holding ``sparse_values`` at ``sparse_indices`` (a vector
    of indices for a 1-D output, or an ``[N, rank]`` matrix) and ``default_value`` elsewhere.
    ``validate_indices``: indices must be sorted row-major without repeats (``InvalidArgumentError``)."""
    values = convert_to_tensor(sparse_values, name="sparse_values")
    indices = convert_to_tensor(sparse_indices, name="sparse_indices")
    shape = convert_to_tensor(output_shape, dtype=indices.dtype.base_dtype, name="output_shape")
    default = convert_to_tensor(default_value, dtype=values.dtype.base_dtype, name="default_value")
    return make_op("SparseToDense", [indices, shape, values, default], {"validate_indices": bool(validate_indices)},
                   name or "SparseToDense").outputs[0]


def sparse_tensor_to_dense(sp_input, default_value=None, validate_indices=True, name=None):
    """The dense tensor of ``sp_input`` (a ``SparseTensor``), ``default_value`` (zero, or ``b""``
    for strings) where it has no value."""
    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Input must be a SparseTensor, got {type(sp_input).__name__}")
    if default_value is None:
        default_value = b"" if sp_input.dtype.base_dtype == dtypes.string else 0
    return sparse_to_dense(sp_input.indices, sp_input.dense_shape, sp_input.values, default_value,
                           validate_indices, name=name or "SparseToDense")


sparse = types.SimpleNamespace(   # ``tf.sparse``
    SparseTensor=SparseTensor, SparseTensorValue=SparseTensorValue, to_dense=sparse_tensor_to_dense,
    __doc__="``tf.sparse``: ``SparseTensor`` and ``to_dense``.")
