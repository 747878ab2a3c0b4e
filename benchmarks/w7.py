"""W7: recurrent networks and loop overhead.

* ``lstm``: one training step of an LSTM (128 units, 100 time steps, batch 32, input 64): forward,
  backward and an Adam update, loss = mean squared error of all outputs against targets.
  jitgraph and TF1 run the same graph (``tf.nn.dynamic_rnn`` over ``BasicLSTMCell``); JAX uses
  ``lax.scan`` under ``jit``; PyTensor ``scan`` (C and Numba backends). All start from the same
  weights; the losses of the first two steps are compared with jitgraph's.
* ``count``: ``tf.while_loop(lambda i: i < 10**6, lambda i: i + 1, [0])`` (jitgraph, TF1) and a
  loop whose float carry LLVM cannot shortcut (``s = s * a + b`` with fed ``a``, ``b``).

Each impl runs in its own process (``benchmarks.isolate.spawn``), as the other workloads.

    python -m benchmarks.w7 [--reps N] [--impls jitgraph,tf,jax,pytensor] [--json FILE]
"""

import argparse
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")   # tf.nn.rnn_cell lives in tf_keras under TF 2.16+

B, T, I, H = 32, 100, 64, 128
COUNT = 10 ** 6
LR = 1e-3


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    y = (rng.standard_normal((B, T, H)) * 0.5).astype(np.float32)
    w = rng.uniform(-0.08, 0.08, size=(I + H, 4 * H)).astype(np.float32)
    b = np.zeros(4 * H, np.float32)
    return x, y, w, b


# ---- graph impls (jitgraph and TF1 share the builder) ---------------------------------------------
def graph_lstm(tf):
    x_v, y_v, w_v, b_v = data()
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [B, T, I], name="x")
        y = tf.placeholder(tf.float32, [B, T, H], name="y")
        cell = tf.nn.rnn_cell.BasicLSTMCell(H)
        out, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        loss = tf.reduce_mean(tf.square(out - y))
        step = tf.train.AdamOptimizer(LR).minimize(loss)
        init = tf.global_variables_initializer()
        kernel, bias = tf.trainable_variables()
    sess = tf.Session(graph=g)
    sess.run(init)
    kernel.load(w_v, sess)
    bias.load(b_v, sess)
    feed = {x: x_v, y: y_v}
    fn = sess.make_callable([loss, step], feed_list=[x, y])
    return lambda: fn(x_v, y_v)[0], sess, feed


def graph_count(tf, dependent):
    g = tf.Graph()
    with g.as_default():
        if dependent:
            a = tf.placeholder(tf.float32, [], name="a")
            c = tf.placeholder(tf.float32, [], name="c")
            r = tf.while_loop(lambda i, s: i < COUNT, lambda i, s: (i + 1, s * a + c), [0, 0.0])[1]
            feed = {a: 0.999, c: 0.5}
        else:
            r = tf.while_loop(lambda i: i < COUNT, lambda i: i + 1, [0])
            feed = {}
    sess = tf.Session(graph=g)
    return lambda: sess.run(r, feed)


def load(impl):
    if impl.startswith("jitgraph"):
        import jitgraph
        return jitgraph
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    return tf


