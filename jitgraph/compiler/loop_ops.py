"""Per-op Numba code for native loop bodies (see ``loops.py``).

Elementwise ops with a single elementwise consumer of the same shape become ``lazy`` values and
are computed inside their consumer's loop (one pass per fused chain); other results get a buffer
made before the loop, read back from their local by later statements of the same loop, and
dropped (``drop_dead_buffers``) when no other statement reads them. Matmuls call ``np.dot``
(BLAS), splits and slices are views, concat, transpose and reductions are loops, TensorArray reads
are row views of the dense buffer and writes copy a row. Anything else raises ``Unsupported``.
"""

import re

import numpy as np

from jitgraph.compiler import lowering
from jitgraph.compiler.loop_values import Block, Unsupported, V, broadcast_shape, ctor
from jitgraph.ops.registry import constant_value

PASS_THROUGH = {"Identity", "StopGradient"}
_COMBINE = {"add": "{a} + {x}", "mul": "{a} * {x}", "max": "max({a}, {x})", "min": "min({a}, {x})",
            "and": "{a} and {x}", "or": "{a} or {x}"}


def static_ints(t):
    v = constant_value(t)
    return None if v is None else [int(x) for x in np.asarray(v).reshape(-1)]


# ---- loops over an iteration space ----------------------------------------------------------------
def _arrays(vs):
    out = []
    for v in vs:
        if v.kind == "lazy":
            out.extend(_arrays(v.ins))
        elif v.kind in ("array", "ref") and v.shape != ():
            out.append(v)
    return out


def open_loop(em, block, shape, values, allow_flat=True):
    """Loop headers over ``shape`` (a flat loop over 1-d views when every array in ``values`` is
    C-contiguous with exactly ``shape``); returns ``(inner block, index)``."""
    arrays = _arrays(values)
    index = {"shape": tuple(shape), "views": {}}
    if allow_flat and len(shape) > 1 and arrays and all(a.contig and em.same_shape(a.shape, shape) for a in arrays):
        for a in arrays:
            if a.name not in index["views"]:
                index["views"][a.name] = em.fresh("f")
                block.add(f"{index['views'][a.name]} = {a.name}.reshape({a.name}.size)")
        i = em.fresh("i")
        block.add(f"for {i} in range({index['views'][arrays[0].name]}.size):")
        index["flat"] = i
        return block.sub(), index
    cur = block
    for d in range(len(shape)):
        i = em.fresh("i")
        cur.add(f"for {i} in range({shape[d]}):")
        cur = cur.sub()
        index[d] = i
    return cur, index


def element(v, index):
    """``v``'s element at the loop position ``index`` (broadcast)."""
    if v.shape == ():
        return f"{v.name}[0]" if v.kind == "ref" else f"{v.name}[0]"
    if "flat" in index:
        return f"{index['views'][v.name]}[{index['flat']}]"
    shape = index["shape"]
    off = len(shape) - len(v.shape)
    parts = ["0" if d == 1 and shape[off + j] != 1 else index[off + j] for j, d in enumerate(v.shape)]
    if v.base is not None:      # a split/slice view: index the C array it views (see ``V``)
        name, offs = v.base
        return f"{name}[{', '.join(p if o == '0' else f'{p} + {o}' for p, o in zip(parts, offs))}]"
    return f"{v.name}[{', '.join(parts)}]"


def scalar_code(em, block, v, index):
    """A scalar expression for ``v`` at ``index``; lazy inputs emit their statements into ``block``."""
    if v.kind == "scalar":
        return v.name
    if v.kind in ("array", "ref"):
        at = element(v, index)
        return index.get("stored", {}).get(at, at)
    if v.kind == "lazy":
        args = [scalar_code(em, block, x, index) for x in v.ins]
        name = em.fresh("t")
        block.add(f"{name} = {apply(em, v.op, args)}")
        return name
    raise Unsupported(f"a {v.kind} value used elementwise")


def apply(em, op, args):
    """The scalar expression of elementwise ``op`` on argument expressions ``args``."""
    if op.type in PASS_THROUGH:
        return args[0]
    if op.type == "BiasAdd":
        tmpl, helpers = "({0} + {1})", ()
    elif _int_by_constant(op):
        tmpl, helpers = {"FloorMod": "({0} % {1})", "FloorDiv": "({0} // {1})"}[op.type], ()
    else:
        tmpl, helpers = lowering.elementwise_template(op) or (None, ())
    if tmpl is None:
        raise Unsupported(f"elementwise op {op.type} has no Numba template")
    em.helper(helpers)
    expr = tmpl.format(*args)
    out = op.outputs[0].dtype.base_dtype.as_np
    return expr if out == np.bool_ else f"{ctor(out)}({expr})"


