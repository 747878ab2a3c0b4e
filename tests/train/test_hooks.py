"""The SessionRunHook protocol and the standard hooks, in a local MonitoredSession; error texts and
logged lines against TF 2.21's recorded values (tests/oracle/record_monitored_session.py)."""

import json
import logging
import os
import re

import numpy as np
import pytest

import jitgraph as tf

from monitored_model import fresh_graph, model  # noqa: E402,F401  (fresh_graph: autouse fixture)

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "monitored_session.json")))


@pytest.mark.parametrize("case, make", [
    ("stop_none", lambda: tf.train.StopAtStepHook()),
    ("stop_both", lambda: tf.train.StopAtStepHook(num_steps=1, last_step=2)),
    ("ckpt_both", lambda: tf.train.CheckpointSaverHook("/tmp/x", save_secs=1, save_steps=1)),
    ("ckpt_none", lambda: tf.train.CheckpointSaverHook("/tmp/x")),
    ("logging_none", lambda: tf.train.LoggingTensorHook(["a"])),
    ("logging_bad_iter", lambda: tf.train.LoggingTensorHook(["a"], every_n_iter=0)),
    ("counter_both", lambda: tf.train.StepCounterHook(every_n_steps=1, every_n_secs=1)),
])
def test_hook_argument_errors_match_tf(case, make):
    kind, message = ORACLE["hook_errors"][case]
    assert kind == "ValueError"
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_step_hooks_need_a_global_step():
    tf.Variable(1.0)
    kind, message = ORACLE["stop_hook_no_gs"]
    with pytest.raises(RuntimeError, match=re.escape(message)):
        tf.train.MonitoredTrainingSession(hooks=[tf.train.StopAtStepHook(last_step=1)])


def test_user_hook_sees_every_call_in_order_with_its_fetches():
    gs, _, _, train = model()
    log = []

    class Recorder(tf.train.SessionRunHook):
        def begin(self):
            log.append("begin")

        def after_create_session(self, session, coord):
            log.append("after_create_session")

        def before_run(self, run_context):
            assert run_context.original_args.fetches is train
            log.append("before_run")
            return tf.train.SessionRunArgs({"gs": gs})

        def after_run(self, run_context, run_values):
            assert isinstance(run_values, tf.train.SessionRunValues)
            log.append(f"after_run:{int(run_values.results['gs'])}")

        def end(self, session):
            log.append("end")

    with tf.train.MonitoredTrainingSession(hooks=[tf.train.StopAtStepHook(last_step=12), Recorder()]) as sess:
        while not sess.should_stop():
            sess.run(train)
    want = ORACLE["mts"]["log"]
    shape = [re.sub(r":\d+", "", e) for e in want]
    assert [re.sub(r":\d+", "", e) for e in log] == shape       # same calls, same order, same count as TF
    # a fetched variable shows the value after the run's update, as TF does
    assert [int(e.split(":")[1]) for e in log if ":" in e] == [int(e.split(":")[1]) for e in want if ":" in e]


def test_logging_tensor_hook_logs_tf_lines(caplog):
    gs, _, loss, train = model()
    hook = tf.train.LoggingTensorHook({"loss": loss}, every_n_iter=5)
    with caplog.at_level(logging.INFO, logger="jitgraph"):
        with tf.train.MonitoredTrainingSession(hooks=[tf.train.StopAtStepHook(last_step=12), hook]) as sess:
            while not sess.should_stop():
                sess.run(train)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loss")]
    strip = lambda s: re.sub(r", step = \d+| \(\d+\.\d+ sec\)", "", s)   # noqa: E731
    assert [strip(s) for s in lines] == [strip(s) for s in ORACLE["mts"]["logging_lines"]]
    assert re.fullmatch(r"loss = \S+ \(\d+\.\d{3} sec\)", lines[1])


def test_logging_tensor_hook_at_end_and_names():
    gs, _, loss, train = model()
    seen = []
    hook = tf.train.LoggingTensorHook([loss.name], at_end=True, formatter=lambda v: seen.append(dict(v)) or "x")
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.StopAtStepHook(last_step=3), hook]) as sess:
        while not sess.should_stop():
            sess.run(train)
    assert len(seen) == 1 and np.isclose(seen[0][loss.name], 2 * 0.8 ** 6)
    with pytest.raises(ValueError, match="should have graph attribute"):
        with tf.Graph().as_default():
            other = tf.constant(1.0)
        tf.train.LoggingTensorHook([other], every_n_iter=1).begin()


def test_nan_tensor_hook_fails_or_stops():
    gs = tf.train.get_or_create_global_step()
    nan = tf.constant(float("nan"))
    inc = tf.assign_add(gs, 1)
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.NanTensorHook(nan)]) as sess:
        with pytest.raises(tf.train.NanLossDuringTrainingError) as e:
            sess.run(inc)
    assert [type(e.value).__name__, str(e.value)] == ORACLE["nan_fail"]
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.NanTensorHook(nan, fail_on_nan_loss=False)]) as sess:
        sess.run(inc)
        assert sess.should_stop() is ORACLE["nan_stop"]


def test_step_counter_feed_fn_final_ops_and_waiter_hooks():
    gs, w, loss, train = model()
    x = tf.placeholder(tf.float32, [])
    counter = tf.train.StepCounterHook(every_n_steps=2)
    final = tf.train.FinalOpsHook(w)
    hooks = [tf.train.StopAtStepHook(last_step=6), counter, final, tf.train.FeedFnHook(lambda: {x: 3.0}),
             tf.train.GlobalStepWaiterHook(0)]
    fed = []
    with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
        while not sess.should_stop():
            fed.append(sess.run([train, x])[1])
    assert fed == [3.0] * 6
    steps = [s for s, _ in counter.rates]   # a rate every 2 steps at least (after the first trigger)
    assert len(steps) >= 2 and all(b - a >= 2 for a, b in zip(steps, steps[1:])) and steps[-1] <= 6
    assert all(r > 0 for _, r in counter.rates)
    np.testing.assert_allclose(final.final_ops_values, 0.8 ** 6 * np.ones(2), rtol=1e-6)


def test_second_or_step_timer():
    t = tf.train.SecondOrStepTimer(every_steps=3)
    assert t.should_trigger_for_step(0)
    assert t.update_last_triggered_step(0) == (None, None)
    assert not t.should_trigger_for_step(0) and not t.should_trigger_for_step(2) and t.should_trigger_for_step(3)
    secs, steps = t.update_last_triggered_step(4)
    assert steps == 4 and secs >= 0 and t.last_triggered_step() == 4
    with pytest.raises(ValueError, match="Either every_secs or every_steps should be provided."):
        tf.train.SecondOrStepTimer()
