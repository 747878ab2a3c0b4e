"""Variable state: ``VariableV2`` (a reference-typed output), ``Assign``/``AssignAdd``/``AssignSub``,
``IsVariableInitialized`` and ``InitializedValue``.

A variable's value lives in the session's ``VariableStore``, not in the graph. A tensor of a
``*_ref`` dtype stands for the variable itself; an op that takes it as an ordinary input reads
the variable's value **when that op runs** (program order, see ``jitgraph/runtime/reference.py``).
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op


class VarRef:
    """Runtime value of a ref tensor: the variable op whose buffer it names."""

    __slots__ = ("var",)

    def __init__(self, var):
        self.var = var


def variable_of(tensor):
    """The ``VariableV2`` op behind a ref tensor (through assigns), or None."""
    op = tensor.op
    while op.type != "VariableV2":
        if op.op_def.ref_inputs and 0 in op.op_def.ref_inputs and op.type.startswith("Assign"):
            op = op.inputs[0].op
        else:
            return None
    return op


define_op("VariableV2", kind="state", stateful=True,
          infer=lambda ins, a: [(a["dtype"]._as_ref, a["shape"])],
          run=lambda ctx, op, ins: [VarRef(op)])


def variable_op(shape, dtype, name, container="", shared_name=""):
    return make_op("VariableV2", [], {"shape": TensorShape(shape), "dtype": dtypes.as_dtype(dtype).base_dtype,
                                      "container": container, "shared_name": shared_name}, name)


def _assign_infer(op_type):
    def infer(ins, a):
        ref, value = ins
        if not ref.dtype.is_ref_dtype:
            raise TypeError(f"{op_type} requires a variable reference as its first input, got {ref.dtype.name}")
        if value.dtype.base_dtype != ref.dtype.base_dtype:
            raise TypeError(f"Input 'value' of '{op_type}' Op has type {value.dtype.base_dtype.name} that does "
                            f"not match type {ref.dtype.name} of argument 'ref'.")
        if a.get("validate_shape", True) and not ref.shape.is_compatible_with(value.shape):
            raise ValueError(f"Shapes {ref.shape} and {value.shape} are incompatible")
        out_shape = ref.shape if a.get("validate_shape", True) else value.shape
        if op_type == "Assign" and a.get("validate_shape", True):
            out_shape = ref.shape.merge_with(value.shape)
        return [(ref.dtype, out_shape)]
    return infer


def _assign_run(update):
    def run(ctx, op, ins):
        ref, value = ins
        var = ref.var
        if update is None:
            new = np.array(value, dtype=var.get_attr("dtype").as_np, copy=True)
            if op.get_attr("validate_shape") and new.shape != ctx.store.shape_of(var, new.shape):
                raise errors.InvalidArgumentError(
                    None, op, f"Assign requires shapes of both tensors to match. lhs shape= "
                              f"{list(ctx.store.shape_of(var, new.shape))} rhs shape= {list(new.shape)} "
                              f"(variable '{var.name}', op '{op.name}')")
        else:
            old = ctx.store.get(var)
            with np.errstate(all="ignore"):
                new = update(old, value).astype(old.dtype, copy=False)   # (a new array already)
            if new.shape != old.shape or np.shape(value) != old.shape:   # TF: same shape, no broadcast
                raise errors.InvalidArgumentError(
                    None, op, f"{op.type}: cannot update variable '{var.name}' of shape {list(old.shape)} "
                              f"with a value of shape {list(np.shape(value))}")
        ctx.store.set(var, new)
        return [ref]
    return run


define_op("Assign", _assign_infer("Assign"), kind="state", stateful=True, ref_inputs=(0,), ref_writes=True,
          ref_initializes=True, run=_assign_run(None))
define_op("AssignAdd", _assign_infer("AssignAdd"), kind="state", stateful=True, ref_inputs=(0,), ref_writes=True,
          ref_requires_init=True, run=_assign_run(np.add))
define_op("AssignSub", _assign_infer("AssignSub"), kind="state", stateful=True, ref_inputs=(0,), ref_writes=True,
          ref_requires_init=True, run=_assign_run(np.subtract))


def _ref_of(ref):
    from jitgraph.variables.variables import Variable   # variables sit above ops
    if isinstance(ref, Variable):
        return ref._ref()
    if hasattr(ref, "_ref"):
        return ref._ref()
    if not getattr(getattr(ref, "dtype", None), "is_ref_dtype", False):
        raise TypeError(f"'ref' must be a variable or a reference tensor, got {ref!r}")
    return ref


def _assign_op(op_type, ref, value, validate_shape=True, use_locking=None, name=None):
    r = _ref_of(ref)
    v = _value_for(r, value, op_type)
    return make_op(op_type, [r, v], {"validate_shape": validate_shape if validate_shape is not None else True,
                                     "use_locking": bool(use_locking)}, name or op_type).outputs[0]


def _value_for(ref, value, op_type):
    from jitgraph.ops.registry import _convert_python_operand, Tensor
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        return convert_to_tensor(value)
    return _convert_python_operand(value, ref.dtype.base_dtype, op_type)


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Set ``ref`` to ``value``; the result is the variable, holding the new value."""
    return _assign_op("Assign", ref, value, validate_shape, use_locking, name)


