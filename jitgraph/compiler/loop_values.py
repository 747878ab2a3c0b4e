"""The pieces a native loop is generated from: values, code blocks and the emitter state.

A body op's result is a ``V``: a Numba scalar (``scalar``), an array (``array``: a buffer made
before the loop, an argument, or a view), an elementwise expression not computed yet (``lazy``:
fused into the loop of its single consumer), a TensorArray held as a dense ``[size, ...]`` buffer
plus a written mask (``ta``), or a variable (``ref``: its buffer, updated in place). Shapes are
tuples of dims: an ``int`` or the name of a local computed before the loop from the arguments'
shapes (``d3``), so buffers are allocated once per call, not per iteration.
"""

import numpy as np

from jitgraph.compiler import lowering


# fast-math flags of native loops: the kernels' set (see codegen.KERNEL_FASTMATH for why not afn/arcp)
DECO_FLAGS = "LOOP_FASTMATH = {'contract', 'reassoc', 'nsz'}\n"


class Unsupported(Exception):
    """The loop has something the native lowering does not handle; it runs on the reference."""


class V:
    """A value in a native loop. ``base``: for a view made by a split or slice, ``(name, offsets)`` of
    the C-contiguous array it views, so elementwise loops index that array (``b[i, j + 128]``)
    instead of the view: LLVM vectorizes unit-stride loops over a C array and not over a strided
    view's (an LSTM cell's gate math over ``split`` views: 620 us against 58 us per call)."""
    __slots__ = ("kind", "name", "dtype", "shape", "contig", "owned", "op", "ins", "ta", "var", "base")

    def __init__(self, kind, name=None, dtype=None, shape=(), contig=True, owned=False, op=None, ins=None,
                 ta=None, var=None, base=None):
        self.kind, self.name, self.dtype, self.shape = kind, name, np.dtype(dtype) if dtype is not None else None, \
            tuple(shape)
        self.contig, self.owned, self.op, self.ins, self.ta, self.var = contig, owned, op, ins, ta, var
        self.base = base

    def __repr__(self):
        return f"V({self.kind}, {self.name}, {self.dtype}, {self.shape})"


class TAInfo:
    """A TensorArray in a native loop: ``buf`` ``[size, *elem]``, ``mask`` (written rows), ``size``."""

    __slots__ = ("buf", "mask", "size", "elem", "dtype", "pending")

    def __init__(self, buf, mask, size, elem, dtype, pending=False):
        self.buf, self.mask, self.size, self.elem, self.dtype = buf, mask, size, tuple(elem), np.dtype(dtype)
        self.pending = pending    # element shape unknown until the first write (buffer made then)


class Block:
    """Lines of generated code at an indentation depth. ``sub()`` writes one level deeper into the
    same lines; ``Block(depth)`` starts separate lines (a branch built before its ``if``).

    Elementwise stores are deferred (``pend``): consecutive stores over the same shape become one
    loop, emitted when any other statement is added (``add``) or at ``flush``; ``add_view`` adds a
    statement that reads no data (a view), so the group stays open."""

    flusher = None     # set by loop_ops: emits the pending stores

    def __init__(self, depth=1, lines=None, pend=None):
        self.lines, self.depth = ([] if lines is None else lines), depth
        self.pend = [] if pend is None else pend

    def add(self, line):
        self.flush()
        self.lines.append("    " * self.depth + line)

    def add_view(self, line):
        self.lines.append("    " * self.depth + line)

    def flush(self):
        if self.pend:
            Block.flusher(self)

    def sub(self):
        return Block(self.depth + 1, self.lines, self.pend)

    def extend(self, block):
        self.flush()
        block.flush()
        self.lines.extend(block.lines)


def ctor(dtype):
    c = lowering.CTOR.get(np.dtype(dtype).name)
    if c is None:
        raise Unsupported(f"dtype {np.dtype(dtype).name} in a native loop")
    return c


def literal(value, dtype):
    """Source text of a scalar constant of ``dtype``."""
    dtype = np.dtype(dtype)
    v = np.asarray(value, dtype).reshape(()).item()
    if dtype.kind == "b":
        return "True" if v else "False"
    if dtype.kind == "f":
        if np.isnan(v):
            return f"{ctor(dtype)}(np.nan)"
        if np.isinf(v):
            return f"{ctor(dtype)}({'-' if v < 0 else ''}np.inf)"
        return f"{ctor(dtype)}({float(v)!r})"
    return f"{ctor(dtype)}({int(v)})"


