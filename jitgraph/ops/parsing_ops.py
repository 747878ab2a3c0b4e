"""``tf.io.parse_example`` / ``tf.io.parse_single_example``: serialized ``tf.train.Example`` protos
to tensors, described by ``tf.io.FixedLenFeature`` and ``tf.io.VarLenFeature``.

    features = {"image": tf.io.FixedLenFeature([784], tf.float32),
                "label": tf.io.FixedLenFeature([], tf.int64, default_value=0),
                "tags": tf.io.VarLenFeature(tf.string)}
    ds = tf.data.TFRecordDataset("train.tfrecord").map(lambda r: tf.io.parse_single_example(r, features))

The result is a dict: a dense tensor of ``serialized.shape + shape`` for each ``FixedLenFeature``
(``default_value`` where an Example lacks the key; without one a missing key raises
``InvalidArgumentError`` naming the feature), a ``tf.SparseTensor`` for each ``VarLenFeature``.
Feature dtypes are ``tf.string``, ``tf.int64`` and ``tf.float32``. The op (``ParseExample``, one
per call, all features at once) is a host op the compiler leaves to its NumPy implementation;
it decodes with protobuf (``jitgraph[tensorboard]``).
"""

import collections

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import no_gradient
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["FixedLenFeature", "VarLenFeature", "parse_example", "parse_single_example"]

# dtype -> (Feature field, NumPy dtype, TF's name for it in messages)
_KINDS = {dtypes.string: ("bytes_list", object, "string"), dtypes.int64: ("int64_list", np.int64, "int64"),
          dtypes.float32: ("float_list", np.float32, "float")}
_KIND_NAMES = {field: name for field, _, name in _KINDS.values()}


class FixedLenFeature(collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])):
    """A feature of fixed ``shape`` (``[]`` for a scalar) and ``dtype``; ``default_value`` (of
    that shape, or None: the feature is required)."""

    def __new__(cls, shape, dtype, default_value=None):
        return super().__new__(cls, shape, dtype, default_value)


class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """A feature with any number of values, parsed into a ``tf.SparseTensor``."""


def _dtype(key, dtype):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if dtype not in _KINDS:
        raise TypeError(f"Value passed to parameter 'dense_defaults' has DataType {dtype.name} not in list of allowed "
                        f"values: float32, int64, string (feature {key!r})")
    return dtype


def _default(key, feature, dtype, shape):
    np_dtype = _KINDS[dtype][1]
    if feature.default_value is None:
        return np.zeros([0], np_dtype)   # empty: the feature is required
    value = feature.default_value
    if dtype == dtypes.string:
        value = np.vectorize(lambda v: v.encode() if isinstance(v, str) else bytes(v), otypes=[object])(
            np.asarray(value, dtype=object))
    value = np.asarray(value, dtype=np_dtype)
    if value.size != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"Cannot reshape a tensor with {value.size} elements to shape {list(shape)} "
                         f"(default_value of feature {key!r})")
    return value.reshape(shape)


# ---- the op -----------------------------------------------------------------------------------
def _infer(ins, a):
    serialized = ins[0]
    if serialized.dtype.base_dtype != dtypes.string:
        raise TypeError(f"ParseExample: serialized must be tf.string, got {serialized.dtype.base_dtype.name}")
    if serialized.shape.ndims not in (None, 0, 1):
        raise ValueError(f"ParseExample: serialized must be a scalar or a vector, got shape {serialized.shape}")
    rank = serialized.shape.ndims
    ns = len(a["sparse_keys"])
    out = [(dtypes.int64, TensorShape([None, None if rank is None else rank + 1]))] * ns
    out += [(t, TensorShape([None])) for t in a["sparse_types"]]
    out += [(dtypes.int64, TensorShape([None if rank is None else rank + 1]))] * ns
    out += [(t, serialized.shape.concatenate(shape)) for t, shape in zip(a["dense_types"], a["dense_shapes"])]
    return out


def _decode(op, record):
    from google.protobuf.message import DecodeError
    from jitgraph.framework.example_protos import example_protos
    try:
        return example_protos().Example.FromString(record).features.feature
    except DecodeError:
        text = record.decode("utf-8", "backslashreplace") if isinstance(record, bytes) else str(record)
        raise errors.InvalidArgumentError(None, op, f"Could not parse example input, value: '{text}'") from None


def _values(op, feature, key, dtype, where, sparse):
    """The values of one feature as a list, after checking its kind against ``dtype``."""
    field, _, expected = _KINDS[dtype]
    kind = feature.WhichOneof("kind")
    if kind is not None and kind != field:
        detail = (f"Expected type: {expected}, Actual type: {_KIND_NAMES[kind]}" if sparse else
                  f"Data type: {_KIND_NAMES[kind]} but expected type: {expected}")
        raise errors.InvalidArgumentError(None, op, f"{where}Data types don't match. {detail}")
    return list(getattr(feature, field).value) if kind else []


