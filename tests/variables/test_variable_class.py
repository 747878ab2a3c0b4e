"""tf1-semantics.md, "Variables as tensors; tf.Variable" and "Assignment"."""

import numpy as np
import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def test_variable_converts_everywhere_and_ops_are_named_in_scope():
    v = tf.Variable([1.0, 2.0], name="v")
    with tf.name_scope("ns"):
        s = v + 1
    t = tf.convert_to_tensor(v)
    m = tf.multiply(v, v)
    i = tf.identity(v)
    assert s.name == "ns/add:0" and t is v._ref() and t.name == "v:0"
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([s, m, i, 1.0 / v, -v])[0].tolist() == [2.0, 3.0]
        assert sess.run(v > 1.5).tolist() == [False, True]
    with pytest.raises(ValueError):
        tf.convert_to_tensor(v, dtype=tf.float64)


def test_ref_dtype():
    v = tf.Variable(1.0)
    assert v.dtype.name == "float32_ref" and not v.dtype.is_compatible_with(tf.float32)
    assert v.dtype.base_dtype == tf.float32 and v.value().dtype == tf.float32 and v.read_value().dtype == tf.float32


@pytest.mark.parametrize("init,dtype,expected", [(1.0, None, tf.float32), (3, None, tf.int32),
                                                 (np.array([1.0]), None, tf.float64), (5, tf.float32, tf.float32)])
def test_tf_variable_dtype_inference(init, dtype, expected):
    v = tf.Variable(init, dtype=dtype)
    assert v.dtype.base_dtype == expected


def test_tf_variable_callable_names_scope_and_collections():
    a = tf.Variable(lambda: tf.ones([2]))
    b = tf.Variable(0.0)
    c = tf.Variable(0.0, name="c")
    d = tf.Variable(0.0, name="c")
    with tf.name_scope("ns"):
        e = tf.Variable(0.0, name="e")
    f = tf.Variable(0.0, trainable=False)
    g = tf.Variable(0.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    assert [x.name for x in (a, b, c, d, e)] == ["Variable:0", "Variable_1:0", "c:0", "c_1:0", "ns/e:0"]
    assert a.shape.as_list() == [2] and a.initial_value.op.name.startswith("Variable/Initializer/")
    assert not f.trainable and f in tf.global_variables() and f not in tf.trainable_variables()
    assert g in tf.local_variables() and g in tf.trainable_variables() and g not in tf.global_variables()
    with pytest.raises(ValueError):
        tf.Variable(0.0, collections="variables")
    with pytest.raises(ValueError):
        tf.Variable(None)


def test_properties():
    with tf.variable_scope("s"):
        v = tf.get_variable("v", [2, 3], initializer=tf.zeros_initializer())
    assert v.name == "s/v:0" and v.op.name == "s/v" and v.graph is tf.get_default_graph()
    assert v.shape.as_list() == [2, 3] and v.get_shape().as_list() == [2, 3] and v.device == ""
    assert v.initializer.name == "s/v/Assign" and isinstance(v.initializer, tf.Operation)
    assert v.value().name == "s/v/read:0" and v._as_graph_element() is v._ref()
    assert isinstance(v.initial_value, tf.Tensor) and v.trainable


def test_initial_value_eval_load_and_assign_returns_new_value():
    v = tf.Variable([1.0, 2.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert v.eval().tolist() == [1.0, 2.0]
        assert v.load([5.0, 6.0], sess) is None
        assert sess.run(v).tolist() == [5.0, 6.0]
        assert sess.run(v.initial_value).tolist() == [1.0, 2.0]
        assert v.eval(session=sess).tolist() == [5.0, 6.0]


def test_assign_methods_and_module_forms_return_new_values_each_run():
    v = tf.get_variable("v", shape=(), initializer=tf.zeros_initializer())
    assignment = v.assign_add(1)
    ops = [v.assign(10.0), tf.assign_add(v, 2.0), v.assign_sub(1.0), tf.assign_sub(v, 1.0), tf.assign(v, 0.0)]
    assert isinstance(assignment, tf.Tensor) and assignment.name == "AssignAdd:0"
    with tf.Session() as sess:
        assert sess.run(tf.global_variables_initializer()) is None
        assert sess.run(assignment) == 1.0
        assert assignment.op.run() is None
        assert assignment.eval() == 3.0
        assert [sess.run(o) for o in ops] == [10.0, 12.0, 11.0, 10.0, 0.0]
        assert sess.run(assignment.op) is None and sess.run(v) == 1.0
    assert v.assign(1.0, read_value=False).type == "Assign"


def test_assign_initializes_but_assign_add_requires_init():
    v = tf.Variable(1.0)
    a = v.assign(4.0)
    add = v.assign_add(1.0)
    sub = tf.assign_sub(v, 1.0)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(add)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(sub)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(v * 2)
        assert sess.run(a) == 4.0 and sess.run(add) == 5.0


def test_assign_static_shape_errors():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        v.assign([[1.0, 2.0]])
    with pytest.raises(ValueError):
        tf.assign_add(v, [1.0, 2.0, 3.0])
    w = v.assign(tf.placeholder(tf.float32, [None]))   # compatible partial shape is fine
    assert w.shape.as_list() == [2]


def test_assign_dtype_errors():
    f = tf.Variable(1.0)
    i = tf.Variable(1)
    with pytest.raises(TypeError):
        f.assign(tf.constant(1))
    with pytest.raises(TypeError):
        f.assign(tf.constant(1.0, dtype=tf.float64))
    with pytest.raises(TypeError):
        i.assign(1.5)
    with pytest.raises(TypeError):
        i.assign_add(0.5)
    ok = f.assign(3)
    with tf.Session() as sess:
        assert sess.run(ok) == 3.0


def test_read_value_under_control_dependencies_sees_update():
    v = tf.Variable(1.0)
    inc = v.assign_add(1.0)
    with tf.control_dependencies([inc]):
        r = v.read_value()
        y = v * 2
    snap = v.value() * 2
    assert r.name == "read:0"
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([r, y, snap]) == [2.0, 4.0, 2.0]
        assert sess.run(r) == 3.0
        assert sess.run(v) == 3.0


def test_reads_see_preceding_updates_in_the_run():
    v = tf.Variable(0.0)
    a = v.assign(5.0)
    with tf.control_dependencies([a]):
        b = v.assign_add(1.0)
        after = v + 0
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([after, b]) == [6.0, 6.0]


def test_group_and_no_op():
    v = tf.Variable(0.0)
    g = tf.group(v.assign_add(1.0), v.assign_add(2.0))
    assert isinstance(g, tf.Operation) and g.name.startswith("group_deps")
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(g) is None and sess.run(tf.no_op()) is None and sess.run(v) == 3.0


def test_fetch_and_feed_a_variable():
    v = tf.Variable([1.0, 2.0])
    y = v * 2
    with tf.Session() as sess:
        assert sess.run(y, {v: [3.0, 4.0]}).tolist() == [6.0, 8.0]   # no initialization needed
        sess.run(v.initializer)
        out = sess.run(v)
        out[0] = 100.0
        assert sess.run(v).tolist() == [1.0, 2.0]
