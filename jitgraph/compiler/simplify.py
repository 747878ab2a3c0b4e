"""simplify: constant folding, common-subexpression elimination (CSE) and remapping.

Before: the pruned ops in creation order. After: a ``Simplified`` with fewer ops, ``consts``
(tensor -> folded value, read-only) and the maps that say where each original op and tensor went.

* **Folding** evaluates pure elementwise/reduction/layout ops, ``Fill`` and ``Range`` whose inputs
  are all constants (results of at most ``FOLD_MAX_ELEMENTS``), and ``Shape``/``Size``/``Rank``
  of a value whose static shape is fully known (as Grappler materializes shapes): the gradient
  of a ``Slice`` or ``tf.ones_like`` of a known shape then needs no steps at run time
  (word2vec's ``nce_loss`` step ran 14 NumPy steps on values known before the first run). Not
  in a graph holding an ``Assign`` with ``validate_shape=False``: a variable it writes keeps its
  static shape while its value's changes. Nor the ``Shape`` of ``SumToShape``/``BroadcastTo``
  (``GLUE_TARGETS``), which ``glue`` resolves better.
* **Pass-throughs** (Identity, StopGradient, a Reshape to the same static shape, ``x ** 1.0``)
  disappear: their consumers read the input. ``x ** 2.0`` becomes ``Square(x)`` (``_scalar_exponent``).
* **Remapping** (``remap.py``) replaces op chains a library kernel runs as one op: conv2d / matmul
  + bias (+ relu, relu6, tanh, sigmoid) becomes ``_FusedConv2D`` / ``_FusedMatMul``, SGD's update of
  a segment-sum gradient (an embedding table's) ``_SparseGradientDescent``.
* **CSE** keeps the first of several ops with the same type, the same (already deduplicated)
  inputs and equal attrs, and points the consumers of the others at it. Only ops without side
  effects take part: not stateful, not random, no variable-reference input (so two reads of a
  variable around an assign are never merged) and no control inputs. Library ops (matmul, conv)
  are included: two equal matmuls cost one. Equal small constants merge, so ``x * 2.0`` written
  twice is one multiply. Reads of a variable (a pure op taking its reference as an ordinary
  input) merge when the same writes precede them in program order, the order every read obeys:
  Adam's per-variable ``cast(beta1_power)`` reads, and with them every ``lr_t``, become one.

The user's graph is never mutated (it may be shared by other sessions and threads). An op whose
inputs changed is replaced by a *rewired copy*: same name, type, attrs, creation index and
traceback, new input tensors, new output tensors — like Grappler, which optimizes a copy of the
GraphDef. Consumers of a rewired op are rewired in turn, so every op in the result refers only
to ops in the result. Random streams and variable buffers are keyed by op name / the (never
copied) ``VariableV2`` op, so a copy runs with the same state as its original.
"""

import dataclasses

import numpy as np

from jitgraph.framework.shapes import TensorShape
from jitgraph.compiler import remap
from jitgraph.framework.tensor import Operation
from jitgraph.compiler.order import var_accesses
from jitgraph.ops.registry import get_op_def
from jitgraph.ops.state_ops import variable_of

FOLD_MAX_ELEMENTS = 1 << 16     # 256 KiB of float32: nce_loss's [128, 65] labels of ones fold
PURE_KINDS = {"elementwise", "reduction", "layout"}
CSE_KINDS = PURE_KINDS | {"library"}
CSE_MAX_CONST_ELEMENTS = 1 << 16     # equal constants merge too (``x * 2.0`` twice makes two)


@dataclasses.dataclass
class Simplified:
    ops: list            # the ops to run, in creation order
    consts: dict         # folded tensor -> read-only array
    op_map: dict         # original op -> the op that now stands for it (itself, a copy, or its twin)
    tensor_map: dict     # original tensor -> the tensor that now carries its value (changed ones only)
    aliased: set = dataclasses.field(default_factory=set)   # originals dropped for a value already computed

    def tensor(self, t):
        return self.tensor_map.get(t, t)


