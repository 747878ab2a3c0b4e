"""views: split outputs that kernels read are read in place from the split's input (no ``Split``
step, no copy), and concats of kernel results are stored in place by the kernel (no ``ConcatV2``
step); parts that must exist as arrays stay, and results equal the reference executor's."""

import numpy as np
import pytest

import jitgraph as tf

from plan_checks import numpy_step_types, reference_values

pytestmark = pytest.mark.usefixtures("eager_strict")


def _compiled(sess):
    plan = max((p for p in sess._plans._plans.values() if p.compiled), key=lambda p: len(p.fetch_tensors))
    return next(iter(plan.compiled.values()))


def _numpy_types(comp):
    return numpy_step_types(comp.steps)


def _run_both(g, fetches, feeds, train=None):
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        got = sess.run(fetches + ([train] if train is not None else []), feeds)[:len(fetches)]
        comp = _compiled(sess)
    want = reference_values(g, fetches + ([train] if train is not None else []), feeds, init)[:len(fetches)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)
    return comp


def _lstm_cell(x, units):
    w = tf.Variable(np.random.default_rng(1).standard_normal((x.shape[1].value, 4 * units)).astype(np.float32) * 0.3)
    i, j, f, o = tf.split(tf.matmul(x, w), 4, axis=1)
    c = tf.sigmoid(f + 1.0) * 0.5 + tf.sigmoid(i) * tf.tanh(j)
    return tf.tanh(c) * tf.sigmoid(o), w


@pytest.mark.parametrize("batch", [1, 5])
def test_lstm_gates_are_read_from_the_matmul_in_place(g, batch):
    x = tf.placeholder(tf.float32, [None, 6])
    h, _ = _lstm_cell(x, 3)
    xv = np.random.default_rng(0).standard_normal((batch, 6)).astype(np.float32)
    comp = _run_both(g, [h], {x: xv})
    assert "Split" not in _numpy_types(comp)
    assert "_contig(" not in comp.runner_source
    assert any("+ 9]" in src for src in comp.sources)      # the fourth gate: offset 3 * units


def test_training_through_split_gates_matches_the_reference(g):
    x = tf.placeholder(tf.float32, [None, 6])
    h, w = _lstm_cell(x, 4)
    loss = tf.reduce_mean(tf.square(h - 0.25))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    xv = np.random.default_rng(2).standard_normal((7, 6)).astype(np.float32)
    comp = _run_both(g, [loss, tf.gradients(loss, w)[0]], {x: xv}, train)
    assert "Split" not in _numpy_types(comp)


def test_a_fetched_part_keeps_its_split(g):
    x = tf.placeholder(tf.float32, [None, 8])
    a, b = tf.split(x * 2.0, 2, axis=1)
    comp = _run_both(g, [a, tf.exp(b)], {x: np.arange(24, dtype=np.float32).reshape(3, 8) / 10})
    assert "Split" in _numpy_types(comp)


def test_unequal_parts_and_axis_zero(g):
    x = tf.placeholder(tf.float32, [6, None])
    y = tf.matmul(x, tf.constant(np.eye(3, dtype=np.float32)))
    top, mid, low = tf.split(y, [1, 2, 3], axis=0)
    outs = [tf.tanh(top) * 2.0, mid + 1.0, tf.sigmoid(low)]
    comp = _run_both(g, outs, {x: np.linspace(-2, 2, 18, dtype=np.float32).reshape(6, 3)})
    assert "SplitV" not in _numpy_types(comp)


def test_a_split_of_run_time_extent_stays_a_step(g):
    x = tf.placeholder(tf.float32, [4, None])
    a, b = tf.split(tf.matmul(tf.constant(np.ones((4, 4), np.float32)), x), 2, axis=1)
    comp = _run_both(g, [a * b], {x: np.arange(16, dtype=np.float32).reshape(4, 4)})
    assert "Split" in _numpy_types(comp)


def test_parts_also_read_by_numpy_steps_are_written_out_each_under_its_own_name(g):
    # (the parts once shared their split's op id, so two materialized parts had one runner name)
    x = tf.placeholder(tf.float32, [None, 4])
    a, b = tf.split(tf.matmul(x, tf.constant(np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8))), 2, axis=1)
    w = tf.constant(np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4))
    outs = [tf.matmul(a, w), tf.matmul(b, w), a * b]
    comp = _run_both(g, outs, {x: np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)})
    assert "Split" not in _numpy_types(comp)


def test_a_concat_of_kernel_results_is_stored_in_place(g):
    x = tf.placeholder(tf.float32, [None, 5])
    gates = [tf.sigmoid(x * float(k)) for k in range(1, 5)]
    y = tf.concat(gates, axis=1)
    out = tf.matmul(y, tf.constant(np.linspace(-1, 1, 60, dtype=np.float32).reshape(20, 3)))
    comp = _run_both(g, [out], {x: np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32)})
    assert "ConcatV2" not in _numpy_types(comp)
    assert any("i1 + 15] = " in src for src in comp.sources)      # the fourth input: offset 3 * 5


@pytest.mark.parametrize("axis", [0, 1])
def test_concat_parts_fetched_mixed_with_a_feed_and_along_either_axis(g, axis):
    x = tf.placeholder(tf.float32, [2, 4])
    a = tf.tanh(x)
    y = tf.concat([a, x, a * 2.0], axis=axis)
    comp = _run_both(g, [y, a, tf.reduce_sum(y * y)], {x: np.arange(8, dtype=np.float32).reshape(2, 4) / 7})
    assert "ConcatV2" not in _numpy_types(comp)


def test_concat_of_unequal_parts_stays_a_step(g):
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.concat([tf.exp(x), tf.tile(x, [1, 2])], axis=1)
    comp = _run_both(g, [tf.matmul(y, tf.ones([9, 2]))], {x: np.ones((2, 3), np.float32)})
    assert "ConcatV2" in _numpy_types(comp)


def test_a_concat_along_a_run_time_axis_still_compiles(g):
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.concat([tf.tanh(x), x * 2.0], axis=0)
    comp = _run_both(g, [tf.tanh(y) + 1.0], {x: np.full((1, 4), 0.5, np.float32)})
    assert "ConcatV2" not in _numpy_types(comp)


def test_the_parts_of_a_split_feed_concatenated_again_need_no_step(g):
    # (the two parts' dims had names of their own until the pass equated them with the feed's)
    x = tf.placeholder(tf.float32, [None, 8])
    a, b = tf.split(x, 2, axis=1)
    y = tf.concat([tf.tanh(a), tf.sigmoid(b)], 1)
    comp = _run_both(g, [y, tf.reduce_sum(y, 0)], {x: np.linspace(-2, 2, 24, dtype=np.float32).reshape(3, 8)})
    assert _numpy_types(comp) == []


def test_integer_parts_and_a_boolean_concat(g):
    x = tf.placeholder(tf.int32, [None, 6])
    a, b, c = tf.split(x * 3, 3, axis=1)
    comp = _run_both(g, [a * b - c, tf.concat([a > b, c > 4], 1)], {x: np.arange(12, dtype=np.int32).reshape(2, 6)})
    assert _numpy_types(comp) == []
