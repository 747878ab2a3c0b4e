"""``batch``, ``padded_batch`` and ``unbatch``."""

import itertools

import numpy as np

from jitgraph import errors
from jitgraph.data import structure
from jitgraph.data.dataset import Dataset, arg_tensors, arg_value, scalar_arg
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.registry import constant_value, convert_to_tensor


def _batch_shapes(spec, size, drop_remainder):
    """Static shapes of batches: the batch dim is known only for a constant size and no remainder."""
    dim = TensorShape([size if drop_remainder else None])
    return [dim.concatenate(s) for s in spec.shapes]


def _groups(source, size, drop_remainder):
    """Lists of ``size`` consecutive elements (the last one shorter unless dropped)."""
    if size <= 0:
        raise errors.InvalidArgumentError(None, None, f"Batch size must be greater than zero, got {size}.")
    source = iter(source)
    while True:
        items = list(itertools.islice(source, size))
        if not items or (drop_remainder and len(items) < size):
            return
        yield items


class BatchDataset(Dataset):
    def __init__(self, input_ds, batch_size, drop_remainder):
        self._size = scalar_arg(batch_size, "batch_size")
        self._drop = bool(drop_remainder)
        spec = input_ds._spec.with_shapes(_batch_shapes(input_ds._spec, self._size[0], self._drop))
        super().__init__(spec, [input_ds], arg_tensors(self._size))

    def _iterate(self, env):
        size = arg_value(env, *self._size)
        for items in _groups(self._inputs[0]._iterate(env), size, self._drop):
            yield tuple(_stack([e[i] for e in items], i) for i in range(len(items[0])))


def _stack(parts, component):
    try:
        return np.stack(parts)
    except ValueError:
        first = parts[0].shape
        j = next(j for j, p in enumerate(parts) if p.shape != first)
        raise errors.InvalidArgumentError(
            None, None, "Cannot add tensor to the batch: number of elements does not match. Shapes are: "
                        f"[tensor]: {list(parts[j].shape)}, [batch]: {list(first)} (component {component}, "
                        f"element {j})") from None


class PaddedBatchDataset(Dataset):
    def __init__(self, input_ds, batch_size, padded_shapes, padding_values, drop_remainder):
        spec = input_ds._spec
        self._size = scalar_arg(batch_size, "batch_size")
        self._drop = bool(drop_remainder)
        if padded_shapes is None:
            for i, s in enumerate(spec.shapes):
                if s.ndims is None:
                    raise ValueError(f"You must provide `padded_shapes` argument because component {i} has "
                                     "unknown rank.")
            padded = list(spec.shapes)
        else:
            padded = _flat_like(spec, padded_shapes, "padded_shapes")
            padded = [TensorShape([None if d is not None and int(d) == -1 else d for d in _dims(p)]) for p in padded]
        for p, s in zip(padded, spec.shapes):
            if not _can_pad(s, p):
                raise ValueError(f"The padded shape {p} is not compatible with the shape {s} of the corresponding "
                                 "input component.")
        self._padded = padded
        values = ([None] * len(spec) if padding_values is None
                  else _flat_like(spec, padding_values, "padding_values"))
        self._pads = []
        captures = arg_tensors(self._size)
        for v, dt in zip(values, spec.dtypes):
            if v is None:
                self._pads.append(np.array(b"" if dt.name == "string" else 0, dtype=dt.as_np))
                continue
            t = convert_to_tensor(v, dtype=dt, name="padding_value")
            if t.shape.ndims not in (None, 0):
                raise ValueError(f"padding values must be scalars, got shape {t.shape}")
            self._pads.append(t)
            captures.append(t)
        shapes = _batch_shapes(spec.with_shapes(padded), self._size[0], self._drop)
        super().__init__(spec.with_shapes(shapes), [input_ds], captures)

    def _iterate(self, env):
        size = arg_value(env, *self._size)
        pads = [env.value(p) if isinstance(p, Tensor) else p for p in self._pads]
        for items in _groups(self._inputs[0]._iterate(env), size, self._drop):
            yield tuple(_pad_stack([e[i] for e in items], self._padded[i], pads[i]) for i in range(len(pads)))


def _dims(shape):
    if isinstance(shape, Tensor):
        known = constant_value(shape)
        if known is None:
            raise ValueError(f"padded_shapes must be known while the graph is built, got {shape!r}")
        shape = np.asarray(known).tolist()
    if isinstance(shape, TensorShape):
        return shape.as_list() if shape.ndims is not None else []
    return [None if d is None else int(d) for d in (shape.tolist() if isinstance(shape, np.ndarray) else shape)]


def _can_pad(shape, padded):
    """Padding can grow unknown dims; a known dim must not exceed the padded size."""
    if shape.ndims is None or padded.ndims is None:
        return True
    return shape.ndims == padded.ndims and all(d is None or p is None or d <= p
                                                for d, p in zip(shape.as_list(), padded.as_list()))


def _flat_like(spec, value, what):
    if len(spec) == 1 and not isinstance(value, (tuple, dict)):
        return [value]
    if not structure.same_structure(spec.structure, value):
        raise ValueError(f"`{what}` {value!r} does not match the structure of the dataset's elements "
                         f"{spec.describe()}")
    return structure.flatten(value)


def _pad_stack(parts, padded, pad_value):
    rank = parts[0].ndim
    dims = padded.as_list() if padded.ndims is not None else [None] * rank
    target = []
    for axis, d in enumerate(dims):
        longest = max(p.shape[axis] for p in parts)
        if d is not None and longest > d:
            raise errors.DataLossError(None, None, "Attempted to pad to a smaller size than the input element: "
                                       f"dimension {axis} is {longest}, padded to {d}.")
        target.append(longest if d is None else d)
    out = np.full([len(parts)] + target, pad_value, dtype=parts[0].dtype)
    for j, p in enumerate(parts):
        if p.ndim != rank:
            raise errors.InvalidArgumentError(None, None, f"All elements in a batch must have the same rank as the "
                                              f"padded shape: got {p.ndim} and {rank}.")
        out[(j,) + tuple(slice(0, n) for n in p.shape)] = p
    return out


class UnbatchDataset(Dataset):
    def __init__(self, input_ds):
        spec = input_ds._spec
        for s in spec.shapes:
            if s.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        shapes = [s[1:] if s.ndims is not None else TensorShape(None) for s in spec.shapes]
        super().__init__(spec.with_shapes(shapes), [input_ds])

    def _iterate(self, env):
        for element in self._inputs[0]._iterate(env):
            n = {c.shape[0] for c in element}
            if len(n) != 1:
                raise errors.InvalidArgumentError(None, None, "Input element must have the same batch size in each "
                                                  f"component, got {[c.shape[0] for c in element]}.")
            for i in range(n.pop()):
                yield tuple(c[i, ...] for c in element)
