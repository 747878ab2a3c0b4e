"""W1-W6 (PERF.md): sizes, data, float64 references, the NumPy eager impl, and the TF1 graph
builders shared by jitgraph and TensorFlow (``build_w1(tf, d)`` works for ``tf = jitgraph`` and
``tf = tensorflow.compat.v1``).
"""
import numpy as np

F32 = np.float32
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
DESCR = {
    "W1": "relu(x*w+b)*0.5+tanh(x)",
    "W2": "sum((x-mean(x))**2)",
    "W3": "v.assign_add(lr*g)",
    "W4": "counter.assign_add(1) per call",
    "W5": "MLP 784-256-10 SGD step",
    "W6": "my_image_filter 2x conv_relu",
}
# Value agreement: max|a - ref| <= TOL * max(|ref|) (float32 + approximate tanh/exp).
TOL = {"W1": 1e-3, "W2": 1e-3, "W3": 1e-5, "W4": 0.0, "W5": 1e-3, "W6": 1e-3}
# run() calls before value() is read; W5 records the loss of each call (before/after one step).
CHECK_CALLS = {"W5": 2}


def sizes(scale=1.0, small=False):
    if small:
        return dict(n=10_000, calls=100, batch=32, img=(2, 8, 8, 32), ksz=5)
    return dict(n=max(1000, int(10_000_000 * scale)), calls=max(10, int(10_000 * min(scale, 1.0))),
                batch=256, img=(8, 32, 32, 32), ksz=5)


def make_data(wl, sz, seed=0):
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(F32)

    n = sz["n"]
    if wl == "W1":
        return dict(x=normal(n), w=normal(n), b=normal(n, scale=0.5))
    if wl == "W2":
        return dict(x=normal(n) + F32(3.0))
    if wl == "W3":
        return dict(v=normal(n), g=normal(n), lr=0.01)
    if wl == "W4":
        return dict(calls=sz["calls"])
    if wl == "W5":
        b = sz["batch"]
        labels = rng.integers(0, 10, b)
        return dict(x5=rng.random((b, 784), dtype=F32), y5=np.eye(10, dtype=F32)[labels], lr5=0.1,
                    W1=normal(784, 256, scale=np.sqrt(2 / 784)), b1=normal(256, scale=0.01),
                    W2=normal(256, 10, scale=np.sqrt(2 / 256)), b2=normal(10, scale=0.01))
    if wl == "W6":
        k, c = sz["ksz"], sz["img"][3]
        fan = k * k * c
        return dict(img=normal(*sz["img"]), k1=normal(k, k, c, 32, scale=np.sqrt(2 / fan)),
                    kb1=normal(32, scale=0.1), k2=normal(k, k, 32, 32, scale=np.sqrt(2 / fan)),
                    kb2=normal(32, scale=0.1))
    raise KeyError(wl)


# ---- float64 references ----------------------------------------------------------------------
def _mlp_step_np(p, x, y, lr):
    """One SGD step on params dict p (in place); returns the loss before the update."""
    h = np.maximum(x @ p["W1"] + p["b1"], 0)
    logits = h @ p["W2"] + p["b2"]
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(axis=1, keepdims=True)
    loss = -(y * (logits - m - np.log(s))).sum() / x.shape[0]
    dlog = (e / s - y) / x.shape[0]
    dh = (dlog @ p["W2"].T) * (h > 0)
    grads = dict(W2=h.T @ dlog, b2=dlog.sum(0), W1=x.T @ dh, b1=dh.sum(0))
    for k, g in grads.items():
        p[k] -= (lr * g).astype(p[k].dtype)
    return loss


def _conv_same_np(x, k):
    """NHWC stride-1 SAME conv by shifted matmuls (reference and NumPy impl)."""
    kh, kw, ci, co = k.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    n, hh, ww, _ = x.shape
    out = np.zeros((n, hh, ww, co), x.dtype)
    for dy in range(kh):
        for dx in range(kw):
            out += xp[:, dy:dy + hh, dx:dx + ww, :] @ k[dy, dx]
    return out


def reference(wl, d):
    f = {k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v) for k, v in d.items()}
    if wl == "W1":
        return np.maximum(f["x"] * f["w"] + f["b"], 0) * 0.5 + np.tanh(f["x"])
    if wl == "W2":
        return np.sum((f["x"] - f["x"].mean()) ** 2)
    if wl == "W3":
        return f["v"] + d["lr"] * f["g"]
    if wl == "W4":
        return np.float64(d["calls"])
    if wl == "W5":
        p = {k: f[k].copy() for k in ("W1", "b1", "W2", "b2")}
        return np.array([_mlp_step_np(p, f["x5"], f["y5"], d["lr5"]) for _ in range(2)])
    if wl == "W6":
        h = np.maximum(_conv_same_np(f["img"], f["k1"]) + f["kb1"], 0)
        return np.maximum(_conv_same_np(h, f["k2"]) + f["kb2"], 0)
    raise KeyError(wl)


