"""Graph-session impls (jitgraph, TF1, TF1+XLA; ``-mc`` = ``Session.make_callable``), JAX and
PyTensor.  Every factory raises on failure; the harness turns that into ``n/a (reason)``.
``NotApplicable`` marks a workload an impl does not take part in (printed as ``—``).
"""
import contextlib
import importlib

import numpy as np

from . import workloads as W


class NotApplicable(Exception):
    pass


# ---- TF1-style graph + Session (jitgraph and tensorflow.compat.v1) ---------------------------
def load_tf():
    import tensorflow.compat.v1 as tf  # noqa: TF_XLA_FLAGS was set by benchmarks/__init__.py
    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    return tf


def load_jitgraph():
    return importlib.import_module("jitgraph")


def _graph_ctx(tf):
    if hasattr(tf, "Graph"):
        g = tf.Graph()
        return g, g.as_default()
    if hasattr(tf, "reset_default_graph"):
        tf.reset_default_graph()
    return None, contextlib.nullcontext()


class GraphRunner:
    def __init__(self, tf, wl, d, config=None, use_callable=False):
        g, ctx = _graph_ctx(tf)
        with ctx:
            spec = W.BUILDERS[wl](tf, d)
            init = tf.global_variables_initializer()
        kw = {} if g is None else {"graph": g}
        if config is not None:
            kw["config"] = config
        self.sess = sess = tf.Session(**kw)
        sess.run(init)
        self.spec, self._last = spec, None
        fetch, feed, loop = spec.fetch, spec.feed, spec.loop
        if use_callable:
            fn = sess.make_callable(fetch, feed_list=list(feed))
            args = list(feed.values())
            if loop == 1:
                def run():
                    self._last = fn(*args)
                    return self._last
            else:
                def run():
                    for _ in range(loop):
                        fn(*args)
        else:
            r = sess.run
            if loop == 1:
                def run():
                    self._last = r(fetch, feed) if feed else r(fetch)
                    return self._last
            else:
                def run():
                    for _ in range(loop):
                        r(fetch)
        self.run = run

    def value(self):
        if self.spec.value is not None:
            return self.sess.run(self.spec.value)
        v = self._last
        return v[0] if isinstance(v, (list, tuple)) else v

    def close(self):
        self.sess.close()


def make_jitgraph(wl, d, use_callable=False):
    if use_callable and wl != "W4":
        raise NotApplicable
    return GraphRunner(load_jitgraph(), wl, d, use_callable=use_callable)


def make_tf(wl, d, xla=False, use_callable=False):
    if use_callable and wl != "W4":
        raise NotApplicable
    tf = load_tf()
    cfg = tf.ConfigProto()
    if xla:
        cfg.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
    return GraphRunner(tf, wl, d, config=cfg, use_callable=use_callable)


# ---- JAX -------------------------------------------------------------------------------------
class _Runner:
    def value(self):
        return np.asarray(self._value())


