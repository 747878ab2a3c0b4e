"""Graph IR: TF1 naming, name scopes, control dependencies, devices, collections, default graphs."""

import pytest

import jitgraph as tf


def test_default_op_names_and_case_insensitive_uniquification(g):
    a, b = tf.constant(1.0), tf.constant(2.0)
    assert a.name == "Const:0" and b.name == "Const_1:0"
    assert [(a + b).op.name, (a + b).op.name, tf.add(a, b).op.name] == ["add", "add_1", "Add_2"]
    assert (a * b).op.name == "mul" and tf.multiply(a, b).op.name == "Mul_1"
    m = tf.constant([[1.0]])
    assert (m @ m).op.name == "matmul" and tf.matmul(m, m).op.name == "MatMul_1"   # case-insensitive
    assert tf.reduce_sum(m).op.name == "Sum" and tf.nn.relu(m).op.name == "Relu"
    assert tf.placeholder(tf.float32).op.name == "Placeholder"


def test_explicit_names_are_uniquified_too(g):
    names = [tf.constant(1, name=n).op.name for n in ("foo", "foo", "foo_1")]
    assert names == ["foo", "foo_1", "foo_1_1"]


def test_name_scopes_nest_reenter_and_reset(g):
    with tf.name_scope("ns") as scope:
        assert scope == "ns/"
        assert tf.constant(1).op.name == "ns/Const"
        with tf.name_scope("inner"):
            assert tf.constant(1).op.name == "ns/inner/Const"
    with tf.name_scope("ns") as again:
        assert again == "ns_1/"
    with tf.name_scope("ns/"):
        assert tf.constant(1).op.name == "ns/Const_1"
    with tf.name_scope("ns"):
        with tf.name_scope(None):
            assert tf.constant(1).op.name == "Const"


def test_control_dependencies_nest_and_clear(g):
    a, b = tf.no_op(name="a"), tf.no_op(name="b")
    with tf.control_dependencies([a]):
        x = tf.constant(1)
        with tf.control_dependencies([b]):
            y = tf.constant(2)
            with tf.control_dependencies(None):
                z = tf.constant(3)
    assert x.op.control_inputs == [a]
    assert set(y.op.control_inputs) == {a, b}
    assert z.op.control_inputs == []


@pytest.mark.parametrize("spec,expected", [
    ("/cpu:0", "/device:CPU:0"), ("/gpu:0", "/device:GPU:0"), ("/device:GPU:1", "/device:GPU:1"),
    ("/job:ps/task:0", "/job:ps/task:0"), ("", ""),
])
def test_device_strings_are_normalized(g, spec, expected):
    with tf.device(spec):
        assert tf.constant(1).device == expected


@pytest.mark.parametrize("outer,inner,expected", [
    ("/job:ps", "/task:1", "/job:ps/task:1"),
    ("/job:ps/task:0", "/cpu:0", "/job:ps/task:0/device:CPU:0"),
    ("/gpu:0", "/gpu:1", "/device:GPU:1"),
    ("/job:ps", None, ""),
])
def test_device_scopes_merge_field_wise_inner_wins(g, outer, inner, expected):
    with tf.device(outer), tf.device(inner):
        assert tf.constant(1).device == expected


def test_collections_copy_ref_scope_regex_and_duplicates(g):
    x, y = tf.constant(1, name="foo/x"), tf.constant(2, name="foo_bar/y")
    tf.add_to_collection("things", x)
    tf.add_to_collections(["things", "other"], y)
    tf.add_to_collection("things", x)
    assert tf.get_collection("things") == [x, y, x]            # insertion order, duplicates kept
    copy = tf.get_collection("things")
    copy.append("junk")
    assert len(tf.get_collection("things")) == 3                # a copy
    tf.get_collection_ref("things").append(7)                   # the live list
    assert tf.get_collection("things")[-1] == 7
    assert tf.get_collection("things", scope="foo") == [x, y, x]   # prefix regex, unnamed items dropped
    assert tf.get_collection("things", scope="foo/") == [x, x]
    assert tf.get_collection("unknown") == [] and tf.get_collection("other") == [y]


def test_graphs_are_isolated_and_elements_resolve_by_name():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0, name="a")
        tf.add_to_collection("c", a)
    with g2.as_default():
        b = tf.constant(1.0, name="a")
        assert tf.get_collection("c") == []
        assert tf.get_default_graph() is g2
    assert a.graph is g1 and b.graph is g2 and b.name == "a:0"
    assert g1.get_tensor_by_name("a:0") is a and g1.get_operation_by_name("a") is a.op
    with pytest.raises(KeyError):
        g1.get_tensor_by_name("nope:0")
    with pytest.raises(ValueError, match="same graph"):
        a + b


def test_finalize_and_reset_default_graph():
    with tf.Graph().as_default() as g:
        g.finalize()
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(1)
    tf.reset_default_graph()
    old = tf.get_default_graph()
    tf.constant(1.0, name="v")
    tf.reset_default_graph()
    assert tf.get_default_graph() is not old
    assert tf.constant(1.0, name="v").name == "v:0"     # names restart; the old graph is intact
    assert old.get_tensor_by_name("v:0") is not None
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()


def test_static_shapes_and_dtypes_are_inferred_when_building(g):
    x = tf.placeholder(tf.float32, [None, 3])
    assert x.get_shape().as_list() == [None, 3]
    assert tf.placeholder(tf.int32).get_shape().ndims is None
    with pytest.raises(ValueError):
        tf.placeholder(tf.int32).get_shape().as_list()
    assert (x * 2).dtype == tf.float32 and (x * 2).shape.as_list() == [None, 3]
    assert (tf.constant(3) / 2).dtype == tf.float64      # TF1 int `/` is float64
    with pytest.raises(TypeError):
        x + tf.constant(1)                               # float32 + int32
    with pytest.raises(TypeError):
        tf.constant(1) + 1.5                             # python float into an int tensor
    with pytest.raises(ValueError):
        tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 5]))


def test_dtypes_and_shapes_api():
    assert tf.float32.as_numpy_dtype is __import__("numpy").float32
    assert tf.as_dtype("float32_ref").name == "float32_ref"
    assert not tf.as_dtype("float32_ref").base_dtype.is_ref_dtype
    assert tf.float32.is_compatible_with(tf.as_dtype("float32_ref"))
    assert not tf.as_dtype("float32_ref").is_compatible_with(tf.float32)
    s = tf.TensorShape([None, 3])
    assert not s.is_fully_defined() and s.merge_with([2, None]).as_list() == [2, 3]
    assert s.is_compatible_with([5, 3]) and not s.is_compatible_with([5, 4])
