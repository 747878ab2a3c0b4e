"""The distributed session end to end on in-process tasks (``protocol="in_process"``): the same
partitioning, stage programs, parameter servers and recovery as on Ray, without an engine."""

import itertools
import json
import os

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.distribute import backend as backend_mod
from jitgraph.distribute.parameter_server import ParameterServer

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "monitored_session.json")))
_ids = itertools.count()


@pytest.fixture
def cluster():
    """A fresh 2-ps, 2-worker in-process cluster; yields (spec, worker servers)."""
    n = next(_ids)
    spec = tf.train.ClusterSpec({"ps": [f"p{n}a:1", f"p{n}b:1"], "worker": [f"w{n}a:1", f"w{n}b:1"]})
    ps = [tf.train.Server(spec, "ps", i, protocol="in_process") for i in range(2)]
    workers = [tf.train.Server(spec, "worker", i, protocol="in_process") for i in range(2)]
    yield spec, workers
    for s in ps:
        s.stop()


def build(spec, optimizer, task=0):
    tf.set_random_seed(7)
    with tf.device(tf.train.replica_device_setter(cluster=spec, worker_device=f"/job:worker/task:{task}")):
        gs = tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [None, 5], name="x")
        y = tf.placeholder(tf.float32, [None, 2], name="y")
        h = tf.layers.dense(x, 4, activation=tf.nn.relu, name="d1")
        out = tf.layers.dense(h, 2, name="d2")
        loss = tf.reduce_mean(tf.square(out - y))
        opt = {"sgd": lambda: tf.train.GradientDescentOptimizer(0.1),
               "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
               "adam": lambda: tf.train.AdamOptimizer(0.05)}[optimizer]()
        train = opt.minimize(loss, global_step=gs)
    return dict(gs=gs, x=x, y=y, loss=loss, train=train)


def batches(n):
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(8, 5)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32))
            for _ in range(n)]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_training_on_the_cluster_matches_a_local_run(cluster, optimizer):
    spec, workers = cluster
    runs = {}
    for target in ("", workers[0].target):
        with tf.Graph().as_default():
            m = build(spec, optimizer)
            with tf.Session(target) as sess:
                sess.run(tf.global_variables_initializer())
                init = sess.run(tf.global_variables())
                losses = [sess.run([m["train"], m["loss"]], {m["x"]: a, m["y"]: b})[1] for a, b in batches(6)]
                runs[target] = init, losses, sess.run(tf.global_variables())
    (init_l, loss_l, end_l), (init_c, loss_c, end_c) = runs[""], runs[workers[0].target]
    for a, b in zip(init_l, init_c):            # the chief's initialization: the same values, bit for bit
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loss_c, loss_l, rtol=1e-5)
    for a, b in zip(end_l, end_c):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    assert end_c[0] == 6    # global step


def test_placement_of_an_adam_model_matches_tf():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:0")):
            gs = tf.train.get_or_create_global_step()
            x = tf.placeholder(tf.float32, [None, 4])
            h = tf.layers.dense(x, 3, activation=tf.nn.relu, name="d1")
            y = tf.layers.dense(h, 2, name="d2")
            tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(tf.square(y)), global_step=gs)
        assert {v.op.name: v.device for v in tf.global_variables()} == ORACLE["adam_placement"]


def test_variables_live_on_their_tasks_and_a_second_worker_sees_the_chief_init(cluster):
    spec, workers = cluster
    with tf.Graph().as_default():
        build(spec, "sgd")
        chief = tf.Session(workers[0].target)
        chief.run(tf.global_variables_initializer())
        want = chief.run(tf.global_variables())
    ps = [backend_mod._REGISTRY[(workers[0].namespace, f"ps/task:{i}")] for i in range(2)]
    assert ps[0].info()["variables"] == ["d1/bias", "d2/bias", "global_step"]
    assert ps[1].info()["variables"] == ["d1/kernel", "d2/kernel"]
    with tf.Graph().as_default():
        build(spec, "sgd", task=1)
        other = tf.Session(workers[1].target)
        assert other.run(tf.report_uninitialized_variables()).size == 0
        for a, b in zip(want, other.run(tf.global_variables())):
            np.testing.assert_array_equal(a, b)


def test_fetches_feeds_and_updates_on_a_task(cluster):
    spec, workers = cluster
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:1"):
            v = tf.Variable([1.0, 2.0, 3.0], name="v")
        p = tf.placeholder(tf.float32, [None], name="p")
        inc = v.assign_add(p)
        sess = tf.Session(workers[0].target)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
            sess.run(v * 2)
        sess.run(v.initializer)
        out = sess.run({"new": inc, "twice": inc * 2, "nested": [v, p]}, {p: np.ones(3, np.float32)})
        assert out["new"].tolist() == [2, 3, 4] and out["twice"].tolist() == [4, 6, 8]
        assert out["nested"][0].tolist() == [1, 2, 3] and out["nested"][1].tolist() == [1, 1, 1]
        with pytest.raises(tf.errors.InvalidArgumentError, match="AssignAdd"):
            sess.run(inc, {p: np.ones(2, np.float32)})      # wrong shape: fails on the task ...
        assert sess.run(v).tolist() == [2, 3, 4]           # ... and leaves the variable as it was
        call = sess.make_callable(inc, feed_list=[p])
        assert call(np.ones(3, np.float32)).tolist() == [3, 4, 5]


