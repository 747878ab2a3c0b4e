"""Record TF 2.21 (tf.compat.v1) behaviour of ClusterSpec, Server, replica_device_setter placement,
MonitoredTrainingSession and the standard hooks, for tests/train and tests/distribute.

Run with the TensorFlow venv:  TF_USE_LEGACY_KERAS=1 python tests/oracle/record_monitored_session.py
Writes tests/oracle/data/monitored_session.json.
"""

import json
import logging
import os
import re
import tempfile

import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "monitored_session.json")
rec = {}


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, str(e)]
    return None


# ---- ClusterSpec ---------------------------------------------------------------------------
spec = tf.train.ClusterSpec({"worker": {0: "w0:2222", 3: "w3:2222"}, "ps": ["ps0:2222", "ps1:2222"]})
rec["cluster"] = {
    "as_dict": {k: (v if isinstance(v, list) else {str(i): a for i, a in v.items()}) for k, v in spec.as_dict().items()},
    "jobs": spec.jobs, "num_tasks_worker": spec.num_tasks("worker"), "task_indices_worker": spec.task_indices("worker"),
    "job_tasks_worker": spec.job_tasks("worker"), "task_address": spec.task_address("ps", 1), "repr": repr(spec),
    "bool_empty": bool(tf.train.ClusterSpec({})), "eq_dict": spec == {"worker": {0: "w0:2222", 3: "w3:2222"},
                                                                     "ps": {0: "ps0:2222", 1: "ps1:2222"}},
    "copy_jobs": tf.train.ClusterSpec(spec).jobs,
    "err_job": error_of(lambda: spec.num_tasks("chief")),
    "err_task": error_of(lambda: spec.task_address("ps", 5)),
    "err_type": error_of(lambda: tf.train.ClusterSpec(["a"])),
    "err_tasks_type": error_of(lambda: tf.train.ClusterSpec({"ps": "a:1"})),
}
local = tf.train.Server.create_local_server()
rec["local_target_pattern_ok"] = bool(re.fullmatch(r"grpc://localhost:\d+", local.target))
rec["server_errors"] = {
    "no_job": error_of(lambda: tf.train.Server(tf.train.ClusterSpec({"a": ["x:1"], "b": ["y:1"]}), start=False)),
    "no_task": error_of(lambda: tf.train.Server(tf.train.ClusterSpec({"a": ["x:1", "x:2"]}), start=False)),
}

# ---- placement of an Adam MLP's variables (slots, beta powers) with 2 ps tasks --------------
with tf.Graph().as_default():
    with tf.device(tf.train.replica_device_setter(ps_tasks=2, worker_device="/job:worker/task:0")):
        gs = tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [None, 4])
        h = tf.layers.dense(x, 3, activation=tf.nn.relu, name="d1")
        y = tf.layers.dense(h, 2, name="d2")
        loss = tf.reduce_mean(tf.square(y))
        train = tf.train.AdamOptimizer(0.1).minimize(loss, global_step=gs)
    rec["adam_placement"] = {v.op.name: v.device for v in tf.global_variables()}
    rec["adam_train_op_device"] = train.device


# ---- MonitoredTrainingSession: hooks, steps, checkpoints ------------------------------------
class Recorder(tf.train.SessionRunHook):
    def __init__(self, log):
        self.log = log

    def begin(self):
        self.log.append("begin")

    def after_create_session(self, session, coord):
        self.log.append("after_create_session")

    def before_run(self, run_context):
        self.log.append("before_run")
        return tf.train.SessionRunArgs({"gs": tf.train.get_global_step()})

    def after_run(self, run_context, run_values):
        self.log.append(f"after_run:{int(run_values.results['gs'])}")

    def end(self, session):
        self.log.append("end")


def model():
    tf.set_random_seed(3)
    gs = tf.train.get_or_create_global_step()
    w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
    loss = tf.reduce_sum(tf.square(w))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
    return gs, w, loss, train


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


cap = Capture()
tf_logger = logging.getLogger("tensorflow")
tf_logger.addHandler(cap)
tf_logger.setLevel(logging.INFO)

