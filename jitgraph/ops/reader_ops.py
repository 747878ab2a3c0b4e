"""TF1 readers: ``tf.TextLineReader``, ``tf.WholeFileReader``, ``tf.IdentityReader``.

    files = tf.train.string_input_producer(["a.csv", "b.csv"], num_epochs=1)
    key, value = tf.TextLineReader(skip_header_lines=1).read(files)   # b"a.csv:2", b"1.5,1,one"

A reader takes *work items* (file names) from a queue and produces ``(key, value)`` records: each
run of ``read`` gives the next record, dequeuing the next work item when the current one is done
(blocking like a dequeue; once the queue is closed and empty, ``OutOfRangeError``). Keys are as
TF's: ``"<file>:<line number>"`` (counting skipped header lines) for lines, the file name for whole
files, ``"<file>:<byte offset>"`` for ``TFRecordReader``, the work item
itself for ``IdentityReader``. Its position lives in the session, like a queue's contents.
"""

import threading
import weakref

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import no_gradient, op_scope
from jitgraph.ops.queue_state import queue_of
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["ReaderBase", "TextLineReader", "WholeFileReader", "IdentityReader", "TFRecordReader"]

_SESSIONS = weakref.WeakKeyDictionary()   # SessionState -> {reader op name: _Position}
_LOCK = threading.Lock()
_KW = dict(stateful=True, grad=no_gradient)
_SCALAR = TensorShape([])


class _Position:
    """Where one reader is in one session: the records left of its current work item."""

    def __init__(self):
        self.records = []     # pending (key, value) pairs of the current work item, next first
        self.active = False   # a work item is open (counted as completed once found exhausted, as TF)
        self.produced = 0
        self.completed = 0


def _position(ctx, reader_op):
    with _LOCK:
        table = _SESSIONS.setdefault(ctx.state, {})
        return table.setdefault(reader_op.name, _Position())


def _as_str(v):
    v = np.asarray(v, dtype=object)[()]
    return v.decode() if isinstance(v, bytes) else str(v)


def _records(kind, attrs, work):
    """The (key, value) records (bytes) of one work item."""
    if kind == "IdentityReader":
        return [(work.encode(), work.encode())]
    if kind == "TFRecordReader":
        return _tfrecords(work, attrs["compression_type"])
    try:
        with open(work, "rb") as f:
            data = f.read()
    except OSError as e:
        raise errors.NotFoundError(None, None, f"{work}; {e.strerror or e}") from None
    if kind == "WholeFileReader":
        return [(work.encode(), data)]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for i, line in enumerate(lines):
        if i < attrs["skip_header_lines"]:
            continue
        out.append((f"{work}:{i + 1}".encode(), line[:-1] if line.endswith(b"\r") else line))
    return out


def _tfrecords(work, compression):
    """The records of a TFRecord file (``jitgraph.tfrecord``: TF's errors, GZIP/ZLIB); keys
    ``"<file>:<offset of the record>"`` (offsets in the uncompressed stream, as TF's)."""
    from jitgraph.tfrecord import read_tfrecords
    out, offset = [], 0
    for record in read_tfrecords(work, compression):
        out.append((f"{work}:{offset}".encode(), record))
        offset += 16 + len(record)   # length (8) + its crc (4), data, data crc (4)
    return out


def _next_record(ctx, op, pos):
    reader, queue = op.inputs[0].op, op.inputs[1].op
    while not pos.records:
        if pos.active:
            pos.active = False
            pos.completed += 1
        work = _as_str(queue_of(ctx, queue).dequeue(None, ctx=ctx)[0])
        pos.records = _records(reader.get_attr("kind"), reader.attrs, work)
        pos.active = True
    return pos.records.pop(0)


def _read_run(ctx, op, ins):
    pos = _position(ctx, op.inputs[0].op)
    before = (list(pos.records), pos.active, pos.produced, pos.completed)
    ctx.on_retry(lambda: _restore(pos, before))
    key, value = _next_record(ctx, op, pos)
    pos.produced += 1
    return [np.array(key, dtype=object), np.array(value, dtype=object)]


def _read_up_to_run(ctx, op, ins):
    pos = _position(ctx, op.inputs[0].op)
    before = (list(pos.records), pos.active, pos.produced, pos.completed)
    ctx.on_retry(lambda: _restore(pos, before))
    n = int(np.asarray(ins[2]))
    keys, values = [], []
    try:
        while len(keys) < n:
            k, v = _next_record(ctx, op, pos)
            keys.append(k)
            values.append(v)
    except errors.OutOfRangeError:
        if not keys:
            raise
    pos.produced += len(keys)
    return [np.array(keys, dtype=object).reshape(-1), np.array(values, dtype=object).reshape(-1)]


def _restore(pos, before):
    pos.records, pos.active, pos.produced, pos.completed = before


