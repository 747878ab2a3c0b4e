"""tf1-semantics.md, "get_variable: creation, defaults and arguments"."""

import numpy as np
import pytest

import jitgraph as tf



@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def run(*fetches):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(fetches))


def test_name_and_op_name():
    v = tf.get_variable("v", [2])
    assert v.name == "v:0" and v.op.name == "v" and v.op.type == "VariableV2"
    with tf.variable_scope("s"):
        w = tf.get_variable("w", [2])
    assert w.name == "s/w:0" and w.op.name == "s/w"


def test_default_dtype_float32_with_glorot_uniform_default():
    v = tf.get_variable("v", [30, 50])
    assert v.dtype.base_dtype.name == "float32"
    assert v.initializer.inputs[1].op.name.startswith("v/Initializer/")
    val, = run(v)
    limit = np.sqrt(6 / (30 + 50))
    assert np.abs(val).max() <= limit and np.abs(val).max() > 0.8 * limit
    assert val.std() == pytest.approx(limit / np.sqrt(3), rel=0.1)


@pytest.mark.parametrize("shape,fans", [([], (1, 1)), ([40], (40, 40)), ([20, 60], (20, 60)),
                                        ([3, 3, 8, 16], (72, 144))])
def test_default_initializer_fans(shape, fans):
    v = tf.get_variable("v", shape)
    limit = np.sqrt(6 / sum(fans))
    val, = run(v)
    assert np.all(np.abs(val) <= limit)
    if np.size(val) > 100:
        assert np.abs(val).max() > 0.9 * limit


@pytest.mark.parametrize("dtype,expected", [(tf.int32, 0), (tf.int64, 0), (tf.bool, False), (tf.string, b"")])
def test_default_initializer_for_ints_bools_strings(dtype, expected):
    v = tf.get_variable("v", [2, 2], dtype=dtype)
    val, = run(v)
    assert val.shape == (2, 2) and all(x == expected for x in val.ravel())
    assert v.dtype.base_dtype == dtype


@pytest.mark.parametrize("shape", [[2, 3], (2, 3), tf.TensorShape([2, 3])])
def test_shape_forms(shape):
    assert tf.get_variable("v", shape).shape.as_list() == [2, 3]


@pytest.mark.parametrize("shape", [[], ()])
def test_scalar_shapes(shape):
    v = tf.get_variable("v", shape, initializer=tf.ones_initializer())
    assert v.shape.ndims == 0 and run(v)[0] == 1.0


def test_zero_sized_dim():
    v = tf.get_variable("v", [0, 3])
    assert run(v)[0].shape == (0, 3)


def test_initializer_class_instance_and_callable():
    a = tf.get_variable("a", [2], dtype=tf.int32, initializer=tf.zeros_initializer)   # the class
    b = tf.get_variable("b", [2], initializer=tf.ones_initializer())
    c = tf.get_variable("c", [2], initializer=lambda shape, dtype=None, partition_info=None:
                        tf.constant(7.0, shape=shape, dtype=dtype))
    va, vb, vc = run(a, b, c)
    assert va.dtype == np.int32 and list(va) == [0, 0]
    assert list(vb) == [1, 1] and list(vc) == [7, 7]


def test_guide_initializers():
    my_int_variable = tf.get_variable("my_int_variable", [1, 2, 3], dtype=tf.int32,
                                      initializer=tf.zeros_initializer)
    other_variable = tf.get_variable("other_variable", dtype=tf.int32, initializer=tf.constant([23, 42]))
    a, b = run(my_int_variable, other_variable)
    assert a.shape == (1, 2, 3) and list(b) == [23, 42]


def test_tensor_initializer_gives_shape_and_dtype():
    v = tf.get_variable("v", initializer=tf.constant([[1, 2, 3]], dtype=tf.int64))
    assert v.shape.as_list() == [1, 3] and v.dtype.base_dtype == tf.int64


def test_tensor_initializer_with_shape_is_value_error():
    with pytest.raises(ValueError):
        tf.get_variable("v", [2], initializer=tf.constant([1.0, 2.0]))


def test_tensor_initializer_with_other_dtype_is_value_error():
    with pytest.raises(ValueError):
        tf.get_variable("v", dtype=tf.float64, initializer=tf.constant([1.0, 2.0]))
    assert tf.global_variables() == []


