"""Whole training steps of real programs, jitgraph beside TF1, each in its own process.

``python -m benchmarks.programs [--programs P1] [--impls jitgraph,tf] [--steps 30] [--warmup 5]
[--floors]`` prints the steady per-step time (median after warm-up) of each program under each
impl, and the child's total seconds (graph build to last step: warm-up, compiles and waits
included); ``--floors`` adds the step time its matmuls and convs need at this machine's best
sgemm rate (``flop_floor.py``).  Run it with an interpreter that has both jitgraph and TensorFlow
for the TF column (``tf`` is ``n/a`` otherwise).  Children alternate ABBA over ``--passes``;
every child also runs one step with dropout off from the shared initial values and reports its
loss, which must agree across impls.

Builders take the ``tf`` module, so one function builds the graph for ``tf = jitgraph`` and for
``tf = tensorflow.compat.v1`` (as ``benchmarks/workloads.py`` does).

P1: the classic TF1 MNIST CNN example: conv 5x5 1->32 SAME + bias + relu, 2x2 max-pool, conv 5x5
32->64, pool, dense 7*7*64->1024 relu, dropout (keep 0.5), dense 1024->10, softmax cross-entropy,
Adam 1e-4; batch 128, 28x28x1 images fed as a placeholder.  P2-P4: the classic TF1 MLP,
autoencoder and GAN examples, P5 the classic static-LSTM example and P6 its ``dynamic_rnn``
twin, on random MNIST-shaped data; P7-P9 a text CNN, a CIFAR-style CNN with batch norm and a GRU
sentence classifier, P10 the classic word2vec example, on random data of their shapes (``DESCR``).
"""
import argparse
import collections
import contextlib
import json
import os
import statistics
import sys
import time

import numpy as np

Program = collections.namedtuple("Program", "train loss feeds check_feeds")

PROGRAMS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10")
DESCR = {"P1": "MNIST CNN 5x5 1->32->64, pool, dense 1024, dropout, Adam, batch 128",
         "P2": "MLP 784-256-256-10 (no activations), softmax xent, Adam, batch 100",
         "P3": "autoencoder 784-256-128-256-784, sigmoid, squared error, RMSProp, batch 256",
         "P4": "GAN: G 100-256-784, D 784-256-1, two Adam optimizers, batch 128",
         "P5": "static LSTM, 28 steps of 28 inputs, 128 units, dense 10, SGD, batch 128",
         "P6": "P5 through dynamic_rnn (a while_loop) instead of static_rnn",
         "P7": "text CNN: embedding, full-width conv filters 3/4/5, max over time, dropout, Adam",
         "P8": "CIFAR-style tf.layers CNN with batch norm, max-pooling, dropout, Adam, batch 32",
         "P9": "sentence classifier: embedding, dynamic_rnn GRU with lengths, Adam, batch 64",
         "P10": "word2vec skip-gram: 50,000 x 128 embedding, nce_loss with 64 samples, SGD, batch 128"}


