"""tf.train.replica_device_setter and the ps placement strategies."""

import pytest

import jitgraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def zv(name, shape=(1,)):
    return tf.get_variable(name, shape, initializer=tf.zeros_initializer())


def test_round_robin_over_ps_tasks_other_ops_on_worker():
    with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
        a = zv("a")
        b = tf.Variable(1.0, name="b")
        c = zv("c")
        y = a + c
    assert [v.device for v in (a, b, c)] == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:0"]
    assert y.device == "/job:worker" and a.initializer.device == "/job:ps/task:0"
    with tf.Session() as sess:      # locally the placement is an annotation
        sess.run(tf.global_variables_initializer())
        assert sess.run(y).tolist() == [0.0]


def test_cluster_spec_sets_ps_tasks_and_worker_device_merges():
    cluster = {"ps": ["ps0:2222", "ps1:2222", "ps2:2222"], "worker": ["w0:2222"]}
    with tf.device(tf.train.replica_device_setter(cluster=cluster, worker_device="/job:worker/task:0")):
        vs = [zv(f"v{i}") for i in range(4)]
        with tf.device("/cpu:0"):
            c = tf.constant(1.0)
    assert [v.device for v in vs] == ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:2", "/job:ps/task:0"]
    assert c.device == "/job:worker/task:0/device:CPU:0"
    assert tf.train.replica_device_setter(cluster=tf.train.ClusterSpec({"worker": ["w0"]})) is None
    assert tf.train.replica_device_setter(ps_tasks=0) is None


def test_greedy_load_balancing_by_byte_size():
    strategy = tf.train.GreedyLoadBalancingStrategy(2, tf.train.byte_size_load_fn)
    with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=strategy)):
        big = zv("big", [100])
        small1 = zv("small1", [10])
        small2 = zv("small2", [10])
        mid = zv("mid", [50])
    assert [v.device for v in (big, small1, small2, mid)] == \
        ["/job:ps/task:0", "/job:ps/task:1", "/job:ps/task:1", "/job:ps/task:1"]
    assert tf.train.byte_size_load_fn(big.op) == 400
    with pytest.raises(TypeError):
        tf.train.replica_device_setter(ps_tasks=1, ps_strategy=3)
