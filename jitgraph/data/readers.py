"""``tf.data.TextLineDataset`` (the lines of text files), ``tf.data.TFRecordDataset`` (the records
of TFRecord files) and ``tf.data.experimental.CsvDataset`` (CSV fields as typed scalars)."""

import gzip
import io
import zlib

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.data import parsing
from jitgraph.data.dataset import Dataset
from jitgraph.data.structure import ElementSpec
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import convert_to_tensor


def _filenames(filenames):
    names = convert_to_tensor(filenames, dtype=dtypes.string, name="filenames")
    if names.shape.ndims not in (None, 0, 1):
        raise ValueError(f"`filenames` must be a string scalar or vector, got shape {names.shape}")
    return names


def _compression(compression_type):
    compression = compression_type or ""
    if not isinstance(compression, str) or compression.upper() not in ("", "GZIP", "ZLIB"):
        raise ValueError(f"compression_type must be '', 'GZIP' or 'ZLIB', got {compression_type!r}")
    return compression.upper()


def _paths(env, names):
    for name in np.asarray(env.value(names), dtype=object).reshape(-1):
        yield name.decode() if isinstance(name, bytes) else str(name)


class TextLineDataset(Dataset):
    """The lines of ``filenames`` (a string, a list of them or a string tensor), file after file,
    without their line terminators (``\\n`` or ``\\r\\n``). ``compression_type``: ``""``,
    ``"GZIP"`` or ``"ZLIB"``. Skip a CSV header with ``.skip(1)`` (per file: ``flat_map``)."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._compression = _compression(compression_type)
        super().__init__(ElementSpec(0, [dtypes.string], [TensorShape([])]), captures=[_filenames(filenames)])

    def _iterate(self, env):
        for path in _paths(env, self._captures[0]):
            for line in _lines(path, self._compression):
                yield (np.array(line, dtype=object),)


class TFRecordDataset(Dataset):
    """The records (scalar ``tf.string``) of the TFRecord files ``filenames`` (a string, a list of
    them or a string tensor), file after file; parse them with ``map`` and
    ``tf.io.parse_single_example``. ``compression_type``: ``""``, ``"ZLIB"`` or ``"GZIP"``.
    ``num_parallel_reads`` (> 1) reads that many files in turn, one record from each, as TF's
    ``interleave`` does; ``buffer_size`` is accepted. A corrupted or truncated record raises
    ``tf.errors.DataLossError`` when it is reached."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._compression = _compression(compression_type)
        self._parallel = num_parallel_reads
        super().__init__(ElementSpec(0, [dtypes.string], [TensorShape([])]), captures=[_filenames(filenames)])

    def _iterate(self, env):
        from jitgraph.tfrecord import read_tfrecords
        paths = list(_paths(env, self._captures[0]))
        cycle = self._parallel if isinstance(self._parallel, int) and self._parallel > 1 else 1
        if self._parallel == -1:   # AUTOTUNE
            cycle = len(paths)
        if cycle == 1:
            for path in paths:
                for record in read_tfrecords(path, self._compression):
                    yield (np.array(record, dtype=object),)
            return
        # TF's interleave order: ``cycle`` open files read one record each in turn; a finished
        # file's slot takes the next file when the turn comes back to it
        pending, slots, i = iter(paths), [None] * cycle, 0
        while True:
            if slots[i] is None and pending is not None:
                path = next(pending, None)
                if path is None:
                    pending = None
                else:
                    slots[i] = read_tfrecords(path, self._compression)
            if pending is None and all(r is None for r in slots):
                return
            if slots[i] is not None:
                record = next(slots[i], None)
                if record is None:
                    slots[i] = None      # refilled when the cycle comes back to it
                else:
                    yield (np.array(record, dtype=object),)
            i = (i + 1) % cycle


class CsvDataset(Dataset):
    """Records of CSV files as tuples of scalars, one per column (``tf.data.experimental``).
    ``record_defaults[i]`` is a dtype (a required column) or a default value (``[0.0]``, ``[""]``);
    ``header=True`` skips each file's first line; the rest as ``tf.decode_csv``."""

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None, header=False,
                 field_delim=",", use_quote_delim=True, na_value="", select_cols=None, exclude_cols=None):
        if select_cols is not None and exclude_cols is not None:
            raise ValueError("Either select_cols or exclude_cols should be specified, not both.")
        if exclude_cols is not None:
            excluded = {int(c) for c in exclude_cols}
            select_cols = [c for c in range(len(record_defaults) + len(excluded)) if c not in excluded]
        self._options = parsing.csv_options(field_delim, use_quote_delim, na_value, select_cols, len(record_defaults))
        self._defaults = parsing.csv_defaults(record_defaults)
        self._compression, self._header = _compression(compression_type), bool(header)
        spec = ElementSpec(tuple(range(len(self._defaults))), [d.dtype.base_dtype for d in self._defaults],
                           [TensorShape([])] * len(self._defaults))
        super().__init__(spec, captures=[_filenames(filenames)] + self._defaults)

    def _iterate(self, env):
        defaults = [env.value(d) for d in self._defaults]
        for path in _paths(env, self._captures[0]):
            lines = _lines(path, self._compression)
            if self._header:
                next(lines, None)
            for line in lines:
                yield parsing.decode_records(np.array(line, dtype=object), *defaults, **self._options)


def _open(path, compression):
    try:
        if compression == "GZIP":
            return gzip.open(path, "rb")
        if compression == "ZLIB":
            with open(path, "rb") as f:
                return io.BytesIO(zlib.decompress(f.read()))
        return open(path, "rb")
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    except zlib.error as e:
        raise errors.DataLossError(None, None, f"{path}: {e}") from None


def _lines(path, compression):
    """The lines of a file as bytes, without ``\\n`` or ``\\r\\n``."""
    with _open(path, compression) as f:
        try:
            for line in f:
                if line.endswith(b"\n"):
                    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                yield line
        except (OSError, EOFError, zlib.error) as e:
            raise errors.DataLossError(None, None, f"{path}: {e}") from None
