"""Side steps (``compiler/concurrency.py``): a small-batch CNN's backward convs run on the chunk
worker beside the plan's other steps, with the reference executor's values; they join before any
update, and a side step's error leaves the variables as they were."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph import errors
from jitgraph.ops.registry import OPS

pytestmark = pytest.mark.usefixtures("eager_strict")


def _cnn(batch):
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, 16, 16, 2])
    y = tf.placeholder(tf.float32, [None, 5])
    h, c = x, 2
    for i, f in enumerate((16, 24)):
        k = tf.Variable(rng.standard_normal((3, 3, c, f)).astype(np.float32) * 0.2, name=f"k{i}")
        b = tf.Variable(np.zeros(f, np.float32), name=f"b{i}")
        h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(h, k, [1, 1, 1, 1], "SAME") + b), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        c = f
    w = tf.Variable(rng.standard_normal((4 * 4 * 24, 5)).astype(np.float32) * 0.05, name="w")
    logits = tf.matmul(tf.reshape(h, [-1, 4 * 4 * 24]), w)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.MomentumOptimizer(0.05, 0.9).minimize(loss)
    feeds = {x: rng.standard_normal((batch, 16, 16, 2)).astype(np.float32),
             y: np.eye(5, dtype=np.float32)[rng.integers(0, 5, batch)]}
    return loss, train, feeds


def _runner_sources(sess):
    return [c.runner_source for p in sess._plans._plans.values() for c in p.compiled.values()]


@pytest.mark.parametrize("batch", [1, 16])
def test_backward_convs_run_beside_the_other_steps(batch):
    g = tf.Graph()
    with g.as_default():
        loss, train, feeds = _cnn(batch)
        init = tf.global_variables_initializer()
        variables = tf.global_variables()
        with tf.Session() as sess:
            sess.run(init)
            losses = [sess.run([loss, train], feeds)[0] for _ in range(3)]
            got = sess.run(variables)
            runners = _runner_sources(sess)
        prev = tf.compiler.config.set_compile_mode("never")
        try:
            with tf.Session() as ref:
                ref.run(init)
                want_losses = [ref.run([loss, train], feeds)[0] for _ in range(3)]
                want = ref.run(variables)
        finally:
            tf.compiler.config.set_compile_mode(prev)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    train_runner = [s for s in runners if "_k" in s and "_spawn(" in s]
    assert train_runner, "no conv of the training step ran as a side step"
    src = train_runner[0]
    assert src.index("_join(") < src.index("_drain(sp)")
    # joined before the momentum updates, the plan's last kernels
    calls = [ln.strip() for ln in src.splitlines() if ln.strip().startswith(("_k", "_run_cut(_k", "r = _join("))]
    assert calls[-1].startswith(("_k", "_run_cut")) and not calls[-2].startswith("r = _join(")


def test_a_failing_side_step_leaves_the_variables_as_they_were(monkeypatch):
    def broken(*args, **attrs):
        raise ValueError("broken on purpose")
    monkeypatch.setitem(OPS["Conv2DBackpropInput"].extra, "fast", broken)
    g = tf.Graph()
    with g.as_default():
        loss, train, feeds = _cnn(16)
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            before = sess.run(tf.global_variables())
            with pytest.raises(errors.InvalidArgumentError, match="Conv2DBackpropInput"):
                sess.run(train, feeds)
            assert any("_spawn(" in s for s in _runner_sources(sess))
            for a, b in zip(sess.run(tf.global_variables()), before):
                np.testing.assert_array_equal(a, b)
            assert np.isfinite(sess.run(loss, feeds))      # the plan still runs what does not fail

