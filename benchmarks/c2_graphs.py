"""C2: model-sized graphs, written once against a ``tf`` module argument so the same function
builds the graph with ``tf = jitgraph`` and ``tf = tensorflow.compat.v1``.

Each builder returns ``(fetches, make_feed)``: what one step runs, and a function giving the feed
dict of step ``i`` (fixed data, so every framework computes the same values).
"""
import numpy as np

F32 = np.float32


def chain(tf, n_ops):
    """``tanh`` and ``* 1.0001 + 0.0001`` alternating until the graph holds ~``n_ops`` ops; x fed [1000]."""
    x = tf.placeholder(tf.float32, [1000], name="x")
    y, ops = x, 0
    while ops < n_ops:
        y = tf.tanh(y) if ops % 3 == 0 else y * 1.0001 + 0.0001
        ops += 1 if ops % 3 == 0 else 2
    data = np.random.default_rng(0).standard_normal(1000).astype(F32)
    return y, lambda i: {x: data}


def reductions(tf, n=200):
    """``n`` independent ``reduce_sum(x * i + sin(x))`` fetched together; x fed [1000]."""
    x = tf.placeholder(tf.float32, [1000], name="x")
    outs = [tf.reduce_sum(x * float(i) + tf.sin(x)) for i in range(n)]
    data = np.random.default_rng(0).standard_normal(1000).astype(F32)
    return outs, lambda i: {x: data}


def mlp(tf, layers, units=64, batch=32, inputs=64, classes=10):
    """``layers`` dense+relu layers of ``units``, softmax cross-entropy, Adam; returns (loss, train)."""
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, inputs], name="x")
    y = tf.placeholder(tf.float32, [None, classes], name="y")
    h, fan = x, inputs
    for i in range(layers):
        w = tf.Variable(rng.standard_normal((fan, units)).astype(F32) * np.sqrt(2 / fan).astype(F32), name=f"w{i}")
        b = tf.Variable(np.zeros(units, F32), name=f"b{i}")
        h = tf.nn.relu(tf.matmul(h, w) + b)
        fan = units
    wo = tf.Variable(rng.standard_normal((fan, classes)).astype(F32) * F32(0.1), name="wo")
    bo = tf.Variable(np.zeros(classes, F32), name="bo")
    logits = tf.matmul(h, wo) + bo
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    xs = rng.standard_normal((batch, inputs)).astype(F32)
    ys = np.eye(classes, dtype=F32)[rng.integers(0, classes, batch)]
    return [loss, train], lambda i: {x: xs, y: ys}


def cnn(tf, batch=16):
    """2 x (conv 3x3 + bias + relu + max_pool 2x2) 1->16->32 on 28x28x1, dense to 10, momentum."""
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    h, c = x, 1
    for i, f in enumerate((16, 32)):
        k = tf.Variable(rng.standard_normal((3, 3, c, f)).astype(F32) * np.sqrt(2 / (9 * c)).astype(F32), name=f"k{i}")
        b = tf.Variable(np.zeros(f, F32), name=f"kb{i}")
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME"), b))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        c = f
    h = tf.reshape(h, [-1, 7 * 7 * 32])
    w = tf.Variable(rng.standard_normal((7 * 7 * 32, 10)).astype(F32) * F32(0.02), name="wd")
    b = tf.Variable(np.zeros(10, F32), name="bd")
    logits = tf.matmul(h, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.MomentumOptimizer(0.01, 0.9).minimize(loss)
    xs = rng.random((batch, 28, 28, 1)).astype(F32)
    ys = np.eye(10, dtype=F32)[rng.integers(0, 10, batch)]
    return [loss, train], lambda i: {x: xs, y: ys}


#: name -> (builder, kwargs, description)
GRAPHS = {
    "chain100": (chain, dict(n_ops=100), "elementwise chain, 100 ops, x [1000]"),
    "chain1000": (chain, dict(n_ops=1000), "elementwise chain, 1,000 ops"),
    "chain3000": (chain, dict(n_ops=3000), "elementwise chain, 3,000 ops"),
    "reduce200": (reductions, dict(n=200), "200 independent reduce_sum(x*i + sin(x))"),
    "mlp16": (mlp, dict(layers=16), "MLP 16 x 64, softmax xent, Adam, batch 32"),
    "mlp64": (mlp, dict(layers=64), "MLP 64 x 64, softmax xent, Adam, batch 32"),
    "cnn": (cnn, {}, "CNN 2 x (conv3x3+relu+max_pool) 1->16->32, dense, momentum, batch 16"),
}


def build(tf, name):
    fn, kw, _ = GRAPHS[name]
    return fn(tf, **kw)
