"""partition.split_run: where each op of a worker's run goes (pure graph analysis, no engine)."""

import pytest

import jitgraph as tf
from jitgraph.distribute.partition import WORKER, split_run
from jitgraph.distribute.placement import Placement

CLUSTER = tf.train.ClusterSpec({"ps": ["ps0:1", "ps1:1"], "worker": ["w0:1", "w1:1"]})


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def home():
    return Placement(CLUSTER, "worker", 0).home


def mlp(optimizer, ps_tasks=2):
    with tf.device(tf.train.replica_device_setter(ps_tasks=ps_tasks, worker_device="/job:worker/task:0")):
        gs = tf.train.get_or_create_global_step()                        # ps 0
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.get_variable("w", [4, 3])                                  # ps 1
        b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())  # ps 0
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
        train = optimizer.minimize(loss, global_step=gs)
    return gs, x, w, b, loss, train


def names(ops):
    return [op.name for op in ops]


def test_sgd_on_two_shards_pulls_once_and_updates_in_two_chained_stages():
    gs, x, w, b, loss, train = mlp(tf.train.GradientDescentOptimizer(0.1))
    split = split_run([loss], [train], [x], home())
    assert {t: names(vs) for t, vs in split.pulls.items()} == {("ps", 0): ["b"], ("ps", 1): ["w"]}
    s0, s1, s2 = split.stages
    assert (s0.location, s0.number, names(s0.ops)) == (("ps", 0), 1, ["GradientDescent/update_b/ApplyGradientDescent"])
    assert (s1.location, s1.number, names(s1.ops)) == (("ps", 1), 1, ["GradientDescent/update_w/ApplyGradientDescent"])
    assert s2.location == ("ps", 0) and s2.number == 2 and "GradientDescent" in names(s2.ops)
    assert s2.after == {0, 1}                     # the global step waits for both shards' updates
    assert [t.name for t, _ in s1.inputs] == ["GradientDescent/update_w/mul:0"]   # lr * grad, computed here
    assert all(src[0] == "pre" for st in (s0, s1) for _, src in st.inputs)
    assert names(s0.variables) == ["b"] and names(s1.variables) == ["w"]
    assert split.fetch_sources == [("pre", split.pre_fetches.index(loss))]


def test_one_shard_is_one_stage():
    gs, x, w, b, loss, train = mlp(tf.train.GradientDescentOptimizer(0.1), ps_tasks=1)
    split = split_run([loss], [train], [x], home())
    assert len(split.stages) == 1 and split.stages[0].location == ("ps", 0)
    assert sorted(names(split.stages[0].variables)) == ["b", "global_step", "w"]


def test_adam_slots_stay_on_their_shard():
    gs, x, w, b, loss, train = mlp(tf.train.AdamOptimizer(0.1))
    split = split_run([loss], [train], [x], home())
    pulled = {v.name for vs in split.pulls.values() for v in vs}
    assert pulled == {"w", "b", "beta1_power", "beta2_power"}       # never the m/v slots
    w_stage = next(st for st in split.stages if st.location == ("ps", 1))
    assert {"w/Adam", "w/Adam_1", "w"} <= set(names(w_stage.variables))
    assert "Adam/update_w/Mul_1" in names(w_stage.ops)             # m * beta1 runs where m lives
    sent = {t.name for t, _ in w_stage.inputs}
    assert not any(n.startswith("w/Adam") for n in sent)


def test_momentum_sends_only_the_gradient():
    gs, x, w, b, loss, train = mlp(tf.train.MomentumOptimizer(0.1, 0.9))
    split = split_run([loss], [train], [x], home())
    w_stage = next(st for st in split.stages if st.location == ("ps", 1))
    sent = [t.name for t, _ in w_stage.inputs]
    assert "gradients/MatMul_grad/MatMul_1:0" in sent and len(sent) == 3   # grad, momentum, learning rate


def test_no_remote_variable_means_a_local_run():
    v = tf.Variable(1.0)
    split = split_run([v * 2], [v.assign_add(1.0).op], [], home())
    assert not split.remote and not split.stages and not split.pulls


