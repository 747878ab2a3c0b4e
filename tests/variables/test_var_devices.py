"""tf1-semantics.md, "Devices" (variables on devices; device strings are annotations locally)."""

import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def zv(name):
    return tf.get_variable(name, [1], initializer=tf.zeros_initializer())


@pytest.mark.parametrize("spec,expected", [("/cpu:0", "/device:CPU:0"), ("/gpu:0", "/device:GPU:0"),
                                           ("/device:GPU:1", "/device:GPU:1"), ("/job:ps/task:0", "/job:ps/task:0")])
def test_variable_device_is_normalized(spec, expected):
    with tf.device(spec):
        v = zv("v")
        t = tf.Variable(1.0)
        c = tf.constant(1.0)
    assert v.device == expected and t.device == expected and c.device == expected
    assert v.initializer.device == expected and v.value().device == expected and v.op.device == expected


def test_no_device_scope_is_empty():
    assert zv("v").device == ""


def test_nested_device_scopes_merge():
    with tf.device("/job:ps"), tf.device("/task:1"):
        a = zv("a")
    with tf.device("/job:ps/task:0"), tf.device("/cpu:0"):
        b = zv("b")
    with tf.device("/gpu:0"), tf.device("/gpu:1"):
        c = zv("c")
    with tf.device("/gpu:0"), tf.device(None):
        d = zv("d")
    assert (a.device, b.device, c.device, d.device) == ("/job:ps/task:1", "/job:ps/task:0/device:CPU:0",
                                                        "/device:GPU:1", "")


def test_ops_on_a_gpu_placed_variable_run_with_and_without_soft_placement():
    with tf.device("/device:GPU:1"):
        v = tf.get_variable("v", [1], initializer=tf.ones_initializer())
        y = v * 2
    for config in (tf.ConfigProto(allow_soft_placement=True), None):
        with tf.Session(config=config) as sess:    # jitgraph runs everything on the CPU either way
            sess.run(tf.global_variables_initializer())
            assert sess.run(y).tolist() == [2.0]


def test_caching_device_places_the_snapshot():
    with tf.device("/job:ps/task:0"):
        v = tf.get_variable("v", [1], initializer=tf.zeros_initializer(), caching_device="/job:worker")
    assert v.device == "/job:ps/task:0" and v.value().device == "/job:worker/task:0"