def store(em, block, shape, value, target, mode="=", contig=True, base=None):
    """``target[...] = value`` (``mode`` ``+=``/``-=``: update) elementwise over ``shape``
    (``contig``: the target is C-contiguous, not a strided view; ``base``: the C array and offsets
    a view target is written through, see ``V``). Deferred: consecutive stores over one shape
    share a loop (``Block``)."""
    if shape == ():
        code = scalar_code(em, block, value, {"shape": ()})
        _write(block, f"{target}[0]", code, mode, value.dtype)
        return
    tgt = V("array", target, value.dtype, shape, contig=contig, base=base)
    _enqueue(em, block, shape, ("store", value, tgt, mode))


def _enqueue(em, block, shape, entry):
    pend = block.pend
    if pend:
        same = pend[0][1] == block.depth and em.same_shape(pend[0][2], shape)
        reads = {x.name for x in _arrays([entry[1]])}
        if not same or any(e[3][0] == "reduce" and e[3][2].name in reads for e in pend):
            block.flush()
    pend.append((em, block.depth, tuple(shape), entry))


def _flush(block):
    group = list(block.pend)
    block.pend.clear()
    em, depth, shape = group[0][:3]
    out = Block(depth, block.lines)
    entries = [g[3] for g in group]
    reduces = [e for e in entries if e[0] == "reduce"]
    for _, _, acc, _, combine, ident, _ in reduces:
        out.add(f"{acc.name}[...] = {ident}")
    values = [e[1] for e in entries] + [e[2] for e in entries if e[0] == "store"]
    inner, index = open_loop(em, out, shape, values, allow_flat=not reduces)
    # An element stored earlier in this iteration is read back from its local: with a dozen arrays
    # in the loop LLVM cannot prove the re-load unaliased (P6's LSTM cell 0.071 -> 0.058 ms).
    stored = index["stored"] = {}
    for e in entries:
        code = scalar_code(em, inner, e[1], index)
        if e[0] == "store":
            dst = element(e[2], index)
            if e[3] != "=":                  # an update: the element's local (if any) is stale now
                stored.pop(dst, None)
            elif not code.isidentifier():
                name = em.fresh("t")
                inner.add(f"{name} = {code}")
                code = stored[dst] = name
            else:
                stored[dst] = code
            _write(inner, dst, code, e[3], e[1].dtype)
            continue
        _, _, acc, axes, combine, _, _ = e
        if len(acc.shape) == len(shape):     # keepdims: index 0 on the reduced axes
            parts = ["0" if i in axes else index[i] for i in range(len(shape))]
        else:
            parts = [index[i] for i in range(len(shape)) if i not in axes] or ["0"]
        tgt = f"{acc.name}[{', '.join(parts)}]"
        inner.add(f"{tgt} = {ctor(acc.dtype)}({_COMBINE[combine].format(a=tgt, x=code)})")
    for _, _, acc, _, _, _, count in reduces:
        if count is not None:
            f = em.fresh("f")
            out.add(f"{f} = {acc.name}.reshape({acc.name}.size)")
            i = em.fresh("i")
            out.add(f"for {i} in range({f}.size):")
            out.add(f"    {f}[{i}] = {ctor(acc.dtype)}({f}[{i}] / ({count}))")


Block.flusher = staticmethod(_flush)


def _write(block, dst, code, mode, dtype):
    if mode == "=":
        block.add(f"{dst} = {code}")
    else:
        block.add(f"{dst} = {ctor(dtype)}({dst} {mode[0]} {code})")


_TOKEN = re.compile(r"\b[bf]\d+\b")
_ELEMENT_STORE = re.compile(r"^\s*([bf]\d+)\[[^\]]*\] = (\w+)$")     # x[...] = local (or constant)
_FLAT_VIEW = re.compile(r"^\s*(f\d+) = (b\d+)\.reshape\(\2\.size\)$")
_ALLOCATION = re.compile(r"^\s*(b\d+) = np\.(?:empty|zeros)\(")
_BLOCK_HEADER = re.compile(r"^\s*(?:for|while|if|elif|else|with|try|except|finally)\b[^#]*:\s*(?:#.*)?$")


