"""The lowest step time a program's matmuls and convs allow on this machine.

``count_flops(sess, fetch, feed)`` runs one step on jitgraph's NumPy reference executor and adds
up the multiply-adds of every ``MatMul``, ``BatchMatMul`` and conv (forward and both gradients,
counted as direct convolution) it executes, native loop bodies included; ``sgemm_rate()``
measures this machine's float32 GEMM rate on all of the BLAS's threads (a large square product,
the best case of the BLAS). Their quotient is a floor under any implementation that does those
products at that rate: TF1 included. Where a program's TF1 step is less than twice that floor,
``jitgraph / TF1 <= 0.5`` cannot be reached by faster glue; only by faster products than the BLAS's
best (or, for convs, by Winograd's fewer multiplies: the conv part of the floor is not a hard one).
"""

import time

import numpy as np

_CONVS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def _op_flops(op, args, result):
    """(matmul, conv) FLOPs of one executed op."""
    t = op.type
    if t == "MatMul":
        a, b = args[0], args[1]
        m, k = a.shape[::-1] if op.attrs.get("transpose_a") else a.shape
        n = b.shape[0] if op.attrs.get("transpose_b") else b.shape[1]
        return 2 * m * k * n, 0
    if t in ("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        a, b = args[0], args[1]
        m, k = (a.shape[-1], a.shape[-2]) if op.attrs.get("adj_x") else a.shape[-2:]
        n = b.shape[-2] if op.attrs.get("adj_y") else b.shape[-1]
        batch = int(np.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), dtype=np.int64))
        return 2 * batch * m * k * n, 0
    if t in _CONVS:
        nchw = op.attrs.get("data_format", "NHWC") == "NCHW"
        if t == "Conv2D":
            filt, out = args[1].shape, result[0].shape
        elif t == "Conv2DBackpropInput":
            filt, out = args[1].shape, args[2].shape
        else:
            filt, out = tuple(int(d) for d in np.asarray(args[1]).reshape(-1)), args[2].shape
        positions = out[0] * (out[2] * out[3] if nchw else out[1] * out[2])
        return 0, 2 * positions * filt[0] * filt[1] * filt[2] * filt[3]
    return 0, 0


def count_flops(sess, fetch, feed):
    """(matmul FLOPs, conv FLOPs) of one ``sess.run(fetch, feed)``, run on the reference executor
    (which executes every op one by one); the run changes the session's variables like any step."""
    from jitgraph.compiler import config
    from jitgraph.control_flow import body
    from jitgraph.runtime import reference
    totals = [0, 0]
    real = reference.call_op

    def counting(ctx, op, fn, args, out_dtypes):
        result = real(ctx, op, fn, args, out_dtypes)
        mm, cv = _op_flops(op, args, result)
        totals[0] += mm
        totals[1] += cv
        return result
    prev = config.set_compile_mode("never")
    reference.call_op = body.call_op = counting      # (loop bodies run their ops through body's)
    try:
        sess.run(fetch, feed)
    finally:
        reference.call_op = body.call_op = real
        config.set_compile_mode(prev)
    return tuple(totals)


def sgemm_rate(n=2048, reps=3):
    """This machine's float32 GEMM rate in FLOP/s: the best of ``reps`` [n, n] x [n, n] products."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.dot(a, b, out=out)
    best = min(_timed(lambda: np.dot(a, b, out=out)) for _ in range(reps))
    return 2.0 * n ** 3 / best


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
