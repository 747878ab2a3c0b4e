"""The distributed runtime on a real local Ray cluster (loopback only, one cluster for the module):
placement on named actors, chief initialization, async training with two workers, a parameter
server killed mid-training, the launcher restarting a killed worker. Every wait has a deadline."""

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")
import jitgraph as tf  # noqa: E402

pytestmark = pytest.mark.distributed
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_ids = itertools.count()


@pytest.fixture(scope="module")
def ray_address():
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=100 * 2 ** 20,
             _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def cluster(ray_address):
    """Two ps actors (owned by this process) and two worker servers in a fresh namespace."""
    n = next(_ids)
    spec = tf.train.ClusterSpec({"ps": [f"r{n}p0:1", f"r{n}p1:1"], "worker": [f"r{n}w0:1", f"r{n}w1:1"]})
    ps = [tf.train.Server(spec, "ps", i) for i in range(2)]
    workers = [tf.train.Server(spec, "worker", i) for i in range(2)]
    yield spec, ps, workers
    for s in ps:
        s.stop()


def build(spec, task):
    tf.set_random_seed(11)
    with tf.device(tf.train.replica_device_setter(cluster=spec, worker_device=f"/job:worker/task:{task}")):
        gs = tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [None, 6])
        y = tf.placeholder(tf.float32, [None, 1])
        w = tf.get_variable("w", [6, 1])
        counter = tf.get_variable("updates", [], tf.int64, initializer=tf.zeros_initializer(), trainable=False)
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
        train = tf.group(tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=gs),
                         counter.assign_add(1))
    return gs, x, y, w, counter, loss, train


def data(seed):
    rng = np.random.default_rng(seed)
    teacher = np.linspace(-1, 1, 6, dtype=np.float32).reshape(6, 1)
    while True:
        xs = rng.normal(size=(16, 6)).astype(np.float32)
        yield xs, xs @ teacher


def info(server):
    actor = ray.get_actor(f"ps/task:{server.task_index}", namespace=server.namespace)
    return ray.get(actor.info.remote(), timeout=30)


def test_ps_tasks_are_actors_owning_their_variables_and_the_chief_initializes_like_a_local_run(cluster):
    spec, ps, workers = cluster
    values = []
    for target in ("", workers[0].target):
        with tf.Graph().as_default():
            build(spec, 0)
            with tf.Session(target) as sess:
                sess.run(tf.global_variables_initializer())
                values.append(sess.run(tf.global_variables()))
    for local, remote in zip(*values):
        np.testing.assert_array_equal(local, remote)
    i0, i1 = info(ps[0]), info(ps[1])
    assert i0["variables"] == ["global_step", "updates"] and i1["variables"] == ["w"]
    assert os.getpid() not in (i0["pid"], i1["pid"]) and not i0["reconstructed"]


def _train(spec, server, task, runs, out, errors):
    try:
        with tf.Graph().as_default():
            gs, x, y, w, counter, loss, train = build(spec, task)
            losses = []
            with tf.train.MonitoredTrainingSession(master=server.target, is_chief=task == 0, max_wait_secs=60) as sess:
                for (xs, ys), _ in zip(data(task), range(runs)):
                    losses.append(sess.run([train, loss], {x: xs, y: ys})[1])
                out[task] = losses
    except BaseException as e:   # noqa: BLE001 - reported by the test thread
        errors.append(e)


def test_two_async_workers_reduce_the_loss_and_every_update_counts_once(cluster):
    spec, ps, workers = cluster
    out, errors, runs = {}, [], 40
    threads = [threading.Thread(target=_train, args=(spec, workers[t], t, runs, out, errors)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "training did not finish within 120 s"
    assert not errors, errors
    for losses in out.values():
        assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    with tf.Graph().as_default():
        gs, x, y, w, counter, loss, train = build(spec, 1)
        sess = tf.Session(workers[1].target)
        assert sess.run([gs, counter]) == [2 * runs, 2 * runs]


def test_a_killed_ps_restarts_and_training_resumes_from_the_checkpoint(cluster, tmp_path):
    spec, ps, workers = cluster
    killed, steps = {}, []
    with tf.Graph().as_default():
        gs, x, y, w, counter, loss, train = build(spec, 0)

        class KillPs1(tf.train.SessionRunHook):
            def before_run(self, run_context):
                return tf.train.SessionRunArgs(gs)

            def after_run(self, run_context, run_values):
                steps.append(int(run_values.results))
                if run_values.results == 25 and not killed:
                    killed.update(info(ps[1]))
                    os.kill(killed["pid"], signal.SIGKILL)

        deadline = time.monotonic() + 120
        with tf.train.MonitoredTrainingSession(master=workers[0].target, checkpoint_dir=str(tmp_path),
                                               save_checkpoint_steps=10, log_step_count_steps=0,
                                               hooks=[tf.train.StopAtStepHook(last_step=40), KillPs1()]) as sess:
            for xs, ys in data(0):
                if sess.should_stop():
                    break
                assert time.monotonic() < deadline, "training did not finish within 120 s"
                sess.run(train, {x: xs, y: ys})
    after = info(ps[1])
    assert after["pid"] != killed["pid"] and after["reconstructed"] and not after["blank"]
    i = steps.index(25)                       # the next run was aborted; the chief restored step 20
    assert steps[i + 1] == 20 and steps[-1] == 39
    assert tf.train.load_variable(str(tmp_path), "global_step") == 40


def _launch(ray_address, *args, timeout=150):
    env = dict(os.environ, RAY_ADDRESS=ray_address, JITGRAPH_COMPILE="never")
    cmd = [sys.executable, "-m", "jitgraph.distribute", "--progress-secs", "1", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_launcher_restarts_a_killed_chief_which_rejoins_without_rollback(ray_address):
    trainer = os.path.join(ROOT, "tests", "distribute", "linear_trainer.py")
    r = _launch(ray_address, "--ps", "1", "--workers", "2", "--max-restarts", "1", trainer,
                "--last_step", "80", "--die_at", "30", "--die_task", "0")
    out = r.stdout
    assert r.returncode == 0, out[-3000:]
    assert re.search(r"\[worker 0\] dying at step (\d+)", out)
    died = int(re.search(r"\[worker 0\] dying at step (\d+)", out).group(1))
    assert "[launcher] worker 0 killed by signal 9: restarting it (attempt 1 of 1)" in out
    starts = [int(s) for s in re.findall(r"\[worker 0\] start step (\d+)", out)]
    assert starts[0] == 0 and starts[1] >= died      # the restarted chief attached: nothing rolled back
    # (a progress line while it runs, or only its final one when it finishes within a second)
    assert re.search(r"\[launcher\] worker 1: (finished in \S+ s, )?(running|done), \d+ runs", out)
    assert "[launcher] all 2 workers finished" in out
    assert all(float(v) < 0.05 for v in re.findall(r"final loss (\S+)", out))


def test_launcher_fails_when_a_worker_fails_without_restarts(ray_address):
    trainer = os.path.join(ROOT, "tests", "distribute", "linear_trainer.py")
    r = _launch(ray_address, "--ps", "1", "--workers", "1", trainer, "--fail_now", timeout=90)
    assert r.returncode == 1
    assert "[launcher] worker 0 exited with status 3; no restarts left: stopping every task" in r.stdout
