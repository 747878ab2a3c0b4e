"""TF1 queue-based input pipelines: scenarios run the same way against TensorFlow 2.21
(``record_queues.py`` writes ``data/queues.json``) and jitgraph (``tests/train/test_queue_oracle.py``).

Each scenario is ``fn(tf, tmpdir) -> JSON value`` and builds its own graph. Every pipeline has one
reader thread and ``shuffle=False`` (or is compared as a per-epoch multiset), so the order of what
it produces is deterministic in TF as in jitgraph. Error messages are kept as their first line with
TF's per-process resource prefix (``'_3_batch/fifo_queue'`` -> ``'batch/fifo_queue'``) and jitgraph's
``(op '...' of type ...)`` / ``(read by op ...)`` suffixes removed.
"""

import contextlib
import os
import re
import signal
import threading
import time

import numpy as np

JOIN_S = 10   # coord.join grace period: a pipeline bug fails the scenario instead of hanging


@contextlib.contextmanager
def deadline(seconds=60):
    """Fail with ``TimeoutError`` instead of hanging when a pipeline never ends (SIGALRM: the
    main thread's blocked run wakes every 0.1 s, so the handler gets to run)."""
    def fail(signum, frame):
        raise TimeoutError(f"a queue pipeline did not finish within {seconds} s")
    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def err(e):
    """``[class name, the message's own line]`` without TF's frame (``Graph execution error:``,
    ``[[{{node ...}}]]``), its resource prefix or jitgraph's ``(op '...' of type ...)`` suffix."""
    lines = str(e).split("\n")
    node = [i for i, ln in enumerate(lines) if ln.startswith("\t [[")]
    msg = lines[node[0] - 1] if node else lines[0]
    msg = re.sub(r" \((op|read by op) '[^']*' of type \w+\)$", "", re.sub(r"'_\d+_", "'", msg))
    return [type(e).__name__, msg]


def val(v):
    v = np.asarray(v)
    if v.dtype.kind in "SO":
        return [x.decode() if isinstance(x, bytes) else x for x in v.reshape(-1).tolist()]
    return v.tolist()


def drain(tf, sess, fetch, limit=50):
    """Run ``fetch`` until OutOfRangeError (returned as the last item, its message cut before the
    counts: "(requested 2, current size 0)" or "(requested 4, current size 2)" depends, in TF too,
    on whether the last dequeue was already waiting when the queue closed; ``queue_ops`` checks
    both cases deterministically)."""
    out = []
    for _ in range(limit):
        try:
            r = sess.run(fetch)
        except tf.errors.OutOfRangeError as e:
            out.append([part.split(" (requested")[0] for part in err(e)])
            return out
        out.append({k: val(v) for k, v in r.items()} if isinstance(r, dict) else [val(x) for x in r]
                   if isinstance(r, (list, tuple)) else val(r))
    out.append("limit")
    return out


def run_pipeline(tf, build, init_local=True):
    """Build with ``build(tf)`` -> fetch, start the queue runners, drain, stop cleanly."""
    with tf.Graph().as_default():
        fetch = build(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            if init_local:
                sess.run(tf.local_variables_initializer())
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            try:
                out = drain(tf, sess, fetch)
            finally:
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=JOIN_S)
    return out


X = np.arange(14, dtype=np.float32).reshape(7, 2)
Y = np.arange(7, dtype=np.int32) * 10


def slice_batch(tf, tmp):
    def build(tf):
        x, y = tf.train.slice_input_producer([X, Y], num_epochs=2, shuffle=False)
        xb, yb = tf.train.batch([x, y], batch_size=4)
        return [xb, yb]
    return run_pipeline(tf, build)


def slice_batch_smaller_final(tf, tmp):
    def build(tf):
        x, y = tf.train.slice_input_producer([X, Y], num_epochs=2, shuffle=False)
        xb, yb = tf.train.batch([x, y], batch_size=4, allow_smaller_final_batch=True)
        return [xb, yb]
    return run_pipeline(tf, build)


