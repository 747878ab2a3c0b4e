"""``tf.einsum``: sums of products named by an equation such as ``"bij,bjk->bik"``.

One ``Einsum`` op (NumPy's ``einsum`` as reference) whose equation is normalized at build time:
the output is explicit (``"ij,jk"`` means ``"ij,jk->ik"``: the letters used once, sorted) and
``...`` is spelled out as letters, so an ellipsis needs inputs of known rank and its dimensions
must agree (size-1 broadcasting is not done). The gradient of each operand is itself an einsum of
the output gradient with the other operands; a letter summed within the operand alone comes back
through ``ones_like(operand)``, a repeated letter (a diagonal) through an identity matrix.
"""

import string

import numpy as np

from jitgraph.framework.shapes import Dimension, TensorShape
from jitgraph.ops.op_util import check_dtype
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["einsum"]

_LETTERS = string.ascii_letters


def _parse(equation, ranks):
    """``(input_specs, output_spec)`` with explicit output and no ellipsis."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ranks):
        raise ValueError(f"einsum: equation {equation!r} names {len(ins)} inputs but {len(ranks)} were given")
    for s in ins + [rhs]:
        body = s.replace("...", "")
        if "." in body or any(c not in _LETTERS for c in body):
            raise ValueError(f"einsum: invalid subscripts {s!r} in {equation!r}")
    used = set("".join(ins).replace(".", ""))
    spare = [c for c in _LETTERS if c not in used]
    ell_rank = 0
    for s, r in zip(ins, ranks):
        if "..." in s:
            if r is None:
                raise ValueError(f"einsum: an ellipsis needs inputs of known rank ({equation!r})")
            ell_rank = max(ell_rank, r - (len(s) - 3))
    ell = "".join(spare[:ell_rank])
    out_ins = []
    for s, r in zip(ins, ranks):
        if "..." in s:
            k = r - (len(s) - 3)
            if k < 0:
                raise ValueError(f"einsum: subscripts {s!r} have more letters than the input's rank {r}")
            s = s.replace("...", ell[ell_rank - k:])
        elif r is not None and len(s) != r:
            raise ValueError(f"einsum: subscripts {s!r} name {len(s)} dimensions but the input has rank {r}")
        out_ins.append(s)
    if not arrow:
        letters = "".join(out_ins)
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        if "..." in rhs:
            rhs = rhs.replace("...", ell)
        if len(set(rhs)) != len(rhs):
            raise ValueError(f"einsum: output subscripts {rhs!r} repeat a letter")
        missing = set(rhs) - set("".join(out_ins))
        if missing:
            raise ValueError(f"einsum: output subscripts {sorted(missing)} do not appear in the inputs")
    return out_ins, rhs


def _dims(ins_specs, shapes, equation):
    """letter -> Dimension, merged over every input (``ValueError`` if two disagree)."""
    dims = {}
    for spec, shape in zip(ins_specs, shapes):
        if shape.ndims is None:
            continue
        for c, d in zip(spec, shape.as_list()):
            try:
                dims[c] = dims.get(c, Dimension(None)).merge_with(Dimension(d))
            except ValueError:
                raise ValueError(f"einsum: dimension '{c}' is {dims[c].value} in one input and {d} in another "
                                 f"({equation!r})") from None
    return dims


def _einsum_infer(ins, a):
    for t in ins:
        check_dtype(t, lambda d: d.is_floating or d.is_integer, "Einsum", "inputs", "numeric types")
    if len({t.dtype.base_dtype for t in ins}) != 1:
        raise TypeError(f"einsum: all inputs must have one dtype, got {[t.dtype.base_dtype.name for t in ins]}")
    specs, out = a["equation"].split("->")
    dims = _dims(specs.split(","), [t.shape for t in ins], a["equation"])
    return [(ins[0].dtype.base_dtype, TensorShape([dims.get(c, Dimension(None)).value for c in out]))]


def _operand_grad(op, g, i):
    """d(sum(out * g)) / d(input i), an einsum of ``g`` with the other operands."""
    from jitgraph.ops.constant_ops import ones_like
    from jitgraph.ops.linalg_ops import eye
    from jitgraph.ops.op_util import dim_of
    specs, out = op.get_attr("equation").split("->")
    specs = specs.split(",")
    x = op.inputs[i]
    operands = [g] + [t for j, t in enumerate(op.inputs) if j != i]
    subs = [out] + [s for j, s in enumerate(specs) if j != i]
    available = set("".join(subs))
    target, seen = "", set()
    spare = iter(c for c in _LETTERS if c not in set("".join(specs) + out))
    for pos, c in enumerate(specs[i]):
        if c in seen:   # a diagonal: a fresh letter tied to c by an identity matrix
            fresh = next(spare)
            operands.append(eye(dim_of(x, pos), dtype=x.dtype.base_dtype))
            subs.append(c + fresh)
            target += fresh
        else:
            seen.add(c)
            target += c
    if not set(specs[i]) <= available:   # letters summed inside operand i alone
        operands.append(ones_like(x))
        subs.append(specs[i])
    return _einsum(",".join(subs) + "->" + target, operands)


define_op("Einsum", _einsum_infer, lambda *xs, equation: np.einsum(equation, *xs, optimize=len(xs) > 2),
          kind="library", grad=lambda op, g: [_operand_grad(op, g, i) for i in range(len(op.inputs))])


def _einsum(equation, ts, name=None):
    return make_op("Einsum", ts, {"equation": equation}, name or "einsum").outputs[0]


def einsum(equation, *inputs, **kwargs):
    """The sum of products that ``equation`` names, e.g. ``einsum("ij,jk->ik", a, b)`` is
    ``matmul(a, b)``, ``einsum("ii", a)`` the trace, ``einsum("bi,bi->b", x, y)`` row-wise dots."""
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(kwargs)}")
    ts = [convert_to_tensor(x) for x in inputs]
    specs, out = _parse(equation, [t.shape.ndims for t in ts])
    return _einsum(",".join(specs) + "->" + out, ts, name)
