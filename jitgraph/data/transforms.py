"""Dataset transformations other than batching and prefetching: ``map``, ``filter``,
``flat_map``/``interleave``, ``zip``, ``concatenate``, ``shuffle``, ``repeat``, ``take``, ``skip``,
``cache``. Each is a ``Dataset`` whose ``_iterate(env)`` is a generator over its input's."""

import itertools
import os

import numpy as np

from jitgraph import errors
from jitgraph.api_graph import get_seed
from jitgraph.data import structure
from jitgraph.data.dataset import AUTOTUNE, Dataset, arg_tensors, arg_value, scalar_arg
from jitgraph.data.env import frozen
from jitgraph.data.function import TracedFunction
from jitgraph.data.structure import ElementSpec
from jitgraph.framework.tensor import Tensor


class MapDataset(Dataset):
    def __init__(self, input_ds, map_func):
        self._fn = fn = TracedFunction(map_func, input_ds._spec, "map")
        out = fn.normalize_result()
        super().__init__(ElementSpec.of_tensors(out), [input_ds], fn.captures)

    def _iterate(self, env):
        fn, state = self._fn, env.fn_state
        caps = [env.value(t) for t in self._captures]
        for element in self._inputs[0]._iterate(env):
            yield tuple(fn(state, element, caps))


class FilterDataset(Dataset):
    def __init__(self, input_ds, predicate):
        self._fn = fn = TracedFunction(predicate, input_ds._spec, "filter")
        out = fn.normalize_result()
        flat = structure.flatten(out)
        if (len(flat) != 1 or not isinstance(out, Tensor) or out.dtype.base_dtype.name != "bool"
                or not out.shape.is_compatible_with([])):
            raise ValueError("Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but its "
                             f"return type is {ElementSpec.of_tensors(out).describe()}.")
        super().__init__(input_ds._spec, [input_ds], fn.captures)

    def _iterate(self, env):
        fn, state = self._fn, env.fn_state
        caps = [env.value(t) for t in self._captures]
        for element in self._inputs[0]._iterate(env):
            keep = fn(state, element, caps)[0]
            if keep.shape != ():
                raise errors.InvalidArgumentError(None, None, f"Filter predicate `f` must return a scalar bool, "
                                                  f"got shape {list(keep.shape)}")
            if keep:
                yield element


class InterleaveDataset(Dataset):
    """``interleave`` (and ``flat_map``: one dataset at a time) with TF's cycle order."""

    def __init__(self, input_ds, map_func, cycle_length, block_length):
        self._fn = fn = TracedFunction(map_func, input_ds._spec, "interleave")
        inner = fn.result
        if not isinstance(inner, Dataset):
            raise TypeError(f"`map_func` must return a `Dataset` object. Got {type(inner)}.")
        self._inner = inner
        self._inner_captures = inner.all_captures()
        fn.finish(self._inner_captures)
        self._cycle = scalar_arg(cycle_length, "cycle_length")
        self._block = scalar_arg(block_length, "block_length")
        super().__init__(inner._spec, [input_ds], fn.captures + arg_tensors(self._cycle, self._block))

    def _iterate(self, env):
        cycle, block = arg_value(env, *self._cycle), arg_value(env, *self._block)
        if cycle == AUTOTUNE:
            cycle = os.cpu_count() or 1
        if cycle <= 0 or block <= 0:
            raise errors.InvalidArgumentError(None, None, f"cycle_length ({cycle}) and block_length ({block}) "
                                              "must be greater than zero.")
        fn, state = self._fn, env.fn_state
        caps = [env.value(t) for t in self._fn.captures]
        source = iter(self._inputs[0]._iterate(env))

        def open_next():
            element = next(source, None)
            if element is None:
                return None
            values = fn(state, element, caps)
            return iter(self._inner._iterate(env.child(self._inner_captures, values)))

        slots, index, in_block, open_count, source_done = [None] * cycle, 0, 0, 0, False
        while not source_done or open_count:
            it = slots[index]
            if it is not None:
                element = next(it, None)
                if element is not None:
                    yield element
                    in_block += 1
                    if in_block == block:
                        index, in_block = (index + 1) % cycle, 0
                    continue
                slots[index] = None
                open_count -= 1
                index, in_block = (index + 1) % cycle, 0
            elif not source_done:
                slots[index] = open_next()
                if slots[index] is None:
                    source_done = True
                else:
                    open_count += 1
            else:
                index, in_block = (index + 1) % cycle, 0


