"""MonitoredTrainingSession / MonitoredSession / SingularMonitoredSession on one machine (master='',
no Ray), against TF 2.21's recorded behaviour (tests/oracle/record_monitored_session.py)."""

import json
import os
import re

import numpy as np
import pytest

import jitgraph as tf

from monitored_model import fresh_graph, model  # noqa: E402,F401  (fresh_graph: autouse fixture)

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "monitored_session.json")))


def test_training_steps_checkpoints_and_finalization_match_tf(tmp_path, fresh_graph):
    gs, w, loss, train = model()
    want = ORACLE["mts"]
    runs = 0
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_steps=5,
                                           log_step_count_steps=None,
                                           hooks=[tf.train.StopAtStepHook(last_step=12)]) as sess:
        assert fresh_graph.finalized is want["finalized_inside"]
        while not sess.should_stop():
            sess.run(train)
            runs += 1
        with pytest.raises(RuntimeError, match=re.escape(want["run_after_stop"][1])):
            sess.run(train)
    assert runs == want["runs"]
    assert fresh_graph.finalized is want["finalized_after"]
    steps = sorted(int(m.group(1)) for f in os.listdir(tmp_path) if (m := re.fullmatch(r"model\.ckpt-(\d+)\.meta", f)))
    assert steps == want["checkpoints"]
    assert os.path.basename(tf.train.latest_checkpoint(str(tmp_path))) == want["latest"]


def test_chief_restores_the_latest_checkpoint_and_num_steps_counts_from_there(tmp_path):
    gs, w, loss, train = model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_steps=5,
                                           hooks=[tf.train.StopAtStepHook(last_step=12)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    want = ORACLE["mts_restore"]
    with tf.Graph().as_default():
        gs, w, loss, train = model()
        with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_secs=None,
                                               hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
            start, n = sess.run(gs), 0
            np.testing.assert_allclose(sess.run(w), want["w"], rtol=1e-6)   # TF's values at step 12
            while not sess.should_stop():
                sess.run(train)
                n += 1
            assert (int(start), n) == (want["start_step"], want["runs"])


def test_hook_feeds_and_conflicts():
    p = tf.placeholder(tf.float32, [])
    out = p * 2

    class Feeder(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs(None, feed_dict={p: 1.0})

    with tf.train.MonitoredSession(hooks=[Feeder()]) as sess:
        assert sess.run(out) == ORACLE["hook_feed"]
        with pytest.raises(RuntimeError, match=re.escape(ORACLE["feed_conflict"][1].split("[")[0])):
            sess.run(out, feed_dict={p: 3.0})
    with tf.train.MonitoredSession(hooks=[Feeder(), Feeder()]) as sess:
        with pytest.raises(RuntimeError, match=re.escape(ORACLE["feed_conflict_hooks"][1].split("[")[0])):
            sess.run(out)


def test_singular_session_raw_session_and_step_fn():
    p = tf.placeholder(tf.float32, [])
    out = p * 2
    with tf.train.SingularMonitoredSession() as sess:
        assert sess.raw_session().run(out, {p: 2.0}) == ORACLE["singular_raw"]

        def step_fn(step_context):
            assert step_context.run_with_hooks(out, feed_dict={p: 4.0}) == 8.0
            step_context.request_stop()

        with pytest.raises(StopIteration, match=ORACLE["step_fn_result"][1]):
            sess.run_step_fn(step_fn)
        assert sess.should_stop() is ORACLE["step_fn_should_stop"]
        with pytest.raises(ValueError, match="`step_fn` may either have one `step_context` argument"):
            sess.run_step_fn(lambda ctx: None)
    with tf.train.MonitoredSession() as sess:   # StopIteration leaving the block is a normal end
        sess.run_step_fn(step_fn)


def test_out_of_range_ends_the_block_quietly_and_skips_nothing():
    gs, w, loss, train = model()
    ended = []

    class End(tf.train.SessionRunHook):
        def end(self, session):
            ended.append(session.run(gs))

    with tf.train.MonitoredTrainingSession(hooks=[End()]) as sess:
        sess.run(train)
        raise tf.errors.OutOfRangeError(None, None, "input exhausted")
    assert ended == [1]
    with pytest.raises(ValueError):
        with tf.train.MonitoredTrainingSession(hooks=[End()]) as sess:
            raise ValueError("boom")
    assert ended == [1]   # no end() after an error


def test_aborted_run_recreates_the_session_and_retries():
    gs, w, loss, train = model()
    created = []

    class Flaky(tf.train.SessionRunHook):
        calls = 0

        def after_create_session(self, session, coord):
            created.append(session)

        def before_run(self, run_context):
            Flaky.calls += 1
            if Flaky.calls == 3:
                raise tf.errors.AbortedError(None, None, "parameter server restarted")

    with tf.train.MonitoredTrainingSession(hooks=[Flaky()]) as sess:
        for _ in range(4):
            sess.run(train)
        # the recreated local session starts over (nothing to restore without a checkpoint)
        assert len(created) == 2 and sess.run(gs) == 2
    with tf.train.SingularMonitoredSession(hooks=[Flaky()]) as sess:   # no recovery there
        Flaky.calls = 2
        with pytest.raises(tf.errors.AbortedError):
            sess.run(train)


def test_worker_waits_for_the_chief_and_gives_up_after_max_wait():
    model()
    with pytest.raises(tf.errors.DeadlineExceededError, match="Session was not ready after waiting 0 secs"):
        tf.train.MonitoredTrainingSession(is_chief=False, max_wait_secs=0)


def test_scaffold_builds_and_reuses_its_pieces(tmp_path):
    gs, w, loss, train = model()
    five = w.assign([5.0, 5.0])
    scaffold = tf.train.Scaffold(init_fn=lambda scaffold, sess: sess.run(five))
    with tf.train.MonitoredTrainingSession(scaffold=scaffold, checkpoint_dir=str(tmp_path)) as sess:
        assert sess.run(w).tolist() == [5.0, 5.0]
    g = tf.get_default_graph()
    for key in (tf.GraphKeys.INIT_OP, tf.GraphKeys.READY_OP, tf.GraphKeys.LOCAL_INIT_OP, tf.GraphKeys.SAVERS):
        assert len(g.get_collection(key)) == 1
    copy = tf.train.Scaffold(copy_from_scaffold=scaffold)
    assert copy.init_op is scaffold.init_op and copy.saver is scaffold.saver
    with pytest.raises(TypeError, match="copy_from_scaffold is not a Scaffold instance"):
        tf.train.Scaffold(copy_from_scaffold=1)
