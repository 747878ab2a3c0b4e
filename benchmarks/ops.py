"""Per-op benchmark: jitgraph's fast kernel (``extra["fast"]``) vs its NumPy reference vs TF1
(oneDNN) running the same single op in a Session, on the shapes of real models.

``python -m benchmarks.ops [--reps 7] [--only conv,pool] [--passes 2]``; run it with an
interpreter that also has TensorFlow for the TF column (e.g. the tf venv:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE <tf venv>/bin/python -m benchmarks.ops``).

jitgraph and TF run in separate child processes (TF's thread pools slow the BLAS of others in the
same process), ABBA over ``--passes``; every sample follows a short pause and one untimed call.
Per case the fast kernel's samples come first, then the reference's (``SETTLE``).
TF's inputs are variables (read without a copy) and the op is fetched as a target (no output
copy); its time still holds one ``Session.run`` (the no-op run's time is printed for reference).
Values: the max error of the fast kernel against the reference and against TF, relative to the
largest magnitude of the reference's output.

Shapes: P1, the classic TF1 MNIST CNN (batch 128: conv 5x5 1->32 on 28x28, pool, conv 5x5 32->64
on 14x14, pool, dense 3136->1024, 1024->10); C2, the compile-scaling CNN (batch 16: conv 3x3
1->16 on 28x28, 16->32 on 14x14); P8, the CIFAR-style batch-norm CNN (batch 32: conv 3x3 3->32 on
32x32, pool, 32->64 on 16x16, pool); a 3->64 3x3 conv on 32x32 images, batch 32 (and stride 2).
"""
import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

Case = collections.namedtuple("Case", "name op shapes attrs build")


def _conv_attrs(s, padding):
    return {"strides": [1, s, s, 1], "padding": padding, "data_format": "NHWC", "dilations": [1, 1, 1, 1],
            "use_cudnn_on_gpu": True}


def _pool_attrs(k=2, s=2, padding="SAME"):
    return {"ksize": [1, k, k, 1], "strides": [1, s, s, 1], "padding": padding, "data_format": "NHWC"}


