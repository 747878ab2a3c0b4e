"""``tf.TextLineReader``, ``tf.WholeFileReader``, ``tf.IdentityReader``: records, keys, work
items taken from a queue, the end of input (TF's keys and order are checked against TF in
``tests/train/test_queue_oracle.py``)."""

import os
import sys

import numpy as np
import pytest

import jitgraph as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from queue_cases import deadline  # noqa: E402


@pytest.fixture(autouse=True)
def _bounded():
    with deadline(60):
        yield


def _files_queue(names):
    q = tf.FIFOQueue(10, tf.string, shapes=[[]])
    return q, q.enqueue_many([names]), q.close()


def test_text_lines_with_header_and_crlf(g, tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"h1\r\nh2\r\none\r\ntwo")
    q, enq, close = _files_queue([str(a)])
    reader = tf.TextLineReader(skip_header_lines=2)
    key, value = reader.read(q)
    with tf.Session() as sess:
        sess.run([enq, close])
        assert sess.run([key, value]) == [f"{a}:3".encode(), b"one"]
        assert sess.run([key, value]) == [f"{a}:4".encode(), b"two"]
        counts = [reader.num_records_produced(), reader.num_work_units_completed()]
        assert sess.run(counts) == [2, 0]     # as TF: a file counts once a read finds it exhausted
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            sess.run(value)
        assert sess.run(counts) == [2, 1]


def test_read_up_to_crosses_files_and_returns_the_rest(g, tmp_path):
    paths = []
    for name, body in [("a", b"1\n2\n"), ("b", b"3\n")]:
        (tmp_path / name).write_bytes(body)
        paths.append(str(tmp_path / name))
    q, enq, close = _files_queue(paths)
    keys, values = tf.TextLineReader().read_up_to(q, 2)
    with tf.Session() as sess:
        sess.run([enq, close])
        assert list(sess.run(values)) == [b"1", b"2"]
        assert list(sess.run(values)) == [b"3"]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(keys)


def test_whole_file_and_identity_readers(g, tmp_path):
    (tmp_path / "f").write_bytes(b"x\ny\n")
    q, enq, close = _files_queue([str(tmp_path / "f")])
    key, value = tf.WholeFileReader().read(q)
    q2, enq2, close2 = _files_queue(["item"])
    k2, v2 = tf.IdentityReader().read(q2)
    with tf.Session() as sess:
        sess.run([enq, close, enq2, close2])
        assert sess.run([key, value]) == [str(tmp_path / "f").encode(), b"x\ny\n"]
        assert sess.run([k2, v2]) == [b"item", b"item"]


def test_missing_file_is_not_found(g, tmp_path):
    q, enq, close = _files_queue([str(tmp_path / "nope.csv")])
    _, value = tf.TextLineReader().read(q)
    with tf.Session() as sess:
        sess.run(enq)
        with pytest.raises(tf.errors.NotFoundError, match="nope.csv"):
            sess.run(value)


def test_reset_and_reader_state_per_session(g, tmp_path):
    (tmp_path / "f").write_bytes(b"a\nb\n")
    q = tf.FIFOQueue(10, tf.string, shapes=[[]])
    enq = q.enqueue(str(tmp_path / "f"))
    reader = tf.TextLineReader()
    _, value = reader.read(q)
    with tf.Session() as s1, tf.Session() as s2:
        s1.run(enq)
        s2.run(enq)
        assert s1.run(value) == b"a"
        assert s2.run(value) == b"a"       # its own position
        s1.run(reader.reset())
        s1.run(enq)
        assert s1.run(value) == b"a"


def test_decode_csv_batches_from_a_reader(g, tmp_path):
    (tmp_path / "d.csv").write_text("1,2.5\n3,4.5\n")
    files = tf.train.string_input_producer([str(tmp_path / "d.csv")], num_epochs=1, shuffle=False)
    _, line = tf.TextLineReader().read(files)
    n, x = tf.decode_csv(line, record_defaults=[[0], [0.0]])
    nb, xb = tf.train.batch([n, x], batch_size=2)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        got = sess.run([nb, xb])
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
    np.testing.assert_array_equal(got[0], [1, 3])
    np.testing.assert_allclose(got[1], [2.5, 4.5])


def test_a_reader_needs_a_queue(g):
    with pytest.raises(TypeError, match="queue"):
        tf.TextLineReader().read(tf.constant(["a"]))
