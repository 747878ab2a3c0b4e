"""``tf.data.Dataset``: the public class and its source datasets.

A dataset is a Python description of a pipeline, built in graph mode: each node knows its
element type (``ElementSpec``), the datasets it reads and the tensors of the graph it captures
(sources, counts given as tensors, values used by its functions). Iterating is the iterator's
business (``iterator.py``): its initializer evaluates the captured tensors — so placeholders are
fed then, as in TF — and each node's ``_iterate(env)`` yields elements as flat tuples of NumPy
arrays.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.data import structure
from jitgraph.data.structure import ElementSpec
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.registry import constant_value, convert_to_tensor

AUTOTUNE = -1


class Dataset:
    """A sequence of elements (nested tuples/dicts of tensors), transformed by chaining methods::

        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32).repeat()
        features, labels = ds.make_one_shot_iterator().get_next()
    """

    def __init__(self, spec, inputs=(), captures=()):
        self._spec = spec
        self._inputs = tuple(inputs)        # datasets this one reads
        self._captures = list(captures)     # graph tensors whose values it needs
        self._graph = get_default_graph()

    # ---- element type ------------------------------------------------------------------------
    output_types = property(lambda self: self._spec.output_types)
    output_shapes = property(lambda self: self._spec.output_shapes)
    output_classes = property(lambda self: self._spec.output_classes)

    def all_captures(self):
        """Every graph tensor the pipeline needs, once each, in a fixed order."""
        out, seen, stack = [], set(), [self]
        while stack:
            ds = stack.pop()
            for t in ds._captures:
                if id(t) not in seen:
                    seen.add(id(t))
                    out.append(t)
            stack.extend(reversed(ds._inputs))
        return out

    def _iterate(self, env):   # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __iter__(self):
        raise RuntimeError("`tf.data.Dataset` only supports Python-style iteration in eager mode or within "
                           "tf.function. (In graph mode, read it with make_one_shot_iterator() or "
                           "make_initializable_iterator().)")

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self._spec.describe()}>"

    # ---- sources -----------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors):
        """Elements are the slices of ``tensors`` along their first dimension (all must agree)."""
        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors):
        """One element: ``tensors`` itself."""
        return TensorDataset(tensors)

    @staticmethod
    def range(*args, output_type=dtypes.int64):
        """``range(stop)``, ``range(start, stop[, step])`` as in Python, as scalars of ``output_type``."""
        return RangeDataset(args, output_type)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None):
        """Elements produced by ``generator(*args)`` (called anew for each iteration), converted to
        ``output_types`` and checked against ``output_shapes``."""
        from jitgraph.data.generator import GeneratorDataset
        return GeneratorDataset(generator, output_types, output_shapes, args)

    @staticmethod
    def zip(datasets):
        """Elements are tuples (or the nesting of ``datasets``) of the datasets' elements; stops
        with the shortest."""
        from jitgraph.data.transforms import ZipDataset
        return ZipDataset(datasets)

    # ---- transformations ---------------------------------------------------------------------
    def concatenate(self, dataset):
        from jitgraph.data.transforms import ConcatenateDataset
        return ConcatenateDataset(self, dataset)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Apply ``map_func`` to each element. It is traced once into a graph of its own and run as
        a compiled plan; ``num_parallel_calls`` is accepted (elements are mapped in order)."""
        from jitgraph.data.transforms import MapDataset
        return MapDataset(self, map_func)

    def filter(self, predicate, name=None):
        """Keep the elements for which ``predicate`` (a scalar ``tf.bool`` function) is true."""
        from jitgraph.data.transforms import FilterDataset
        return FilterDataset(self, predicate)

    def flat_map(self, map_func, name=None):
        """``map_func`` maps each element to a dataset; their elements follow one another."""
        from jitgraph.data.transforms import InterleaveDataset
        return InterleaveDataset(self, map_func, 1, 1)

    def interleave(self, map_func, cycle_length=AUTOTUNE, block_length=1, num_parallel_calls=None,
                   deterministic=None, name=None):
        """``map_func`` maps elements to datasets; ``cycle_length`` of them are read in turn,
        ``block_length`` elements at a time (TF's order). ``AUTOTUNE`` cycles over as many
        datasets as the machine has CPU cores."""
        from jitgraph.data.transforms import InterleaveDataset
        return InterleaveDataset(self, map_func, cycle_length, block_length)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Stack ``batch_size`` consecutive elements. The batch dimension is static only with
        ``drop_remainder`` and a constant ``batch_size`` (as TF)."""
        from jitgraph.data.batching import BatchDataset
        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Batch elements of different shapes, padding each component to ``padded_shapes``
        (a ``None``/-1 dimension pads to the longest in the batch; default: all of them)."""
        from jitgraph.data.batching import PaddedBatchDataset
        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None):
        """Split each element along its first dimension (the inverse of ``batch``)."""
        from jitgraph.data.batching import UnbatchDataset
        return UnbatchDataset(self)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Shuffle with a buffer of ``buffer_size`` elements (TF's algorithm; the permutation of a
        given seed differs from TF's). ``reshuffle_each_iteration`` (default True) gives each
        epoch of a ``repeat`` a new order; with a seed (op or graph) the orders are reproducible."""
        from jitgraph.data.transforms import ShuffleDataset
        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None):
        """Repeat the dataset ``count`` times (forever for None or -1)."""
        from jitgraph.data.transforms import RepeatDataset
        return RepeatDataset(self, count)

    def take(self, count, name=None):
        """The first ``count`` elements (all of them for -1)."""
        from jitgraph.data.transforms import TakeDataset
        return TakeDataset(self, count)

    def skip(self, count, name=None):
        """All but the first ``count`` elements (none for -1)."""
        from jitgraph.data.transforms import SkipDataset
        return SkipDataset(self, count)

    def prefetch(self, buffer_size, name=None):
        """Produce up to ``buffer_size`` elements ahead in a background thread, overlapping the
        input pipeline with the training step (``AUTOTUNE``: a small buffer)."""
        from jitgraph.data.prefetch import PrefetchDataset
        return PrefetchDataset(self, buffer_size)

    def cache(self, filename="", name=None):
        """Keep the elements of the first complete iteration in memory and replay them after."""
        from jitgraph.data.transforms import CacheDataset
        return CacheDataset(self, filename)

    def enumerate(self, start=0, name=None):
        """Elements ``(index, element)`` with int64 indices from ``start``."""
        return Dataset.zip((Dataset.range(start, np.iinfo(np.int64).max), self))

    def apply(self, transformation_func):
        """``transformation_func(self)``, which must return a dataset."""
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError("`transformation_func` must return a Dataset object.")
        return out

    # ---- iterators ---------------------------------------------------------------------------
    def make_one_shot_iterator(self):
        """An iterator that needs no initialization. The pipeline may capture only constants
        (``ValueError`` for placeholders and variables, as TF)."""
        from jitgraph.data.iterator import Iterator
        return Iterator._one_shot(self)

    def make_initializable_iterator(self, shared_name=None):
        """An iterator started (and restarted) by running ``iterator.initializer``; placeholders
        the pipeline uses are fed in that run."""
        from jitgraph.data.iterator import Iterator
        return Iterator._initializable(self)


# ---- helpers for the datasets ------------------------------------------------------------------
def scalar_arg(value, what, dtype=dtypes.int64):
    """A scalar argument (count, size, seed…): ``(python int or None, tensor or None)``.
    A tensor is captured and read when the iterator starts; its constant value is used for static
    shapes where known."""
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        t = convert_to_tensor(value)
        if t.dtype.base_dtype != dtype:
            raise TypeError(f"`{what}` must be a {dtype.name} scalar, got a {t.dtype.base_dtype.name} tensor")
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"`{what}` must be a scalar, got shape {t.shape}")
        known = constant_value(t)
        return (None if known is None else int(known)), t
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{what}` must be an integer scalar or a tensor, got {value!r}")
    return int(value), None


def arg_tensors(*args):
    """The tensors among ``scalar_arg`` results (what a dataset captures)."""
    return [t for _, t in args if t is not None]


def arg_value(env, static, tensor):
    """The value of a ``scalar_arg`` at run time."""
    return int(env.value(tensor)) if tensor is not None else static


def _to_tensors(value):
    """A structure of tensors from a structure of values (lists are values, as in tf.data)."""
    return structure.map_structure(lambda v: convert_to_tensor(v, name="component"), value)


class TensorSliceDataset(Dataset):
    def __init__(self, tensors):
        tensors = _to_tensors(tensors)
        flat = structure.flatten(tensors)
        if not flat:
            raise ValueError("Invalid `element`. `element` should not be empty.")
        rows = TensorShape([None])
        for t in flat:
            if t.shape.ndims == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, got {t.name} of shape ()")
            if t.shape.ndims is not None:
                if not rows.is_compatible_with(t.shape[:1]):
                    raise ValueError(f"Dimensions {rows[0]} and {t.shape[0]} are not compatible")
                rows = rows.merge_with(t.shape[:1])
        shapes = [t.shape[1:] if t.shape.ndims is not None else TensorShape(None) for t in flat]
        super().__init__(ElementSpec(tensors, [t.dtype.base_dtype for t in flat], shapes), captures=flat)

    def _iterate(self, env):
        arrays = [env.value(t) for t in self._captures]
        n = {a.shape[0] if a.ndim else None for a in arrays}
        if len(n) != 1 or None in n:
            raise errors.InvalidArgumentError(None, None, "All components must have the same size in the 0th "
                                              f"dimension, got {[a.shape for a in arrays]}")
        for i in range(n.pop()):
            yield tuple(a[i, ...] for a in arrays)   # (a view; 0-d for a vector)


class TensorDataset(Dataset):
    def __init__(self, tensors):
        tensors = _to_tensors(tensors)
        flat = structure.flatten(tensors)
        super().__init__(ElementSpec.of_tensors(tensors), captures=flat)

    def _iterate(self, env):
        yield tuple(env.value(t) for t in self._captures)


class RangeDataset(Dataset):
    def __init__(self, args, output_type):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to range: {args!r} (expected 1 to 3)")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (tuple(args) + (1,))[:3]
        self._args = [scalar_arg(a, name) for a, name in zip((start, stop, step), ("start", "stop", "step"))]
        self._dtype = dtypes.as_dtype(output_type)
        super().__init__(ElementSpec(0, [self._dtype], [TensorShape([])]),
                         captures=arg_tensors(*self._args))

    def _iterate(self, env):
        start, stop, step = (arg_value(env, s, t) for s, t in self._args)
        if step == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        np_dtype = self._dtype.as_np
        for i in range(start, stop, step):
            yield (np.array(i, dtype=np_dtype),)
