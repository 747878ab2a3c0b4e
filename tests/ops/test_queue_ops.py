"""Queue ops (``tf.FIFOQueue``, ``tf.RandomShuffleQueue``, ``tf.PaddingFIFOQueue``): contents per
session, blocking with capacity from several threads, close / cancel, errors, and the compiler
leaving them alone. No test can hang: each runs under ``deadline`` and joins threads with timeouts."""

import os
import sys
import threading
import time

import numpy as np
import pytest

import jitgraph as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from queue_cases import deadline  # noqa: E402

JOIN_S = 10


@pytest.fixture(autouse=True)
def _bounded():
    with deadline(60):
        yield


def _thread(fn):
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def test_fifo_order_size_and_static_shapes(g, mode):
    q = tf.queue.FIFOQueue(10, [tf.int32, tf.string], shapes=[[], []])
    enq = q.enqueue_many([[1, 2, 3, 4], ["a", "b", "c", "d"]])
    n, s = q.dequeue()
    many = q.dequeue_many(2)
    assert many[0].shape.as_list() == [2] and q.dequeue_up_to(2)[0].shape.as_list() == [None]
    with tf.Session() as sess:
        sess.run(enq)
        assert sess.run(q.size()) == 4
        assert sess.run([n, s]) == [1, b"a"]
        got = sess.run(many)
        np.testing.assert_array_equal(got[0], [2, 3])
        assert list(got[1]) == [b"b", b"c"]
        assert sess.run(q.size()) == 1


def test_blocking_dequeue_waits_for_an_enqueue_from_another_thread(g, mode):
    """The main thread's run blocks in the dequeue without holding the session: another thread's
    run (the enqueue) gets in and wakes it."""
    q = tf.FIFOQueue(2, tf.float32, shapes=[[]])
    x = tf.placeholder(tf.float32, [])
    enq = q.enqueue(x)
    out = q.dequeue() * 2.0 + 1.0     # a fused kernel after the dequeue
    with tf.Session() as sess:
        t = _thread(lambda: (time.sleep(0.3), sess.run(enq, {x: 5.0})))
        t0 = time.monotonic()
        assert sess.run(out) == 11.0
        assert time.monotonic() - t0 >= 0.25
        t.join(JOIN_S)
        assert not t.is_alive()


def test_enqueue_blocks_at_capacity_until_a_dequeue(g):
    q = tf.FIFOQueue(2, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enq, deq = q.enqueue(x), q.dequeue()
    done = []
    with tf.Session() as sess:
        sess.run(enq, {x: 1})
        sess.run(enq, {x: 2})
        t = _thread(lambda: (sess.run(enq, {x: 3}), done.append(True)))
        time.sleep(0.3)
        assert not done and sess.run(q.size()) == 2     # full: the third enqueue waits
        assert sess.run(deq) == 1
        t.join(JOIN_S)
        assert done and [sess.run(deq), sess.run(deq)] == [2, 3]


def test_close_lets_readers_drain_then_out_of_range(g):
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]], name="q")
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3]]))
        sess.run(q.close())
        assert sess.run(q.is_closed())
        np.testing.assert_array_equal(sess.run(q.dequeue_up_to(5)), [1, 2, 3])
        with pytest.raises(tf.errors.OutOfRangeError,
                           match=r"FIFOQueue 'q' is closed and has insufficient elements \(requested 1, current "
                                 r"size 0\)"):
            sess.run(q.dequeue())
        with pytest.raises(tf.errors.CancelledError, match="FIFOQueue 'q' is closed."):
            sess.run(q.enqueue(4))


def test_dequeue_many_on_closed_queue_keeps_its_elements(g):
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        sess.run(q.close())
        with pytest.raises(tf.errors.OutOfRangeError, match=r"requested 3, current size 2"):
            sess.run(q.dequeue_many(3))
        assert sess.run(q.size()) == 2


def test_close_cancel_pending_enqueues(g):
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    enq = q.enqueue(1)
    errs = []
    with tf.Session() as sess:
        sess.run(enq)

        def blocked():
            try:
                sess.run(enq)
            except tf.errors.CancelledError as e:
                errs.append(str(e))
        t = _thread(blocked)
        time.sleep(0.2)
        sess.run(q.close(cancel_pending_enqueues=True))
        t.join(JOIN_S)
        assert errs and "Enqueue operation was cancelled" in errs[0]
        assert sess.run(q.dequeue()) == 1     # what was in the queue stays