def p1_cnn(tf, batch=128, seed=0):
    """Build P1's training step in the default graph; returns a ``Program`` whose ``feeds(i)`` is
    the feed dict of step i (4 batches in turn) and ``check_feeds`` a step with dropout off."""
    rng = np.random.default_rng(seed)

    def weight(*shape):
        return tf.Variable(np.clip(rng.standard_normal(shape) * 0.1, -0.2, 0.2).astype(np.float32))

    def bias(n):
        return tf.Variable(np.full(n, 0.1, np.float32))

    x = tf.placeholder(tf.float32, [batch, 28, 28, 1], name="x")
    y_ = tf.placeholder(tf.float32, [batch, 10], name="y_")
    keep_prob = tf.placeholder(tf.float32, [], name="keep_prob")
    h = x
    for c_in, c_out in ((1, 32), (32, 64)):
        h = tf.nn.relu(tf.nn.conv2d(h, weight(5, 5, c_in, c_out), strides=[1, 1, 1, 1], padding="SAME")
                       + bias(c_out))
        h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = tf.reshape(h, [-1, 7 * 7 * 64])
    h = tf.nn.relu(tf.matmul(h, weight(7 * 7 * 64, 1024)) + bias(1024))
    h = tf.nn.dropout(h, keep_prob=keep_prob)
    logits = tf.matmul(h, weight(1024, 10)) + bias(10)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
    train = tf.train.AdamOptimizer(1e-4).minimize(loss)

    data = np.random.default_rng(seed + 1)
    images = data.random((4, batch, 28, 28, 1), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[data.integers(0, 10, (4, batch))]

    def feeds(i):
        return {x: images[i % 4], y_: labels[i % 4], keep_prob: 0.5}
    return Program(train, loss, feeds, {x: images[0], y_: labels[0], keep_prob: 1.0})


def _mnist(seed, batch, batches=4):
    """``batches`` batches of random [batch, 784] images in [0, 1) and one-hot labels."""
    data = np.random.default_rng(seed + 1)
    images = data.random((batches, batch, 784), dtype=np.float32)
    return images, np.eye(10, dtype=np.float32)[data.integers(0, 10, (batches, batch))]


def p2_mlp(tf, batch=100, seed=0):
    """The classic TF1 example ``multilayer_perceptron.py``: two hidden layers of 256 without
    activation, softmax cross-entropy, Adam 1e-3."""
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    h = x
    for fan_in, fan_out in ((784, 256), (256, 256), (256, 10)):
        w = tf.Variable(rng.standard_normal((fan_in, fan_out)).astype(np.float32))
        b = tf.Variable(rng.standard_normal(fan_out).astype(np.float32))
        h = tf.add(tf.matmul(h, w), b)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=h, labels=y))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    images, labels = _mnist(seed, batch)
    return Program(train, loss, lambda i: {x: images[i % 4], y: labels[i % 4]}, {x: images[0], y: labels[0]})


def p3_autoencoder(tf, batch=256, seed=0):
    """The classic TF1 example ``autoencoder.py``: 784-256-128 sigmoid encoder, mirrored decoder,
    mean squared reconstruction error, RMSProp 1e-2."""
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    h = x
    for fan_in, fan_out in ((784, 256), (256, 128), (128, 256), (256, 784)):
        w = tf.Variable(rng.standard_normal((fan_in, fan_out)).astype(np.float32))
        b = tf.Variable(rng.standard_normal(fan_out).astype(np.float32))
        h = tf.nn.sigmoid(tf.add(tf.matmul(h, w), b))
    loss = tf.reduce_mean(tf.pow(x - h, 2))
    train = tf.train.RMSPropOptimizer(1e-2).minimize(loss)
    images, _ = _mnist(seed, batch)
    return Program(train, loss, lambda i: {x: images[i % 4]}, {x: images[0]})


def p4_gan(tf, batch=128, seed=0):
    """The classic TF1 example ``gan.py``: generator 100-256-784 (relu, sigmoid), discriminator
    784-256-1 (relu, sigmoid), -log losses, one Adam 2e-4 per network on its own variables; a step
    runs both training ops."""
    rng = np.random.default_rng(seed)

    def glorot(*shape):
        return tf.Variable((rng.standard_normal(shape) / np.sqrt(shape[0] / 2.0)).astype(np.float32))

    g_w1, g_b1, g_w2, g_b2 = glorot(100, 256), tf.Variable(np.zeros(256, np.float32)), \
        glorot(256, 784), tf.Variable(np.zeros(784, np.float32))
    d_w1, d_b1, d_w2, d_b2 = glorot(784, 256), tf.Variable(np.zeros(256, np.float32)), \
        glorot(256, 1), tf.Variable(np.zeros(1, np.float32))
    z = tf.placeholder(tf.float32, [None, 100], name="z")
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    fake = tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(z, g_w1) + g_b1), g_w2) + g_b2)

    def disc(v):
        return tf.nn.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(v, d_w1) + d_b1), d_w2) + d_b2)
    d_real, d_fake = disc(x), disc(fake)
    gen_loss = -tf.reduce_mean(tf.log(d_fake))
    disc_loss = -tf.reduce_mean(tf.log(d_real) + tf.log(1. - d_fake))
    train_gen = tf.train.AdamOptimizer(2e-4).minimize(gen_loss, var_list=[g_w1, g_b1, g_w2, g_b2])
    train_disc = tf.train.AdamOptimizer(2e-4).minimize(disc_loss, var_list=[d_w1, d_b1, d_w2, d_b2])
    images, _ = _mnist(seed, batch)
    noise = np.random.default_rng(seed + 2).uniform(-1, 1, (4, batch, 100)).astype(np.float32)
    return Program([train_gen, train_disc], disc_loss, lambda i: {x: images[i % 4], z: noise[i % 4]},
                   {x: images[0], z: noise[0]})


