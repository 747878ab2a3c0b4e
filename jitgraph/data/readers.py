"""``tf.data.TextLineDataset``: the lines of text files, one scalar string each."""

import gzip
import io
import zlib

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.data.dataset import Dataset
from jitgraph.data.structure import ElementSpec
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.registry import convert_to_tensor


class TextLineDataset(Dataset):
    """The lines of ``filenames`` (a string, a list of them or a string tensor), file after file,
    without their line terminators (``\\n`` or ``\\r\\n``). ``compression_type``: ``""``,
    ``"GZIP"`` or ``"ZLIB"``. Skip a CSV header with ``.skip(1)`` (per file: ``flat_map``)."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        names = convert_to_tensor(filenames, dtype=dtypes.string, name="filenames")
        if names.shape.ndims not in (None, 0, 1):
            raise ValueError(f"`filenames` must be a string scalar or vector, got shape {names.shape}")
        compression = compression_type or ""
        if not isinstance(compression, str) or compression.upper() not in ("", "GZIP", "ZLIB"):
            raise ValueError(f"compression_type must be '', 'GZIP' or 'ZLIB', got {compression_type!r}")
        self._compression = compression.upper()
        super().__init__(ElementSpec(0, [dtypes.string], [TensorShape([])]), captures=[names])

    def _iterate(self, env):
        for name in np.asarray(env.value(self._captures[0]), dtype=object).reshape(-1):
            path = name.decode() if isinstance(name, bytes) else str(name)
            yield from _lines(path, self._compression)


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
    with _open(path, compression) as f:
        try:
            for line in f:
                if line.endswith(b"\n"):
                    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                yield (np.array(line, dtype=object),)
        except (OSError, EOFError, zlib.error) as e:
            raise errors.DataLossError(None, None, f"{path}: {e}") from None
