"""``tf.summary.FileWriter``: TensorBoard event files (``events.out.tfevents.<time>.<hostname>``).

Each file starts with an ``Event`` holding ``file_version: "brain.Event:2"``; every later event is
one TFRecord (``records``). Events are queued in memory and written when ``max_queue`` are pending,
when ``flush()``/``close()`` is called, or every ``flush_secs`` by a daemon thread. After
``close()`` new events are dropped, as in TF, until ``reopen()`` starts a new file.
"""

import os
import socket
import threading
import time

from jitgraph.framework.tf_protos import protos
from jitgraph.summary.records import encode_record

__all__ = ["FileWriter", "FileWriterCache"]


class _EventFile:
    """One open event file with its pending records and its periodic flusher."""

    def __init__(self, logdir, max_queue, flush_secs, filename_suffix):
        os.makedirs(logdir, exist_ok=True)
        now = time.time()
        base = os.path.join(logdir, f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}")
        path, n = base + filename_suffix, 0
        while os.path.exists(path):        # two writers in one second: never overwrite a log
            n += 1
            path = f"{base}.{n}{filename_suffix}"
        self.path = path
        self._file = open(path, "wb")
        self._pending = []
        self._max_queue = max(1, int(max_queue))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.add(protos().event.Event(wall_time=now, file_version="brain.Event:2"))
        self.flush()
        self._thread = threading.Thread(target=self._flush_every, args=(flush_secs,), daemon=True,
                                        name="jitgraph-summary-flush")
        self._thread.start()

    def add(self, event):
        record = encode_record(event.SerializeToString())
        with self._lock:
            self._pending.append(record)
            if len(self._pending) >= self._max_queue:
                self._write()
                self._file.flush()

    def _write(self):
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()

    def flush(self):
        with self._lock:
            self._write()
            self._file.flush()

    def close(self):
        self._stop.set()
        self._thread.join()
        with self._lock:
            self._write()
            self._file.close()

    def _flush_every(self, secs):
        while not self._stop.wait(secs):
            self.flush()


class FileWriter:
    """Writes ``Summary`` protos and the graph to an event file in ``logdir`` for TensorBoard.

    Args:
      logdir: directory of the event file (created if missing).
      graph: a ``tf.Graph`` (or ``GraphDef``) to write at once, shown in TensorBoard's Graphs tab.
      max_queue: events kept in memory before they are written.
      flush_secs: how often pending events are written, in seconds.
      graph_def: deprecated spelling of ``graph`` (a ``GraphDef``).
      filename_suffix: appended to the event file's name.

    Example::

        loss_summary = tf.summary.scalar("loss", loss)
        with tf.summary.FileWriter("logs/run1", sess.graph) as writer:
            for step in range(100):
                s, _ = sess.run([loss_summary, train_op])
                writer.add_summary(s, step)
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None, filename_suffix=None):
        self._logdir = os.fspath(logdir)
        self._options = (max_queue, flush_secs, filename_suffix or "")
        self._file = _EventFile(self._logdir, *self._options)
        self._closed = False
        self._seen_summary_tags = set()
        self._session_run_tags = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self):
        """The directory the event files are written to."""
        return self._logdir

    @property
    def event_file_path(self):
        """The path of the event file being written."""
        return self._file.path

    # ---- events ----------------------------------------------------------------------------------
    def add_event(self, event):
        """Write an ``Event`` proto as it is (dropped after ``close()``, as in TF)."""
        if not self._closed:
            self._file.add(event)

    def _add_event(self, event, step):
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(self, summary, global_step=None):
        """Add a ``Summary`` (a proto or the serialized bytes a summary op returns) at ``global_step``.

        A value's ``metadata`` is kept only the first time its tag is seen (TF saves the space)."""
        Summary = protos().summary.Summary
        if isinstance(summary, (bytes, bytearray)):
            parsed = Summary()
            parsed.ParseFromString(bytes(summary))
            summary = parsed
        elif not isinstance(summary, Summary):
            raise TypeError(f"add_summary expects a Summary proto or its serialized bytes, got "
                            f"{type(summary).__name__}")
        for value in summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in self._seen_summary_tags:
                value.ClearField("metadata")
            else:
                self._seen_summary_tags.add(value.tag)
        self._add_event(protos().event.Event(summary=summary), global_step)

    def add_session_log(self, session_log, global_step=None):
        """Add a ``SessionLog`` proto (e.g. ``SessionLog(status=SessionLog.START)``)."""
        self._add_event(protos().event.Event(session_log=session_log), global_step)

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Add a ``tf.Graph`` (written with its output shapes) or a ``GraphDef`` proto."""
        from jitgraph.framework.graph import Graph
        from jitgraph.framework.graph_def import as_graph_def
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph, or graph_def (deprecated), but not both.")
        graph = graph if graph is not None else graph_def
        if isinstance(graph, Graph):
            graph = as_graph_def(graph, add_shapes=True, for_display=True)
        elif not isinstance(graph, protos().graph.GraphDef):
            raise TypeError("The passed graph must be an instance of `Graph` or the deprecated `GraphDef`")
        self._add_event(protos().event.Event(graph_def=graph.SerializeToString()), global_step)

    def add_meta_graph(self, meta_graph_def, global_step=None):
        """Add a TensorFlow ``MetaGraphDef`` proto."""
        if not isinstance(meta_graph_def, protos().meta_graph.MetaGraphDef):
            raise TypeError(f"meta_graph_def must be type MetaGraphDef, saw type: {type(meta_graph_def)}")
        self._add_event(protos().event.Event(meta_graph_def=meta_graph_def.SerializeToString()), global_step)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Add a ``RunMetadata`` proto (or its bytes) under ``tag`` (each tag once)."""
        if tag in self._session_run_tags:
            raise ValueError(f"The provided run_metadata has already been added for tag {tag}")
        self._session_run_tags.add(tag)
        data = run_metadata if isinstance(run_metadata, bytes) else run_metadata.SerializeToString()
        tagged = protos().event.TaggedRunMetadata(tag=tag, run_metadata=data)
        self._add_event(protos().event.Event(tagged_run_metadata=tagged), global_step)

    # ---- lifecycle -------------------------------------------------------------------------------
    def flush(self):
        """Write all pending events to disk."""
        if not self._closed:
            self._file.flush()

    def close(self):
        """Write pending events and close the file; later events are dropped until ``reopen()``."""
        if not self._closed:
            self._closed = True
            self._file.close()

    def reopen(self):
        """After ``close()``: continue in a new event file in the same directory."""
        if self._closed:
            self._file = _EventFile(self._logdir, *self._options)
            self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FileWriterCache:
    """One shared ``FileWriter`` per log directory (with the default graph)."""

    _cache = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir):
        from jitgraph.framework.graph import get_default_graph
        with FileWriterCache._lock:
            writer = FileWriterCache._cache.get(logdir)
            if writer is None:
                writer = FileWriterCache._cache[logdir] = FileWriter(logdir, graph=get_default_graph())
            return writer

    @staticmethod
    def clear():
        """Close and forget every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache.clear()