def _out(n, h, w, k, s, padding):
    if padding == "SAME":
        return n, -(-h // s), -(-w // s)
    return n, (h - k) // s + 1, (w - k) // s + 1


def conv_cases(tag, n, h, w, c, f, k, s=1, padding="SAME", grads=("filter", "input")):
    a = _conv_attrs(s, padding)
    st = [1, s, s, 1]
    n_, oh, ow = _out(n, h, w, k, s, padding)
    x, wt, dy = ("f", (n, h, w, c)), ("f", (k, k, c, f)), ("f", (n_, oh, ow, f))
    geo = f"{tag} {k}x{k} {c}->{f} {h}x{w}" + (f" s{s}" if s > 1 else "") + (" VALID" if padding == "VALID" else "")
    out = [Case(f"{geo} Conv2D", "Conv2D", [x, wt], a,
                lambda tf, x, w: tf.nn.conv2d(x, w, st, padding))]
    if "filter" in grads:
        out.append(Case(f"{geo} BackpropFilter", "Conv2DBackpropFilter", [x, ("shape", (k, k, c, f)), dy], a,
                        lambda tf, x, ws, dy: tf.nn.conv2d_backprop_filter(x, ws, dy, st, padding)))
    if "input" in grads:
        out.append(Case(f"{geo} BackpropInput", "Conv2DBackpropInput", [("shape", (n, h, w, c)), wt, dy], a,
                        lambda tf, xs, w, dy: tf.nn.conv2d_backprop_input(xs, w, dy, st, padding)))
    return out


def pool_cases(tag, n, h, w, c, avg=False):
    x = ("f", (n, h, w, c))
    g = ("f", (n, -(-h // 2), -(-w // 2), c))
    a, kk = _pool_attrs(), ([1, 2, 2, 1], [1, 2, 2, 1])
    geo = f"{tag} pool 2x2 {h}x{w}x{c}"

    def max_grad(tf, x, y, g):
        from tensorflow.python.ops import gen_nn_ops
        return gen_nn_ops.max_pool_grad(x, y, g, *kk, "SAME")

    def avg_grad(tf, xs, g):
        from tensorflow.python.ops import gen_nn_ops
        return gen_nn_ops.avg_pool_grad(xs, g, *kk, "SAME")
    out = [Case(f"{geo} MaxPool", "MaxPool", [x], a, lambda tf, x: tf.nn.max_pool(x, *kk, "SAME")),
           Case(f"{geo} MaxPoolGrad", "MaxPoolGrad", [x, ("maxpool", 0), g], a, max_grad)]
    if avg:
        out += [Case(f"{geo} AvgPool", "AvgPool", [x], a, lambda tf, x: tf.nn.avg_pool(x, *kk, "SAME")),
                Case(f"{geo} AvgPoolGrad", "AvgPoolGrad", [("shape", (n, h, w, c)), g], a, avg_grad)]
    return out


def matmul_cases(tag, m, k, n, act):
    acts = {"Relu": "relu", "Relu6": "relu6", "Tanh": "tanh", "Sigmoid": "sigmoid", None: None}
    ops = ("BiasAdd",) + ((act,) if act else ())

    def build(tf, a, b, bias):
        y = tf.nn.bias_add(tf.matmul(a, b), bias)
        return getattr(tf.nn, acts[act])(y) if act in ("Relu", "Relu6") else (
            getattr(tf, acts[act])(y) if act else y)
    return [Case(f"{tag} dense {m}x{k}x{n} +bias" + (f" {act}" if act else ""), "_FusedMatMul",
                 [("f", (m, k)), ("f", (k, n)), ("f", (n,))],
                 {"transpose_a": False, "transpose_b": False, "fused_ops": ops}, build)]


def matmul_grad_cases(tag, m, k, n):
    """The two gradients of a dense layer [m, k] x [k, n]: dW = x^T g, dx = g W^T."""
    return [Case(f"{tag} dense dW {k}x{m}x{n} (a^T b)", "MatMul", [("f", (m, k)), ("f", (m, n))],
                 {"transpose_a": True, "transpose_b": False}, lambda tf, a, b: tf.matmul(a, b, transpose_a=True)),
            Case(f"{tag} dense dx {m}x{n}x{k} (a b^T)", "MatMul", [("f", (m, n)), ("f", (k, n))],
                 {"transpose_a": False, "transpose_b": True}, lambda tf, a, b: tf.matmul(a, b, transpose_b=True))]


def softmax_cases(tag, n, k):
    from_ = ("f", (n, k))

    def xent(tf, labels, logits):
        from tensorflow.python.ops import gen_nn_ops
        return gen_nn_ops.softmax_cross_entropy_with_logits(logits, labels)[0].op

    def sparse(tf, labels, logits):
        from tensorflow.python.ops import gen_nn_ops
        return gen_nn_ops.sparse_softmax_cross_entropy_with_logits(logits, labels)[0].op
    return [
        Case(f"{tag} xent {n}x{k}", "SoftmaxCrossEntropyWithLogits", [("probs", (n, k)), from_], {"axis": -1}, xent),
        Case(f"{tag} sparse xent {n}x{k}", "SparseSoftmaxCrossEntropyWithLogits", [("labels", (n, k)), from_],
             {"axis": -1}, sparse),
        Case(f"{tag} softmax {n}x{k}", "Softmax", [from_], {"axis": -1}, lambda tf, x: tf.nn.softmax(x)),
        Case(f"{tag} log_softmax {n}x{k}", "LogSoftmax", [from_], {"axis": -1}, lambda tf, x: tf.nn.log_softmax(x)),
        Case(f"{tag} SoftmaxGrad {n}x{k}", "SoftmaxGrad", [("probs", (n, k)), from_], {"axis": -1},
             lambda tf, y, g: (g - tf.reduce_sum(g * y, -1, keepdims=True)) * y),
    ]


def cases():
    return (conv_cases("P1", 128, 28, 28, 1, 32, 5, grads=("filter",))
            + pool_cases("P1", 128, 28, 28, 32, avg=True)
            + conv_cases("P1", 128, 14, 14, 32, 64, 5)
            + pool_cases("P1", 128, 14, 14, 64)
            + matmul_cases("P1", 128, 3136, 1024, "Relu") + matmul_cases("P1", 128, 1024, 10, None)
            + matmul_grad_cases("P1", 128, 3136, 1024)
            + softmax_cases("P1", 128, 10)
            + conv_cases("C2", 16, 28, 28, 1, 16, 3, grads=("filter",))
            + pool_cases("C2", 16, 28, 28, 16)
            + conv_cases("C2", 16, 14, 14, 16, 32, 3)
            + pool_cases("C2", 16, 14, 14, 32)
            + conv_cases("P8", 32, 32, 32, 3, 32, 3, grads=("filter",))
            + pool_cases("P8", 32, 32, 32, 32)
            + conv_cases("P8", 32, 16, 16, 32, 64, 3)
            + pool_cases("P8", 32, 16, 16, 64)
            + conv_cases("RGB", 32, 32, 32, 3, 64, 3)
            + conv_cases("RGB", 32, 32, 32, 3, 64, 3, s=2))


def inputs(case, seed):
    """The case's input arrays (the same in every process)."""
    rng = np.random.default_rng(seed)
    out = []
    for kind, shape in case.shapes:
        if kind == "f":
            out.append((rng.standard_normal(shape) * 0.5).astype(np.float32))
        elif kind == "shape":
            out.append(np.array(shape, np.int32))
        elif kind == "probs":
            out.append(rng.dirichlet(np.ones(shape[1]), shape[0]).astype(np.float32))
        elif kind == "labels":
            out.append(rng.integers(0, shape[1], shape[0]).astype(np.int32))
        elif kind == "maxpool":      # MaxPool of the first input, as MaxPoolGrad takes it
            from jitgraph.ops.registry import OPS
            out.append(OPS["MaxPool"].compute(out[0], **case.attrs))
    return out


#: Seconds between a case's reference samples and the next fast ones. A multi-threaded OpenBLAS
#: call (the references' im2col products) leaves its worker spinning ~0.1 s on the other core;
#: fast samples taken right after one (the two were interleaved) shared that core with it: P1's
#: 1 -> 32 conv 1.9-26 ms a sample (median 6.6) against 1.6-2.4 ms alone.
SETTLE = 0.3


def _sample(fn, pause):
    time.sleep(pause)
    fn()
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def child_jitgraph(selected, reps, pause, out_dir):
    from jitgraph.ops.registry import OPS
    res, values = {}, {}
    for i, case in selected:
        args = inputs(case, i)
        try:
            d = OPS[case.op]
            fast = lambda: d.extra["fast"](*args, **case.attrs)   # noqa: E731
            ref = lambda: d.compute(*args, **case.attrs)           # noqa: E731
            got, want = fast(), ref()                              # compiles the kernels
        except Exception as e:  # noqa: BLE001 - this case is n/a, the others run
            print(f"{case.name}: n/a ({type(e).__name__}: {e})"[:200], flush=True)
            continue
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for k, (g, w) in enumerate(zip(got, want)):
            values[f"{i}/{k}/fast"], values[f"{i}/{k}/ref"] = g, w
        time.sleep(SETTLE)        # the last case's reference left OpenBLAS's threads spinning
        s = {"fast": [_sample(fast, pause) for _ in range(reps)]}
        s["ref"] = [_sample(ref, pause) for _ in range(reps)]
        res[i] = s
    np.savez(os.path.join(out_dir, "jitgraph.npz"), **values)
    return res


def child_tf(selected, reps, pause, out_dir):
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    res, values = {}, {}
    with tf.Graph().as_default():
        noop = tf.no_op()
        with tf.Session() as sess:
            res["noop"] = {"tf": [_sample(lambda: sess.run(noop), pause) for _ in range(reps)]}
    for i, case in selected:
        args = inputs(case, i)
        with tf.Graph().as_default():
            ts = [tf.constant(a) if a.dtype == np.int32 and a.ndim == 1 and case.shapes[k][0] == "shape"
                  else tf.Variable(a, trainable=False) for k, a in enumerate(args)]
            y = case.build(tf, *ts)
            target = y if isinstance(y, tf.Operation) else y.op
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                vals = sess.run(list(target.outputs))
                for k, v in enumerate(vals):
                    values[f"{i}/{k}/tf"] = v
                res[i] = {"tf": [_sample(lambda: sess.run(target), pause) for _ in range(reps)]}
    np.savez(os.path.join(out_dir, "tf.npz"), **values)
    return res


def _err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b), initial=0)) / max(float(np.max(np.abs(b), initial=0)), 1e-30)


def report(all_cases, selected, samples, out_dir):
    vals = {}
    for name in ("jitgraph", "tf"):
        p = os.path.join(out_dir, f"{name}.npz")
        if os.path.exists(p):
            vals.update(dict(np.load(p)))
    med = {i: {k: statistics.median(v) for k, v in s.items()} for i, s in samples.items()}
    if "noop" in med:
        print(f"TF1 Session.run of a no-op: {med['noop']['tf']:.3f} ms (included in the TF column)")
    hdr = f"{'op':44} {'fast ms':>8} {'ref ms':>8} {'TF ms':>8} {'ref/fast':>8} {'TF/fast':>8} {'err ref':>8} {'err TF':>8}"
    print(hdr)
    print("-" * len(hdr))
    for i, case in selected:
        m = med.get(i, {})
        f, r, t = m.get("fast"), m.get("ref"), m.get("tf")
        er = max((_err(vals[f"{i}/{k}/fast"], vals[f"{i}/{k}/ref"]) for k in range(4) if f"{i}/{k}/ref" in vals),
                 default=None)
        et = max((_err(vals[f"{i}/{k}/fast"], vals[f"{i}/{k}/tf"]) for k in range(4)
                  if f"{i}/{k}/tf" in vals and f"{i}/{k}/fast" in vals), default=None)

        def fmt(v, spec):
            return format(v, spec) if v is not None else f"{'n/a':>8}"
        print(f"{case.name:44} {fmt(f, '8.3f')} {fmt(r, '8.3f')} {fmt(t, '8.3f')} "
              f"{fmt(r / f if f and r else None, '8.2f')} {fmt(t / f if f and t else None, '8.2f')} "
              f"{fmt(er, '8.1e')} {fmt(et, '8.1e')}")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ops", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--pause", type=float, default=0.02)
    ap.add_argument("--passes", type=int, default=2, help="children per family, ABBA")
    ap.add_argument("--only", default="", help="comma list of substrings of case names")
    ap.add_argument("--impls", default="jitgraph,tf")
    ap.add_argument("--child", choices=("jitgraph", "tf"), help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    all_cases = cases()
    keys = [s.strip() for s in a.only.split(",") if s.strip()]
    selected = [(i, c) for i, c in enumerate(all_cases) if not keys or any(k in c.name for k in keys)]
    if a.child:
        fn = child_jitgraph if a.child == "jitgraph" else child_tf
        try:
            out = {"status": "ok", "samples": fn(selected, a.reps, a.pause, a.out_dir)}
        except Exception as e:  # noqa: BLE001 - the parent prints n/a
            out = {"status": "n/a", "reason": f"{type(e).__name__}: {e}"[:300]}
        print("RESULT " + json.dumps(out), flush=True)
        return
    from benchmarks import isolate, probes
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; BLAS: "
          + ", ".join(f"{b.get('internal_api')} {b.get('version')} {b.get('architecture')} "
                      f"{b.get('num_threads')} threads" for b in probes.blas_info()))
    impls = [s for s in a.impls.split(",") if s]
    passes = max(1, min(a.passes, a.reps))
    per = [a.reps // passes + (1 if k < a.reps % passes else 0) for k in range(passes)]
    samples = {}
    with tempfile.TemporaryDirectory() as out_dir:
        for k in range(passes):
            for impl in (impls if k % 2 == 0 else impls[::-1]):
                args = ["--child", impl, "--reps", str(per[k]), "--pause", str(a.pause), "--out-dir", out_dir,
                        "--only", a.only]
                try:
                    got = isolate.spawn("benchmarks.ops", args, "RESULT ", timeout=1800,
                                        on_line=lambda s: s.strip() and print("   ", s[:200]))
                except RuntimeError as e:
                    got = {"status": "n/a", "reason": str(e)}
                if got["status"] != "ok":
                    print(f"{impl}: n/a ({got['reason']})")
                    continue
                for i, s in got["samples"].items():
                    key = i if i == "noop" else int(i)
                    for name, v in s.items():
                        samples.setdefault(key, {}).setdefault(name, []).extend(v)
        report(all_cases, selected, samples, out_dir)


if __name__ == "__main__":
    main()
