"""``tf.train.QueueRunner`` / ``start_queue_runners`` / ``Coordinator`` and the producers and
batchers built on them: several threads, epochs, shuffling (as a multiset: the order is not TF's),
stopping cleanly (no thread left running), errors reported through the coordinator."""

import os
import sys
import threading
import time

import numpy as np
import pytest

import jitgraph as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from queue_cases import deadline  # noqa: E402

GRACE = 10


@pytest.fixture(autouse=True)
def _bounded():
    with deadline(90):
        yield


def _drain(sess, fetch, limit=1000):
    out = []
    for _ in range(limit):
        try:
            out.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            return out
    raise AssertionError("the pipeline never ended")


def _runner_threads():
    return [t for t in threading.enumerate() if t.name.startswith("QueueRunnerThread") and t.is_alive()]


def _pipeline(sess, fetch):
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    try:
        return _drain(sess, fetch)
    finally:
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=GRACE)
        assert not any(t.is_alive() for t in threads)


def test_four_threads_deliver_every_example_once_per_epoch(g, eager):
    """num_threads=4 enqueue concurrently (compiled plans with a fused preprocessing kernel):
    nothing lost or repeated, and the last, smaller batch comes out."""
    data = np.arange(50, dtype=np.float32)
    (x,) = tf.train.slice_input_producer([data], num_epochs=3, shuffle=False)
    xb = tf.train.batch([x * 2.0 + 1.0], batch_size=8, num_threads=4, capacity=10, allow_smaller_final_batch=True)
    with tf.Session() as sess:
        batches = _pipeline(sess, xb)
    values = np.concatenate(batches)
    assert sorted(values.tolist()) == sorted((np.repeat(data, 3) * 2 + 1).tolist())
    assert [len(b) for b in batches[:-1]] == [8] * (len(batches) - 1) and len(batches[-1]) == 150 % 8


def test_shuffle_batch_each_epoch_is_a_permutation(g):
    """Seeded shuffling: values differ from TF's stream, but every epoch holds each example once."""
    data = np.arange(40, dtype=np.int32)
    (x,) = tf.train.slice_input_producer([data], num_epochs=1, shuffle=True, seed=1)
    xb = tf.train.shuffle_batch([x], batch_size=10, capacity=30, min_after_dequeue=10, seed=2)
    with tf.Session() as sess:
        got = np.concatenate(_pipeline(sess, xb)).tolist()
    assert sorted(got) == data.tolist() and got != data.tolist()


def test_batch_join_and_shuffle_batch_join_mix_every_list(g):
    a = tf.train.slice_input_producer([np.arange(6, dtype=np.int32)], num_epochs=1, shuffle=False)
    b = tf.train.slice_input_producer([np.arange(100, 104, dtype=np.int32)], num_epochs=1, shuffle=False)
    joined = tf.train.batch_join([a, b], batch_size=5, allow_smaller_final_batch=True)
    c = tf.train.slice_input_producer([np.arange(8, dtype=np.int32)], num_epochs=1, shuffle=False)
    d = tf.train.slice_input_producer([np.arange(50, 58, dtype=np.int32)], num_epochs=1, shuffle=False)
    shuffled = tf.train.shuffle_batch_join([c, d], batch_size=4, capacity=10, min_after_dequeue=2, seed=3)
    with tf.Session() as sess:
        got = _pipeline(sess, joined)
    assert sorted(np.concatenate(got).tolist()) == list(range(6)) + list(range(100, 104))
    with tf.Session() as sess:
        got = _pipeline(sess, shuffled)
    assert sorted(np.concatenate(got).tolist()) == list(range(8)) + list(range(50, 58))


def test_dynamic_pad_and_dict_inputs(g):
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    n = q.dequeue()
    seq = tf.range(n)
    out = tf.train.batch({"seq": seq, "n": n}, batch_size=3, dynamic_pad=True)
    assert out["seq"].shape.as_list() == [3, None]
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 3, 2]]))
        sess.run(q.close())     # the batch's runner ends at the end of q (else it waits on q, as in TF)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = sess.run(out)
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=GRACE)
    np.testing.assert_array_equal(got["seq"], [[0, 0, 0], [0, 1, 2], [0, 1, 0]])
    np.testing.assert_array_equal(got["n"], [1, 3, 2])


