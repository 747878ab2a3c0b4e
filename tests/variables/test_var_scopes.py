"""tf1-semantics.md, "variable_scope and name_scope"."""

import re

import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def gv(name, shape=(1,), **kw):
    kw.setdefault("initializer", tf.zeros_initializer())
    return tf.get_variable(name, shape, **kw)


def test_variable_scope_prefixes_variables_and_ops():
    with tf.variable_scope("a"):
        with tf.variable_scope("b") as scope:
            v = gv("v")
            s = v + 1
    assert v.name == "a/b/v:0" and s.name == "a/b/add:0"
    assert scope.name == "a/b" and scope.original_name_scope == "a/b/"
    with tf.variable_scope("x/y") as xy:
        w = gv("w")
    assert w.name == "x/y/w:0" and xy.name == "x/y"


def test_name_scope_prefixes_ops_and_tf_variable_not_get_variable():
    with tf.name_scope("ns") as ns:
        v = gv("v")
        c = tf.constant(1.0)
        t = tf.Variable(1.0, name="t")
    assert ns == "ns/" and v.name == "v:0" and c.name == "ns/Const:0" and t.name == "ns/t:0"
    with tf.name_scope("ns") as again:
        pass
    with tf.name_scope("ns/") as exact:
        d = tf.constant(2.0)
    assert again == "ns_1/" and exact == "ns/" and d.name == "ns/Const_1:0"


def test_creating_existing_variable_is_value_error_naming_the_origin():
    with tf.variable_scope("conv1"):
        gv("weights")                                # first definition: this line
        with pytest.raises(ValueError) as err:
            gv("weights")
    msg = str(err.value)
    assert "Variable conv1/weights already exists, disallowed. Did you mean to set reuse=True or " \
           "reuse=tf.AUTO_REUSE in VarScope? Originally defined at:" in msg
    assert "test_var_scopes.py" in msg and 'gv("weights")' in msg


def test_reuse_missing_variable_is_value_error():
    with tf.variable_scope("nowhere", reuse=True):
        with pytest.raises(ValueError, match="does not exist, or was not created with tf.get_variable"):
            gv("v")
    gv("u")
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError):
            gv("u")       # s/u, not u


def test_reuse_returns_same_object_and_creates_nothing():
    with tf.variable_scope("m"):
        v = gv("v", [2, 3])
    n_ops = len(tf.get_default_graph().get_operations())
    with tf.variable_scope("m", reuse=True):
        assert tf.get_variable("v") is v
        assert tf.get_variable("v", [2, 3], initializer=tf.ones_initializer()) is v
        assert tf.get_variable("v", [None, 3]) is v
    assert len(tf.get_default_graph().get_operations()) == n_ops
    assert tf.global_variables() == [v]


@pytest.mark.parametrize("kw", [dict(shape=[3, 2]), dict(shape=[2, 3, 1]), dict(dtype=tf.int32),
                                dict(dtype=tf.float64)])
def test_reuse_with_incompatible_shape_or_dtype_is_value_error(kw):
    with tf.variable_scope("m"):
        gv("v", [2, 3])
    with tf.variable_scope("m", reuse=True), pytest.raises(ValueError):
        tf.get_variable("v", **kw)


def test_reuse_int_variable_with_default_dtype_is_value_error():
    with tf.variable_scope("m"):
        tf.get_variable("i", initializer=3)
    with tf.variable_scope("m", reuse=tf.AUTO_REUSE), pytest.raises(ValueError):
        tf.get_variable("i")


def test_auto_reuse_creates_then_reuses_and_is_inherited():
    with tf.variable_scope("a", reuse=tf.AUTO_REUSE):
        v1 = gv("v")
        with tf.variable_scope("inner"):
            w1 = gv("w")
    with tf.variable_scope("a", reuse=tf.AUTO_REUSE):
        v2 = gv("v")
        with tf.variable_scope("inner"):
            assert tf.get_variable_scope().reuse is tf.AUTO_REUSE
            w2 = gv("w")
    assert v1 is v2 and w1 is w2 and len(tf.global_variables()) == 2


def test_reuse_is_inherited_and_cannot_be_turned_off():
    with tf.variable_scope("a"):
        v = gv("v")
    with tf.variable_scope("a", reuse=True):
        with tf.variable_scope("", reuse=False):
            pass
        with tf.variable_scope("b", reuse=False) as b:
            assert b.reuse is True
        assert tf.get_variable("v") is v
    assert tf.get_variable_scope().reuse is False


def test_reenter_scope_object_keeps_reuse_by_name_does_not():
    with tf.variable_scope("model", reuse=True) as scope:
        pass
    with tf.variable_scope(scope):
        assert tf.get_variable_scope().reuse is True
    with tf.variable_scope("model"):
        assert not tf.get_variable_scope().reuse


def test_reuse_variables_lasts_for_the_with_block():
    with tf.variable_scope("model") as scope:
        v = gv("v")
        assert not scope.reuse
        scope.reuse_variables()
        assert tf.get_variable("v") is v
    with tf.variable_scope("model"):
        assert not tf.get_variable_scope().reuse
        with pytest.raises(ValueError):
            gv("v")