def test_a_local_global_step_counts_after_remote_updates(cluster):
    spec, workers = cluster
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            w = tf.Variable([1.0], name="w")
        gs = tf.train.get_or_create_global_step()    # this worker's own
        train = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(w * w), global_step=gs)
        sess = tf.Session(workers[0].target)
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train)
        assert sess.run(gs) == 3 and sess.run(w).tolist() == [0.0]


def test_saver_checkpoints_every_shard_at_one_step_and_restores_them(cluster, tmp_path):
    spec, workers = cluster
    with tf.Graph().as_default():
        m = build(spec, "momentum")
        saver = tf.train.Saver()
        sess = tf.Session(workers[0].target)
        sess.run(tf.global_variables_initializer())
        for a, b in batches(3):
            sess.run(m["train"], {m["x"]: a, m["y"]: b})
        saved = {v.op.name: sess.run(v) for v in tf.global_variables()}
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=m["gs"])
        assert path.endswith("model.ckpt-3")
        for name, value in saved.items():
            np.testing.assert_array_equal(tf.train.load_variable(path, name), value)
        for a, b in batches(2):
            sess.run(m["train"], {m["x"]: a, m["y"]: b})
        saver.restore(sess, path)
        for v in tf.global_variables():
            np.testing.assert_array_equal(sess.run(v), saved[v.op.name])


def _restart_blank(namespace, task):
    """What Ray does to a crashed actor: the same handle now reaches a new, empty ParameterServer."""
    ParameterServer.__init__(backend_mod._REGISTRY[(namespace, task)], task, reconstructed=True)


def test_a_restarted_empty_shard_aborts_the_run_and_the_chief_restores_every_shard(cluster, tmp_path):
    spec, workers = cluster
    with tf.Graph().as_default():
        m = build(spec, "sgd")
        steps = []

        class Watch(tf.train.SessionRunHook):
            def before_run(self, run_context):
                return tf.train.SessionRunArgs(m["gs"])

            def after_run(self, run_context, run_values):
                steps.append(int(run_values.results))
                if run_values.results == 12 and not restarted:
                    restarted.append(True)
                    _restart_blank(workers[0].namespace, "ps/task:1")

        restarted = []
        data = itertools.cycle(batches(4))
        with tf.train.MonitoredTrainingSession(master=workers[0].target, checkpoint_dir=str(tmp_path),
                                               save_checkpoint_steps=5, log_step_count_steps=0,
                                               hooks=[tf.train.StopAtStepHook(last_step=20), Watch()]) as sess:
            while not sess.should_stop():
                a, b = next(data)
                sess.run(m["train"], {m["x"]: a, m["y"]: b})
        # the run after the restart was aborted and retried on a new session restored at step 10 on
        # both shards (the global step on ps 0 went back too): the updates of steps 11-12 were lost
        assert steps[:13] == list(range(13)) and steps[13:] == list(range(10, 20))
        assert tf.train.load_variable(str(tmp_path), "global_step") == 20


def test_a_plain_session_sees_the_aborted_error(cluster):
    spec, workers = cluster
    with tf.Graph().as_default():
        m = build(spec, "sgd")
        sess = tf.Session(workers[0].target)
        sess.run(tf.global_variables_initializer())
        _restart_blank(workers[0].namespace, "ps/task:0")
        a, b = batches(1)[0]
        with pytest.raises(tf.errors.AbortedError, match="ps/task:0 was restarted"):
            sess.run([m["train"], m["loss"]], {m["x"]: a, m["y"]: b})


def test_non_chief_waits_for_the_chief_and_runs_no_chief_only_hooks(cluster):
    spec, workers = cluster
    calls = []

    class Mark(tf.train.SessionRunHook):
        def __init__(self, who):
            self.who = who

        def begin(self):
            calls.append(self.who)

    with tf.Graph().as_default():
        m = build(spec, "sgd", task=1)
        with pytest.raises(tf.errors.DeadlineExceededError):   # nobody has initialized the model yet
            tf.train.MonitoredTrainingSession(master=workers[1].target, is_chief=False, max_wait_secs=0)
    with tf.Graph().as_default():
        m = build(spec, "sgd", task=0)
        with tf.train.MonitoredTrainingSession(master=workers[0].target, chief_only_hooks=[Mark("chief")]) as sess:
            a, b = batches(1)[0]
            sess.run(m["train"], {m["x"]: a, m["y"]: b})
    with tf.Graph().as_default():
        m = build(spec, "sgd", task=1)
        with tf.train.MonitoredTrainingSession(master=workers[1].target, is_chief=False, max_wait_secs=5,
                                               chief_only_hooks=[Mark("not me")], hooks=[Mark("worker")]) as sess:
            assert sess.run(m["gs"]) == 1
    assert calls == ["chief", "worker"]