def p5_lstm(tf, batch=128, seed=0, dynamic=False):
    """The classic TF1 example ``recurrent_network.py``: each 28x28 image is 28 time steps of 28
    inputs through ``static_rnn`` over a ``BasicLSTMCell(128)``; the last output feeds a dense
    layer to 10 logits; softmax cross-entropy, gradient descent 1e-3. ``dynamic``: the same model
    through ``dynamic_rnn`` (a ``while_loop``), as ``dynamic_rnn.py`` examples write it (P6)."""
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [None, 28, 28], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    w = tf.Variable(rng.standard_normal((128, 10)).astype(np.float32))
    b = tf.Variable(rng.standard_normal(10).astype(np.float32))
    with tf.variable_scope("rnn", initializer=tf.constant_initializer(0.05)):
        cell = tf.nn.rnn_cell.BasicLSTMCell(128, forget_bias=1.0)
        if dynamic:
            outputs, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
            last = outputs[:, -1]
        else:
            last = tf.nn.static_rnn(cell, tf.unstack(x, 28, 1), dtype=tf.float32)[0][-1]
    logits = tf.matmul(last, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=y))
    train = tf.train.GradientDescentOptimizer(1e-3).minimize(loss)
    images, labels = _mnist(seed, batch)
    images = images.reshape(-1, batch, 28, 28)
    return Program(train, loss, lambda i: {x: images[i % 4], y: labels[i % 4]},
                   {x: images[0], y: labels[0]})


def _const(tf, a):
    return tf.constant_initializer(np.asarray(a, np.float32))


def p7_text_cnn(tf, batch=50, seed=0):
    """The classic TF1 text-classification CNN (Kim 2014 as ``text_cnn.py`` writes it): embedding
    400 x 24 of 30-word sentences, filters 3/4/5 x 24 (the full embedding width) x 16 with ReLU,
    max-pooling over time, dropout, dense to 2 classes, Adam 1e-3."""
    rng = np.random.default_rng(seed)
    ids = tf.placeholder(tf.int32, [None, 30], name="ids")
    y = tf.placeholder(tf.float32, [None, 2], name="y")
    keep = tf.placeholder(tf.float32, [], name="keep")
    emb = tf.Variable(rng.uniform(-1, 1, (400, 24)).astype(np.float32))
    x = tf.expand_dims(tf.nn.embedding_lookup(emb, ids), -1)
    pools = []
    for k in (3, 4, 5):
        w = tf.Variable((rng.standard_normal((k, 24, 1, 16)) * 0.1).astype(np.float32))
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="VALID"),
                                      tf.Variable(np.full(16, 0.1, np.float32))))
        pools.append(tf.nn.max_pool(h, ksize=[1, 30 - k + 1, 1, 1], strides=[1, 1, 1, 1], padding="VALID"))
    h = tf.nn.dropout(tf.reshape(tf.concat(pools, 3), [-1, 48]), keep_prob=keep)
    logits = tf.layers.dense(h, 2, kernel_initializer=_const(tf, rng.standard_normal((48, 2)) * 0.1))
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    data = np.random.default_rng(seed + 1)
    words, labels = data.integers(0, 400, (4, batch, 30)), np.eye(2, dtype=np.float32)[data.integers(0, 2, (4, batch))]
    return Program(train, loss, lambda i: {ids: words[i % 4], y: labels[i % 4], keep: 0.5},
                   {ids: words[0], y: labels[0], keep: 1.0})