# ---- JAX ------------------------------------------------------------------------------------------
def jax_lstm():
    import jax
    import jax.numpy as jnp
    x_v, y_v, w_v, b_v = data()

    def loss_fn(params, x, y):
        w, b = params

        def step(carry, xt):
            c, h = carry
            z = jnp.concatenate([xt, h], 1) @ w + b
            i, j, f, o = jnp.split(z, 4, 1)
            c = c * jax.nn.sigmoid(f + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
            h = jnp.tanh(c) * jax.nn.sigmoid(o)
            return (c, h), h
        zero = jnp.zeros((B, H), jnp.float32)
        _, hs = jax.lax.scan(step, (zero, zero), jnp.swapaxes(x, 0, 1))
        return jnp.mean((jnp.swapaxes(hs, 0, 1) - y) ** 2)

    @jax.jit
    def train(state, x, y):
        params, m, v, t = state
        loss, g = jax.value_and_grad(loss_fn)(params, x, y)
        t = t + 1
        lr = LR * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        m = [0.9 * mi + 0.1 * gi for mi, gi in zip(m, g)]
        v = [0.999 * vi + 0.001 * gi * gi for vi, gi in zip(v, g)]
        params = [p - lr * mi / (jnp.sqrt(vi) + 1e-8) for p, mi, vi in zip(params, m, v)]
        return (params, m, v, t), loss

    params = [jnp.asarray(w_v), jnp.asarray(b_v)]
    state = [(params, [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params], 0.0)]
    xd, yd = jnp.asarray(x_v), jnp.asarray(y_v)

    def run():
        state[0], loss = train(state[0], xd, yd)
        return float(loss)
    return run


# ---- PyTensor -------------------------------------------------------------------------------------
def pytensor_lstm(mode):
    import pytensor
    import pytensor.tensor as pt
    pytensor.config.floatX = "float32"     # Python-float constants stay float32
    x_v, y_v, w_v, b_v = data()
    X, Y = pt.tensor3("x", dtype="float32"), pt.tensor3("y", dtype="float32")
    W, Bb = pytensor.shared(w_v, "w"), pytensor.shared(b_v, "b")

    def step(xt, c, h, w, b):
        z = pt.dot(pt.concatenate([xt, h], axis=1), w) + b
        i, j, f, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        c = c * pt.sigmoid(f + 1.0) + pt.sigmoid(i) * pt.tanh(j)
        return c, pt.tanh(c) * pt.sigmoid(o)
    zero = pt.zeros((B, H), dtype="float32")
    (_, hs), _ = pytensor.scan(step, sequences=X.dimshuffle(1, 0, 2), outputs_info=[zero, zero],
                               non_sequences=[W, Bb])
    loss = pt.mean((hs.dimshuffle(1, 0, 2) - Y) ** 2)
    params = [W, Bb]
    grads = pt.grad(loss, params)
    t = pytensor.shared(np.float32(0), "t")
    t1 = t + 1
    lr = LR * pt.sqrt(1 - 0.999 ** t1) / (1 - 0.9 ** t1)
    updates = [(t, t1)]
    for p, g in zip(params, grads):
        m = pytensor.shared(np.zeros_like(p.get_value()))
        v = pytensor.shared(np.zeros_like(p.get_value()))
        m1, v1 = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        updates += [(m, m1), (v, v1), (p, (p - lr * m1 / (pt.sqrt(v1) + 1e-8)).astype("float32"))]
    fn = pytensor.function([X, Y], loss, updates=updates, mode=mode)
    return lambda: float(fn(x_v, y_v))


# ---- child ---------------------------------------------------------------------------------------
def child(impl, reps):
    t0 = time.perf_counter()
    losses = []
    if impl in ("jitgraph", "tf"):
        run = graph_lstm(load(impl))[0]
    elif impl == "jax":
        run = jax_lstm()
    elif impl.startswith("pytensor"):
        run = pytensor_lstm("NUMBA" if impl == "pytensor-numba" else None)
    elif impl.endswith("-count") or impl.endswith("-dep"):
        run = graph_count(load(impl), impl.endswith("-dep"))
    else:
        raise SystemExit(f"unknown impl {impl}")
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    losses.append(float(np.asarray(run()).reshape(-1)[0]))
    first_s = time.perf_counter() - t0
    losses.append(float(np.asarray(run()).reshape(-1)[0]))
    if impl.startswith("jitgraph"):   # plans compile in the background: time compiled code only
        from jitgraph.compiler import wait_for_builds
        wait_for_builds()
        run()
    samples = []
    n = 2 if impl.startswith("tf-") else reps
    for _ in range(n):
        time.sleep(0.05)
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1e3)
    print("RESULT " + json.dumps({"impl": impl, "median_ms": float(np.median(samples)), "samples_ms": samples,
                                  "losses": losses, "build_s": build_s, "first_run_s": first_s}), flush=True)


# ---- parent --------------------------------------------------------------------------------------
LSTM_IMPLS = ["jitgraph", "tf", "jax", "pytensor", "pytensor-numba"]
COUNT_IMPLS = ["jitgraph-count", "tf-count", "jitgraph-dep", "tf-dep"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--impls", default=",".join(LSTM_IMPLS + COUNT_IMPLS))
    ap.add_argument("--json")
    ap.add_argument("--child")
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.reps)
    from benchmarks.isolate import spawn
    load_avg = os.getloadavg()[0]
    print(f"load average {load_avg:.2f}" + ("  (busy machine: numbers are noisy)" if load_avg >= 2.5 else ""))
    results = {}
    for impl in args.impls.split(","):
        try:
            results[impl] = spawn("benchmarks.w7", ["--child", impl, "--reps", str(args.reps)], "RESULT ",
                                  timeout=900)
        except Exception as e:   # noqa: BLE001 - one failing impl does not stop the others
            results[impl] = {"impl": impl, "error": str(e)[:200]}
        r = results[impl]
        print(f"  {impl:15s} " + (f"{r['median_ms']:10.2f} ms  losses {r['losses']}" if "median_ms" in r
                                   else f"n/a ({r['error']})"), flush=True)
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "load_start": load_avg, "load_end": os.getloadavg()[0]}, f, indent=1)


def table(results):
    def ms(name):
        r = results.get(name, {})
        return r.get("median_ms")
    ref = results.get("jitgraph", {}).get("losses")
    peers = {k: ms(k) for k in ("tf", "jax", "pytensor", "pytensor-numba") if ms(k) is not None}
    lines = ["", "W7 LSTM training step (B=32, T=100, I=64, H=128)", f"{'impl':16s}{'median':>12s}{'x best peer':>13s}  loss check"]
    best = min(peers.values()) if peers else None
    for name in ["jitgraph"] + list(peers):
        if ms(name) is None:
            continue
        losses = results[name]["losses"]
        ok = ref is not None and np.allclose(losses, ref, rtol=1e-3)
        ratio = f"{ms(name) / best:.2f}" if best else "-"
        lines.append(f"{name:16s}{ms(name):10.2f} ms{ratio:>13s}  {'ok' if ok else 'DIFFERS'} {losses}")
    lines += ["", f"while_loop counting to {COUNT} (per run, and per iteration)"]
    for name in COUNT_IMPLS:
        if ms(name) is not None:
            lines.append(f"{name:16s}{ms(name):12.3f} ms {ms(name) * 1e6 / COUNT:10.2f} ns/iter")
    for a, b in (("tf-count", "jitgraph-count"), ("tf-dep", "jitgraph-dep")):
        if ms(a) and ms(b):
            lines.append(f"{b} is {ms(a) / ms(b):,.0f}x faster than {a}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