ckpt = tempfile.mkdtemp()
with tf.Graph().as_default() as g:
    gs, w, loss, train = model()
    log = []
    runs = 0
    with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt, save_checkpoint_steps=5, log_step_count_steps=None,
                                           hooks=[tf.train.StopAtStepHook(last_step=12), Recorder(log),
                                                  tf.train.LoggingTensorHook({"loss": loss, "step": gs},
                                                                             every_n_iter=5)]) as sess:
        finalized_inside = g.finalized
        while not sess.should_stop():
            sess.run(train)
            runs += 1
        after_stop = error_of(lambda: sess.run(train))
    rec["mts"] = {"runs": runs, "log": log, "finalized_inside": finalized_inside, "finalized_after": g.finalized,
                  "run_after_stop": after_stop,
                  "checkpoints": sorted(int(f.split("-")[1].split(".")[0]) for f in os.listdir(ckpt)
                                        if f.startswith("model.ckpt-") and f.endswith(".index")),
                  "latest": os.path.basename(tf.train.latest_checkpoint(ckpt)),
                  "logging_lines": [ln for ln in cap.lines if ln.startswith("loss")]}
with tf.Graph().as_default():
    gs, w, loss, train = model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt, save_checkpoint_steps=None, save_checkpoint_secs=None,
                                           hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
        start = sess.run(gs)
        n = 0
        while not sess.should_stop():
            sess.run(train)
            n += 1
    rec["mts_restore"] = {"start_step": int(start), "runs": n,
                          "end_step": int(tf.train.load_variable(ckpt, "global_step")),
                          "w": tf.train.load_variable(ckpt, "w").tolist()}

# ---- hook argument errors and NaN ------------------------------------------------------------
rec["hook_errors"] = {
    "stop_none": error_of(lambda: tf.train.StopAtStepHook()),
    "stop_both": error_of(lambda: tf.train.StopAtStepHook(num_steps=1, last_step=2)),
    "ckpt_both": error_of(lambda: tf.train.CheckpointSaverHook("/tmp/x", save_secs=1, save_steps=1)),
    "ckpt_none": error_of(lambda: tf.train.CheckpointSaverHook("/tmp/x")),
    "logging_none": error_of(lambda: tf.train.LoggingTensorHook(["a"])),
    "logging_bad_iter": error_of(lambda: tf.train.LoggingTensorHook(["a"], every_n_iter=0)),
    "counter_both": error_of(lambda: tf.train.StepCounterHook(every_n_steps=1, every_n_secs=1)),
}
with tf.Graph().as_default():
    gs = tf.train.get_or_create_global_step()
    nan = tf.constant(float("nan"))
    inc = tf.assign_add(gs, 1)
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.NanTensorHook(nan)]) as sess:
        rec["nan_fail"] = error_of(lambda: sess.run(inc))
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.NanTensorHook(nan, fail_on_nan_loss=False)]) as sess:
        sess.run(inc)
        rec["nan_stop"] = sess.should_stop()
with tf.Graph().as_default():
    tf.train.get_or_create_global_step()
    rec["stop_hook_no_gs"] = None
with tf.Graph().as_default():
    tf.Variable(1.0)
    rec["stop_hook_no_gs"] = error_of(lambda: tf.train.MonitoredTrainingSession(
        hooks=[tf.train.StopAtStepHook(last_step=1)]))

# ---- feed conflicts, run_step_fn, SingularMonitoredSession -----------------------------------
with tf.Graph().as_default():
    p = tf.placeholder(tf.float32, [])
    out = p * 2


    class Feeder(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs(None, feed_dict={p: 1.0})

    with tf.train.MonitoredSession(hooks=[Feeder()]) as sess:
        rec["hook_feed"] = float(sess.run(out))
        rec["feed_conflict"] = error_of(lambda: sess.run(out, feed_dict={p: 3.0}))
    with tf.train.MonitoredSession(hooks=[Feeder(), Feeder()]) as sess:
        rec["feed_conflict_hooks"] = error_of(lambda: sess.run(out))
    with tf.train.SingularMonitoredSession() as sess:
        rec["singular_raw"] = float(sess.raw_session().run(out, {p: 2.0}))

        def step_fn(step_context):
            v = step_context.run_with_hooks(out, feed_dict={p: 4.0})
            step_context.request_stop()
            return v
        rec["step_fn_result"] = error_of(lambda: sess.run_step_fn(step_fn))
        rec["step_fn_should_stop"] = sess.should_stop()

with open(OUT, "w") as f:
    json.dump(rec, f, indent=1, sort_keys=True)
print(json.dumps(rec, indent=1, sort_keys=True)[:3000])