def p8_cifar_bn(tf, batch=32, seed=0):
    """A CIFAR-10-style ``tf.layers`` CNN: two conv 3x3 (3->32->64) + batch norm + ReLU + 2x2
    max-pooling, dense 128 with dropout, dense 10, ``tf.losses`` sparse softmax cross-entropy,
    Adam 1e-3 under the UPDATE_OPS control dependencies; 32x32x3 images."""
    rng = np.random.default_rng(seed)
    x = tf.placeholder(tf.float32, [None, 32, 32, 3], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    training = tf.placeholder(tf.bool, [], name="training")
    h = x
    for c_in, c_out in ((3, 32), (32, 64)):
        k = rng.standard_normal((3, 3, c_in, c_out)) * np.sqrt(2.0 / (9 * c_in))
        h = tf.layers.conv2d(h, c_out, 3, padding="same", kernel_initializer=_const(tf, k))
        h = tf.layers.max_pooling2d(tf.nn.relu(tf.layers.batch_normalization(h, training=training)), 2, 2)
    h = tf.layers.dense(tf.layers.flatten(h), 128, tf.nn.relu,
                        kernel_initializer=_const(tf, rng.standard_normal((4096, 128)) * 0.02))
    h = tf.layers.dropout(h, 0.5, training=training)
    logits = tf.layers.dense(h, 10, kernel_initializer=_const(tf, rng.standard_normal((128, 10)) * 0.1))
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    data = np.random.default_rng(seed + 1)
    images, labels = data.random((4, batch, 32, 32, 3), dtype=np.float32), data.integers(0, 10, (4, batch))
    return Program(train, loss, lambda i: {x: images[i % 4], y: labels[i % 4], training: True},
                   {x: images[0], y: labels[0], training: False})


def p9_text_gru(tf, batch=64, seed=0):
    """A TF1 sentence classifier: embedding 500 x 32, ``dynamic_rnn`` over a ``GRUCell(64)`` with
    per-sentence lengths (up to 20 words), the final state to 5 classes, sparse softmax
    cross-entropy, Adam 1e-3."""
    rng = np.random.default_rng(seed)
    ids = tf.placeholder(tf.int32, [None, 20], name="ids")
    lengths = tf.placeholder(tf.int32, [None], name="lengths")
    y = tf.placeholder(tf.int64, [None], name="y")
    emb = tf.Variable((rng.standard_normal((500, 32)) * 0.3).astype(np.float32))
    with tf.variable_scope("rnn", initializer=tf.constant_initializer(0.02)):
        _, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(64), tf.nn.embedding_lookup(emb, ids),
                                     sequence_length=lengths, dtype=tf.float32)
    logits = tf.layers.dense(state, 5, kernel_initializer=_const(tf, rng.standard_normal((64, 5)) * 0.1))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    data = np.random.default_rng(seed + 1)
    words, lens, labels = data.integers(0, 500, (4, batch, 20)), data.integers(1, 21, (4, batch)), \
        data.integers(0, 5, (4, batch))
    return Program(train, loss, lambda i: {ids: words[i % 4], lengths: lens[i % 4], y: labels[i % 4]},
                   {ids: words[0], lengths: lens[0], y: labels[0]})