def batch_static_shapes(tf, tmp):
    with tf.Graph().as_default():
        x, y = tf.train.slice_input_producer([X, Y], shuffle=False)
        a = tf.train.batch([x, y], batch_size=4)
        b = tf.train.batch([x, y], batch_size=4, allow_smaller_final_batch=True)
        c = tf.train.batch({"x": x, "y": y}, batch_size=3)
        d = tf.train.batch([X, Y], batch_size=5, enqueue_many=True)
        return {"x": x.shape.as_list(), "a": [t.shape.as_list() for t in a], "b": [t.shape.as_list() for t in b],
                "c": {k: v.shape.as_list() for k, v in c.items()}, "d": [t.shape.as_list() for t in d],
                "dtypes": [t.dtype.name for t in a], "qr": len(tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)),
                "local_vars": len(tf.local_variables())}


def batch_dict(tf, tmp):
    def build(tf):
        x, y = tf.train.slice_input_producer([X, Y], num_epochs=1, shuffle=False)
        return tf.train.batch({"x": x, "y": y}, batch_size=3, allow_smaller_final_batch=True)
    return run_pipeline(tf, build)


def batch_enqueue_many(tf, tmp):
    """No epoch limit: the batch queue runner enqueues all of X again and again."""
    with tf.Graph().as_default():
        xb, yb = tf.train.batch([tf.constant(X), tf.constant(Y)], batch_size=5, enqueue_many=True, capacity=20)
        with tf.Session() as sess:
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            out = [[val(v) for v in sess.run([xb, yb])] for _ in range(4)]
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=JOIN_S)
    return out


def range_and_input_producer(tf, tmp):
    def build(tf):
        r = tf.train.range_input_producer(5, num_epochs=2, shuffle=False).dequeue()
        s = tf.train.input_producer(tf.constant([[1, 2], [3, 4]]), num_epochs=2, shuffle=False).dequeue()
        return [r, s]
    return run_pipeline(tf, build)


def shuffled_epochs_multiset(tf, tmp):
    """Seeded shuffling: TF's order is not reproduced, each epoch's multiset is."""
    def build(tf):
        x, y = tf.train.slice_input_producer([X, Y], num_epochs=2, shuffle=True, seed=3)
        return tf.train.shuffle_batch([y], batch_size=7, capacity=20, min_after_dequeue=7, seed=5)
    out = run_pipeline(tf, build)
    return [sorted(b) if isinstance(b, list) and not isinstance(b[0], str) else b for b in out]


def no_local_init(tf, tmp):
    with tf.Graph().as_default():
        q = tf.train.string_input_producer(["a", "b"], num_epochs=1, shuffle=False)
        d = q.dequeue()
        with tf.Session() as sess:
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            try:
                sess.run(d)
                out = "ran"
            except tf.errors.OpError as e:
                out = err(e)
            coord.request_stop()
            try:
                coord.join(threads, stop_grace_period_secs=JOIN_S)
                joined = "clean"
            except Exception as e:  # noqa: BLE001
                joined = err(e)
    return {"run": out, "join": joined}


def _write_csvs(tmp):
    a, b = os.path.join(tmp, "a.csv"), os.path.join(tmp, "b.csv")
    with open(a, "w") as f:
        f.write("x,n,s\n1.5,1,one\n2.5,2,two\n3.5,3,three\n")
    with open(b, "w") as f:
        f.write("x,n,s\n4.5,4,four\n5.5,5,five\n")
    return a, b


def _rel(items, tmp):
    return [x.replace(tmp + os.sep, "") if isinstance(x, str) else x for x in items]


def text_line_csv_batch(tf, tmp):
    a, b = _write_csvs(tmp)

    def build(tf):
        files = tf.train.string_input_producer([a, b], num_epochs=1, shuffle=False)
        key, value = tf.TextLineReader(skip_header_lines=1).read(files)
        x, n, s = tf.decode_csv(value, record_defaults=[[0.0], [0], [""]])
        return tf.train.batch([key, x, n, s], batch_size=2, allow_smaller_final_batch=True)
    out = run_pipeline(tf, build)
    return [[_rel(c, tmp) for c in b] if isinstance(b, list) and not isinstance(b[0], str) else b for b in out]