def _side_effect_free(op, kinds):
    d = op.op_def
    return (d.kind in kinds and not d.stateful and d.run is None and d.compute is not None
            and not op.control_inputs and not any(t.dtype.is_ref_dtype for t in op.inputs))


def simplify(ops, fetched, fed):
    """Fold constants and merge common subexpressions. Fetched and fed tensors are never folded
    away or merged into a twin; consumers of a fed tensor keep reading it (its value is the feed)."""
    keep, fed = set(fetched) | set(fed), set(fed)
    consts, out, op_map, tmap, aliased = {}, [], {}, {}, set()
    seen = {}                                   # CSE key -> op kept
    epoch = {}                                  # variable -> writes to it so far (program order)
    shapes_hold = _static_shapes_hold(ops)
    glue_targets = {op.inputs[1] for op in ops if op.type in GLUE_TARGETS and len(op.inputs) > 1}
    epilogues = remap.chains(ops, keep)
    absorbed = {op for chain in epilogues.values() for op in chain.absorbed}
    for orig in ops:
        if orig in absorbed:                    # becomes part of the chain's last op, below
            continue
        if orig in epilogues:
            op = _fused(epilogues[orig], tmap, op_map, fed)
        else:
            op = _rewire(orig, tmap, op_map, fed)
        op_map[orig] = op
        kept_outputs = any(t in keep for t in orig.outputs)
        glue_target = any(t in glue_targets for t in orig.outputs)
        folded = None if kept_outputs else _fold(op, consts, shapes_hold and not glue_target)
        if folded is not None:
            consts[op.outputs[0]] = folded
            continue
        if not kept_outputs and op.type == "Pow":
            exponent = _scalar_exponent(op, consts)
            if exponent == 2.0:
                op = op_map[orig] = replace(orig, op, "Square", [op.inputs[0]], tmap, fed)
        same = None if kept_outputs else _passthrough(op, consts)
        if same is not None:
            tmap[orig.outputs[0]] = same
            op_map[orig] = same.op
            aliased.add(orig)
            continue
        key = _cse_key(op, epoch) if not kept_outputs else None
        for var, is_write in var_accesses(orig):
            if is_write:
                epoch[var] = epoch.get(var, 0) + 1
        twin = seen.get(key) if key is not None else None
        if twin is not None:
            for t, u in zip(orig.outputs, twin.outputs):
                tmap[t] = u
            op_map[orig] = twin
            aliased.add(orig)
            continue
        if key is not None:
            seen[key] = op
        out.append(op)
    return Simplified(out, consts, op_map, tmap, aliased)


def _rewire(op, tmap, op_map, fed):
    """``op`` itself if none of its inputs moved, else a copy reading the moved tensors."""
    inputs = [_moved(t, tmap, fed) for t in op.inputs]
    controls = [op_map.get(c, c) for c in op.control_inputs]
    if all(a is b for a, b in zip(inputs, op.inputs)) and all(
            a is b for a, b in zip(controls, op.control_inputs)):
        return op
    return _copy(op, op.op_def, inputs, controls, op.attrs, tmap, fed)


def rewire_shaped(orig, tmap, op_map, fed, shapes):
    """``_rewire`` for the passes after ``shapes``: a copy's outputs take the original's symbolic
    shapes, and ``op_map`` records what stands for ``orig``."""
    op = _rewire(orig, tmap, op_map, fed)
    if op is not orig:
        for t, u in zip(orig.outputs, op.outputs):
            shapes[u] = shapes.get(t)
    op_map[orig] = op
    return op


def _fused(chain, tmap, op_map, fed):
    """The fused op standing for ``chain`` (a ``remap.Epilogue`` or ``remap.SparseUpdate``), named
    as its last op."""
    inputs = [_moved(t, tmap, fed) for t in chain.fused_inputs()]
    controls = [op_map.get(c, c) for c in chain.last.control_inputs]
    new = _copy(chain.last, get_op_def(chain.fused_type), inputs, controls, chain.fused_attrs(), tmap, fed)
    for op in chain.absorbed:
        op_map[op] = new
    return new


