"""Array ops: shape, stack. (Reshape, transpose, concat, slicing … join here.)"""

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

define_op("Shape", kind="layout",
          infer=lambda ins, a: [(a["out_type"], [ins[0].shape.ndims])],
          compute=lambda x, out_type: np.array(x.shape, dtype=out_type.as_np))


def shape(input, name=None, out_type=dtypes.int32):
    """The dynamic shape of ``input`` as a 1-D int32 tensor."""
    x = convert_to_tensor(input)
    return make_op("Shape", [x], {"out_type": dtypes.as_dtype(out_type)}, name or "Shape").outputs[0]


def _pack_infer(ins, a):
    if not ins:
        raise ValueError("stack needs at least one tensor")
    dt = ins[0].dtype.base_dtype
    shape = TensorShape(None)
    for t in ins:
        if t.dtype.base_dtype != dt:
            raise TypeError(f"Tensors in list passed to 'values' of 'Pack' Op have types "
                            f"[{', '.join(x.dtype.base_dtype.name for x in ins)}] that don't all match.")
        shape = shape.merge_with(t.shape)
    if shape.ndims is None:
        return [(dt, TensorShape(None))]
    dims = shape.as_list()
    axis = a["axis"]
    if not -len(dims) - 1 <= axis <= len(dims):
        raise ValueError(f"Argument `axis` = {axis} not in range [{-len(dims) - 1}, {len(dims) + 1})")
    axis = axis % (len(dims) + 1)
    a["axis"] = axis
    return [(dt, dims[:axis] + [len(ins)] + dims[axis:])]


define_op("Pack", _pack_infer, lambda *xs, axis: np.stack(xs, axis=axis), kind="layout")


def stack(values, axis=0, name="stack"):
    """Stack rank-R tensors into one rank-(R+1) tensor along ``axis``."""
    ts = [convert_to_tensor(v) for v in values]
    return make_op("Pack", ts, {"axis": axis}, name).outputs[0]