def p10_word2vec(tf, batch=128, seed=0, vocab=50000, dim=128, sampled=64):
    """The classic TF1 ``word2vec_basic.py`` skip-gram step: embedding lookup of the batch's
    center words, ``nce_loss`` against their context words with 64 log-uniform negatives, SGD 1.0.
    The sampler is called explicitly (as ``nce_loss`` would) so the loss check can feed the same
    candidates to every impl."""
    rng = np.random.default_rng(seed)
    inputs = tf.placeholder(tf.int32, [batch], name="inputs")
    labels = tf.placeholder(tf.int64, [batch, 1], name="labels")
    emb = tf.Variable(rng.uniform(-1, 1, (vocab, dim)).astype(np.float32))
    nce_w = tf.Variable((rng.standard_normal((vocab, dim)) / np.sqrt(dim)).astype(np.float32))
    nce_b = tf.Variable(np.zeros(vocab, np.float32))
    cands = tf.nn.log_uniform_candidate_sampler(labels, 1, sampled, True, vocab)
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_w, biases=nce_b, labels=labels,
                                         inputs=tf.nn.embedding_lookup(emb, inputs),
                                         num_sampled=sampled, num_classes=vocab, sampled_values=cands))
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    data = np.random.default_rng(seed + 1)
    words = np.minimum(data.zipf(1.3, (4, batch)), vocab) - 1      # word ids are frequency ranks
    context = np.minimum(data.zipf(1.3, (4, batch, 1)), vocab) - 1
    fixed = {cands[0]: data.choice(vocab, sampled, replace=False).astype(np.int64),
             cands[1]: np.full((batch, 1), 0.5, np.float32), cands[2]: np.full(sampled, 0.5, np.float32)}
    return Program(train, loss, lambda i: {inputs: words[i % 4], labels: context[i % 4]},
                   {inputs: words[0], labels: context[0], **fixed})


BUILDERS = {"P1": p1_cnn, "P2": p2_mlp, "P3": p3_autoencoder, "P4": p4_gan, "P5": p5_lstm,
            "P6": lambda tf: p5_lstm(tf, dynamic=True), "P7": p7_text_cnn, "P8": p8_cifar_bn, "P9": p9_text_gru,
            "P10": p10_word2vec}


def load(impl):
    if impl == "tf":
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")     # tf.nn.rnn_cell needs tf_keras
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        tf.logging.set_verbosity(tf.logging.ERROR)
        return tf
    import jitgraph
    return jitgraph


def _steady(recent):
    """Five steps within 1.3x of each other: compiles (a lazy plan's, or one finishing in the
    background) are over."""
    return len(recent) == 5 and max(recent) <= 1.3 * min(recent)


@contextlib.contextmanager
def _initialized(tf, name):
    """``(session, Program)`` of program ``name`` on a graph of its own, variables initialized."""
    g = tf.Graph()
    with g.as_default():
        prog = BUILDERS[name](tf)
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        yield sess, prog


def time_program(tf, name, warmup, steps):
    """(first-step loss with dropout off, per-step seconds after at least ``warmup`` steps and
    until the times are steady)."""
    with _initialized(tf, name) as (sess, prog):
        check_loss = float(sess.run(prog.loss, prog.check_feeds))
        fetch = [prog.train, prog.loss]
        recent, i = [], 0
        if tf.__name__ == "jitgraph":
            from jitgraph.compiler import wait_for_builds
            for k in range(2):                   # the lazy tier builds from the second run on
                sess.run(fetch, prog.feeds(k))
            wait_for_builds()                    # (the reference executor's steps can look steady)
            sess.run(fetch, prog.feeds(2))       # the first compiled run: native loops compile
            wait_for_builds()                    # in the background too
        while i < max(warmup, 1000) and (i < warmup or not _steady(recent)):
            t0 = time.perf_counter()
            sess.run(fetch, prog.feeds(i))
            recent = (recent + [time.perf_counter() - t0])[-5:]
            i += 1
        samples = []
        for i in range(steps):
            feed = prog.feeds(i)
            t0 = time.perf_counter()
            sess.run(fetch, feed)
            samples.append(time.perf_counter() - t0)
    return check_loss, samples