def assign_add(ref, value, use_locking=None, name=None):
    """``ref += value``; the result holds the new value."""
    return _assign_op("AssignAdd", ref, value, True, use_locking, name)


def assign_sub(ref, value, use_locking=None, name=None):
    """``ref -= value``; the result holds the new value."""
    return _assign_op("AssignSub", ref, value, True, use_locking, name)


define_op("IsVariableInitialized", kind="state", stateful=True, ref_inputs=(0,),
          infer=lambda ins, a: [(dtypes.bool, TensorShape([]))],
          run=lambda ctx, op, ins: [np.array(ctx.store.is_initialized(ins[0].var))])


def is_variable_initialized(variable):
    """A scalar bool tensor: is ``variable`` initialized in the running session?"""
    return make_op("IsVariableInitialized", [_ref_of(variable)], {}, "IsVariableInitialized").outputs[0]


def _initialized_value_run(ctx, op, ins):
    ref, initial = ins
    if ctx.store.is_initialized(ref.var):
        return [ctx.store.get(ref.var)]
    return [initial]


define_op("InitializedValue", kind="state", stateful=True, ref_inputs=(0,),
          infer=lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)],
          run=_initialized_value_run)


def initialized_value(ref, initial_value, name=None):
    """The variable's value if it is initialized, else ``initial_value`` (TF's ``cond`` on
    ``is_variable_initialized``)."""
    return make_op("InitializedValue", [ref, initial_value], {}, name or "cond/Merge").outputs[0]


def initialized_by(ops):
    """The variables an op of ``ops`` initializes (``assign``): fetching such a variable in the
    same run is fine even if it starts uninitialized."""
    out = set()
    for op in ops:
        if op.op_def.ref_initializes:
            var = variable_of(op.inputs[0])
            if var is not None:
                out.add(var)
    return out


# ---- count_up_to (TF1's epoch counters: tf.train.limit_epochs) ----------------------------------
def _count_up_to_run(ctx, op, ins):
    var = ins[0].var
    old = ctx.store.get(var)
    limit = op.get_attr("limit")
    if int(old) >= limit:
        raise errors.OutOfRangeError(None, op, f"Reached limit of {limit}")
    ctx.store.set(var, np.array(old + 1, dtype=old.dtype))   # a new buffer: rollback keeps the old one
    return [np.array(old, copy=True)]


def _count_up_to_infer(ins, a):
    ref = ins[0]
    if not ref.dtype.is_ref_dtype or ref.dtype.base_dtype.name not in ("int32", "int64"):
        raise TypeError(f"count_up_to needs an int32 or int64 variable, got {ref.dtype.name}")
    if ref.shape.ndims not in (None, 0):
        raise ValueError(f"count_up_to needs a scalar variable, got shape {ref.shape}")
    return [(ref.dtype.base_dtype, TensorShape([]))]


define_op("CountUpTo", _count_up_to_infer, kind="state", stateful=True, ref_inputs=(0,), ref_requires_init=True,
          ref_writes=True, run=_count_up_to_run, grad=lambda op, *g: [None])


def count_up_to(ref, limit, name=None):
    """Increment the integer variable ``ref`` until it reaches ``limit``; returns the value before
    the increment. Once ``ref`` is at ``limit``, running it raises ``OutOfRangeError``."""
    return make_op("CountUpTo", [_ref_of(ref)], {"limit": int(limit)}, name or "CountUpTo").outputs[0]
