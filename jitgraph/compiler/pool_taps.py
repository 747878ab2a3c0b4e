"""pool_taps: a max pool whose gradient would read its input again records its windows' winners.

Before: the simplified ops. After: a ``Simplified`` (as ``simplify`` returns) in which each
``MaxPool`` with 2x2 windows at stride 2 that tile its NHWC float input exactly (even height and
width known at build time), whose output a ``MaxPoolGrad(x, y, g)`` reads together with its input
``x``, is a ``_MaxPoolTaps`` (outputs: the pool, and per output the window tap that gets the
gradient), and each such ``MaxPoolGrad`` is a ``_MaxPoolGradTaps(taps, g)``
(``ops/nn_pool_taps.py``). Values are unchanged: the taps follow MaxPoolGrad's own rules.

Why: ``MaxPoolGrad`` finds each window's maximum again, reading the pool's whole input, which a
training step computed long before (out of cache by then), and nothing else reads it in the
backward pass. The taps are one byte per output. TF's oneDNN pool keeps the same record (its
"workspace") between the forward and the backward pool: in TF's trace of P8 (the CIFAR batch-norm
CNN) its two MaxPoolGrads took 0.43 ms a step, jitgraph's 1.3 ms.

Cost: one walk over the ops to find the pairs, one to rewrite them: linear.
"""

from jitgraph import dtypes
from jitgraph.compiler.simplify import Simplified, _rewire, replace
from jitgraph.framework.tensor import Operation
from jitgraph.ops.nn_pool_taps import tiles_2x2
from jitgraph.ops.registry import get_op_def

_ATTRS = ("ksize", "strides", "padding", "data_format")


def pool_taps(ops, fetched, fed):
    """Rewrite max pools and their gradients into ``_MaxPoolTaps`` / ``_MaxPoolGradTaps`` pairs
    (module doc). ``fetched`` is unused: a fetched pool output is the new op's first output."""
    fed = set(fed)
    pools = {op.inputs[1].op for op in ops if op.type == "MaxPoolGrad" and _pair(op, fed)}
    if not pools:
        return Simplified(list(ops), {}, {op: op for op in ops}, {})
    taps_def = get_op_def("_MaxPoolTaps")
    out, op_map, tmap = [], {}, {}
    for orig in ops:
        op = _rewire(orig, tmap, op_map, fed)
        if orig in pools:
            y = op.outputs[0]
            new = Operation(op.graph, op.name, taps_def, list(op.inputs), list(op.control_inputs), dict(op.attrs),
                            [(y.dtype, y.shape), (dtypes.int8, y.shape)])
            new._id, new._traceback, new._device = op._id, op.traceback, op.device
            tmap[orig.outputs[0]] = new.outputs[0]
            op = new
        elif orig.type == "MaxPoolGrad" and _pair(orig, fed) and orig.inputs[1].op in pools:
            taps = op_map[orig.inputs[1].op].outputs[1]
            op = replace(orig, op, "_MaxPoolGradTaps", [taps, op.inputs[2]], tmap, fed,
                         {k: op.attrs[k] for k in _ATTRS})
        op_map[orig] = op
        out.append(op)
    return Simplified(out, {}, op_map, tmap)


def _pair(grad, fed):
    """Is ``grad`` (a MaxPoolGrad) the gradient of the MaxPool of its input, with windows the
    taps can record?"""
    x, y = grad.inputs[0], grad.inputs[1]
    pool = y.op
    return (pool.type == "MaxPool" and pool.inputs[0] is x and y not in fed
            and all(pool.attrs.get(k) == grad.attrs.get(k) for k in _ATTRS)
            and x.dtype.base_dtype in (dtypes.float32, dtypes.float64) and x.shape.ndims == 4
            and tiles_2x2(x.shape.as_list(), pool.attrs))
