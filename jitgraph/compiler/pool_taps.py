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

A ReLU's gradient after such a pool's, ``SelectV2(Greater(y, 0), MaxPoolGrad(y, pool, g), 0)``
with y the pool's input, masks the scattered gradient on the pool's *input* grid and reads all of
y again. At a window's winning tap y holds the pool's value (the taps pick the maximum the pool
outputs; NaN wins in neither), and off the taps the scattered gradient is zero, so the same mask
applies to g on the pool's *output* grid before the scatter: ``_MaxPoolGradTaps(taps,
SelectV2(Greater(pool, 0), g, 0))``, a quarter of the elements and no read of y. A bias gradient
of the masked value (``BiasAddGrad`` NHWC, or a ``Sum`` over every axis but the channels') sums
the same nonzero values on the small grid (in another order: float rounding may differ), so it
reads the small mask instead of the scattered gradient and fuses with it. In P1's first layer the
ReLU-gradient kernel read 25.6 MB and wrote 12.8 MB a step.

Cost: one walk over the ops to find the pairs and count consumers, one to rewrite them: linear.
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.compiler.simplify import Simplified, _moved, _rewire, replace, stand_in
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
    masks = _relu_masks(ops, pools, set(fetched) | fed, fed)
    made_at_select = {op for parts in masks.values() for op in parts}
    small = {}                        # a masked gradient (SelectV2 output) -> its mask on the pool grid
    out, op_map, tmap = [], {}, {}
    for orig in ops:
        if orig in made_at_select:
            continue
        if orig in masks:
            out.extend(_mask_before_scatter(orig, *masks[orig], op_map, tmap, fed, small))
            continue
        op = _rewire(orig, tmap, op_map, fed)
        if orig.inputs and orig.inputs[0] in small and _sums_all_but_channels(orig):
            op = replace(orig, op, op.type, [small[orig.inputs[0]]] + list(op.inputs[1:]), tmap, fed, op.attrs)
        elif orig in pools:
            y = op.outputs[0]
            new = stand_in(op, get_op_def("_MaxPoolTaps"), list(op.inputs), op.control_inputs, dict(op.attrs),
                           [(y.dtype, y.shape), (dtypes.int8, y.shape)])
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


def _relu_masks(ops, pools, keep, fed):
    """``{SelectV2 op: (its Greater op, the MaxPoolGrad op)}`` for each ReLU mask over the gradient
    of a pool in ``pools`` that can move before the scatter (module doc): the mask compares the
    pool's input with a zero, selects the pool's gradient or a zero, and is the only reader of
    both (nothing fetches them, nothing waits on them; their own control inputs move with them)."""
    uses = {}
    for op in ops:
        for t in op.inputs:
            uses[t] = uses.get(t, 0) + 1
        for c in op.control_inputs:
            uses[c] = uses.get(c, 0) + 1
    found = {}
    for op in ops:
        if op.type != "SelectV2":
            continue
        cond, grad, other = op.inputs
        greater, pool_grad = cond.op, grad.op
        if (greater.type != "Greater" or pool_grad.type != "MaxPoolGrad" or pool_grad.inputs[1].op not in pools
                or not _pair(pool_grad, fed) or greater.inputs[0] is not pool_grad.inputs[0]
                or not (_is_zero(greater.inputs[1], fed) and _is_zero(other, fed))):
            continue
        parts = (greater, pool_grad)
        if all(uses.get(p.outputs[0]) == 1 and p.outputs[0] not in keep and not uses.get(p) for p in parts):
            found[op] = parts
    return found


def _is_zero(t, fed):
    """Is ``t`` a scalar constant +0 (a ReLU mask's zero)?"""
    if t.op.type != "Const" or t in fed:
        return False
    v = t.op.get_attr("value")
    return getattr(v, "size", 0) == 1 and v.reshape(-1)[0] == 0 and not np.signbit(v.reshape(-1)[0])


def _mask_before_scatter(select, greater, pool_grad, op_map, tmap, fed, small):
    """The ops standing for ``select`` (the masked scattered gradient), ``greater`` and ``pool_grad``:
    ``Greater(pool, 0)``, ``SelectV2`` of the pool's gradient, and the scatter from the taps, with
    the originals' names and ids (so the runner's names stay unique)."""
    pool = op_map[pool_grad.inputs[1].op]
    taps, value = pool.outputs[1], pool.outputs[0]
    g = _moved(pool_grad.inputs[2], tmap, fed)
    zero_c, zero_s = (_moved(t, tmap, fed) for t in (greater.inputs[1], select.inputs[2]))
    def like(orig, op_type, inputs, attrs, output_specs):
        controls = [op_map.get(c, c) for c in orig.control_inputs]
        return stand_in(orig, get_op_def(op_type), inputs, controls, attrs, output_specs)

    cond = like(greater, "Greater", [value, zero_c], {}, [(dtypes.bool, value.shape)])
    masked = like(select, "SelectV2", [cond.outputs[0], g, zero_s], {}, [(g.dtype, g.shape)])
    scatter = like(pool_grad, "_MaxPoolGradTaps", [taps, masked.outputs[0]], {k: pool_grad.attrs[k] for k in _ATTRS},
                   [(t.dtype, t.shape) for t in select.outputs])
    # order edges of the originals go to the small mask: a bias gradient moved onto it must not
    # wait for the scatter (readers of the scatter have it as an input, an edge of its own)
    op_map[greater], op_map[pool_grad], op_map[select] = cond, masked, masked
    tmap[select.outputs[0]] = scatter.outputs[0]
    small[select.outputs[0]] = masked.outputs[0]
    return [cond, masked, scatter]


def _sums_all_but_channels(op):
    """Does ``op`` sum its 4-D NHWC input over every axis but the last (a bias's gradient)?"""
    if op.type == "BiasAddGrad":
        return op.attrs.get("data_format", "NHWC") in ("NHWC", None)
    if op.type != "Sum" or op.attrs.get("keep_dims") or op.attrs.get("axis") is None or len(op.inputs) != 1:
        return False
    return sorted({int(a) % 4 for a in op.attrs["axis"]}) == [0, 1, 2]