def text_line_read_two_epochs(tf, tmp):
    a, b = _write_csvs(tmp)

    def build(tf):
        files = tf.train.string_input_producer([a, b], num_epochs=2, shuffle=False)
        reader = tf.TextLineReader()
        key, value = reader.read(files)
        return [key, value]
    out = run_pipeline(tf, build)
    return [_rel(sum(r, []), tmp) if isinstance(r, list) and not isinstance(r[0], str) else r for r in out]


def whole_file_reader(tf, tmp):
    a, b = _write_csvs(tmp)

    def build(tf):
        files = tf.train.string_input_producer([b, a], num_epochs=1, shuffle=False)
        key, value = tf.WholeFileReader().read(files)
        return [key, value]
    out = run_pipeline(tf, build)
    return [_rel(sum(r, []), tmp) if isinstance(r, list) and not isinstance(r[0], str) else r for r in out]


def _write_tfrecords(tf, path, items, options=None):
    with tf.io.TFRecordWriter(path, options=options) as w:
        for item in items:
            w.write(item)


def tfrecord_reader(tf, tmp):
    """Plain and GZIP files: keys are "<file>:<offset in the uncompressed stream>"."""
    gzip = tf.io.TFRecordOptions(compression_type="GZIP")
    a, b = os.path.join(tmp, "a.tfrecord"), os.path.join(tmp, "b.tfrecord")
    c = os.path.join(tmp, "c.tfrecord.gz")
    _write_tfrecords(tf, a, [b"r0", b"record one", b""])
    _write_tfrecords(tf, b, [b"x" * 40])
    _write_tfrecords(tf, c, [b"zipped", b"twice"], gzip)
    out = {}
    for name, files, options in [("plain", [a, b], None), ("gzip", [c], gzip)]:
        def build(tf):
            queue = tf.train.string_input_producer(files, num_epochs=1, shuffle=False)
            key, value = tf.TFRecordReader(options=options).read(queue)
            return [key, value]
        got = run_pipeline(tf, build)
        out[name] = [_rel(sum(r, []), tmp) if isinstance(r, list) and not isinstance(r[0], str) else r for r in got]
    return out