def _run(ctx, op, ins):
    a = op.attrs
    batched = np.ndim(ins[0]) == 1
    records = [_decode(op, r) for r in np.asarray(ins[0], dtype=object).reshape(-1)]

    def where(key, i):
        return f"Name: <unknown>, Key: {key}, Index: {i}.  " if batched else f"Key: {key}.  "

    indices, values, shapes = [], [], []
    for key, dtype in zip(a["sparse_keys"], a["sparse_types"]):
        rows = [_values(op, fmap[key], key, dtype, where(key, i), True) if key in fmap else []
                for i, fmap in enumerate(records)]
        longest = max((len(r) for r in rows), default=0)
        idx = [(i, j) if batched else (j,) for i, r in enumerate(rows) for j in range(len(r))]
        indices.append(np.array(idx, dtype=np.int64).reshape(-1, 2 if batched else 1))
        values.append(np.array([v for r in rows for v in r], dtype=_KINDS[dtype][1]))
        shapes.append(np.array([len(rows), longest] if batched else [longest], dtype=np.int64))
    dense = []
    for key, dtype, shape, default in zip(a["dense_keys"], a["dense_types"], a["dense_shapes"], ins[1:]):
        np_dtype, size = _KINDS[dtype][1], int(np.prod(shape, dtype=np.int64))
        out = np.empty((len(records),) + tuple(shape), dtype=np_dtype)
        for i, fmap in enumerate(records):
            if key in fmap and fmap[key].WhichOneof("kind") is not None:
                vals = _values(op, fmap[key], key, dtype, where(key, i), False)
                if len(vals) != size:
                    raise errors.InvalidArgumentError(
                        None, op, f"{where(key, i)}Number of {_KINDS[dtype][2]} values != expected.  Values size: "
                        f"{len(vals)} but output shape: [{','.join(str(d) for d in shape)}]")
                out[i, ...] = np.array(vals, dtype=np_dtype).reshape(shape)
            elif np.size(default):
                out[i, ...] = default   # (a copy, also of a 0-d string default)
            else:
                prefix = "Name: <unknown>, " if batched else ""
                raise errors.InvalidArgumentError(None, op, f"{prefix}Feature: {key} (data type: {_KINDS[dtype][2]}) "
                                                  "is required but could not be found.")
        dense.append(out if batched else out[0])
    return indices + values + shapes + dense


define_op("ParseExample", _infer, kind="library", run=_run, grad=no_gradient)


# ---- the functions ------------------------------------------------------------------------------
def _parse(serialized, features, name):
    from jitgraph.sparse import SparseTensor
    if not features:
        raise ValueError("Missing: features was empty.")
    sparse, dense = [], []
    for key in sorted(features):
        f = features[key]
        if isinstance(f, VarLenFeature):
            sparse.append((key, _dtype(key, f.dtype)))
        elif isinstance(f, FixedLenFeature):
            shape = TensorShape(f.shape)
            if not shape.is_fully_defined():
                raise ValueError(f"First dimension of shape for feature {key} unknown. Consider using "
                                 f"FixedLenSequenceFeature (not in jitgraph yet). Received feature={f}.")
            dense.append((key, _dtype(key, f.dtype), tuple(shape.as_list())))
        else:
            raise ValueError(f"Unsupported feature type for key {key!r}: {type(f).__name__} (jitgraph parses "
                             "FixedLenFeature and VarLenFeature)")
    serialized = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized")
    defaults = [convert_to_tensor(_default(k, features[k], t, s), dtype=t, name="default_value")
                for k, t, s in dense]
    attrs = {"sparse_keys": [k for k, _ in sparse], "sparse_types": [t for _, t in sparse],
             "dense_keys": [k for k, _, _ in dense], "dense_types": [t for _, t, _ in dense],
             "dense_shapes": [s for _, _, s in dense]}
    outs = make_op("ParseExample", [serialized] + defaults, attrs, name).outputs
    ns = len(sparse)
    result = {k: SparseTensor(outs[i], outs[ns + i], outs[2 * ns + i]) for i, (k, _) in enumerate(sparse)}
    result.update({k: outs[3 * ns + i] for i, (k, _, _) in enumerate(dense)})
    return result


def parse_example(serialized, features, name=None, example_names=None):
    """Parse a batch (a string vector) of serialized ``Example`` protos: a dict from each key of
    ``features`` to a ``[batch] + shape`` tensor (``FixedLenFeature``) or a ``SparseTensor`` of
    dense shape ``[batch, longest]`` (``VarLenFeature``)."""
    return _parse(serialized, features, name or "ParseExample")


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parse one serialized ``Example`` (a string scalar): a dict from each key of ``features`` to
    a tensor of the feature's ``shape`` (``FixedLenFeature``) or a 1-D ``SparseTensor``
    (``VarLenFeature``)."""
    s = convert_to_tensor(serialized, dtype=dtypes.string, name="serialized")
    if s.shape.ndims not in (None, 0):
        raise ValueError(f"Input serialized must be a scalar (got shape {s.shape})")
    return _parse(s, features, name or "ParseSingleExample")
