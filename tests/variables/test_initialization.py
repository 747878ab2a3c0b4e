"""tf1-semantics.md, "Initialization"."""

import numpy as np
import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def zeros_var(name, shape=(), **kw):
    return tf.get_variable(name, shape, initializer=tf.zeros_initializer(), **kw)


def test_global_variables_initializer_is_named_init_and_covers_existing_globals():
    a = zeros_var("a")
    init = tf.global_variables_initializer()
    b = zeros_var("b")
    init_1 = tf.global_variables_initializer()
    assert isinstance(init, tf.Operation) and init.name == "init" and init_1.name == "init_1"
    with tf.Session() as sess:
        assert sess.run(init) is None
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"b"]
        sess.run(init_1)
        sess.run(a.assign(5.0))
        sess.run(init)
        assert sess.run(a) == 0.0       # re-running resets
    assert sess.run is not None


def test_local_and_explicit_initializers():
    g = zeros_var("g")
    loc = tf.get_local_variable("loc", [], initializer=tf.ones_initializer())
    only = zeros_var("only")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"loc"]
        sess.run(tf.local_variables_initializer())
        assert sess.run(loc) == 1.0
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([only]))
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"g", b"loc"]
        empty = tf.variables_initializer([])
        assert empty.name.startswith("init") and sess.run(empty) is None
    assert g is not None


def test_variable_initializer_initializes_only_that_variable():
    with tf.variable_scope("s"):
        a = zeros_var("a")
        b = zeros_var("b")
    with tf.Session() as sess:
        assert sess.run(a.initializer) is None
        assert a.initializer.name == "s/a/Assign" and a.value().name == "s/a/read:0"
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"s/b"]
        assert sess.run(tf.report_uninitialized_variables([b, a])).tolist() == [b"s/b"]
    assert b is not None


def test_report_uninitialized_variables_shape_dtype_and_order():
    a, b = zeros_var("a"), zeros_var("b")
    r = tf.report_uninitialized_variables([b, a])
    assert r.dtype == tf.string and r.shape.ndims == 1
    with tf.Session() as sess:
        assert sess.run(r).tolist() == [b"b", b"a"]
        sess.run(tf.global_variables_initializer())
        assert sess.run(r).shape == (0,)
    with tf.Graph().as_default():
        with tf.Session() as sess:
            assert sess.run(tf.report_uninitialized_variables()).shape == (0,)


def test_is_variable_initialized_and_assert_variables_initialized():
    v = zeros_var("v", [2, 2])
    flag = tf.is_variable_initialized(v)
    check = tf.assert_variables_initialized()
    assert flag.dtype == tf.bool and flag.shape.ndims == 0
    with tf.Session() as sess:
        assert sess.run(flag) is np.False_ or sess.run(flag) == False  # noqa: E712
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(check)
        sess.run(v.initializer)
        assert bool(sess.run(flag)) and sess.run(check) == 2


def test_initialization_state_is_per_session():
    v = zeros_var("v")
    with tf.Session() as s1:
        s1.run(v.initializer)
        with tf.Session() as s2:
            assert s2.run(tf.report_uninitialized_variables()).tolist() == [b"v"]
            with pytest.raises(tf.errors.FailedPreconditionError):
                s2.run(v)
        assert s1.run(v) == 0.0


def test_initialized_value_guide_pattern():
    v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
    w = tf.get_variable("w", initializer=v.initialized_value() + 1)
    with tf.Session() as sess:
        sess.run(w.initializer)       # v is still uninitialized: its initial value is used
        assert sess.run(w) == 1.0
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"v"]
    with tf.Session() as sess:
        sess.run(v.assign(41.0))
        assert sess.run(v.initialized_value()) == 41.0
        sess.run(tf.global_variables_initializer())
        assert sess.run(w) == 1.0


def test_initial_value_reading_other_variable_is_rewritten():
    v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    w = tf.get_variable("w", initializer=v + 1)
    u = tf.Variable(v * 2)
    assert w.initial_value.op.name == "add" and "add_w" in [o.name for o in tf.get_default_graph().get_operations()]
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(u.initializer)
        assert sess.run(w).tolist() == [2.0, 2.0] and sess.run(u).tolist() == [2.0, 2.0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(w).tolist() == [2.0, 2.0]


def test_uninitialized_read_is_failed_precondition_and_op_error():
    v = zeros_var("v")
    y = v * 3 + 1
    with tf.Session() as sess:
        for fetch in (v, y, v.value()):
            with pytest.raises(tf.errors.FailedPreconditionError) as err:
                sess.run(fetch)
            assert isinstance(err.value, tf.errors.OpError)