def _moved(t, tmap, fed):
    return t if t in fed else tmap.get(t, t)


def replace(orig, op, op_type, inputs, tmap, fed, attrs=None):
    """An ``op_type`` op (with ``attrs``, none by default) standing for ``orig``, whose current
    form is ``op`` (``orig`` itself or a rewired copy): consumers of ``orig``'s outputs read the
    new op's. (Mapping only the copy's outputs left them reading a tensor no step computes.)"""
    new = _copy(op, get_op_def(op_type), inputs, list(op.control_inputs), attrs or {}, tmap, fed)
    tmap.update((t, u) for t, u in zip(orig.outputs, new.outputs) if t not in fed)
    return new


def _copy(op, op_def, inputs, controls, attrs, tmap, fed):
    """A stand-in for ``op`` (same name, creation index, traceback) with new inputs; the consumers
    of ``op``'s outputs are pointed at the copy's."""
    new = stand_in(op, op_def, inputs, controls, attrs, [(t.dtype, t.shape) for t in op.outputs])
    tmap.update((t, u) for t, u in zip(op.outputs, new.outputs) if t not in fed)
    return new


def stand_in(op, op_def, inputs, controls, attrs, output_specs):
    """An ``op_def`` op with ``op``'s name, creation index, traceback and device (so the runner's
    names stay unique), and outputs of ``output_specs``; nothing is pointed at it."""
    new = Operation(op.graph, op.name, op_def, inputs, list(controls), attrs, output_specs)
    new._id, new._traceback, new._device = op._id, op.traceback, op.device
    return new


SHAPE_QUERIES = {"Shape", "Size", "Rank"}
FOLDABLE_SOURCES = {"Fill", "Range"}      # pure source ops: constants when their inputs are
# ``Shape(x)`` as the target of these stays an op: ``glue`` compares x's symbolic shape with the
# gradient's and drops both ops, or makes the broadcast a fused ``_BroadcastLike(g, x)``
GLUE_TARGETS = {"SumToShape", "BroadcastTo"}


def changes_a_shape(op):
    """Whether ``op`` may give a variable another shape than its declared one (an ``Assign`` with
    ``validate_shape=False``): static shapes then no longer tell run-time shapes."""
    return op.type == "Assign" and op.attrs.get("validate_shape") is False


def _static_shapes_hold(ops):
    """Whether static shapes tell run-time shapes in ``ops``' graph: not when an op anywhere in it
    ``changes_a_shape`` (linear in the graph, once)."""
    graph = ops[0].graph if ops else None
    return graph is None or not any(map(changes_a_shape, graph.get_operations()))


def _fold(op, consts, shapes_hold=False):
    """The folded value of ``op``'s single output, or None."""
    vals = _fold_inputs(op, consts, shapes_hold)
    if vals is None or op.outputs[0].shape.ndims is None:
        return None
    static = op.outputs[0].shape
    if static.is_fully_defined() and int(np.prod(static.as_list() or [1])) > FOLD_MAX_ELEMENTS:
        return None
    try:
        with np.errstate(all="ignore"):
            r = op.op_def.compute(*vals, **op.attrs)
        r = np.asarray(r, dtype=op.outputs[0].dtype.base_dtype.as_np)
    except Exception:   # noqa: BLE001 - folding is an optimization; the step will raise at run time
        return None
    if r.size > FOLD_MAX_ELEMENTS or not static.is_compatible_with(r.shape):
        return None
    r.flags.writeable = False
    return r


