"""``tf.TensorArray``: a list of same-dtype tensors, built in loops and read back.

Value semantics (TF2's TensorList, with TF1's rules): the array is one ``variant`` tensor (the
``flow``); ``write``/``scatter``/``unstack``/``split`` return a new ``TensorArray`` whose flow is a
new value, and reads take the flow they are given, so the order of reads and writes is the
dataflow order (a TF1 program must use ``ta = ta.write(...)`` for the same reason). The runtime
value is a ``TAValue`` in a 0-d object array. TF1's errors: writing an index twice, writing past
the size of a fixed-size array, reading an index that was never written (zeros when the element
shape is fully known), reading a cleared element again (``clear_after_read``, the default).
Gradients are dense: the gradient of an array of n elements of shape S is one ``[n, *S]`` tensor
(``tensor_array_grad.py``).
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.api_graph import name_scope
from jitgraph.control_flow.tape import box, unbox
from jitgraph.framework.shapes import TensorShape, as_shape
from jitgraph.ops.registry import constant_value, convert_to_tensor, define_op, make_op

__all__ = ["TensorArray"]


class TAValue:
    """The runtime contents of a TensorArray: ``items[i]`` is an array or None (unwritten);
    ``cleared[i]`` marks elements read with ``clear_after_read``."""

    __slots__ = ("items", "cleared", "dtype", "element_shape", "dynamic", "clear_after_read")

    def __init__(self, items, dtype, element_shape, dynamic, clear_after_read, cleared=None):
        self.items, self.dtype, self.element_shape = items, dtype, element_shape
        self.dynamic, self.clear_after_read = dynamic, clear_after_read
        self.cleared = cleared if cleared is not None else [False] * len(items)

    def copy(self):
        return TAValue(list(self.items), self.dtype, self.element_shape, self.dynamic, self.clear_after_read,
                       list(self.cleared))

    def zeros(self):
        """The value of an unwritten element, or None when the element shape is not fully known."""
        s = self.element_shape
        if s is None or any(d is None for d in s):
            return None
        return np.zeros(s, self.dtype)


def _ta(a):
    return unbox(a)


def _bad(message):
    raise errors.InvalidArgumentError(None, None, message)


def _create(size, dtype, element_shape, dynamic_size, clear_after_read, tensor_array_name=""):
    n = int(size)
    if n < 0:
        _bad(f"Size should be >= 0, got {n}")
    shape = None if element_shape.ndims is None else tuple(element_shape.as_list())
    return box(TAValue([None] * n, dtype.as_np, shape, dynamic_size, clear_after_read))


def _write(ta, index, value, name=""):
    ta = _ta(ta).copy()
    i = int(index)
    _store(ta, i, np.asarray(value, ta.dtype), "write to")
    return box(ta)


def _store(ta, i, value, what):
    n = len(ta.items)
    if i < 0:
        _bad(f"Tried to {what.split()[0]} to index {i} but array size is: {n}")
    if i >= n:
        if not ta.dynamic:
            _bad(f"Tried to write to index {i} but array is not resizeable and size is: {n}")
        ta.items.extend([None] * (i + 1 - n))
        ta.cleared.extend([False] * (i + 1 - n))
    if ta.items[i] is not None or ta.cleared[i]:
        _bad(f"Could not write to TensorArray index {i} because it has already been written to.")
    if ta.element_shape is not None and not _compatible(value.shape, ta.element_shape):
        _bad(f"Could not write to TensorArray index {i} because the value shape is {list(value.shape)} which is "
             f"incompatible with the TensorArray's inferred element shape: {list(ta.element_shape)} "
             f"(consider setting infer_shape=False).")
    ta.items[i] = value


def _compatible(shape, spec):
    return len(shape) == len(spec) and all(s is None or s == d for d, s in zip(shape, spec))


def _load(ta, i):
    n = len(ta.items)
    if not 0 <= i < n:
        _bad(f"Tried to read from index {i} but array size is: {n}")
    if ta.cleared[i]:
        _bad(f"Could not read index {i} twice because it was cleared after a previous read (perhaps try "
             f"setting clear_after_read = false?)")
    v = ta.items[i]
    if v is None:
        v = ta.zeros()
        if v is None:
            _bad(f"Could not read from TensorArray index {i}.  Furthermore, the element shape is not fully "
                 f"defined: {_shape_text(ta.element_shape)}.  If you set the full element_shape property on "
                 f"the forward TensorArray, the proper all-zeros tensor will be returned instead of incurring "
                 f"this error.")
    elif ta.clear_after_read:
        ta.items[i], ta.cleared[i] = None, True   # (the runtime value is shared by its readers, as TF's)
    return v


def _shape_text(s):
    return "<unknown>" if s is None else "[" + ",".join("?" if d is None else str(d) for d in s) + "]"


def _with_shape(ta, element_shape):
    """``ta`` knowing the element shape the graph inferred (after the array was created)."""
    ta = _ta(ta)
    if ta.element_shape is None and element_shape is not None and element_shape.is_fully_defined():
        ta.element_shape = tuple(element_shape.as_list())
    return ta


def _read(ta, index, dtype, element_shape=None):
    return _load(_with_shape(ta, element_shape), int(index))


def _gather(ta, indices, dtype, element_shape=None):
    ta = _with_shape(ta, element_shape)
    vals = [_load(ta, int(i)) for i in np.asarray(indices).reshape(-1)]
    if not vals:
        z = ta.zeros()
        if z is None:
            _bad("TensorArray has size zero, but element shape <unknown> is not fully defined. Currently only "
                 "static shapes are supported when packing zero-size TensorArrays.")
        return np.zeros((0,) + z.shape, ta.dtype)
    shapes = {v.shape for v in vals}
    if len(shapes) > 1:
        _bad(f"TensorArray has inconsistent shapes: {sorted(shapes)}")
    return np.stack(vals)


def _pack(ta, dtype, element_shape=None, size=None):
    return _gather(ta, np.arange(len(_ta(ta).items)), dtype, element_shape)


def _scatter(ta, indices, value, name=""):
    ta = _ta(ta).copy()
    idx = np.asarray(indices).reshape(-1)
    if len(idx) != np.shape(value)[0]:
        _bad(f"Expected len(indices) == values.shape[0], but saw: {len(idx)} vs. {np.shape(value)[0]}")
    for i, v in zip(idx, np.asarray(value, ta.dtype)):
        _store(ta, int(i), v, "write to")
    return box(ta)


def _unpack(ta, value, name=""):
    value = np.asarray(value)
    n = len(_ta(ta).items)
    if value.ndim == 0:
        _bad("Input value for TensorArrayUnstack must be at least a vector")
    if not _ta(ta).dynamic and value.shape[0] > n:
        _bad(f"Tried to write to index {n} but array is not resizeable and size is: {n}")
    return _scatter(ta, np.arange(value.shape[0]), value)


def _concat(ta, dtype, element_shape_except0=None):
    ta = _ta(ta)
    vals = [_load(ta, i) for i in range(len(ta.items))]
    if not vals:
        rest = element_shape_except0
        return np.zeros((0,) + tuple(rest or ()), ta.dtype), np.zeros((0,), np.int64)
    return np.concatenate(vals), np.array([v.shape[0] for v in vals], np.int64)


def _split(ta, value, lengths, name=""):
    ta = _ta(ta).copy()
    lengths = np.asarray(lengths).reshape(-1)
    value = np.asarray(value, ta.dtype)
    if lengths.sum() != value.shape[0]:
        _bad(f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths is {lengths.sum()} "
             f"and value's shape is: {list(value.shape)}")
    if not ta.dynamic and len(lengths) > len(ta.items):
        _bad(f"Expected lengths to be a vector of length {len(ta.items)} but it has length {len(lengths)}")
    for i, part in enumerate(np.split(value, np.cumsum(lengths)[:-1])):
        _store(ta, i, part, "write to")
    return box(ta)


def _size(ta):
    return np.int32(len(_ta(ta).items))


_V = (dtypes.variant, TensorShape([]))
define_op("TensorArrayV3", kind="tensor_array", compute=_create, infer=lambda ins, a: [_V])
define_op("TensorArrayWriteV3", kind="tensor_array", compute=_write, infer=lambda ins, a: [_V])
define_op("TensorArrayScatterV3", kind="tensor_array", compute=_scatter, infer=lambda ins, a: [_V])
define_op("TensorArrayUnpack", kind="tensor_array", compute=_unpack, infer=lambda ins, a: [_V])
define_op("TensorArraySplitV3", kind="tensor_array", compute=_split, infer=lambda ins, a: [_V])
define_op("TensorArrayReadV3", kind="tensor_array", compute=_read,
          infer=lambda ins, a: [(a["dtype"], a["element_shape"])])
define_op("TensorArrayGatherV3", kind="tensor_array", compute=_gather,
          infer=lambda ins, a: [(a["dtype"], TensorShape([None]).concatenate(a["element_shape"]))])
define_op("TensorArrayPack", kind="tensor_array", compute=_pack,
          infer=lambda ins, a: [(a["dtype"], TensorShape([a.get("size")]).concatenate(a["element_shape"]))])
define_op("TensorArrayConcatV3", kind="tensor_array", compute=_concat,
          infer=lambda ins, a: [(a["dtype"], TensorShape([None]).concatenate(a["element_shape_except0"])),
                                (dtypes.int64, TensorShape([None]))])
define_op("TensorArraySizeV3", kind="tensor_array", compute=_size,
          infer=lambda ins, a: [(dtypes.int32, TensorShape([]))])


def _grad(name):
    def grad(op, *grads):
        from jitgraph.control_flow import tensor_array_grad
        return getattr(tensor_array_grad, name)(op, *grads)
    return grad


for _t, _g in (("TensorArrayWriteV3", "write_grad"), ("TensorArrayScatterV3", "scatter_grad"),
               ("TensorArrayUnpack", "unpack_grad"), ("TensorArrayReadV3", "read_grad"),
               ("TensorArrayGatherV3", "gather_grad"), ("TensorArrayPack", "pack_grad"),
               ("TensorArraySplitV3", "split_grad"), ("TensorArrayConcatV3", "concat_grad")):
    from jitgraph.ops.registry import OPS
    OPS[_t].grad = _grad(_g)


class TensorArray:
    """A list of tensors of one dtype with dynamic size (TF1's ``tf.TensorArray``). ::

        ta = tf.TensorArray(tf.float32, size=3)
        ta = ta.write(0, x).write(1, y).write(2, z)   # writes return the new array
        stacked = ta.stack()                           # [3, ...]
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape=True, element_shape=None, colocate_with_first_write_call=True,
                 name=None):
        if handle is not None:
            raise ValueError("jitgraph TensorArrays are values: build them from a size, not a handle")
        if size is None:
            raise ValueError("Size must be provided if handle is not provided")
        self._dtype = dtypes.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = infer_shape
        self._element_shape = [as_shape(element_shape)]
        with name_scope(name, "TensorArray", []) as scope:
            self._size = convert_to_tensor(size, dtypes.int32, name="size")
            if flow is None:
                flow = make_op("TensorArrayV3", [self._size], {
                    "dtype": self._dtype, "element_shape": self._element_shape[0], "dynamic_size": self._dynamic_size,
                    "clear_after_read": self._clear_after_read, "tensor_array_name": tensor_array_name or ""},
                    scope).outputs[0]
        self._flow = flow

    def _with_flow(self, flow):
        ta = TensorArray.__new__(TensorArray)
        ta.__dict__.update(self.__dict__)
        ta._flow = flow
        return ta

    dtype = property(lambda self: self._dtype)
    flow = property(lambda self: self._flow)
    handle = property(lambda self: self._flow)
    dynamic_size = property(lambda self: self._dynamic_size)

    @property
    def element_shape(self):
        return self._element_shape[0]

    def _check_element_shape(self, shape):
        if not shape.is_compatible_with(self.element_shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self.element_shape} ")
        if self._infer_shape:
            self._element_shape[0] = self.element_shape.merge_with(shape)

    def _value(self, value):
        value = convert_to_tensor(value, preferred_dtype=self._dtype, name="value")
        if value.dtype.base_dtype != self._dtype:
            raise errors.InvalidArgumentError(
                None, None, f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype "
                            f"{value.dtype.base_dtype.name}.")
        return value

    def identity(self):
        return self._with_flow(self._flow)

    def read(self, index, name=None):
        """The element at ``index``."""
        return make_op("TensorArrayReadV3", [self._flow, convert_to_tensor(index, dtypes.int32)],
                       {"dtype": self._dtype, "element_shape": self.element_shape}, name or "TensorArrayReadV3").outputs[0]

    def write(self, index, value, name=None):
        """A new TensorArray with ``value`` at ``index``."""
        with name_scope(name, "TensorArrayWrite", []):
            value = self._value(value)
            self._check_element_shape(value.shape)
            flow = make_op("TensorArrayWriteV3", [self._flow, convert_to_tensor(index, dtypes.int32), value], {},
                           "TensorArrayWriteV3").outputs[0]
        return self._with_flow(flow)

    def stack(self, name=None):
        """All elements stacked along a new first axis."""
        with name_scope(name, "TensorArrayStack", []):
            size = constant_value(self._size) if not self._dynamic_size else None
            return make_op("TensorArrayPack", [self._flow], {
                "dtype": self._dtype, "element_shape": self.element_shape,
                "size": None if size is None else int(size)}, "TensorArrayGatherV3").outputs[0]

    def gather(self, indices, name=None):
        """The elements at ``indices``, stacked."""
        return make_op("TensorArrayGatherV3", [self._flow, convert_to_tensor(indices, dtypes.int32)],
                       {"dtype": self._dtype, "element_shape": self.element_shape},
                       name or "TensorArrayGatherV3").outputs[0]

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        rest = self.element_shape[1:] if self.element_shape.ndims else TensorShape(None)
        return make_op("TensorArrayConcatV3", [self._flow], {"dtype": self._dtype, "element_shape_except0": rest},
                       name or "TensorArrayConcatV3").outputs[0]

    def unstack(self, value, name=None):
        """A new TensorArray whose element i is ``value[i]``."""
        with name_scope(name, "TensorArrayUnstack", []):
            value = self._value(value)
            if value.shape.ndims is not None and value.shape.ndims > 0:
                self._check_element_shape(value.shape[1:])
            flow = make_op("TensorArrayUnpack", [self._flow, value], {}, "TensorArrayScatter/TensorArrayScatterV3")
        return self._with_flow(flow.outputs[0])

    def scatter(self, indices, value, name=None):
        """A new TensorArray with ``value[j]`` at ``indices[j]``."""
        with name_scope(name, "TensorArrayScatter", []):
            value = self._value(value)
            if value.shape.ndims is not None and value.shape.ndims > 0:
                self._check_element_shape(value.shape[1:])
            flow = make_op("TensorArrayScatterV3", [self._flow, convert_to_tensor(indices, dtypes.int32), value],
                           {}, "TensorArrayScatterV3")
        return self._with_flow(flow.outputs[0])

    def split(self, value, lengths, name=None):
        """A new TensorArray holding consecutive pieces of ``value`` of ``lengths`` rows."""
        with name_scope(name, "TensorArraySplit", []):
            value = convert_to_tensor(value, self._dtype, name="value")
            lengths = convert_to_tensor(lengths, dtypes.int64)
            c = constant_value(lengths)
            if c is not None and value.shape.ndims is not None and c.size and c.max() == c.min():
                self._check_element_shape(TensorShape([int(c.reshape(-1)[0])]).concatenate(value.shape[1:]))
            flow = make_op("TensorArraySplitV3", [self._flow, value, lengths], {}, "TensorArraySplitV3")
        return self._with_flow(flow.outputs[0])

    def size(self, name=None):
        """The number of elements (a fixed size is the ``size`` the array was made with)."""
        if not self._dynamic_size:
            return self._size
        return make_op("TensorArraySizeV3", [self._flow], {}, name or "TensorArraySizeV3").outputs[0]

    def close(self, name=None):
        from jitgraph.ops.control_ops import no_op
        return no_op(name=name or "TensorArrayCloseV3")

    def __repr__(self):
        return f"<TensorArray dtype={self._dtype.name} element_shape={self.element_shape} flow={self._flow.name}>"