def _reset_run(ctx, op, ins):
    pos = _position(ctx, op.inputs[0].op)
    pos.records, pos.active, pos.produced, pos.completed = [], False, 0, 0
    return []


def _count_run(attr):
    def run(ctx, op, ins):
        return [np.array(getattr(_position(ctx, op.inputs[0].op), attr), np.int64)]
    return run


for _t in ("TextLineReaderV2", "WholeFileReaderV2", "IdentityReaderV2", "TFRecordReaderV2"):
    define_op(_t, lambda ins, a: [(dtypes.resource, _SCALAR)],
              run=lambda ctx, op, ins: [np.array(op.name.encode(), dtype=object)], **_KW)
define_op("ReaderReadV2", lambda ins, a: [(dtypes.string, _SCALAR)] * 2, run=_read_run, **_KW)
define_op("ReaderReadUpToV2", lambda ins, a: [(dtypes.string, TensorShape([None]))] * 2, run=_read_up_to_run, **_KW)
define_op("ReaderResetV2", lambda ins, a: [], run=_reset_run, **_KW)
define_op("ReaderNumRecordsProducedV2", lambda ins, a: [(dtypes.int64, _SCALAR)], run=_count_run("produced"), **_KW)
define_op("ReaderNumWorkUnitsCompletedV2", lambda ins, a: [(dtypes.int64, _SCALAR)], run=_count_run("completed"),
          **_KW)


def _queue_ref(queue):
    ref = getattr(queue, "queue_ref", queue)
    if getattr(ref, "op", None) is None or not ref.op.type.endswith("QueueV2"):
        raise TypeError(f"a reader reads work items from a queue (tf.FIFOQueue, string_input_producer), got {queue!r}")
    return ref


class ReaderBase:
    """A reader: ``read(queue)`` -> ``(key, value)`` string scalars (see the module docstring)."""

    _kind = None

    def __init__(self, attrs=None, name=None):
        attrs = dict(attrs or {}, kind=self._kind)
        self._op = make_op(self._kind + "V2", [], attrs, name or self._kind, graph=get_default_graph())
        self._reader_ref = self._op.outputs[0]

    reader_ref = property(lambda self: self._reader_ref)
    supports_serialize = False

    def read(self, queue, name=None):
        """The next record: ``(key, value)``; takes the next work item from ``queue`` when needed."""
        with op_scope(name or "ReaderReadV2", [self._reader_ref]) as scope:
            op = make_op("ReaderReadV2", [self._reader_ref, _queue_ref(queue)], {}, scope)
        return op.outputs[0], op.outputs[1]

    def read_up_to(self, queue, num_records, name=None):
        """Up to ``num_records`` records as two string vectors (fewer at the end of the input)."""
        with op_scope(name or "ReaderReadUpToV2", [self._reader_ref]) as scope:
            n = convert_to_tensor(num_records, dtype=dtypes.int64, name="num_records")
            op = make_op("ReaderReadUpToV2", [self._reader_ref, _queue_ref(queue), n], {}, scope)
        return op.outputs[0], op.outputs[1]

    def reset(self, name=None):
        return make_op("ReaderResetV2", [self._reader_ref], {}, name or "ReaderResetV2")

    def num_records_produced(self, name=None):
        return make_op("ReaderNumRecordsProducedV2", [self._reader_ref], {},
                       name or "ReaderNumRecordsProducedV2").outputs[0]

    def num_work_units_completed(self, name=None):
        return make_op("ReaderNumWorkUnitsCompletedV2", [self._reader_ref], {},
                       name or "ReaderNumWorkUnitsCompletedV2").outputs[0]


class TextLineReader(ReaderBase):
    """Records are the lines of each file (without ``\\n`` / ``\\r\\n``); keys ``"<file>:<line>"``.
    ``skip_header_lines``: lines skipped at the start of every file."""

    _kind = "TextLineReader"

    def __init__(self, skip_header_lines=None, name=None):
        super().__init__({"skip_header_lines": int(skip_header_lines or 0)}, name)


class WholeFileReader(ReaderBase):
    """One record per file: key the file name, value its contents."""

    _kind = "WholeFileReader"

    def __init__(self, name=None):
        super().__init__({}, name)


class TFRecordReader(ReaderBase):
    """One record per TFRecord of each file; keys ``"<file>:<byte offset of the record>"``.
    ``options``: a ``tf.io.TFRecordOptions`` or compression name (``"GZIP"``, ``"ZLIB"``)."""

    _kind = "TFRecordReader"

    def __init__(self, name=None, options=None):
        from jitgraph.tfrecord import TFRecordOptions
        super().__init__({"compression_type": TFRecordOptions.get_compression_type_string(options)}, name)


class IdentityReader(ReaderBase):
    """One record per work item: key and value are the work item."""

    _kind = "IdentityReader"

    def __init__(self, name=None):
        super().__init__({}, name)
