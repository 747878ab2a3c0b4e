"""Regressions found in compiled plans: each test names the mechanism that was broken."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


pytestmark = pytest.mark.usefixtures("eager_strict")


def _mlp_train_graph(seed=0, hidden=16):
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, 12], name="x")
        labels = tf.placeholder(tf.int32, [None], name="labels")
        w1 = tf.Variable(tf.random_normal([12, hidden], stddev=0.3, seed=1), name="w1")
        b1 = tf.Variable(tf.zeros([hidden]), name="b1")
        w2 = tf.Variable(tf.random_normal([hidden, 5], stddev=0.3, seed=2), name="w2")
        b2 = tf.Variable(tf.zeros([5]), name="b2")
        h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w1), b1))
        logits = tf.nn.bias_add(tf.matmul(h, w2), b2)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    return g, x, labels, loss, train, init, [w1, b1, w2, b2]


@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_mlp_train_step_compiled_matches_reference(mode):
    """The runner evaluated canonical symbolic dims ('t61_0.shape[0]') that a broadcast had
    equated with the dim of a tensor computed *later* in the run (the ReLU-grad Select merged the
    batch dims of BiasAdd, MatMul and Fill): UnboundLocalError in the generated runner. Kernels
    now take every runtime dim from their own operands and check those operands' shapes."""
    g, x, labels, loss, train, init, params = _mlp_train_graph()
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, 12)).astype(np.float32), rng.integers(0, 5, 8).astype(np.int32))
               for _ in range(4)]
    batches.append((batches[0][0][:3], batches[0][1][:3]))   # a new batch size: same signature
    results = {}
    for m in (mode, "never"):
        config.set_compile_mode(m)
        with tf.Session(graph=g) as sess:
            sess.run(init)
            losses = [sess.run([train, loss], {x: bx, labels: by})[1] for bx, by in batches]
            results[m] = (losses, sess.run(params), sess.cache_info())
    got, want = results[mode], results["never"]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert got[2]["compiles"] >= 1 and not got[2]["fallbacks"]


def test_runtime_size1_the_compiler_cannot_know_falls_back_to_reference():
    """A NumPy step (tile by a fed multiple) yields a dim 1 the signature cannot see: the kernel's
    operand check fails before anything is written, the run is redone by the reference executor,
    the reason is recorded and the signature stays on the reference."""
    with tf.Graph().as_default():
        z = tf.placeholder(tf.float32, [None, None])
        m = tf.placeholder(tf.int32, [])
        v = tf.Variable(np.zeros((2, 2), np.float32))
        t = tf.tile(z, tf.stack([1, m]))
        upd = v.assign_add(t + tf.transpose(z))
        feeds = {z: [[1.], [2.]], m: 1}
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(upd, feeds), [[2., 3.], [3., 4.]])
            info = sess.cache_info()
            assert len(info["fallbacks"]) == 1 and "runtime shape check failed" in info["fallbacks"][0]
            np.testing.assert_array_equal(sess.run(upd, feeds), [[4., 6.], [6., 8.]])
            assert len(sess.cache_info()["fallbacks"]) == 1
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(upd, {z: [[1.], [2.]], m: 3})
            np.testing.assert_array_equal(sess.run(v), [[4., 6.], [6., 8.]])


def test_broadcast_like_runs_after_the_tensor_it_takes_its_shape_from():
    """``glue`` rewrote ``BroadcastTo(w, Shape(losses))`` (``tf.losses``' weights) into
    ``_BroadcastLike(w, losses)`` and dropped the ``Shape``; the order pass's edges, carried over
    from the original ops, had none to ``losses``' producer, so the kernel could be scheduled
    before it (a conv net with batch norm under UPDATE_OPS control dependencies): UnboundLocalError
    in the generated runner. A kept op's data inputs are now always among its edges."""
    rng = np.random.default_rng(0)
    feeds_np = (rng.random((4, 8, 8, 3), dtype=np.float32), np.array([0, 1, 2, 1]))
    results = []
    for mode in ("eager", "never"):
        config.set_compile_mode(mode)
        with tf.Graph().as_default():
            tf.set_random_seed(3)
            x = tf.placeholder(tf.float32, [None, 8, 8, 3])
            y = tf.placeholder(tf.int64, [None])
            h = x
            for f in (4, 8):
                h = tf.nn.relu(tf.layers.batch_normalization(tf.layers.conv2d(h, f, 3, padding="same"), training=True))
            loss = tf.losses.sparse_softmax_cross_entropy(y, tf.layers.dense(tf.layers.flatten(h), 3))
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                results.append([sess.run([train, loss], {x: feeds_np[0], y: feeds_np[1]})[1] for _ in range(2)])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