@pytest.mark.parametrize("value,dtype,expected", [
    (1.5, None, tf.float32), (3, None, tf.int32), (True, None, tf.bool), ([[1.0, 2.0]], None, tf.float32),
    (np.array([1.0, 2.0]), None, tf.float64), (4, tf.int32, tf.int32), (np.array([1, 2, 3]), tf.int64, tf.int64)])
def test_python_and_numpy_initializers(value, dtype, expected):
    v = tf.get_variable("v", initializer=value, dtype=dtype)
    assert v.dtype.base_dtype == expected
    np.testing.assert_array_equal(run(v)[0], np.asarray(value))


def test_constant_initializer_with_shape_is_value_error():
    with pytest.raises(ValueError):
        tf.get_variable("v", [2], initializer=[1.0, 2.0])


def test_python_initializer_with_mismatched_dtype_is_value_error():
    with pytest.raises(ValueError):
        tf.get_variable("v", initializer=4.0, dtype=tf.float64)   # as TF: 4.0 is float32


def test_dict_initializer_is_type_error():
    with pytest.raises(TypeError):
        tf.get_variable("v", initializer={})


def test_no_shape_no_initializer_is_value_error():
    with pytest.raises(ValueError, match="shape"):
        tf.get_variable("v")


def test_partial_shape_is_value_error():
    with pytest.raises(ValueError):
        tf.get_variable("v", [None, 3])


@pytest.mark.parametrize("make", [
    lambda: tf.get_variable("v"), lambda: tf.get_variable("v", [None, 3]), lambda: tf.get_variable("v", initializer={}),
    lambda: tf.get_variable("v", [2], dtype=tf.int32, initializer=tf.constant_initializer(0.5))])
def test_failed_get_variable_adds_nothing(make):
    with pytest.raises((ValueError, TypeError)):
        make()
    g = tf.get_default_graph()
    assert g.get_all_collection_keys() == [] or all(not g.get_collection(k) for k in g.get_all_collection_keys())
    assert g.get_operations() == []
    assert tf.get_variable("v", [1]).name == "v:0"     # the name was not used up either


def test_trainable_flag_and_collections():
    t = tf.get_variable("t", [1])
    n = tf.get_variable("n", [1], trainable=False)
    assert t.trainable and not n.trainable
    assert tf.global_variables() == [t, n] and tf.trainable_variables() == [t]


def test_collections_replace_default_but_trainable_is_appended():
    my_local = tf.get_variable("my_local", shape=(), collections=[tf.GraphKeys.LOCAL_VARIABLES])
    quiet = tf.get_variable("quiet", shape=(), collections=[tf.GraphKeys.LOCAL_VARIABLES], trainable=False)
    assert tf.local_variables() == [my_local, quiet]
    assert tf.trainable_variables() == [my_local]
    assert tf.global_variables() == []


def test_get_local_variable():
    with tf.variable_scope("s"):
        lv = tf.get_local_variable("lv", [2], initializer=tf.zeros_initializer())
    assert lv.name == "s/lv:0" and not lv.trainable
    assert tf.local_variables() == [lv] and tf.global_variables() == [] and tf.trainable_variables() == []
    with tf.variable_scope("s", reuse=True):
        assert tf.get_local_variable("lv") is lv
    with pytest.raises(ValueError):
        tf.get_local_variable("s/lv", [2])


def test_collection_keys():
    assert tf.GraphKeys.GLOBAL_VARIABLES == "variables"
    assert tf.GraphKeys.LOCAL_VARIABLES == "local_variables"
    assert tf.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"


def test_regularizer_adds_loss_and_custom_getter_wraps():
    v = tf.get_variable("v", [2], initializer=tf.ones_initializer(), regularizer=lambda w: tf.identity(w) * 0.5)
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1 and losses[0].name.startswith("v/Regularizer/")
    seen = []

    def getter(next_getter, name, *args, **kwargs):
        seen.append(name)
        return next_getter(name + "_x", *args, **kwargs)
    w = tf.get_variable("w", [1], custom_getter=getter)
    assert seen == ["w"] and w.name == "w_x:0"
    assert list(run(losses[0])[0]) == [0.5, 0.5] and v.constraint is None