def queue_ops(tf, tmp):
    """A FIFOQueue driven by hand: sizes, static shapes, close and the error messages."""
    out = {}
    with tf.Graph().as_default():
        q = tf.FIFOQueue(5, [tf.int32, tf.float32], shapes=[[], [2]], name="q")
        enq = q.enqueue_many([[1, 2, 3], [[1, 1], [2, 2], [3, 3]]])
        enq1 = q.enqueue([tf.constant(9), tf.constant([9.0, 9.0])])
        one = q.dequeue()
        two = q.dequeue_many(2)
        upto = q.dequeue_up_to(3)
        out["shapes"] = {"one": [t.shape.as_list() for t in one], "two": [t.shape.as_list() for t in two],
                         "upto": [t.shape.as_list() for t in upto]}
        out["names"] = [q.name, q.dtypes[0].name, len(q.shapes), q.queue_ref.dtype.name]
        with tf.Session() as sess:
            sess.run(enq)
            out["size3"] = int(sess.run(q.size()))
            out["one"] = [val(v) for v in sess.run(one)]
            sess.run(enq1)
            out["two"] = [val(v) for v in sess.run(two)]
            sess.run(q.close())
            out["closed"] = bool(sess.run(q.is_closed()))
            out["upto_partial"] = [val(v) for v in sess.run(upto)]
            for name, fetch in [("dequeue_closed", one), ("dequeue_many_closed", two), ("up_to_closed", upto),
                                ("enqueue_closed", enq1)]:
                try:
                    sess.run(fetch)
                    out[name] = "ran"
                except tf.errors.OpError as e:
                    out[name] = err(e)
    with tf.Graph().as_default():   # a dequeue_many waiting when the queue closes
        q = tf.FIFOQueue(5, [tf.int32], shapes=[[]])
        many = q.dequeue_many(3)
        with tf.Session() as sess:
            sess.run(q.enqueue(1))
            got = []

            def consume():
                try:
                    got.append(sess.run(many))
                except tf.errors.OpError as e:
                    got.append(err(e))
            t = threading.Thread(target=consume, daemon=True)
            t.start()
            time.sleep(0.5)
            sess.run(q.close())
            t.join(JOIN_S)
            out["waiting_when_closed"] = got[0] if got else "hung"
            out["size_after_waiting"] = int(sess.run(q.size()))
            try:
                sess.run(many)
            except tf.errors.OpError as e:
                out["after_closed"] = err(e)
    with tf.Graph().as_default():
        q = tf.queue.RandomShuffleQueue(10, 2, [tf.string], shapes=[[]], seed=1)
        enq = q.enqueue_many([["a", "b", "c"]])
        deq = q.dequeue()
        many = q.dequeue_many(2)
        with tf.Session() as sess:
            sess.run(enq)
            out["rsq_size"] = int(sess.run(q.size()))
            sess.run(q.close())
            out["rsq_three"] = sorted(sum([val(sess.run(deq)) for _ in range(3)], []))
            try:
                sess.run(many)
            except tf.errors.OpError as e:
                out["rsq_closed"] = err(e)
    with tf.Graph().as_default():
        q = tf.FIFOQueue(2, tf.int32)
        errs = {}
        for name, fn in [("bad_dtype", lambda: q.enqueue(tf.constant(1.0))),
                         ("bad_count", lambda: q.enqueue([1, 2])),
                         ("no_shape_many", lambda: q.dequeue_many(2))]:
            try:
                fn()
                errs[name] = "built"
            except (TypeError, ValueError) as e:
                errs[name] = [type(e).__name__]
        out["build_errors"] = errs
    return out


def training_loop(tf, tmp):
    """The classic TF1 loop: queue runners feed a linear model until the epochs run out."""
    xs = np.linspace(-1, 1, 12).astype(np.float32).reshape(12, 1)
    ys = (3 * xs + 1).astype(np.float32)
    with tf.Graph().as_default():
        x, y = tf.train.slice_input_producer([xs, ys], num_epochs=3, shuffle=False)
        xb, yb = tf.train.batch([x, y], batch_size=4)
        w = tf.Variable(tf.zeros([1, 1]))
        b = tf.Variable(tf.zeros([1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) + b - yb))
        train_op = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        steps, stopped = 0, None
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            try:
                while not coord.should_stop():
                    sess.run(train_op)
                    steps += 1
                    if steps > 100:
                        break
            except tf.errors.OutOfRangeError as e:
                stopped = err(e)
            finally:
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=JOIN_S)
            alive = sum(t.is_alive() for t in threads)
            return {"steps": steps, "stopped": stopped, "threads": len(threads), "alive": alive,
                    "w": float(sess.run(w)[0, 0]), "b": float(sess.run(b)[0])}


def monitored_session(tf, tmp):
    """MonitoredSession starts the queue runners itself and stops at the end of input."""
    with tf.Graph().as_default():
        x, y = tf.train.slice_input_producer([X, Y], num_epochs=1, shuffle=False)
        yb = tf.train.batch([y], batch_size=2)
        got = []
        with tf.train.MonitoredSession() as sess:
            while not sess.should_stop():
                got.append(val(sess.run(yb)))
        return {"batches": got, "should_stop": sess.should_stop()}


SCENARIOS = {f.__name__: f for f in [
    slice_batch, slice_batch_smaller_final, batch_static_shapes, batch_dict, batch_enqueue_many,
    range_and_input_producer, shuffled_epochs_multiset, no_local_init, text_line_csv_batch,
    text_line_read_two_epochs, whole_file_reader, tfrecord_reader, queue_ops, training_loop, monitored_session]}