def drop_dead_buffers(lines, buffers):
    """``lines`` of a loop function without the buffers (``Emitter.buffer``) nothing reads: a value
    whose every reader took the local it was stored from (``_flush``) still had its buffer written
    (eleven [128, 128] arrays a step of P6's LSTM gradient loop). A buffer is dead when its name and
    its flat views appear only in its allocation, the views' definitions and element stores of a
    local; those lines go. One pass over the lines to count, one to drop: linear in the source."""
    dead = set(buffers)
    views, lines_of = {}, {}
    for k, line in enumerate(lines):
        m = _ALLOCATION.match(line)
        if m and m.group(1) in dead:
            lines_of.setdefault(m.group(1), []).append(k)
            continue
        m = _FLAT_VIEW.match(line)
        if m and m.group(2) in dead:
            views[m.group(1)] = m.group(2)
            lines_of.setdefault(m.group(2), []).append(k)
            continue
        m = _ELEMENT_STORE.match(line)
        owner = m and views.get(m.group(1), m.group(1))
        if owner in dead:
            lines_of.setdefault(owner, []).append(k)
            used = _TOKEN.findall(m.group(2))
        else:
            used = _TOKEN.findall(line)
        for name in used:
            dead.discard(views.get(name, name))
    drop = {k for name in dead for k in lines_of.get(name, ())}
    if not drop:
        return lines
    kept = [line for k, line in enumerate(lines) if k not in drop]
    out = []
    for k, line in enumerate(kept):      # a block whose statements were all such stores gets a ``pass``
        out.append(line)
        if _BLOCK_HEADER.match(line):
            nxt = kept[k + 1] if k + 1 < len(kept) else ""
            indent = len(line) - len(line.lstrip())
            if len(nxt) - len(nxt.lstrip()) <= indent:
                out.append(" " * (indent + 4) + "pass")
    return out


def materialize(em, block, v):
    """``v`` as an array in a buffer of its own (a lazy value is computed now)."""
    if v.kind != "lazy":
        return v
    if v.shape == ():
        name = em.fresh("s")
        block.add(f"{name} = {scalar_code(em, block, v, {'shape': ()})}")
        return V("scalar", name, v.dtype)
    buf = em.buffer(v.shape, v.dtype)
    store(em, block, v.shape, v, buf)
    return V("array", buf, v.dtype, v.shape, owned=True)


def contiguous(em, block, v):
    """``v`` as a C-contiguous array (a copy into a buffer when it is a strided view)."""
    v = materialize(em, block, v)
    if v.kind == "ref":
        return V("array", v.name, v.dtype, v.shape)
    if v.kind != "array":
        raise Unsupported(f"{v.kind} where an array is needed")
    if v.contig:
        return v
    buf = em.buffer(v.shape, v.dtype)
    store(em, block, v.shape, v, buf)
    return V("array", buf, v.dtype, v.shape, owned=True)


# ---- op emitters: (em, block, op, ins, ctx) -> list of output values ----------------------------
def _int_by_constant(op):
    """Integer ``x % c`` / ``x // c`` by a nonzero constant (Python's floor semantics, as TF's)."""
    if op.type not in ("FloorMod", "FloorDiv") or not op.inputs[0].dtype.base_dtype.is_integer:
        return False
    c = constant_value(op.inputs[1])
    return c is not None and np.all(np.asarray(c) != 0)


def elementwise_ok(op):
    if _int_by_constant(op):
        return True
    if op.type in PASS_THROUGH:
        return bool(op.inputs) and not op.inputs[0].dtype.is_ref_dtype
    if op.type == "BiasAdd":
        return op.attrs.get("data_format", "NHWC") != "NCHW" and all(lowering.dtype_ok(t) for t in op.inputs)
    return (op.op_def.kind == "elementwise" and lowering.elementwise_template(op) is not None
            and all(lowering.dtype_ok(t) for t in list(op.inputs) + op.outputs))


def emit_elementwise(em, block, op, ins, ctx):
    dtype = op.outputs[0].dtype.base_dtype.as_np
    if op.type in PASS_THROUGH:
        return [ins[0]]
    shape = broadcast_shape(em, [v.shape for v in ins], op.name)
    ins = [materialize(em, block, x) if x.kind == "lazy" and not em.same_shape(x.shape, shape) else x for x in ins]
    node = V("lazy", dtype=dtype, shape=shape, op=op, ins=ins)
    if shape == ():
        return [materialize(em, block, node)]
    return [node if ctx.lazy_ok(op) else materialize(em, block, node)]


