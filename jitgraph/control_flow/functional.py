"""``tf.map_fn``, ``tf.scan``, ``tf.foldl``, ``tf.foldr``: while loops over TensorArrays, built as
TF1 builds them (so values, names and gradients follow from ``while_loop``)."""

from jitgraph import dtypes
from jitgraph.api_graph import name_scope
from jitgraph.control_flow import nest
from jitgraph.control_flow.tensor_array import TensorArray
from jitgraph.control_flow.while_op import while_loop
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.array_ops import shape
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _flat_elems(elems):
    flat = [convert_to_tensor(e, name="elem") for e in nest.flatten(elems)]
    if not flat:
        raise ValueError(f"elems must be a Tensor or (possibly nested) sequence of Tensors. Got {elems}, "
                         "which does not contain any Tensors.")
    return flat


def _length(flat):
    """(static length or None, length tensor or int) of the first axis shared by ``flat``."""
    n_static = flat[0].shape[0].value if flat[0].shape.ndims else None
    for t in flat[1:]:
        m = t.shape[0].value if t.shape.ndims else None
        if n_static is not None and m is not None and m != n_static:
            raise ValueError(f"Dimensions {n_static} and {m} are not compatible")
    return n_static, (n_static if n_static is not None else shape(flat[0])[0])


def _unstacked(flat, n):
    return [TensorArray(dtype=t.dtype, size=n, dynamic_size=False, infer_shape=True,
                        element_shape=t.shape[1:] if t.shape.ndims else None).unstack(t) for t in flat]


def _with_length(r, n_static):
    r.set_shape(TensorShape([n_static]).concatenate(r.shape[1:]))
    return r


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False, infer_shape=True,
           name=None, fn_output_signature=None):
    """``fn`` applied to each slice ``elems[i]`` (nested structures of tensors sliced together); the
    results stacked. ``dtype`` gives the result structure when it differs from ``elems``'. ::

        squares = tf.map_fn(lambda x: x * x, tf.constant([1, 2, 3]))   # [1, 4, 9]
    """
    out_sig = fn_output_signature if fn_output_signature is not None else dtype
    flat = [e for e in nest.flatten(elems)]
    if not flat:
        raise ValueError(f"elems must be a Tensor or (possibly nested) sequence of Tensors. Got {elems}, "
                         "which does not contain any Tensors.")
    with name_scope(name, "map", []):
        flat = _flat_elems(elems)
        if flat[0].shape.ndims is not None and flat[0].shape.ndims < 1:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
        n_static, n = _length(flat)
        elems_ta = _unstacked(flat, n)
        out_dtypes = ([t.dtype.base_dtype for t in flat] if out_sig is None
                      else [dtypes.as_dtype(d) for d in nest.flatten(out_sig)])
        results_ta = [TensorArray(dtype=d, size=n, dynamic_size=False, infer_shape=infer_shape) for d in out_dtypes]

        def compute(i, tas):
            value = nest.pack_sequence_as(elems, [ta.read(i) for ta in elems_ta])
            result = fn(value)
            nest.assert_same_structure(out_sig if out_sig is not None else elems, result)
            return i + 1, [ta.write(i, r) for ta, r in zip(tas, nest.flatten(result))]

        _, r_a = while_loop(lambda i, _: i < n, compute, (constant(0), results_ta),
                            parallel_iterations=parallel_iterations or 10, back_prop=back_prop,
                            swap_memory=swap_memory, maximum_iterations=n)
        results = [_with_length(r.stack(), n_static) for r in r_a]
        return nest.pack_sequence_as(out_sig if out_sig is not None else elems, results)


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, infer_shape=True,
         reverse=False, name=None):
    """The running accumulation ``a = fn(a, x)`` over the slices ``x`` of ``elems``, stacked: without
    ``initializer`` the first slice is the first accumulator (and the first result). ::

        tf.scan(lambda a, x: a + x, tf.constant([1, 2, 3, 4]))   # [1, 3, 6, 10]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable. Received: {fn}")
    like = elems if initializer is None else initializer
    with name_scope(name, "scan", []):
        flat = _flat_elems(elems)
        n_static, n = _length(flat)
        elems_ta = _unstacked(flat, n)
        if initializer is None:
            last = n - 1
            a_flat = [ta.read(last if reverse else 0) for ta in elems_ta]
            start = 1
        else:
            a_flat = [convert_to_tensor(x) for x in nest.flatten(initializer)]
            start = 0
        accs_ta = [TensorArray(dtype=a.dtype, size=n, dynamic_size=False, infer_shape=infer_shape,
                               element_shape=a.shape if infer_shape else None) for a in a_flat]
        if initializer is None:
            accs_ta = [ta.write(n - 1 if reverse else 0, a) for ta, a in zip(accs_ta, a_flat)]

        def compute(i, a_flat, tas):
            x = nest.pack_sequence_as(elems, [ta.read(i) for ta in elems_ta])
            a_out = fn(nest.pack_sequence_as(like, a_flat), x)
            nest.assert_same_structure(like, a_out)
            flat_out = nest.flatten(a_out)
            tas = [ta.write(i, v) for ta, v in zip(tas, flat_out)]
            return (i - 1 if reverse else i + 1), flat_out, tas

        if reverse:
            init_i, condition = n - 1 - start, (lambda i, _1, _2: i >= 0)
        else:
            init_i, condition = start, (lambda i, _1, _2: i < n)
        _, _, r_a = while_loop(condition, compute, (convert_to_tensor(init_i, dtypes.int32), a_flat, accs_ta),
                               parallel_iterations=parallel_iterations, back_prop=back_prop,
                               swap_memory=swap_memory, maximum_iterations=n)
        return nest.pack_sequence_as(like, [_with_length(r.stack(), n_static) for r in r_a])


def _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, default_name, reverse):
    if not callable(fn):
        raise TypeError(f"fn must be callable. Received: {fn}")
    with name_scope(name, default_name, []):
        flat = _flat_elems(elems)
        _, n = _length(flat)
        elems_ta = nest.pack_sequence_as(elems, _unstacked(flat, n))
        if initializer is None:
            a = nest.map_structure(lambda ta: ta.read(n - 1 if reverse else 0), elems_ta)
            i = convert_to_tensor(n - 2 if reverse else 1, dtypes.int32)
        else:
            a = initializer
            i = convert_to_tensor(n - 1 if reverse else 0, dtypes.int32)

        def compute(i, a):
            x = nest.map_structure(lambda ta: ta.read(i), elems_ta)
            return [(i - 1 if reverse else i + 1), fn(a, x)]

        cond = (lambda i, a: i >= 0) if reverse else (lambda i, a: i < n)
        _, r_a = while_loop(cond, compute, [i, a], parallel_iterations=parallel_iterations, back_prop=back_prop,
                            swap_memory=swap_memory, maximum_iterations=n)
        return r_a


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """``fn(...fn(fn(initializer, elems[0]), elems[1])..., elems[n-1])`` (``initializer`` defaults to
    ``elems[0]``, which is then not folded again)."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, "foldl", False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """``foldl`` from the last slice to the first."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, "foldr", True)
