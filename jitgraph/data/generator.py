"""``Dataset.from_generator``: elements from a Python generator, converted and checked as TF does."""

import numpy as np

from jitgraph import errors
from jitgraph.data import structure
from jitgraph.data.dataset import Dataset
from jitgraph.data.structure import ElementSpec, as_component
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import convert_to_tensor


class GeneratorDataset(Dataset):
    def __init__(self, generator, output_types, output_shapes, args):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_types is None:
            raise TypeError("`output_types` must be specified (the element type of the generator)")
        template = output_types
        types = structure.flatten(output_types)
        if output_shapes is None:
            shapes = [TensorShape(None)] * len(types)
        else:
            shapes = [TensorShape(s) for s in _flat_shapes(template, output_shapes, len(types))]
        spec = ElementSpec(template, [_dtype(t) for t in types], shapes)
        self._generator = generator
        self._args = [convert_to_tensor(a, name="generator_arg") for a in (args or ())]
        super().__init__(spec, captures=self._args)

    def _iterate(self, env):
        spec = self._spec
        args = [a[()] if a.ndim == 0 else a for a in (env.value(t) for t in self._args)]
        source = iter(self._generator(*args))
        while True:
            try:
                value = next(source)
            except StopIteration:
                return
            except Exception as e:   # noqa: BLE001 - any error of user code is the run's error, as TF
                raise errors.InvalidArgumentError(None, None, f"{type(e).__name__}: {e}") from e
            yield _convert(value, spec)


def _dtype(t):
    from jitgraph import dtypes
    return dtypes.as_dtype(t)


def _flat_shapes(template, shapes, n):
    """Flat shapes for ``template``; a shape is a TensorShape or a list (lists are not structure)."""
    if n == 1 and not isinstance(template, (tuple, dict)):
        return [shapes]
    if not structure.same_structure(template, shapes):
        raise TypeError(f"`output_shapes` {shapes!r} does not match the structure of `output_types` {template!r}")
    return structure.flatten(shapes)


def _convert(value, spec):
    if isinstance(value, list) and isinstance(spec.structure, tuple):
        value = tuple(value)   # a generator may yield lists for tuple elements
    if not structure.same_structure(spec.structure, value):
        raise errors.InvalidArgumentError(
            None, None, "TypeError: `generator` yielded an element that did not match the expected structure. "
                        f"The expected structure was {_types_str(spec)}, but the yielded element was {value!r}.")
    flat = structure.flatten(value)
    out = []
    for v, dt, shape in zip(flat, spec.dtypes, spec.shapes):
        try:
            arr = as_component(v, dt)
            if dt.is_integer and np.asarray(v).dtype.kind == "f":
                raise TypeError("a float cannot be converted to an integer type")
        except (TypeError, ValueError, OverflowError):
            raise errors.InvalidArgumentError(
                None, None, "TypeError: `generator` yielded an element that could not be converted to the expected "
                            f"type. The expected type was {dt.name}, but the yielded element was {v!r}.") from None
        if not shape.is_compatible_with(arr.shape):
            raise errors.InvalidArgumentError(
                None, None, f"TypeError: `generator` yielded an element of shape {_tuple(arr.shape)} where an element "
                            f"of shape {_tuple(shape.as_list())} was expected.")
        out.append(arr)
    return tuple(out)


def _types_str(spec):
    if isinstance(spec.structure, (tuple, dict)):
        return structure.structure_str(spec.output_types, leaf=lambda d: f"tf.{d.name}")
    return spec.describe()


def _tuple(dims):
    dims = ["None" if d is None else str(d) for d in dims]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