def test_stop_cancels_runners_blocked_on_a_full_queue(g):
    """An endless producer: after request_stop, the close-on-stop thread cancels the blocked
    enqueues, so join returns well within the grace period."""
    (x,) = tf.train.slice_input_producer([np.arange(10)], shuffle=False, capacity=4)
    xb = tf.train.batch([x], batch_size=2, capacity=4)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert len(threads) == 4 and all(t.daemon for t in threads)
        np.testing.assert_array_equal(sess.run(xb), [0, 1])
        time.sleep(0.2)     # the runners fill both queues and block
        t0 = time.monotonic()
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=GRACE)
        assert time.monotonic() - t0 < 5 and not any(t.is_alive() for t in threads)


def test_runner_errors_reach_the_coordinator(g):
    fed = tf.placeholder(tf.int32, [])
    q = tf.FIFOQueue(4, tf.int32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(fed)]))
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        assert coord.wait_for_stop(GRACE)
        with pytest.raises(tf.errors.InvalidArgumentError):
            coord.join(threads, stop_grace_period_secs=GRACE)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")   # re-raised in the thread, as TF
def test_runner_without_coordinator_records_its_error(g):
    q = tf.FIFOQueue(4, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue(tf.placeholder(tf.int32, []))])
    with tf.Session() as sess:
        threads = qr.create_threads(sess, start=True, daemon=True)
        for t in threads:
            t.join(GRACE)
    assert len(qr.exceptions_raised) == 1
    assert isinstance(qr.exceptions_raised[0], tf.errors.InvalidArgumentError)


def test_create_threads_once_per_session(g):
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    qr = tf.train.QueueRunner(q, [q.enqueue(1)])
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        assert len(threads) == 2 and qr.create_threads(sess, coord=coord) == []
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=GRACE)


def test_start_queue_runners_needs_a_session(g):
    with pytest.raises(ValueError, match="No default session"):
        tf.train.start_queue_runners()
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue(1)]))
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(coord=coord)     # the default session
        assert sess.run(q.dequeue()) == 1
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=GRACE)
    assert g.get_collection(tf.GraphKeys.QUEUE_RUNNERS)[0].queue is q


def test_monitored_training_session_runs_and_joins_the_runners(g):
    """An endless pipeline: the session stops at step 5 (hook) and its close cancels and joins
    the queue runner threads."""
    gs = tf.train.get_or_create_global_step()
    (x,) = tf.train.slice_input_producer([np.arange(10, dtype=np.float32)], shuffle=False)
    xb = tf.train.batch([x], batch_size=3)
    step = tf.assign_add(gs, 1)
    seen = []
    with tf.train.MonitoredTrainingSession(hooks=[tf.train.StopAtStepHook(last_step=5)],
                                           stop_grace_period_secs=GRACE) as sess:
        while not sess.should_stop():
            seen.append(sess.run([xb, step])[0].tolist())
    assert seen[:2] == [[0, 1, 2], [3, 4, 5]] and len(seen) == 5
    deadline_at = time.monotonic() + GRACE
    while _runner_threads() and time.monotonic() < deadline_at:
        time.sleep(0.05)
    assert not _runner_threads()


def test_concurrent_runs_of_one_session(g, eager):
    """Session.run from several threads at once (as queue runners do) gives each its own result."""
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * 2.0)
    errors = []
    with tf.Session() as sess:
        def work(k):
            try:
                for _ in range(50):
                    v = np.full(100, float(k), np.float32)
                    assert sess.run(y, {x: v}) == 200.0 * k
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(GRACE * 3)
    assert not errors and not any(t.is_alive() for t in threads)


# ---- Coordinator ---------------------------------------------------------------------------------
def test_coordinator_clean_stop_and_first_error():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end"))
    coord.join([], stop_grace_period_secs=1)       # a clean stop: nothing raised
    coord = tf.train.Coordinator()
    with coord.stop_on_exception():
        raise ValueError("first")
    coord.request_stop(KeyError("later, ignored"))
    with pytest.raises(ValueError, match="first"):
        coord.join([])


def test_coordinator_join_reports_stragglers():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(GRACE,), name="straggler", daemon=True)
    t.start()
    coord.register_thread(t)
    coord.request_stop()
    with pytest.raises(RuntimeError, match="threads still running: straggler"):
        coord.join(stop_grace_period_secs=0.1)
    release.set()
    t.join(GRACE)


def test_looper_thread_runs_until_stop():
    coord = tf.train.Coordinator()
    calls = []
    tf.train.LooperThread.loop(coord, 0.01, calls.append, args=(1,))
    time.sleep(0.2)
    coord.request_stop()
    coord.join(stop_grace_period_secs=GRACE)
    assert len(calls) >= 2
