"""What the functional If/While ops promise beyond the oracle cases: ordering against the reads
and writes outside them, captures, variables made in bodies, control edges to outer ops,
structures, errors. Run on the reference executor (the compiled runs are checked elsewhere)."""

import collections
import os
import sys

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler.order import var_accesses

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops"))
from op_library_checks import evaluate, reference_executor  # noqa: E402


def test_loop_reports_the_variables_its_bodies_touch(g):
    v, w, u = tf.Variable(1.0), tf.Variable(2.0), tf.Variable(3.0)

    def body(i):
        with tf.control_dependencies([v.assign_add(w.read_value())]):
            return i + 1
    loop = tf.while_loop(lambda i: tf.cast(i, tf.float32) < u.read_value(), body, [0])
    accesses = dict(var_accesses(loop.op))
    assert accesses == {v.op: True, w.op: False, u.op: False}
    c = tf.cond(tf.constant(True), lambda: u.assign(1.0), lambda: tf.identity(w))
    assert dict(var_accesses(c.op)) == {u.op: True, w.op: False}


def test_reads_outside_are_ordered_around_the_loop(g):
    v = tf.Variable(1.0)
    before = v.read_value() * 1.0

    def body(i):
        with tf.control_dependencies([v.assign(v.read_value() * 2.0)]):
            return i + 1
    n = tf.while_loop(lambda i: i < 3, body, [0])
    with tf.control_dependencies([n]):
        after = v.read_value()
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([before, after]) == [1.0, 8.0]


def test_captures_from_outer_graphs_and_nested_bodies(g):
    a = tf.constant(2.0)
    b = tf.placeholder(tf.float32, [])

    def outer(i, s):
        def inner(j, t):
            return j + 1, t + a * b     # captured through two bodies
        return i + 1, tf.while_loop(lambda j, t: j < 2, inner, [0, s])[1]
    r = tf.while_loop(lambda i, s: i < 3, outer, [0, 0.0])[1]
    assert evaluate(r, {b: 1.5}) == 18.0


def test_variable_created_in_a_body_lives_in_the_outer_graph(g):
    def body(i, s):
        w = tf.get_variable("w", [], initializer=tf.constant_initializer(0.5))
        return i + 1, s + w
    r = tf.while_loop(lambda i, s: i < 4, body, [0, 0.0])[1]
    w, = tf.global_variables()
    assert w.name == "w:0" and w.op.graph is g
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(r) == 2.0


def test_control_dependency_on_an_outer_op_runs_before_the_loop(g):
    v = tf.Variable(0.0)
    inc = v.assign_add(5.0)

    def body(i, s):
        with tf.control_dependencies([inc]):
            return i + 1, s + v.read_value()
    r = tf.while_loop(lambda i, s: i < 2, body, [0, 0.0])[1]
    assert inc.op in r.op.control_inputs
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(r) == 10.0


def test_uninitialized_variable_read_in_a_body_names_the_variable(g):
    v = tf.Variable(1.0, name="never_set")
    r = tf.while_loop(lambda i: i < 2, lambda i: i + tf.cast(v.read_value(), tf.int32), [0])
    with reference_executor(), tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="never_set"):
            sess.run(r)


def test_branch_returning_an_operation_gives_the_predicate(g):
    v = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    r = tf.cond(p, lambda: v.assign(1.0).op, lambda: tf.no_op())
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(r, {p: True}) and sess.run(v) == 1.0
        assert not sess.run(r, {p: False})


Point = collections.namedtuple("Point", "x y")


def test_structures_pass_through_cond_and_while(g):
    p = tf.placeholder(tf.bool, [])
    out = tf.cond(p, lambda: {"a": Point(1.0, [2.0])}, lambda: {"a": Point(3.0, [4.0])})
    assert isinstance(out["a"], Point) and isinstance(out["a"].y, list)
    loop = tf.while_loop(lambda i, pt: i < 2, lambda i, pt: (i + 1, Point(pt.x + 1.0, pt.y * 2.0)),
                         (0, Point(0.0, 1.0)), return_same_structure=True)
    assert isinstance(loop, tuple) and isinstance(loop[1], Point)
    assert evaluate([out["a"].x, loop[1].y], {p: False}) == [3.0, 4.0]


def test_single_loop_var_returns_a_tensor_and_same_structure_a_list(g):
    assert isinstance(tf.while_loop(lambda i: i < 2, lambda i: i + 1, [0]), tf.Tensor)
    assert isinstance(tf.while_loop(lambda i: i < 2, lambda i: i + 1, [0], return_same_structure=True), list)


def test_back_prop_false_gives_no_gradient(g):
    x = tf.placeholder(tf.float32, [])
    r = tf.while_loop(lambda i, s: i < 2, lambda i, s: (i + 1, s * x), [0, x], back_prop=False)[1]
    assert tf.gradients(r, x) == [None]


def test_parallel_iterations_must_be_positive(g):
    with pytest.raises(TypeError, match="parallel_iterations"):
        tf.while_loop(lambda i: i < 2, lambda i: i + 1, [0], parallel_iterations=0)


def test_cond_pred_must_be_a_bool_scalar(g):
    with pytest.raises(TypeError, match="bool"):
        tf.cond(tf.constant(1.0), lambda: 1, lambda: 2)
    with pytest.raises(ValueError, match="rank 0"):
        tf.cond(tf.constant([True, False]), lambda: 1, lambda: 2)


def test_tensor_array_values(g):
    x = tf.constant(np.arange(6.0).reshape(3, 2))
    ta = tf.TensorArray(tf.float64, size=3, clear_after_read=False).unstack(x)
    gathered = ta.gather([2, 0])
    sp = tf.TensorArray(tf.float64, size=2, clear_after_read=False).split(tf.range(5.0, dtype=tf.float64), [2, 3])
    concat = sp.concat()
    got = evaluate([gathered, ta.size(), concat, sp.read(1)])
    np.testing.assert_array_equal(got[0], [[4, 5], [0, 1]])
    assert got[1] == 3
    np.testing.assert_array_equal(got[2], np.arange(5.0))
    np.testing.assert_array_equal(got[3], [2, 3, 4])


def test_tensor_array_infers_element_shape(g):
    ta = tf.TensorArray(tf.float32, size=2).write(0, tf.zeros([3, 4]))
    assert ta.element_shape.as_list() == [3, 4]
    assert ta.stack().shape.as_list() == [2, 3, 4]
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        ta.write(1, tf.zeros([2]))
