"""TFRecord files: ``tf.io.TFRecordWriter``, ``tf.io.tf_record_iterator``, ``tf.io.TFRecordOptions``
(also under ``tf.python_io``). Read them in a pipeline with ``tf.data.TFRecordDataset``.

    with tf.io.TFRecordWriter("train.tfrecord") as writer:        # or options="GZIP"
        writer.write(example.SerializeToString())
    for record in tf.io.tf_record_iterator("train.tfrecord"):
        example = tf.train.Example.FromString(record)

A file is a sequence of records framed as TF frames them (length, masked CRC32C of the length,
data, masked CRC32C of the data: ``jitgraph.summary.records``), optionally compressed as a whole
with zlib (``"ZLIB"``) or gzip (``"GZIP"``) using TF's zlib settings, so an uncompressed file is
byte for byte the file TensorFlow writes for the same records. Needs ``google-crc32c``
(``jitgraph[tensorboard]``).
"""

import zlib

from jitgraph import errors
from jitgraph.summary.records import encode_record, iter_records

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator"]


class TFRecordCompressionType:
    """The compression of a TFRecord file."""
    NONE = 0
    ZLIB = 1
    GZIP = 2


_NAMES = {TFRecordCompressionType.NONE: "", TFRecordCompressionType.ZLIB: "ZLIB",
          TFRecordCompressionType.GZIP: "GZIP"}


class TFRecordOptions:
    """How a TFRecord file is compressed: ``compression_type`` is ``"ZLIB"``, ``"GZIP"``, ``""``/
    ``None`` or a ``TFRecordCompressionType``; the zlib settings default to TF's (level 6 as zlib's
    default, ``window_bits`` 15, ``mem_level`` 9, default strategy). Buffer sizes and ``flush_mode``
    are accepted and change nothing."""

    compression_type_map = {v: k for k, v in _NAMES.items()}

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None, output_buffer_size=None,
                 window_bits=None, compression_level=None, compression_method=None, mem_level=None,
                 compression_strategy=None):
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size, self.output_buffer_size = input_buffer_size, output_buffer_size
        self.window_bits, self.compression_level = window_bits, compression_level
        self.compression_method = compression_method
        self.mem_level, self.compression_strategy = mem_level, compression_strategy

    @classmethod
    def get_compression_type_string(cls, options):
        """``""``, ``"ZLIB"`` or ``"GZIP"`` for ``options`` (a ``TFRecordOptions``, a string or None)."""
        if options is None:
            return ""
        kind = options.compression_type if isinstance(options, TFRecordOptions) else options
        if kind is None:
            return ""
        if isinstance(kind, str):
            if kind.upper() not in ("", "ZLIB", "GZIP"):
                raise ValueError(f'Unsupported compression type {kind!r}: expected "", "ZLIB" or "GZIP"')
            return kind.upper()
        if kind not in _NAMES:
            raise ValueError(f"Unsupported compression type {kind!r}")
        return _NAMES[kind]

    def _compressor(self):
        kind = self.get_compression_type_string(self)
        if not kind:
            return None
        bits = 15 if self.window_bits is None else int(self.window_bits)
        level = -1 if self.compression_level is None else int(self.compression_level)
        return zlib.compressobj(level, zlib.DEFLATED, bits + 16 if kind == "GZIP" else bits,
                                9 if self.mem_level is None else int(self.mem_level),
                                zlib.Z_DEFAULT_STRATEGY if self.compression_strategy is None else
                                int(self.compression_strategy))


def _options(options):
    return options if isinstance(options, TFRecordOptions) else TFRecordOptions(options)


def _as_bytes(record):
    if isinstance(record, str):
        return record.encode()
    if isinstance(record, (bytes, bytearray, memoryview)):
        return bytes(record)
    raise TypeError(f"write() argument must be bytes or str, got {type(record).__name__}")


class TFRecordWriter:
    """Writes records (bytes) to the TFRecord file ``path`` (created or truncated at once).
    ``options``: a ``TFRecordOptions`` or a compression type string. A context manager: leaving
    it closes the file. Writing after ``close()`` raises ``FailedPreconditionError``."""

    def __init__(self, path, options=None):
        from jitgraph.gfile import _os_error
        self._path = str(path)
        self._compressor = _options(options)._compressor()
        try:
            self._file = open(self._path, "wb")
        except OSError as e:
            raise _os_error(e, self._path) from None

    def _check_open(self):
        if self._file is None:
            raise errors.FailedPreconditionError(None, None, "Writer is closed.")

    def write(self, record):
        """Append one record."""
        self._check_open()
        data = encode_record(_as_bytes(record))
        self._file.write(self._compressor.compress(data) if self._compressor else data)

    def flush(self):
        """Push what was written to the file (compressed output: what zlib has emitted so far)."""
        self._check_open()
        self._file.flush()

    def close(self):
        """Finish the stream and close the file (a second ``close()`` does nothing)."""
        if self._file is None:
            return
        if self._compressor:
            self._file.write(self._compressor.flush())
        self._file.close()
        self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_file", None) is not None:
            self.close()


def read_tfrecords(path, compression_type=""):
    """The records of one TFRecord file (a generator; errors as TF's reader: ``NotFoundError``,
    ``DataLossError`` for a corrupted or truncated record or a bad compressed stream)."""
    from jitgraph.data.readers import _open
    with _open(path, compression_type) as f:
        try:
            yield from iter_records(f)
        except (OSError, EOFError, zlib.error) as e:
            raise errors.DataLossError(None, None, f"{path}: {e}") from None


def tf_record_iterator(path, options=None):
    """A generator of the records (bytes) in the TFRecord file ``path``; ``options`` as for
    ``TFRecordWriter``. A corrupted record raises ``tf.errors.DataLossError`` when reached."""
    return read_tfrecords(str(path), TFRecordOptions.get_compression_type_string(options))