class ZipDataset(Dataset):
    def __init__(self, datasets):
        flat = structure.flatten(datasets)
        if not flat or not all(isinstance(d, Dataset) for d in flat):
            raise TypeError("The argument to `Dataset.zip()` must be a (nested) structure of `Dataset` objects.")
        spec = ElementSpec(structure.pack(datasets, [d._spec.structure for d in flat]),
                           [x for d in flat for x in d._spec.dtypes], [x for d in flat for x in d._spec.shapes])
        super().__init__(spec, flat)

    def _iterate(self, env):
        for parts in zip(*(d._iterate(env) for d in self._inputs)):
            yield tuple(x for p in parts for x in p)


class ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        a, b = first._spec, second._spec
        if not structure.same_structure(a.structure, b.structure) or a.dtypes != b.dtypes:
            raise TypeError(f"Incompatible dataset elements:\n  {a.describe()} vs.   {b.describe()}")
        shapes = [structure.most_specific_compatible(x, y) for x, y in zip(a.shapes, b.shapes)]
        super().__init__(a.with_shapes(shapes), [first, second])

    def _iterate(self, env):
        return itertools.chain(self._inputs[0]._iterate(env), self._inputs[1]._iterate(env))


class ShuffleDataset(Dataset):
    """TF's buffer algorithm: fill a buffer of ``buffer_size`` elements, then repeatedly emit a
    random one and put the next input element in its place; drain it at the end of the input."""

    def __init__(self, input_ds, buffer_size, seed, reshuffle_each_iteration):
        self._size = scalar_arg(buffer_size, "buffer_size")
        self._seeds = get_seed(seed)
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        super().__init__(input_ds._spec, [input_ds], arg_tensors(self._size))

    def _iterate(self, env):
        size = arg_value(env, *self._size)
        if size == AUTOTUNE or size <= 0:
            raise errors.InvalidArgumentError(None, None, f"buffer_size must be greater than zero, got {size}.")
        epoch = env.next_epoch(self) if self._reshuffle else 0
        s1, s2 = self._seeds
        key = [env.entropy, epoch] if s1 is None else [s1, s2, epoch]
        rng = np.random.default_rng(np.random.SeedSequence(key))
        draws, used = rng.random(256), 0
        buf = []
        source = iter(self._inputs[0]._iterate(env))
        for element in source:
            buf.append(element)
            if len(buf) < size:
                continue
            if used == len(draws):
                draws, used = rng.random(256), 0
            yield _take_random(buf, draws[used])
            used += 1
        while buf:
            if used == len(draws):
                draws, used = rng.random(256), 0
            yield _take_random(buf, draws[used])
            used += 1


def _take_random(buf, u):
    i = int(u * len(buf))
    buf[i], buf[-1] = buf[-1], buf[i]
    return buf.pop()


class RepeatDataset(Dataset):
    def __init__(self, input_ds, count):
        self._count = scalar_arg(-1 if count is None else count, "count")
        super().__init__(input_ds._spec, [input_ds], arg_tensors(self._count))

    def _iterate(self, env):
        count = arg_value(env, *self._count)
        done = 0
        while count < 0 or done < count:
            empty = True
            for element in self._inputs[0]._iterate(env):
                empty = False
                yield element
            if empty:   # repeating nothing gives nothing (instead of looping forever)
                return
            done += 1


class TakeDataset(Dataset):
    def __init__(self, input_ds, count):
        self._count = scalar_arg(count, "count")
        super().__init__(input_ds._spec, [input_ds], arg_tensors(self._count))

    def _iterate(self, env):
        count = arg_value(env, *self._count)
        source = self._inputs[0]._iterate(env)
        return source if count < 0 else itertools.islice(source, count)


class SkipDataset(Dataset):
    def __init__(self, input_ds, count):
        self._count = scalar_arg(count, "count")
        super().__init__(input_ds._spec, [input_ds], arg_tensors(self._count))

    def _iterate(self, env):
        count = arg_value(env, *self._count)
        source = self._inputs[0]._iterate(env)
        if count < 0:
            for _ in source:
                pass
            return iter(())
        return itertools.islice(source, count, None)


class CacheDataset(Dataset):
    """In-memory cache, per initialized iterator: the first complete pass records the elements,
    later passes (``repeat``) replay them without running the input pipeline again."""

    def __init__(self, input_ds, filename):
        if filename:
            raise ValueError(f"cache(filename={filename!r}): only the in-memory cache (filename='') is supported")
        super().__init__(input_ds._spec, [input_ds])

    def _iterate(self, env):
        memo = env.memo(self)
        if "elements" in memo:
            yield from memo["elements"]
            return
        seen = []
        for element in self._inputs[0]._iterate(env):
            element = tuple(frozen(c) for c in element)   # handed out again each epoch
            seen.append(element)
            yield element
        memo["elements"] = seen