def test_reenter_by_object_keeps_variable_prefix_and_gets_fresh_op_scope():
    with tf.variable_scope("model") as scope:
        v = gv("v")
        a = v + 1
    with tf.variable_scope(scope, reuse=True) as again:
        assert tf.get_variable("v") is v
        b = v + 1
    with tf.variable_scope("other"):
        with tf.variable_scope(scope, reuse=True):
            assert tf.get_variable("v") is v
            assert gv("v").name == "model/v:0"
            c = v + 1
    with tf.variable_scope("model", reuse=True):
        d = v + 1
    assert again.name == "model" and again.original_name_scope == "model/"
    assert (a.name, b.name, c.name, d.name) == ("model/add:0", "model_1/add:0", "other/model/add:0",
                                                "model_2/add:0")


def test_default_name_is_uniquified_per_parent():
    names = []
    for _ in range(2):
        with tf.variable_scope(None, default_name="layer") as s:
            names.append(s.name)
            gv("w")
    with tf.variable_scope("outer"):
        with tf.variable_scope(None, default_name="layer") as s:
            names.append(s.name)
    assert names == ["layer", "layer_1", "outer/layer"]
    assert [v.name for v in tf.global_variables()] == ["layer/w:0", "layer_1/w:0"]


def test_default_name_restarts_when_parent_is_reentered():
    for _ in range(2):
        with tf.variable_scope("net", reuse=tf.AUTO_REUSE):
            with tf.variable_scope(None, default_name="dense"):
                gv("k")
    assert [v.name for v in tf.global_variables()] == ["net/dense/k:0"]


def test_variable_scope_argument_errors():
    with pytest.raises(TypeError):
        with tf.variable_scope(None):
            pass
    with pytest.raises(ValueError):
        with tf.variable_scope(None, default_name="x", reuse=True):
            pass
    with pytest.raises(TypeError):
        with tf.variable_scope(3):
            pass


def test_scope_initializer_applies_to_nested_scopes_and_ints():
    with tf.variable_scope("s", initializer=tf.constant_initializer(2)):
        f = tf.get_variable("f", [2])
        with tf.variable_scope("t"):
            i = tf.get_variable("i", [2], dtype=tf.int32)
        explicit = tf.get_variable("e", [1], initializer=tf.zeros_initializer())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert list(sess.run(f)) == [2, 2] and list(sess.run(i)) == [2, 2] and sess.run(explicit)[0] == 0
    with tf.variable_scope("u", initializer=tf.constant_initializer(0.5)):
        with pytest.raises(TypeError):
            tf.get_variable("i", [2], dtype=tf.int32)


def test_scope_tensor_initializer_needs_no_shape():
    with tf.variable_scope("s", initializer=tf.constant([1.0, 2.0])):
        v = tf.get_variable("v")
    assert v.shape.as_list() == [2]


def test_scope_dtype_default_and_explicit_wins():
    with tf.variable_scope("s", dtype=tf.float64):
        a = gv("a")
        b = gv("b", dtype=tf.int32)
        with tf.variable_scope("t"):
            c = gv("c")
    assert (a.dtype.base_dtype, b.dtype.base_dtype, c.dtype.base_dtype) == (tf.float64, tf.int32, tf.float64)


def test_set_initializer_and_new_scope_initializer_is_none():
    with tf.variable_scope("s") as s:
        assert s.initializer is None
        tf.get_variable_scope().set_initializer(tf.ones_initializer())
        v = tf.get_variable("v", [1])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(v)[0] == 1.0


def test_root_scope():
    root = tf.get_variable_scope()
    assert root.name == "" and root.reuse is False and root.original_name_scope == ""


def test_scope_collections_filter_on_exact_scope():
    with tf.variable_scope("foo") as foo:
        a = gv("a")
    with tf.variable_scope("foo_bar"):
        b = gv("b", trainable=False)
    assert foo.global_variables() == [a] and foo.trainable_variables() == [a]
    assert foo.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == [a]
    assert tf.get_variable_scope().global_variables() == [a, b]
    assert tf.global_variables("foo") == [a, b] and tf.global_variables("foo/") == [a]


def test_auxiliary_name_scope_false_keeps_op_names():
    with tf.variable_scope("s", auxiliary_name_scope=False) as s:
        v = gv("v")
        c = tf.constant(1.0)
    assert v.name == "s/v:0" and c.name == "Const:0" and s.original_name_scope == ""


def test_tf_variable_does_not_register_with_store():
    tv = tf.Variable(1.0, name="v")
    gv_ = gv("v")
    assert gv_.name == "v_1:0" and tv.name == "v:0"
    w = gv("w")
    tw = tf.Variable(1.0, name="w")
    assert tw.name == "w_1:0" and w.name == "w:0"
    with pytest.raises(ValueError):
        gv("w")


def test_guide_conv_relu_second_call_fails():
    def layer(x):
        w = tf.get_variable("weights", [2], initializer=tf.ones_initializer())
        b = tf.get_variable("biases", [2], initializer=tf.zeros_initializer())
        return x * w + b
    x = layer(tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match=re.escape("weights already exists")):
        layer(x)