def make_jax(wl, d, x_on_device=False):
    if x_on_device and wl != "W1":
        raise NotApplicable
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_platforms", "cpu")
    r, box, put = _Runner(), [None], jax.device_put
    if wl == "W1":
        f = jax.jit(lambda x, w, b: jnp.maximum(x * w + b, 0) * 0.5 + jnp.tanh(x))
        x, w, b = (put(d["x"]) if x_on_device else d["x"]), put(d["w"]), put(d["b"])

        def run():
            box[0] = f(x, w, b).block_until_ready()
    elif wl == "W2":
        f = jax.jit(lambda x: jnp.sum((x - jnp.mean(x)) ** 2))
        x = put(d["x"])

        def run():
            box[0] = f(x).block_until_ready()
    elif wl == "W3":
        f = jax.jit(lambda v, g: v + np.float32(d["lr"]) * g, donate_argnums=0)
        box[0], g = put(d["v"].copy()), put(d["g"])

        def run():
            box[0] = f(box[0], g).block_until_ready()
    elif wl == "W4":
        f = jax.jit(lambda c: c + np.float32(1.0), donate_argnums=0)
        box[0], calls = put(np.float32(0.0)), d["calls"]

        def run():
            c = box[0]
            for _ in range(calls):
                c = f(c)
            box[0] = c.block_until_ready()
    elif wl == "W5":
        lr = np.float32(d["lr5"])

        def loss_fn(p, x, y):
            h = jax.nn.relu(x @ p[0] + p[1])
            logits = h @ p[2] + p[3]
            return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits), axis=1))

        def _step(p, x, y):
            loss, g = jax.value_and_grad(loss_fn)(p, x, y)
            return loss, tuple(a - lr * b for a, b in zip(p, g))
        step = jax.jit(_step, donate_argnums=0)
        state = [tuple(put(d[k].copy()) for k in ("W1", "b1", "W2", "b2"))]
        x, y = d["x5"], d["y5"]

        def run():
            loss, state[0] = step(state[0], x, y)
            box[0] = loss.block_until_ready()
            return box[0]
    elif wl == "W6":
        def conv_relu(x, k, b):
            y = jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                             dimension_numbers=("NHWC", "HWIO", "NHWC"))
            return jax.nn.relu(y + b)
        f = jax.jit(lambda x, k1, b1, k2, b2: conv_relu(conv_relu(x, k1, b1), k2, b2))
        ws = [put(d[k]) for k in ("k1", "kb1", "k2", "kb2")]
        x = d["img"]

        def run():
            box[0] = f(x, *ws).block_until_ready()
    else:
        raise KeyError(wl)
    r.run, r._value = run, lambda: box[0]
    return r


# ---- PyTensor --------------------------------------------------------------------------------
def make_pytensor(wl, d, numba_mode=False):
    if wl == "W6":
        raise NotApplicable
    import pytensor
    import pytensor.tensor as pt
    pytensor.config.floatX = "float32"
    mode = "NUMBA" if numba_mode else None
    shared = pytensor.shared
    r, box = _Runner(), [None]
    if wl == "W1":
        x = pt.vector("x", dtype="float32")
        w, b = shared(d["w"]), shared(d["b"])
        f = pytensor.function([x], pt.maximum(x * w + b, 0) * np.float32(0.5) + pt.tanh(x), mode=mode)
        xv = d["x"]

        def run():
            box[0] = f(xv)
    elif wl == "W2":
        x = shared(d["x"])
        f = pytensor.function([], pt.sum((x - pt.mean(x)) ** 2), mode=mode)

        def run():
            box[0] = f()
    elif wl == "W3":
        v, g = shared(d["v"].copy()), shared(d["g"])
        f = pytensor.function([], [], updates=[(v, v + np.float32(d["lr"]) * g)], mode=mode)
        run = f
        box_v = v
        r.run, r._value = run, lambda: box_v.get_value(borrow=True)
        return r
    elif wl == "W4":
        c = shared(np.float32(0.0))
        f = pytensor.function([], [], updates=[(c, c + np.float32(1.0))], mode=mode)
        calls = d["calls"]

        def run():
            for _ in range(calls):
                f()
        r.run, r._value = run, lambda: c.get_value()
        return r
    elif wl == "W5":
        x = pt.matrix("x", dtype="float32")
        y = pt.matrix("y", dtype="float32")
        p = [shared(d[k].copy(), name=k) for k in ("W1", "b1", "W2", "b2")]
        h = pt.maximum(x @ p[0] + p[1], 0)
        logits = h @ p[2] + p[3]
        loss = -pt.mean(pt.sum(y * pt.special.log_softmax(logits, axis=1), axis=1))
        lr = np.float32(d["lr5"])
        grads = pytensor.grad(loss, p)
        f = pytensor.function([x, y], loss, updates=[(a, a - lr * g) for a, g in zip(p, grads)],
                              mode=mode)
        xv, yv = d["x5"], d["y5"]

        def run():
            box[0] = f(xv, yv)
            return box[0]
    else:
        raise KeyError(wl)
    r.run, r._value = run, lambda: box[0]
    return r
