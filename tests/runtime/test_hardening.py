"""Hardening: every bad input raises TF's class and leaves every variable as it was before the run;
runs that fail half-way roll back; huge shapes are ResourceExhaustedError; concurrent runs are exact."""

import threading

import numpy as np
import pytest

import jitgraph as tf
from jitgraph import debugging


@pytest.fixture
def model():
    """v=1 (assign_add'ed by every failing run), u=2 (assigned 100 by it), w_un never initialized."""
    g = tf.Graph()
    with g.as_default():
        m = type("M", (), {})()
        m.v = tf.Variable(1.0, name="v")
        m.u = tf.Variable(2.0, name="u")
        m.w_un = tf.Variable(3.0, name="w_un")
        m.x = tf.placeholder(tf.float32, [2], name="x")
        m.n = tf.placeholder(tf.int32, [], name="n")
        m.writes = [m.v.assign_add(1.0), tf.assign(m.u, 100.0)]
        m.sess = tf.Session()
        m.sess.run([m.v.initializer, m.u.initializer])
        yield m
        m.sess.close()


def _unchanged(m):
    assert m.sess.run([m.v, m.u]) == [1.0, 2.0]


def _other_graph_tensor():
    with tf.Graph().as_default():
        return tf.constant(1.0)


# (row, builds (extra fetch, feed) after the writes, expected class)
RUN_ROWS = [
    ("uninitialized read", lambda m: (m.w_un * 2.0, None), tf.errors.FailedPreconditionError),
    ("uninitialized fetch", lambda m: (m.w_un, None), tf.errors.FailedPreconditionError),
    ("assign_add on uninitialized", lambda m: (m.w_un.assign_add(1.0), None), tf.errors.FailedPreconditionError),
    ("placeholder not fed", lambda m: (m.x + 1.0, None), tf.errors.InvalidArgumentError),
    ("feed of wrong shape", lambda m: (m.x + 1.0, {m.x: [1.0, 2.0, 3.0]}), ValueError),
    ("feed of strings", lambda m: (m.x + 1.0, {m.x: ["a", "b"]}), ValueError),
    ("ragged feed", lambda m: (m.x + 1.0, {m.x: [[1.0], [2.0, 3.0]]}), ValueError),
    ("feed a Tensor", lambda m: (m.x + 1.0, {m.x: tf.constant([1.0, 2.0])}), TypeError),
    ("feed key naming no tensor", lambda m: (m.x + 1.0, {"nope:0": 1.0}), TypeError),
    ("fetch unknown name", lambda m: ("nope:0", None), ValueError),
    ("fetch bad output index", lambda m: ("v:5", None), ValueError),
    ("fetch None", lambda m: (None, None), TypeError),
    ("fetch an int", lambda m: (3, None), TypeError),
    ("fetch from another graph", lambda m: (_other_graph_tensor(), None), ValueError),
    ("run-time assign shape mismatch", lambda m: (tf.assign(m.u, tf.placeholder_with_default([1.0, 2.0], None)),
                                                  None), tf.errors.InvalidArgumentError),
    ("int division by zero", lambda m: (tf.constant(7) // m.n, {m.n: 0}), tf.errors.InvalidArgumentError),
    ("int modulo by zero", lambda m: (tf.constant(7) % m.n, {m.n: 0}), tf.errors.InvalidArgumentError),
    ("check_numerics on NaN", lambda m: (debugging.check_numerics(tf.log(m.x), "bad log"), {m.x: [-1.0, 1.0]}),
     tf.errors.InvalidArgumentError),
    ("huge Fill", lambda m: (tf.zeros([2 ** 40]), None), tf.errors.ResourceExhaustedError),
]


@pytest.mark.parametrize("row,build,expected", RUN_ROWS, ids=[r[0] for r in RUN_ROWS])
def test_bad_run_raises_tf_class_and_changes_no_variable(model, row, build, expected):
    with model.sess.graph.as_default():
        with tf.control_dependencies(model.writes):   # the writes come first in program order
            bad, feed = build(model)
    with pytest.raises(expected):
        model.sess.run(model.writes + [bad], feed)
    _unchanged(model)
    model.sess.run(model.writes)          # the session still works afterwards
    assert model.sess.run([model.v, model.u]) == [2.0, 100.0]


def test_errors_name_the_op_and_are_op_errors(model):
    with model.sess.graph.as_default():
        with tf.control_dependencies(model.writes):
            bad = tf.floordiv(tf.constant(7), model.n, name="my_div")
    with pytest.raises(tf.errors.InvalidArgumentError, match="my_div") as e:
        model.sess.run(bad, {model.n: 0})
    assert isinstance(e.value, tf.errors.OpError) and e.value.op is bad.op
    with pytest.raises(tf.errors.FailedPreconditionError, match="w_un"):
        model.sess.run(model.w_un)
    _unchanged(model)


def test_closed_session_raises_runtime_error(model):
    model.sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        model.sess.run(model.writes)


def test_build_errors_leave_graph_runnable_and_variables_unchanged(model):
    g = model.sess.graph
    with g.as_default():
        with pytest.raises(TypeError):
            model.v + tf.constant(1, tf.int32)
        with pytest.raises(ValueError):
            model.u.assign([1.0, 2.0])
        with pytest.raises(TypeError):
            model.v.assign(tf.constant(1.0, tf.float64))
        with pytest.raises(ValueError):
            tf.constant([1.0, 2.0]) + tf.constant([1.0, 2.0, 3.0])
    g.finalize()
    with g.as_default(), pytest.raises(RuntimeError):
        tf.constant(1.0)
    _unchanged(model)


def test_huge_variable_is_resource_exhausted_not_a_crash():
    with tf.Graph().as_default():
        big = tf.Variable(tf.zeros([2 ** 20, 2 ** 20]), name="big")
        small = tf.Variable(5.0, name="small")
        with tf.Session() as sess:
            sess.run(small.initializer)
            with pytest.raises(tf.errors.ResourceExhaustedError, match="big|zeros"):
                sess.run([small.assign(6.0), big.initializer])
            assert sess.run(small) == 5.0
            with pytest.raises(tf.errors.FailedPreconditionError):
                sess.run(big)


def test_eight_threads_thousand_runs_each_exact_counters():
    threads, runs = 8, 1000
    with tf.Graph().as_default():
        counter = tf.Variable(np.int64(0), name="counter")
        total = tf.Variable(0.0, dtype=tf.float64, name="total")
        slots = [tf.Variable(np.int64(-1), name=f"slot{i}") for i in range(threads)]
        inc = counter.assign_add(np.int64(1))
        add = total.assign_add(np.float64(0.5))
        j = tf.placeholder(tf.int64, [])
        set_slot = [s.assign(j) for s in slots]
        sess = tf.Session()
        sess.run([v.initializer for v in [counter, total] + slots])
        seen, failures = [[] for _ in range(threads)], []

        def work(i):
            try:
                last_read = 0
                for k in range(runs):
                    op = k % 4
                    if op in (0, 1):
                        seen[i].append(int(sess.run(inc)))
                    elif op == 2:
                        r = int(sess.run(counter))
                        assert r >= last_read
                        last_read = r
                        sess.run(add)
                    else:
                        assert int(sess.run(set_slot[i], {j: k})) == k
            except BaseException as e:   # reported below: a thread must not die silently
                failures.append(e)

        ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not failures, failures[:3]
        n_inc = threads * runs // 2
        assert int(sess.run(counter)) == n_inc
        # every assign_add returned a distinct value: no two runs interleaved inside one update
        assert sorted(x for s in seen for x in s) == list(range(1, n_inc + 1))
        assert sess.run(total) == 0.5 * threads * runs / 4
        assert [int(sess.run(s)) for s in slots] == [runs - 1] * threads
