"""remap: op chains that a library kernel runs better as one op (Grappler's "remapper").

Used by ``simplify`` before it walks the ops.  ``epilogues`` finds the chains

    Conv2D (NHWC) | MatMul  ->  BiasAdd(y, b) | Add(y, b)  ->  [one activation of ACTIVATIONS]

with ``b`` of shape [channels] (the last dim of ``y``) and floating dtypes.  Each becomes one
``_FusedConv2D`` / ``_FusedMatMul`` op (``jitgraph/ops/fused_ops.py``; ``Epilogue.fused_type``,
``fused_inputs`` and ``fused_attrs`` say which), whose kernel adds the bias and applies the
activation to each block of the output while it is in cache (for conv + ReLU, inside the Winograd
output transform): the output is written once instead of three times, and no
1-element-per-pixel kernel runs after it.

``conv_epilogues`` is the narrower view the compiler used first: Conv2D chains whose activation
is ReLU or absent (a chain ending in another activation is returned without it), for callers
that build ``_FusedConv2D`` with ``fused_ops`` ``('BiasAdd', 'Relu')`` or ``('BiasAdd',)``.

``sparse_updates`` finds SGD's update of a table whose gradient is a segment sum (the gradient of
``gather`` / ``embedding_lookup``)

    UnsortedSegmentSum(data, ids, rows)  ->  Mul(lr, .) | Mul(., lr)  ->  AssignSub(var, .)

with a scalar ``lr``, ``rows`` a constant equal to the variable's static first dim and the
assign's result read by nothing (``minimize`` waits for it through a control edge): it becomes
``_SparseGradientDescent(var, lr, data, ids)``, which writes only the looked-up rows.

Never matched: intermediates that are fetched or fed, consumed twice, or under control edges.
One pass over the ops (a consumer map, then constant work per Conv2D / MatMul / AssignSub).
"""

import dataclasses

from jitgraph.ops.fused_ops import ACTIVATIONS

_FUSED = {"Conv2D": "_FusedConv2D", "MatMul": "_FusedMatMul"}


@dataclasses.dataclass
class Epilogue:
    main: object     # the Conv2D or MatMul op
    bias_op: object  # the BiasAdd / Add op
    bias: object     # the bias tensor
    act: object      # the activation op, or None

    @property
    def conv(self):
        return self.main

    @property
    def last(self):
        return self.act or self.bias_op

    @property
    def absorbed(self):
        return (self.main, self.bias_op) if self.act else (self.main,)

    @property
    def fused_type(self):
        return _FUSED[self.main.type]

    def fused_inputs(self):
        """(x, filter, bias) / (a, b, bias): the fused op's inputs in the original graph."""
        return (self.main.inputs[0], self.main.inputs[1], self.bias)

    def fused_attrs(self):
        return dict(self.main.attrs, fused_ops=("BiasAdd",) + ((self.act.type,) if self.act else ()))


@dataclasses.dataclass
class SparseUpdate:
    """SGD's ``AssignSub(var, Mul(lr, UnsortedSegmentSum(data, ids, rows)))``."""
    assign: object
    mul: object
    segment_sum: object
    lr: object
    fused_type = "_SparseGradientDescent"

    @property
    def last(self):
        return self.assign

    @property
    def absorbed(self):
        return (self.segment_sum, self.mul)

    def fused_inputs(self):
        return (self.assign.inputs[0], self.lr) + tuple(self.segment_sum.inputs[:2])

    def fused_attrs(self):
        return {}


def chains(ops, keep):
    """``{last op: chain}`` of every chain in ``ops`` that becomes one op: ``epilogues`` and
    ``sparse_updates``."""
    consumers, controlled = _consumers(ops)
    return {**epilogues(ops, keep, consumers, controlled), **sparse_updates(ops, keep, consumers, controlled)}


def _consumers(ops):
    consumers = {}
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    return consumers, {c for op in ops for c in op.control_inputs}   # ops others wait for stay separate


