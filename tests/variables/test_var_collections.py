"""tf1-semantics.md, "Collections"."""

import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def zv(name, **kw):
    return tf.get_variable(name, [1], initializer=tf.zeros_initializer(), **kw)


def test_lists_in_creation_order():
    a, b = zv("b_first"), tf.Variable(1.0, name="a_second")
    c = zv("c", trainable=False)
    d = tf.get_local_variable("d", [1], initializer=tf.zeros_initializer())
    assert tf.global_variables() == [a, b, c] and tf.trainable_variables() == [a, b]
    assert tf.local_variables() == [d] and tf.all_variables() == [a, b, c]


def test_model_variables_and_custom_collections():
    m = zv("m", collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.MODEL_VARIABLES])
    my_local = tf.get_variable("my_local", shape=(), collections=[tf.GraphKeys.LOCAL_VARIABLES],
                               initializer=tf.zeros_initializer())
    tf.add_to_collection("my_collection_name", my_local)
    tf.add_to_collection("my_collection_name", my_local)
    tf.add_to_collections(["k1", "k2"], "anything")
    assert tf.model_variables() == [m] and tf.global_variables() == [m]
    assert tf.get_collection("my_collection_name") == [my_local, my_local]
    assert tf.get_collection("k1") == ["anything"] and tf.get_collection("k2") == ["anything"]


def test_get_collection_is_a_copy_and_ref_is_live():
    v = zv("v")
    got = tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)
    got.append("junk")
    assert tf.global_variables() == [v] and tf.get_collection("unknown") == []
    tf.get_collection_ref(tf.GraphKeys.GLOBAL_VARIABLES).append(v)
    assert tf.global_variables() == [v, v]


def test_scope_filter_is_a_prefix_regex():
    with tf.variable_scope("foo"):
        a = zv("a")
    with tf.variable_scope("foo_bar"):
        b = zv("b")
    assert tf.global_variables(scope="foo") == [a, b] and tf.global_variables(scope="foo/") == [a]
    assert tf.trainable_variables(scope="foo_") == [b]
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="f.o/") == [a]
