"""rewrite: algebraic patterns that change how many passes over memory a kernel makes.

Before: kernels from ``fuse``. After: the same kernels, where ``reduce_sum((x - reduce_mean(x))**2)``
(full reductions, float x) is one kernel marked ``variance = (x, mean_op, sum_op)``: codegen then
reads x once, accumulating shifted float64 sums ``s1 = Σ(x-c)``, ``s2 = Σ(x-c)²`` with
``c = x[0]`` (the shift keeps cancellation small), and writes ``mean = c + s1/n`` and
``sum = s2 - s1²/n``. More accurate than the two-pass float32 reference, so results agree within
float tolerance, not bitwise.
"""

SQUARES = {"Square"}


def _same_value(a, b):
    """Do tensors ``a`` and ``b`` hold the same value at their uses (same tensor, or reads of one
    variable that nothing in the plan writes)?"""
    if a is b:
        return True
    if a.dtype.is_ref_dtype and b.dtype.is_ref_dtype:
        from jitgraph.ops.state_ops import variable_of
        va, vb = variable_of(a), variable_of(b)
        return va is not None and va is vb and a.op.type == b.op.type == "VariableV2"
    return False


def one_pass_variance(kernels, kernel_of, written):
    """Merge (mean kernel, squared-deviation-sum kernel) pairs into one-pass variance kernels."""
    from jitgraph.compiler import lowering
    for k in list(kernels):
        if len(k.ops) != 3:
            continue
        sub, sq, total = k.ops
        if sub.type != "Sub" or total.type != "Sum" or not _is_square(sq, sub):
            continue
        if total.inputs[0] is not sq.outputs[0] or len(total.inputs) < 1:
            continue
        mean_t = sub.inputs[1]
        mean_op = mean_t.op
        mk = kernel_of.get(mean_op)
        if mean_op.type != "Mean" or mk is None or mk.ops != [mean_op] or mk is k:
            continue
        x = sub.inputs[0]
        if not _same_value(x, mean_op.inputs[0]) or not x.dtype.base_dtype.is_floating:
            continue
        if x.dtype.is_ref_dtype and x.op in written:
            continue
        specs = [lowering.reduction_spec(o) for o in (mean_op, total)]
        r = len(k.space)
        if r == 0 or any(s is None or len(s.axes) != r for s in specs) or mk.space != k.space:
            continue
        k.ops = [mean_op, sub, sq, total]
        k.variance = (x, mean_op, total)
        kernels.remove(mk)
        kernel_of[mean_op] = k
    return kernels, kernel_of


def _is_square(op, sub):
    d = sub.outputs[0]
    if op.type in SQUARES:
        return op.inputs[0] is d
    if op.type == "Mul":
        return op.inputs[0] is d and op.inputs[1] is d
    if op.type == "Pow":
        from jitgraph.ops.registry import constant_value
        e = constant_value(op.inputs[1])
        return op.inputs[0] is d and e is not None and e.size == 1 and float(e.reshape(-1)[0]) == 2.0
    return False