class Emitter:
    """State of one generated function: prologue lines (run once per call, before any loop),
    arguments, interned dims, fastmath helpers, error messages (raised as ``IndexError('jgloop N')``)."""

    def __init__(self):
        self.pro = Block(1)
        self.buffers = []       # names of the arrays ``buffer`` allocated
        self.args = []          # (name, descriptor) in signature order
        self.helpers = []
        self.errors = []
        self._dims = {}
        self._vars = {}
        self._guards = {}
        self._alias = {}
        self._mailbox = None
        self._n = 0

    def fresh(self, prefix):
        self._n += 1
        return f"{prefix}{self._n}"

    def arg(self, prefix, desc):
        name = self.fresh(prefix)
        self.args.append((name, desc))
        return name

    def mailbox(self):
        """The argument through which the function's matmuls are shared with a chunk worker
        (``kernels.loop_gemm``; the runner passes a fresh one per call)."""
        if self._mailbox is None:
            self._mailbox = self.arg("par", ("par",))
        return self._mailbox

    def mailbox_used(self):
        return self._mailbox is not None

    def dim(self, expr):
        """A prologue local holding ``expr`` (an int expression over arguments), interned."""
        if isinstance(expr, int):
            return expr
        if expr not in self._dims:
            name = self.fresh("d")
            self.pro.add(f"{name} = {expr}")
            self._dims[expr] = name
        return self._dims[expr]

    def error(self, message):
        self.errors.append(message)
        return f"raise IndexError('jgloop {len(self.errors) - 1}')"

    def guard_equal(self, a, b, what):
        """Dims ``a`` and ``b`` must be equal at run time (checked in the prologue)."""
        if self.canon(a) == self.canon(b):
            return
        a, b = self.canon(a), self.canon(b)
        if isinstance(a, int) and isinstance(b, int):
            raise Unsupported(f"{what}: dims {a} and {b} differ")
        pair = tuple(sorted((str(a), str(b))))
        if pair not in self._guards:
            self._guards[pair] = what
        ra, rb = self.canon(a), self.canon(b)
        if ra != rb:   # an int stands for the class; else the first name
            if isinstance(rb, int):
                ra, rb = rb, ra
            self._alias[rb] = ra

    def canon(self, d):
        """The representative of the dims known (checked) to equal ``d``."""
        while not isinstance(d, int) and d in self._alias:
            d = self._alias[d]
        return d

    def same_shape(self, a, b):
        return len(a) == len(b) and all(self.canon(x) == self.canon(y) for x, y in zip(a, b))

    def guard_lines(self):
        """One check of every recorded dim equality (each raise site costs Numba compile time)."""
        if not self._guards:
            return []
        cond = " or ".join(f"{a} != {b}" for a, b in self._guards)
        what = "; ".join(sorted(set(self._guards.values())))
        return ["    if " + cond + ": " + self.error(f"shapes differ ({what})")]

    def buffer(self, shape, dtype, zero=False):
        name = self.fresh("b")
        self.pro.add(f"{name} = np.{'zeros' if zero else 'empty'}({shape_src(shape)}, np.{np.dtype(dtype).name})")
        self.buffers.append(name)
        return name

    def var(self, var):
        """The value of variable ``var``: its buffer, an argument (rank 0: a 1-element view)."""
        from jitgraph.compiler.shapes import var_shape
        v = self._vars.get(var)
        if v is None:
            shape = var_shape(var)
            if shape is None:
                raise Unsupported(f"variable {var.name} without a fully defined shape")
            dtype = var.get_attr("dtype").as_np
            ctor(dtype)
            v = self._vars[var] = V("ref", self.arg("v", ("var", var)), dtype, shape, var=var)
        return v

    def helper(self, names):
        for h in names:
            if h not in self.helpers:
                self.helpers.append(h)


def shape_src(shape):
    return "(" + "".join(f"{d}, " for d in shape) + ")"


def view_base(x, axis_offsets):
    """``base`` of a view of ``x`` starting at ``axis_offsets`` (``{axis: offset}``), or None when
    ``x`` is neither C-contiguous nor such a view itself."""
    if x.kind not in ("array", "ref"):
        return None
    if x.base is not None:
        name, offs = x.base
    elif x.contig:
        name, offs = x.name, ("0",) * len(x.shape)
    else:
        return None
    return name, tuple(_plus(o, axis_offsets[i]) if i in axis_offsets else o for i, o in enumerate(offs))


def _plus(a, b):
    a, b = str(a), str(b)
    return b if a == "0" else a if b == "0" else f"{a} + {b}"


def same_shape(a, b):
    return len(a) == len(b) and all(x == y for x, y in zip(a, b))


def broadcast_shape(em, shapes, what):
    """The broadcast of symbolic ``shapes``; two different symbolic dims are assumed equal and
    checked in the prologue."""
    r = max((len(s) for s in shapes), default=0)
    out = [1] * r
    for s in shapes:
        s = (1,) * (r - len(s)) + tuple(em.canon(d) for d in s)
        for i, d in enumerate(s):
            if d == 1 or d == out[i]:
                continue
            if out[i] == 1:
                out[i] = d
            else:
                em.guard_equal(out[i], d, what)
                if isinstance(d, int):
                    out[i] = d
    return tuple(out)
