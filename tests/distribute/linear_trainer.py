"""A TF1 between-graph trainer written as the TF1 distributed guide writes them (used by
test_ray_cluster.py through the launcher). ``--die_at N``: the first attempt of task
``--die_task`` kills itself (SIGKILL) once the global step reaches N; ``--fail_now``: exit 3."""

import argparse
import os
import sys

p = argparse.ArgumentParser()
p.add_argument("--ps_hosts", default="")
p.add_argument("--worker_hosts", default="")
p.add_argument("--job_name", default="")
p.add_argument("--task_index", type=int, default=0)
p.add_argument("--last_step", type=int, default=100)
p.add_argument("--die_at", type=int, default=-1)
p.add_argument("--die_task", type=int, default=0)
p.add_argument("--fail_now", action="store_true")
FLAGS = p.parse_args()
if FLAGS.fail_now and FLAGS.job_name == "worker":
    sys.exit(3)

import numpy as np  # noqa: E402

import jitgraph as tf  # noqa: E402

cluster = tf.train.ClusterSpec({"ps": FLAGS.ps_hosts.split(","), "worker": FLAGS.worker_hosts.split(",")})
server = tf.train.Server(cluster, job_name=FLAGS.job_name, task_index=FLAGS.task_index)
if FLAGS.job_name == "ps":
    server.join()
    sys.exit(0)

with tf.device(tf.train.replica_device_setter(worker_device=f"/job:worker/task:{FLAGS.task_index}", cluster=cluster)):
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 8])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.get_variable("w", [8, 1])
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    gs = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=gs)
rng = np.random.default_rng(FLAGS.task_index)
teacher = np.linspace(-1, 1, 8, dtype=np.float32).reshape(8, 1)
dying = os.environ.get("JITGRAPH_TASK_ATTEMPT") == "0" and FLAGS.task_index == FLAGS.die_task
with tf.train.MonitoredTrainingSession(master=server.target, is_chief=FLAGS.task_index == 0,
                                       hooks=[tf.train.StopAtStepHook(last_step=FLAGS.last_step)]) as sess:
    print(f"start step {sess.run(gs)}", flush=True)
    last_loss = None
    while not sess.should_stop():
        xs = rng.normal(size=(16, 8)).astype(np.float32)
        _, step, last_loss = sess.run([train, gs, loss], {x: xs, y: xs @ teacher})
        if dying and step >= FLAGS.die_at >= 0:
            print(f"dying at step {step}", flush=True)
            os.kill(os.getpid(), 9)
if last_loss is not None:
    print(f"final loss {last_loss:.5f}", flush=True)
