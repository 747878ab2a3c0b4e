"""Multi-tensor optimizer updates (compiler/multi_apply.py): the update kernels of one optimizer
run as a few launches, with the values of one launch per variable and of the reference."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config, multi_apply
from jitgraph.compiler.schedule import KernelStep

pytestmark = pytest.mark.usefixtures("eager_strict")

F32 = np.float32


def _mlp(layers, optimizer, units=16, batch=8, inputs=12, classes=5):
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, inputs])
    y = tf.placeholder(tf.float32, [None, classes])
    h, fan, variables = x, inputs, []
    for i in range(layers):
        w = tf.Variable((rng.standard_normal((fan, units)) * np.sqrt(2 / fan)).astype(F32), name=f"w{i}")
        b = tf.Variable(np.full(units, 0.01 * i, F32), name=f"b{i}")
        h = tf.nn.relu(tf.matmul(h, w) + b)
        fan = units
        variables += [w, b]
    wo = tf.Variable((rng.standard_normal((fan, classes)) * 0.1).astype(F32), name="wo")
    bo = tf.Variable(np.zeros(classes, F32), name="bo")
    variables += [wo, bo]
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=tf.matmul(h, wo) + bo))
    train = optimizer.minimize(loss)
    feeds = {x: rng.standard_normal((batch, inputs)).astype(F32),
             y: np.eye(classes, dtype=F32)[rng.integers(0, classes, batch)]}
    return loss, train, variables, feeds


def _train(build, mode, steps=3):
    """Build a fresh graph, run ``steps`` training steps under compile ``mode``; returns
    (losses, final variable values, the plan's ``Compiled`` or None)."""
    g = tf.Graph()
    with g.as_default():
        loss, train, variables, feeds = build()
        init = tf.global_variables_initializer()
        prev = config.set_compile_mode(mode)
        try:
            with tf.Session(graph=g) as sess:
                sess.run(init)
                losses = [sess.run([loss, train], feeds)[0] for _ in range(steps)]
                values = sess.run(variables)
                plans = [p for p in sess._plans._plans.values() if p.compiled and train in p.targets]
                compiled = next(iter(plans[0].compiled.values())) if plans else None
        finally:
            config.set_compile_mode(prev)
    return losses, values, compiled


def _update_launches(steps):
    return [s for s in steps if isinstance(s, KernelStep) and s.writes]


OPTIMIZERS = {
    "adam": lambda: tf.train.AdamOptimizer(1e-2),
    "momentum": lambda: tf.train.MomentumOptimizer(0.05, 0.9),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(1e-2),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_mlp16_updates_are_few_launches_and_match(name, monkeypatch):
    build = lambda: _mlp(16, OPTIMIZERS[name]())  # noqa: E731
    losses, values, compiled = _train(build, "eager")
    nvars = 34
    launches = _update_launches(compiled.steps)
    grouped = [s for s in launches if s.parts]
    assert grouped, "no multi-tensor update launch"
    # every trainable variable is updated, by far fewer launches than variables
    assert len(launches) <= nvars // 4, [len(s.parts) for s in launches]
    assert "schedule-ungrouped" not in compiled.timings
    assert sum(len(s.parts) for s in grouped) >= nvars - 2
    # the reference executor agrees ...
    ref_losses, ref_values, _ = _train(build, "never")
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5, atol=1e-6)
    for a, b in zip(values, ref_values):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # ... and one launch per variable gives the very same bits
    monkeypatch.setattr(multi_apply, "MAX_PARTS", 1)
    one_losses, one_values, one = _train(build, "eager")
    assert not any(s.parts for s in _update_launches(one.steps))
    assert len(_update_launches(one.steps)) >= nvars
    # grouping compiles no more distinct kernel modules than one launch per variable
    assert len(set(compiled.sources)) <= len(set(one.sources))
    np.testing.assert_array_equal(losses, one_losses)
    for a, b in zip(values, one_values):
        np.testing.assert_array_equal(a, b)


def _pair(read_after):
    """Two updates of one form, ``v <- v * 0.5 + reverse(w)`` (``reverse``: a NumPy step, so fusion
    keeps the updates apart): ``b``'s reads ``a`` after ``a``'s update when ``read_after``, else
    before it (then nothing orders the two updates)."""
    a = tf.Variable(np.arange(6, dtype=F32), name="a")
    b = tf.Variable(np.ones(6, F32), name="b")
    c = tf.Variable(np.full(6, 2.0, F32), name="c")
    if read_after:
        ua = tf.assign(a, a * 0.5 + tf.reverse(c, [0]))
        ub = tf.assign(b, b * 0.5 + tf.reverse(a, [0]))
    else:
        ra = tf.reverse(a, [0])
        ua = tf.assign(a, a * 0.5 + tf.reverse(c, [0]))
        ub = tf.assign(b, b * 0.5 + ra)
    return tf.group(ua, ub), [a, b, c]


def _run_pair(read_after, mode):
    g = tf.Graph()
    with g.as_default():
        train, variables = _pair(read_after)
        init = tf.global_variables_initializer()
        prev = config.set_compile_mode(mode)
        try:
            with tf.Session(graph=g) as sess:
                sess.run(init)
                for _ in range(2):
                    sess.run(train)
                plan = next(p for p in sess._plans._plans.values() if train in p.targets)
                compiled = next(iter(plan.compiled.values()), None)
                if compiled is not None:   # multi_apply itself kept them apart (no fallback)
                    assert "schedule-ungrouped" not in compiled.timings
                return sess.run(variables), compiled and compiled.steps
        finally:
            config.set_compile_mode(prev)


@pytest.mark.parametrize("read_after", [True, False])
def test_update_reading_what_another_writes_is_not_merged(read_after):
    """``b``'s update reads the new ``a`` (path: ``a``'s update, then ``reverse(a)``, then ``b``'s
    update): never one launch. Reading the old ``a`` leaves the updates unordered: one launch, and
    ``b`` still gets the old ``a``."""
    values, steps = _run_pair(read_after, "eager")
    launches = _update_launches(steps)
    if read_after:
        assert len(launches) == 2 and not any(s.parts for s in launches)
    else:
        assert len(launches) == 1 and len(launches[0].parts) == 2
    ref, _ = _run_pair(read_after, "never")
    for x, y in zip(values, ref):
        np.testing.assert_array_equal(x, y)
    a0, b0, c0 = np.arange(6, dtype=F32), np.ones(6, F32), np.full(6, 2.0, F32)
    a1 = a0 * F32(0.5) + c0
    a2 = a1 * F32(0.5) + c0
    b1 = b0 * F32(0.5) + (a1 if read_after else a0)[::-1]
    np.testing.assert_allclose(values[1], b1 * F32(0.5) + (a2 if read_after else a1)[::-1])


def test_independent_same_form_updates_merge_and_see_old_values():
    """Each update reads the other's variable through a value computed before either update (a
    swap): no path between the two updates, so they are one launch, and each sees the old values."""
    g = tf.Graph()
    with g.as_default():
        a = tf.Variable(np.arange(6, dtype=F32), name="a")
        b = tf.Variable(np.ones(6, F32), name="b")
        sa, sb = tf.reverse(a, [0]), tf.reverse(b, [0])
        ua = tf.assign(a, a * 0.5 + sb)
        ub = tf.assign(b, b * 0.5 + sa)
        train = tf.group(ua, ub)
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            sess.run(train)
            plan = next(p for p in sess._plans._plans.values() if train in p.targets)
            compiled = next(iter(plan.compiled.values()))
            steps, timings = compiled.steps, compiled.timings
            got = sess.run([a, b])
    a0, b0 = np.arange(6, dtype=F32), np.ones(6, F32)
    np.testing.assert_array_equal(got[0], a0 * F32(0.5) + b0[::-1])
    np.testing.assert_array_equal(got[1], b0 * F32(0.5) + a0[::-1])
    launches = _update_launches(steps)
    assert len(launches) == 1 and len(launches[0].parts) == 2
    assert "schedule-ungrouped" not in timings