def test_variables_of_the_own_task_are_local():
    with tf.device("/job:worker/task:0"):
        mine = tf.Variable(1.0, name="mine")
    with tf.device("/job:worker/task:1"):
        theirs = tf.Variable(1.0, name="theirs")
    h = home()
    assert h(mine.op) is None and h(theirs.op) == ("worker", 1)


def test_a_local_global_step_after_remote_updates_runs_here_after_them():
    with tf.device(tf.train.replica_device_setter(ps_tasks=1)):
        x = tf.placeholder(tf.float32, [None, 2])
        w = tf.get_variable("w", [2, 1])
        loss = tf.reduce_sum(tf.matmul(x, w))
    gs = tf.train.get_or_create_global_step()        # no device: this worker's own copy
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
    split = split_run([], [train], [x], home())
    assert [(st.location, st.number) for st in split.stages] == [(("ps", 0), 1), (WORKER, 2)]
    assert names(split.stages[1].variables) == ["global_step"] and split.stages[1].after == {0}


def test_a_read_of_two_shards_after_an_update_is_refused():
    with tf.device("/job:ps/task:0"):
        a = tf.Variable(1.0, name="a")
    with tf.device("/job:ps/task:1"):
        b = tf.Variable(2.0, name="b")
    inc = a.assign_add(1.0)
    with tf.control_dependencies([inc]):
        y = a + b
    with pytest.raises(tf.errors.UnimplementedError, match="reads variables of tasks"):
        split_run([y], [], [], home())


def test_reads_after_an_update_run_on_the_shard_and_fetches_come_from_there():
    with tf.device("/job:ps/task:1"):
        v = tf.Variable(1.0, name="v")
    inc = v.assign_add(2.0)
    doubled = inc * 2.0
    split = split_run([inc, doubled, v], [], [], home())
    (st,) = split.stages
    assert st.location == ("ps", 1) and set(names(st.ops)) >= {inc.op.name, doubled.op.name}
    assert split.fetch_sources[:2] == [("stage", 0, 0), ("stage", 0, 1)]
    assert split.fetch_sources[2][0] == "pre" and names(split.pulls[("ps", 1)]) == ["v"]   # read at the start


def test_placement_errors_name_the_variable():
    with tf.device("/job:chief/task:0"):
        v = tf.Variable(1.0, name="lost")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device for operation lost"):
        home()(v.op)
    assert Placement(CLUSTER, "worker", 0, allow_soft_placement=True).home(v.op) is None
    with tf.device("/job:ps/task:9"):
        u = tf.Variable(1.0, name="far")
    with pytest.raises(tf.errors.InvalidArgumentError, match="names task 9 of job 'ps'"):
        home()(u.op)


def test_backprop_reading_a_weight_stays_on_the_worker():
    with tf.device(tf.train.replica_device_setter(ps_tasks=1)):
        x = tf.placeholder(tf.float32, [None, 4])
        w1 = tf.get_variable("w1", [4, 8])
        w2 = tf.get_variable("w2", [8, 2])
        loss = tf.reduce_mean(tf.square(tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)))   # dh reads w2
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    split = split_run([loss], [train], [x], home())
    (stage,) = split.stages
    assert all(op.op_def.kind != "library" for op in stage.ops)       # no matmul on the ps
    assert sorted(t.name for t, _ in stage.inputs) == ["GradientDescent/update_w1/mul:0",
                                                        "GradientDescent/update_w2/mul:0"]
    assert names(split.pulls[("ps", 0)]) == ["w1", "w2"]


def test_readiness_checks_ask_only_whether_variables_exist():
    gs, x, w, b, loss, train = mlp(tf.train.GradientDescentOptimizer(0.1))
    split = split_run([tf.report_uninitialized_variables()], [], [], home())
    assert split.pulls == {} and not split.stages
    assert {t: names(vs) for t, vs in split.presence.items()} == {("ps", 0): ["global_step", "b"], ("ps", 1): ["w"]}