def _step_flops(tf, name):
    """(matmul, conv) FLOPs of one training step of ``name`` (``benchmarks.flop_floor``)."""
    from benchmarks import flop_floor
    with _initialized(tf, name) as (sess, prog):
        return flop_floor.count_flops(sess, [prog.train, prog.loss], prog.feeds(0))


def child(name, impl, warmup, steps, floors=False):
    try:
        tf = load(impl)
        t0 = time.perf_counter()
        loss, samples = time_program(tf, name, warmup, steps)
        out = {"status": "ok", "loss": loss, "samples_ms": [s * 1e3 for s in samples],
               "total_s": time.perf_counter() - t0}
        if floors and impl == "jitgraph":
            from benchmarks import flop_floor
            out["flops"], out["sgemm_flops_per_s"] = _step_flops(tf, name), flop_floor.sgemm_rate()
    except Exception as e:  # noqa: BLE001 - reported as n/a by the parent
        out = {"status": "n/a", "reason": f"{type(e).__name__}: {e}"[:200]}
    print("RESULT " + json.dumps(out), flush=True)


def main(argv=None):
    from benchmarks import isolate
    ap = argparse.ArgumentParser(prog="python -m benchmarks.programs", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--programs", default=",".join(PROGRAMS))
    ap.add_argument("--impls", default="jitgraph,tf")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per child")
    ap.add_argument("--warmup", type=int, default=5,
                    help="untimed steps first (at least; more until five in a row are steady)")
    ap.add_argument("--passes", type=int, default=2, help="children per impl, ABBA order")
    ap.add_argument("--floors", action="store_true",
                    help="also print each program's matmul/conv FLOPs and the step time they take at "
                         "this machine's best sgemm rate (benchmarks/flop_floor.py)")
    ap.add_argument("--child", nargs=2, metavar=("PROGRAM", "IMPL"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return child(a.child[0], a.child[1], a.warmup, a.steps, a.floors)
    impls = a.impls.split(",")
    print(f"{'program':8} {'impl':9} {'ms/step':>9} {'min':>8} {'loss (dropout off)':>19} {'total s':>11}")
    for name in a.programs.split(","):
        got = {i: [] for i in impls}
        for k in range(a.passes):
            for impl in (impls if k % 2 == 0 else impls[::-1]):
                args = ["--child", name, impl, "--steps", str(a.steps), "--warmup", str(a.warmup)]
                args += ["--floors"] if a.floors and k == 0 else []
                try:
                    got[impl].append(isolate.spawn("benchmarks.programs", args, "RESULT ", timeout=1200))
                except RuntimeError as e:
                    got[impl].append({"status": "n/a", "reason": str(e)})
        medians = {}
        for impl in impls:
            ok = [r for r in got[impl] if r["status"] == "ok"]
            if not ok:
                print(f"{name:8} {impl:9} n/a ({got[impl][0].get('reason')})")
                continue
            s = [v for r in ok for v in r["samples_ms"]]
            medians[impl] = statistics.median(s)
            print(f"{name:8} {impl:9} {medians[impl]:9.2f} {min(s):8.2f} {ok[0]['loss']:19.6f} "
                  f"{ok[0]['total_s']:11.1f}")
        if "jitgraph" in medians and "tf" in medians:
            print(f"{name:8} jitgraph/tf = {medians['jitgraph'] / medians['tf']:.2f}  (target <= 0.5)")
        counted = [r for r in got.get("jitgraph", []) if "flops" in r]
        if counted:
            (mm, conv), rate = counted[0]["flops"], counted[0]["sgemm_flops_per_s"]
            fl = (mm + conv) / rate * 1e3
            line = (f"{name:8} floor: matmul {mm / 1e9:.3f} + conv {conv / 1e9:.3f} GFLOP at {rate / 1e9:.0f} "
                    f"GFLOP/s = {fl:.2f} ms")
            if "tf" in medians:
                line += f"; floor/tf = {fl / medians['tf']:.2f}" + (" (conv counted direct)" if conv else "")
            print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
