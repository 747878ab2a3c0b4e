"""simplify folds shape queries of fully known static shapes (``Shape``, ``Size``, ``Rank``) and
pure ``Fill``/``Range`` of constants, so the gradient glue of a static graph needs no steps at run
time; a graph whose variables may change shape (``validate_shape=False``) keeps its queries."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import simplify as S


def _types(fetches):
    g = fetches[0].graph
    return [op.type for op in S.simplify(g.get_operations(), fetches, []).ops]


def test_slice_gradient_and_ones_like_fold(g):
    x = tf.placeholder(tf.float32, [8, 6])
    y = tf.slice(x, [1, 2], [5, 3])
    grad = tf.gradients(tf.reduce_sum(y * tf.ones_like(y)), x)[0]
    n = tf.size(y) + tf.rank(y) + tf.reduce_sum(tf.range(tf.shape(y)[0]))
    types = _types([grad, n])
    assert not {"Shape", "Size", "Rank", "Fill", "Range", "Pack"} & set(types), types
    xv = np.arange(48, dtype=np.float32).reshape(8, 6)
    with tf.Session() as sess:
        got, count = sess.run([grad, n], {x: xv})
    want = np.zeros((8, 6), np.float32)
    want[1:6, 2:5] = 1
    np.testing.assert_array_equal(got, want)
    assert count == 15 + 2 + 10


def test_unknown_dims_keep_their_queries(g):
    x = tf.placeholder(tf.float32, [None, 6])
    assert "Shape" in _types([tf.shape(x * 2.0)])


def test_a_variable_that_may_change_shape_keeps_its_queries(g):
    v = tf.Variable([1.0, 2.0, 3.0])
    grow = tf.assign(v, [1.0, 2.0, 3.0, 4.0], validate_shape=False)
    shape = tf.shape(v.value() * 1.0)
    assert "Shape" in _types([shape])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(shape).tolist() == [3]
        sess.run(grow)
        assert sess.run(shape).tolist() == [4]


@pytest.mark.parametrize("n", [100, 70000])
def test_large_fills_stay_steps(g, n):
    ones = tf.fill([n], 1.0) * tf.placeholder(tf.float32, [])
    assert ("Fill" in _types([ones])) == (n > S.FOLD_MAX_ELEMENTS)


def test_gradient_glue_targets_stay_for_glue(g, eager_strict):
    """``SumToShape(grad, Shape(x))`` and a mean's ``BroadcastTo(g, Shape(x))`` of a static batch
    keep their ``Shape``, so that ``glue`` drops the identity sum and fuses the broadcast."""
    from jitgraph.compiler.schedule import KernelStep
    x = tf.placeholder(tf.float32, [4, 3])
    b = tf.Variable(np.ones(3, np.float32))
    loss = tf.reduce_mean(tf.square(x + b))
    grads = tf.gradients(loss, [x, b])
    xv = np.arange(12, dtype=np.float32).reshape(4, 3)
    with tf.Session() as sess:
        sess.run(b.initializer)
        got = sess.run(grads, {x: xv})
        plan = max((p for p in sess._plans._plans.values() if p.compiled), key=lambda p: len(p.fetch_tensors))
        steps = next(iter(plan.compiled.values())).steps
    numpy_steps = [s.type for s in steps if not isinstance(s, KernelStep)]
    assert not {"SumToShape", "BroadcastTo", "Shape"} & set(numpy_steps), numpy_steps
    np.testing.assert_allclose(got[0], 2 * (xv + 1) / 12, rtol=1e-6)
    np.testing.assert_allclose(got[1], (2 * (xv + 1) / 12).sum(0), rtol=1e-6)


def test_plans_with_ops_without_outputs_compile(g, eager_strict):
    """A ``tf.group`` (an op with no outputs) among the ops: the fold looked at ``outputs[0]``."""
    v = tf.Variable(np.zeros((2, 3), np.float32))
    step = tf.group(tf.assign_add(v, tf.ones_like(v)), tf.assign_add(v, tf.fill(tf.shape(v), 2.0)))
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(step)
        np.testing.assert_array_equal(sess.run(v), np.full((2, 3), 3.0, np.float32))
