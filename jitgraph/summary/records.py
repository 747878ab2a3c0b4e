"""TFRecord framing (event files, ``tf.io.TFRecordWriter``, ``TFRecordDataset``) and TF's masked CRC32C (event files, checkpoints).

A record is ``u64 length | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)``, all
little-endian; the mask rotates the CRC right by 15 bits and adds ``0xa282ead8``. The CRC32C itself
is the ``google-crc32c`` package's (hardware-accelerated).
"""

import struct

from jitgraph import errors

_MASK_DELTA = 0xA282EAD8


def _crc():
    try:
        import google_crc32c
    except ImportError:
        raise ImportError("jitgraph needs the 'google-crc32c' package for TensorFlow's file formats: "
                          "pip install 'jitgraph[tensorboard]'") from None
    return google_crc32c


def crc32c(data, crc=0):
    """CRC32C of ``data``, continuing from ``crc``."""
    return _crc().extend(crc, bytes(data))


def mask(crc):
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked):
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def masked_crc32c(data):
    return mask(crc32c(data))


def encode_record(data):
    """One framed record of ``data`` (bytes)."""
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", masked_crc32c(header)), data, struct.pack("<I", masked_crc32c(data))))


def read_records(path):
    """Yield the data of each record in file ``path``; ``DataLossError`` on a corrupt record.
    A record cut short at the end of the file (a writer still writing) ends the iteration."""
    with open(path, "rb") as f:
        yield from iter_records(f, truncated_ok=True)


def iter_records(f, truncated_ok=False):
    """Yield the data of each record read from binary file object ``f``. A corrupt record raises
    ``DataLossError("corrupted record at <offset>")`` as TF's record reader does; a record cut
    short at the end raises ``DataLossError("truncated record at <offset>…")`` unless
    ``truncated_ok`` (then the iteration just ends)."""
    offset = 0
    while True:
        header = f.read(12)
        if not header:
            return
        if len(header) < 12:
            if truncated_ok:
                return
            raise errors.DataLossError(None, None, f"truncated record at {offset}' failed with Read less bytes "
                                       "than requested")
        length, crc = struct.unpack("<QI", header)
        if masked_crc32c(header[:8]) != crc:
            raise errors.DataLossError(None, None, f"corrupted record at {offset}")
        data = f.read(length)
        footer = f.read(4)
        if len(data) < length or len(footer) < 4:
            if truncated_ok:
                return
            raise errors.DataLossError(None, None, f"truncated record at {offset}' failed with Read less bytes "
                                       "than requested")
        if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
            raise errors.DataLossError(None, None, f"corrupted record at {offset + 12}")
        offset += 16 + length
        yield data