def emit_reduction(em, block, op, ins, ctx, spec=None):
    spec = spec or lowering.reduction_spec(op)
    if spec is None:
        raise Unsupported(f"{op.type} without static axes")
    x = ins[0]
    if x.kind == "scalar":
        return [x]
    dtype = op.outputs[0].dtype.base_dtype.as_np
    axes, shape = spec.axes, x.shape
    keep = tuple(d for i, d in enumerate(shape) if i not in axes)
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)) if spec.keepdims else keep
    acc_t = "np.float64" if np.dtype(dtype).kind == "f" and spec.combine in ("add", "mul") else ctor(dtype)
    ident = {"-inf": "-np.inf", "inf": "np.inf"}.get(spec.identity, repr(spec.identity))
    if np.dtype(dtype).kind in "iu" and spec.combine in ("max", "min"):
        info = np.iinfo(dtype)
        ident = repr(int(info.min if spec.combine == "max" else info.max))
    count = " * ".join(str(shape[a]) for a in axes) or "1"
    if spec.combine in ("add", "max", "min") and np.dtype(dtype).kind in "fiu":
        acc = V("array", em.buffer(out_shape if out_shape else (1,), dtype), dtype, out_shape if out_shape else (1,),
                owned=True)
        _enqueue(em, block, shape, ("reduce", x, acc, tuple(axes), spec.combine,
                                    {"-inf": "-np.inf", "inf": "np.inf"}.get(spec.identity, ident),
                                    count if spec.mean else None))
        if out_shape == ():
            name = em.fresh("s")
            block.add(f"{name} = {acc.name}[0]")
            return [V("scalar", name, dtype)]
        return [acc]
    if not keep:
        acc = em.fresh("s")
        block.add(f"{acc} = {acc_t}({ident})")
        inner, index = open_loop(em, block, shape, [x])
        xv = scalar_code(em, inner, x, index)
        inner.add(f"{acc} = {_COMBINE[spec.combine].format(a=acc, x=f'{acc_t}({xv})')}")
        res = f"{acc} / ({count})" if spec.mean else acc
        name = em.fresh("s")
        block.add(f"{name} = {ctor(dtype)}({res})")
        if out_shape == ():
            return [V("scalar", name, dtype)]
        buf = em.buffer(out_shape, dtype)
        block.add(f"{buf}[{', '.join('0' for _ in out_shape)}] = {name}")
        return [V("array", buf, dtype, out_shape, owned=True)]
    accb = em.buffer(keep, "float64" if acc_t == "np.float64" else dtype)
    block.add(f"{accb}[...] = {ident}")
    inner, index = open_loop(em, block, shape, [x], allow_flat=False)
    xv = scalar_code(em, inner, x, index)
    tgt = f"{accb}[{', '.join(index[i] for i in range(len(shape)) if i not in axes)}]"
    inner.add(f"{tgt} = {_COMBINE[spec.combine].format(a=tgt, x=f'{acc_t}({xv})')}")
    buf = em.buffer(out_shape, dtype)
    oin, oix = open_loop(em, block, keep, [], allow_flat=False)
    kk = ", ".join(oix[i] for i in range(len(keep)))
    if spec.keepdims:
        it = iter(oix[i] for i in range(len(keep)))
        dst = f"{buf}[{', '.join('0' if i in axes else next(it) for i in range(len(shape)))}]"
    else:
        dst = f"{buf}[{kk}]"
    val = f"{accb}[{kk}] / ({count})" if spec.mean else f"{accb}[{kk}]"
    oin.add(f"{dst} = {ctor(dtype)}({val})")
    return [V("array", buf, dtype, out_shape, owned=True)]


class Spec:
    """A reduction's axes and kind, for ops that are reductions without being ``kind='reduction'``."""

    def __init__(self, axes, keepdims=False, mean=False, combine="add", identity=0):
        self.axes, self.keepdims, self.mean, self.combine, self.identity = axes, keepdims, mean, combine, identity


def emit_bias_add_grad(em, block, op, ins, ctx):
    if op.attrs.get("data_format", "NHWC") == "NCHW":
        raise Unsupported("BiasAddGrad NCHW")
    r = len(ins[0].shape)
    return emit_reduction(em, block, op, ins, ctx, Spec(tuple(range(r - 1))))