def _fold_inputs(op, consts, shapes_hold):
    """The values to fold ``op`` with, or None: its constant inputs; for a shape query of a fully
    known static shape (``shapes_hold``), a zero-strided stand-in of that shape."""
    if len(op.outputs) != 1 or op.control_inputs or not op.inputs:
        return None
    if op.type in SHAPE_QUERIES and shapes_hold and len(op.inputs) == 1:
        x = op.inputs[0]
        known = x.shape.ndims is not None if op.type == "Rank" else x.shape.is_fully_defined()
        if not known or x.dtype.is_ref_dtype:
            return None
        return [np.broadcast_to(np.zeros((), np.float32), x.shape.as_list())]
    if not (_side_effect_free(op, PURE_KINDS) or op.type in FOLDABLE_SOURCES):
        return None
    vals = [consts.get(t, t.op.get_attr("value") if t.op.type == "Const" else None) for t in op.inputs]
    return None if any(v is None for v in vals) else vals


def _scalar_exponent(op, consts):
    """The exponent of a floating ``Pow(x, c)`` whose ``c`` is a one-element constant that does not
    change x's shape by broadcasting, as a float, else None.  ``x ** 2`` (squared errors) and its
    gradient's ``x ** 1`` are common; as ``**`` with an operand exponent they lower to a scalar
    ``powf`` call that keeps the loop from vectorizing (P3, the autoencoder: 4.2 ms for the last
    layer's kernel).  ``Square`` (x * x, the same correctly rounded value as ``np.power(x, 2.0)``)
    and the identity do not."""
    x, c = op.inputs
    if not _side_effect_free(op, PURE_KINDS) or not x.dtype.base_dtype.is_floating:
        return None
    v = consts.get(c, c.op.get_attr("value") if c.op.type == "Const" else None)
    if v is None or np.size(v) != 1 or x.shape.ndims is None or np.ndim(v) > x.shape.ndims:
        return None
    return float(np.reshape(v, ()))


def _passthrough(op, consts=None):
    """The input whose value ``op`` returns unchanged, or None: Identity and StopGradient of a
    value (not of a variable reference: that is a read), a Reshape to the shape it already has,
    and ``Pow(x, 1.0)`` (``_scalar_exponent``)."""
    if op.type == "Pow" and consts is not None and _scalar_exponent(op, consts) == 1.0:
        return op.inputs[0] if op.inputs[0].dtype == op.outputs[0].dtype else None
    if op.type not in ("Identity", "StopGradient", "Reshape") or not _side_effect_free(op, PURE_KINDS):
        return None
    x, y = op.inputs[0], op.outputs[0]
    if op.type == "Reshape" and not (x.shape.is_fully_defined() and x.shape.as_list() == y.shape.as_list()):
        return None
    return x if x.dtype == y.dtype else None


def _cse_key(op, epoch):
    """A hashable description of what ``op`` computes, or None if it must not be merged. A read
    of a variable is described by the variable and how many writes to it precede the read."""
    reads = ()
    if op.type == "Const":
        if op.control_inputs or op.get_attr("value").size > CSE_MAX_CONST_ELEMENTS:
            return None
    elif not _side_effect_free(op, CSE_KINDS):
        reads = _pure_reads(op)
        if reads is None:
            return None
        reads = tuple((var._id, epoch.get(var, 0)) for var in reads)
    try:
        attrs = tuple(sorted((k, _frozen(v)) for k, v in op.attrs.items()))
        inputs = tuple(id(t) if not t.dtype.is_ref_dtype else None for t in op.inputs)
        key = (op.type, inputs, attrs, reads)
        hash(key)
    except TypeError:
        return None
    return key


def _pure_reads(op):
    """The variables a pure op reads through reference inputs (dereferenced, never written), or
    None if the op is not such a read."""
    d = op.op_def
    if d.kind not in CSE_KINDS or d.stateful or d.run is not None or d.compute is None or op.control_inputs:
        return None
    out = []
    for i, t in enumerate(op.inputs):
        if t.dtype.is_ref_dtype:
            var = variable_of(t)
            if var is None or i in d.ref_inputs or t.op is not var:
                return None
            out.append(var)
    return out


def _frozen(v):
    if isinstance(v, np.ndarray):
        return ("ndarray", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, TensorShape):
        return ("shape", None if v.ndims is None else tuple(d.value for d in v.dims))
    if isinstance(v, dict):
        return tuple(sorted((k, _frozen(x)) for k, x in v.items()))
    return v