# ---- NumPy eager impl ------------------------------------------------------------------------
class _Runner:
    def value(self):
        return self._value()


def make_numpy(wl, d):
    r = _Runner()
    box = [None]
    if wl == "W1":
        x, w, b = d["x"], d["w"], d["b"]

        def run():
            box[0] = np.maximum(x * w + b, F32(0)) * F32(0.5) + np.tanh(x)
    elif wl == "W2":
        x = d["x"]

        def run():
            box[0] = np.sum((x - x.mean()) ** 2)
    elif wl == "W3":
        v, g, lr = d["v"].copy(), d["g"], F32(d["lr"])
        box[0] = v

        def run():
            v.__iadd__(lr * g)
    elif wl == "W4":
        c, one, calls = np.zeros((), F32), F32(1.0), d["calls"]
        box[0] = c

        def run():
            add = np.add
            for _ in range(calls):
                add(c, one, out=c)
    elif wl == "W5":
        p = {k: d[k].copy() for k in ("W1", "b1", "W2", "b2")}
        x, y, lr = d["x5"], d["y5"], F32(d["lr5"])

        def run():
            box[0] = _mlp_step_np(p, x, y, lr)
            return box[0]
    elif wl == "W6":
        def run():
            h = np.maximum(_conv_same_np(d["img"], d["k1"]) + d["kb1"], F32(0))
            box[0] = np.maximum(_conv_same_np(h, d["k2"]) + d["kb2"], F32(0))
    else:
        raise KeyError(wl)
    r.run, r._value = run, lambda: box[0]
    return r


# ---- TF1 graph builders: the same code for jitgraph and tensorflow.compat.v1 ------------------
class GraphSpec:
    """fetch: what run() fetches; feed: feed_dict; value: fetch read after run() for the value
    check (None: use run()'s own result, first element if a list); loop: fetches per run()."""

    def __init__(self, fetch, feed=None, value=None, loop=1):
        self.fetch, self.feed, self.value, self.loop = fetch, feed or {}, value, loop


def _op(t):
    return getattr(t, "op", t)


def build_w1(tf, d):
    x = tf.placeholder(tf.float32, [d["x"].size], name="x")
    w = tf.get_variable("w", initializer=d["w"])
    b = tf.get_variable("b", initializer=d["b"])
    y = tf.nn.relu(x * w + b) * 0.5 + tf.tanh(x)
    return GraphSpec(y, {x: d["x"]})


def build_w2(tf, d):
    x = tf.get_variable("x", initializer=d["x"])
    s = tf.reduce_sum((x - tf.reduce_mean(x)) ** 2)
    return GraphSpec(s)


def build_w3(tf, d):
    v = tf.get_variable("v", initializer=d["v"])
    g = tf.get_variable("g", initializer=d["g"])
    upd = v.assign_add(d["lr"] * g)
    return GraphSpec(_op(upd), value=v)


def build_w4(tf, d):
    counter = tf.get_variable("counter", initializer=np.float32(0.0))
    return GraphSpec(_op(counter.assign_add(1.0)), value=counter, loop=d["calls"])


def build_w5(tf, d):
    x = tf.placeholder(tf.float32, list(d["x5"].shape), name="x")
    y = tf.placeholder(tf.float32, list(d["y5"].shape), name="y")
    W1 = tf.get_variable("W1", initializer=d["W1"])
    b1 = tf.get_variable("b1", initializer=d["b1"])
    W2 = tf.get_variable("W2", initializer=d["W2"])
    b2 = tf.get_variable("b2", initializer=d["b2"])
    h = tf.nn.relu(tf.matmul(x, W1) + b1)
    logits = tf.matmul(h, W2) + b2
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.GradientDescentOptimizer(d["lr5"]).minimize(loss)
    return GraphSpec([loss, train], {x: d["x5"], y: d["y5"]})


def build_w6(tf, d):
    # The TF1 guide's my_image_filter, with weights fixed for the value check.
    def conv_relu(inp, kernel, bias):
        weights = tf.get_variable("weights", initializer=kernel)
        biases = tf.get_variable("biases", initializer=bias)
        conv = tf.nn.conv2d(inp, weights, strides=[1, 1, 1, 1], padding="SAME")
        return tf.nn.relu(conv + biases)

    x = tf.placeholder(tf.float32, list(d["img"].shape), name="images")
    with tf.variable_scope("conv1"):
        relu1 = conv_relu(x, d["k1"], d["kb1"])
    with tf.variable_scope("conv2"):
        out = conv_relu(relu1, d["k2"], d["kb2"])
    return GraphSpec(out, {x: d["img"]})


BUILDERS = dict(W1=build_w1, W2=build_w2, W3=build_w3, W4=build_w4, W5=build_w5, W6=build_w6)