def sparse_updates(ops, keep, consumers=None, controlled=None):
    """``{AssignSub op: SparseUpdate}`` for every SGD update of a segment-sum gradient in ``ops``."""
    if consumers is None:
        consumers, controlled = _consumers(ops)
    found = {}
    for assign in ops:
        if assign.type != "AssignSub" or assign.outputs[0] in keep or consumers.get(assign.outputs[0]):
            continue
        ref, delta = assign.inputs
        mul = delta.op
        if (_only_consumer(delta, consumers, keep) is not assign or mul.type != "Mul" or mul.control_inputs
                or len(mul.inputs) != 2):
            continue
        a, b = mul.inputs
        seg, lr = (a.op, b) if a.op.type == "UnsortedSegmentSum" else (b.op, a)
        shape = ref.shape.as_list() if ref.shape.ndims and ref.shape.is_fully_defined() else None
        if (shape is None or seg.type != "UnsortedSegmentSum" or seg.control_inputs or lr.shape.ndims != 0
                or _only_consumer(seg.outputs[0], consumers, keep) is not mul
                or not ref.dtype.base_dtype.is_floating or seg.inputs[2].op.type != "Const"
                or int(seg.inputs[2].op.get_attr("value")) != shape[0] or seg.outputs[0].shape.ndims != len(shape)
                or seg.outputs[0].shape.as_list() != shape):
            continue
        chain = SparseUpdate(assign, mul, seg, lr)
        if not controlled.intersection(chain.absorbed):
            found[assign] = chain
    return found


def epilogues(ops, keep, consumers=None, controlled=None):
    """``{last op of the chain: Epilogue}`` for every Conv2D / MatMul chain in ``ops``."""
    if consumers is None:
        consumers, controlled = _consumers(ops)
    found = {}
    for main in ops:
        if main.type not in _FUSED or main.control_inputs or not _fusible(main):
            continue
        y = main.outputs[0]
        bias_op = _only_consumer(y, consumers, keep)
        bias = _bias_of(bias_op, y) if bias_op is not None else None
        if bias is None:
            continue
        act = _only_consumer(bias_op.outputs[0], consumers, keep)
        if act is not None and (act.type not in ACTIVATIONS or act.control_inputs):
            act = None
        chain = Epilogue(main, bias_op, bias, act)
        if controlled.intersection(chain.absorbed):
            continue
        found[chain.last] = chain
    return found


def conv_epilogues(ops, keep):
    """``{last op: Epilogue}`` for the Conv2D chains, with ReLU as the only activation kept."""
    out = {}
    for chain in epilogues(ops, keep).values():
        if chain.main.type != "Conv2D":
            continue
        if chain.act is not None and chain.act.type != "Relu":
            chain = Epilogue(chain.main, chain.bias_op, chain.bias, None)
        out[chain.last] = chain
    return out


#: A MatMul chain is fused only when its weight has at least this many elements: the fused
#: epilogue pays per block of a large output (a dense layer 3136 -> 1024), while for a 64 x 64
#: layer a NumPy step with a fresh output costs more than the separate bias+activation kernel
#: (which also fuses with the gradient work beside it): an MLP of 64 such layers ran 1.50 ms
#: unfused, 2.07 ms fused.
FUSED_MATMUL_MIN_WEIGHTS = 1 << 16


def _fusible(op):
    y = op.outputs[0]
    if not y.dtype.base_dtype.is_floating:
        return False
    if op.type == "MatMul":
        w = op.inputs[1].shape
        return w.is_fully_defined() and w.num_elements() >= FUSED_MATMUL_MIN_WEIGHTS
    return op.get_attr("data_format") == "NHWC"


def _only_consumer(t, consumers, keep):
    users = consumers.get(t, ())
    return users[0] if len(users) == 1 and t not in keep and not users[0].control_inputs else None


def _bias_of(op, y):
    """The bias tensor if ``op`` adds a bias over the last dim (the channels) of ``y``."""
    rank = y.shape.ndims
    if op.type == "BiasAdd" and op.inputs[0] is y and (op.get_attr("data_format") == "NHWC" or rank == 2):
        return op.inputs[1]
    if op.type not in ("Add", "AddV2") or len(op.inputs) != 2 or y not in op.inputs:
        return None
    b = op.inputs[1] if op.inputs[0] is y else op.inputs[0]
    channels = y.shape.as_list()[-1] if rank in (2, 4) else None
    ok = (b is not y and b.dtype.base_dtype == y.dtype and b.shape.ndims == 1 and channels is not None
          and b.shape.as_list() == [channels] and op.outputs[0].shape.as_list() == y.shape.as_list())
    return b if ok else None