def test_closing_the_session_cancels_a_blocked_run(g):
    q = tf.FIFOQueue(1, tf.int32, shapes=[[]])
    deq = q.dequeue()
    errs = []
    sess = tf.Session()

    def blocked():
        try:
            sess.run(deq)
        except tf.errors.CancelledError as e:
            errs.append(e)
    t = _thread(blocked)
    time.sleep(0.2)
    sess.close()
    t.join(JOIN_S)
    assert not t.is_alive() and len(errs) == 1


def test_each_session_has_its_own_queue(g):
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    enq = q.enqueue_many([[7, 8]])
    with tf.Session() as a, tf.Session() as b:
        a.run(enq)
        assert a.run(q.size()) == 2 and b.run(q.size()) == 0


def test_random_shuffle_queue_keeps_min_after_dequeue_until_closed(g, mode):
    q = tf.RandomShuffleQueue(20, 3, tf.int32, shapes=[[]], seed=7)
    x = tf.placeholder(tf.int32, [None])
    enq, deq = q.enqueue_many([x]), q.dequeue()
    with tf.Session() as sess:
        sess.run(enq, {x: np.arange(5)})
        got = [sess.run(deq), sess.run(deq)]
        blocked = []
        t = _thread(lambda: blocked.append(sess.run(deq)))
        time.sleep(0.2)
        assert not blocked and sess.run(q.size()) == 3    # 3 = min_after_dequeue stay
        sess.run(q.close())
        t.join(JOIN_S)
        got += blocked + [sess.run(deq), sess.run(deq)]
        assert sorted(got) == [0, 1, 2, 3, 4]


def test_random_shuffle_queue_is_seeded_per_session(g):
    """Same seed, same order in every session (not TF's order: see the module docs)."""
    q = tf.RandomShuffleQueue(100, 0, tf.int32, shapes=[[]], seed=3)
    enq, many = q.enqueue_many([np.arange(50, dtype=np.int32)]), q.dequeue_many(50)
    orders = []
    for _ in range(2):
        with tf.Session() as sess:
            sess.run(enq)
            orders.append(sess.run(many).tolist())
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(50)) and orders[0] != list(range(50))


def test_padding_fifo_queue_pads_to_the_longest(g):
    q = tf.PaddingFIFOQueue(5, [tf.int32], shapes=[[None]])
    x = tf.placeholder(tf.int32, [None])
    enq = q.enqueue([x])
    with tf.Session() as sess:
        sess.run(enq, {x: [1]})
        sess.run(enq, {x: [2, 3, 4]})
        np.testing.assert_array_equal(sess.run(q.dequeue_many(2)), [[1, 0, 0], [2, 3, 4]])


def test_named_components_are_dicts(g):
    q = tf.FIFOQueue(5, [tf.int32, tf.float32], shapes=[[], []], names=["n", "v"])
    with tf.Session() as sess:
        sess.run(q.enqueue({"n": 1, "v": 2.0}))
        assert sess.run(q.dequeue()) == {"n": 1, "v": 2.0}
    with pytest.raises(ValueError, match="must enqueue a dictionary"):
        q.enqueue([1, 2.0])


def test_build_time_and_run_time_errors(g):
    q = tf.FIFOQueue(5, [tf.int32], shapes=[[2]])
    with pytest.raises(ValueError):
        q.enqueue(tf.constant(1.0))                     # wrong dtype
    with pytest.raises(ValueError):
        q.enqueue(tf.constant([1, 2, 3]))               # incompatible static shape
    x = tf.placeholder(tf.int32, None)
    enq = q.enqueue(x)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Shape mismatch in tuple component 0. "
                                                                 r"Expected \[2\], got \[3\]"):
            sess.run(enq, {x: [1, 2, 3]})


def test_queue_ops_are_not_merged_or_folded(g, mode):
    """Two dequeues of one queue in one run are two dequeues (never CSE'd into one)."""
    q = tf.FIFOQueue(5, tf.int32, shapes=[[]])
    a, b = q.dequeue(), q.dequeue()
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3, 4]]))
        assert sorted(sess.run([a, b])) == [1, 2]
        assert sorted(sess.run([a + 0, b + 0])) == [3, 4]


def test_count_up_to(g, mode):
    v = tf.Variable(tf.constant(0, tf.int64), trainable=False)
    c = v.count_up_to(2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert [sess.run(c), sess.run(c)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(c)
        assert sess.run(v) == 2
