"""remap: op chains that a library kernel runs better as one op (Grappler's "remapper").

Used by ``simplify`` before it walks the ops. Today one pattern: ``Conv2D`` (NHWC) whose only
consumer is ``BiasAdd(conv, b)`` or ``Add(conv, b)`` with ``b`` of shape [channels], optionally
followed by a ``Relu`` that is the bias add's only consumer. The chain becomes one
``_FusedConv2D`` op (see ``jitgraph/ops/nn_conv.py``): the conv kernel adds the bias and applies
the ReLU while it writes its output (inside the Winograd output transform), so the output is
written once instead of three times, and no 1-element-per-pixel kernel runs after it.

Never matched: intermediates that are fetched or fed, consumed twice, or under control edges.
"""

import dataclasses


@dataclasses.dataclass
class ConvEpilogue:
    conv: object     # the Conv2D op
    bias_op: object  # the BiasAdd / Add op
    bias: object     # the bias tensor
    act: object      # the Relu op, or None

    @property
    def last(self):
        return self.act or self.bias_op

    @property
    def absorbed(self):
        return (self.conv, self.bias_op) if self.act else (self.conv,)


def conv_epilogues(ops, keep):
    """``{last op of the chain: ConvEpilogue}`` for every chain in ``ops``."""
    consumers = {}
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    controlled = {c for op in ops for c in op.control_inputs}   # ops others wait for stay separate
    found = {}
    for conv in ops:
        if conv.type != "Conv2D" or conv.get_attr("data_format") != "NHWC" or conv.control_inputs:
            continue
        y = conv.outputs[0]
        bias_op = _only_consumer(y, consumers, keep)
        bias = _bias_of(bias_op, y) if bias_op is not None else None
        if bias is None:
            continue
        relu = _only_consumer(bias_op.outputs[0], consumers, keep)
        if relu is not None and (relu.type != "Relu" or relu.control_inputs):
            relu = None
        chain = ConvEpilogue(conv, bias_op, bias, relu)
        if not controlled.intersection(chain.absorbed):
            found[chain.last] = chain
    return found


def _only_consumer(t, consumers, keep):
    users = consumers.get(t, ())
    return users[0] if len(users) == 1 and t not in keep and not users[0].control_inputs else None


def _bias_of(op, y):
    """The bias tensor if ``op`` adds a per-channel bias to the NHWC conv output ``y``."""
    if op.type == "BiasAdd" and op.inputs[0] is y and op.get_attr("data_format") == "NHWC":
        return op.inputs[1]
    if op.type not in ("Add", "AddV2") or len(op.inputs) != 2 or y not in op.inputs:
        return None
    b = op.inputs[1] if op.inputs[0] is y else op.inputs[0]
    channels = y.shape.as_list()[-1] if y.shape.ndims == 4 else None
    ok = (b is not y and b.dtype.base_dtype == y.dtype and b.shape.ndims == 1 and channels is not None
          and b.shape.as_list() == [channels] and op.outputs[0].shape.as_list() == y.shape.as_list())
    return b if ok else None
