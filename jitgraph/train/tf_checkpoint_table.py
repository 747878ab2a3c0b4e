"""The sorted string table (LevelDB's table format, as TensorFlow keeps it) of a TF checkpoint's ``.index``.

Layout: data blocks, an empty meta-index block, an index block, a 48-byte footer. A block is its
entries — ``varint shared | varint non_shared | varint value_len | key suffix | value``, keys
prefix-compressed against the previous key and restarting every 16 entries (every entry in the
index block) — then the restart offsets (u32 each) and their count (u32), followed by a trailer:
one compression byte (0: none; TF writes no other) and the masked CRC32C of block + that byte.
Index entries map a key >= every key of a data block (TF's shortest separator) to its
``varint offset | varint size``. The footer holds the meta-index and index handles padded to 40
bytes, then the magic number ``0xdb4775248b80fb57`` (little-endian). Keys sort bytewise.
"""

import struct

from jitgraph.errors import DataLossError
from jitgraph.summary.records import crc32c, mask, unmask

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_SIZE = 262144        # TF's table option block_size
RESTART_INTERVAL = 16


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varint(buf, pos, where):
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise DataLossError(None, None, f"{where}: truncated or bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


class _Block:
    def __init__(self, restart_interval):
        self.interval, self.buf, self.restarts, self.count, self.last = restart_interval, bytearray(), [0], 0, b""

    def add(self, key, value):
        shared = 0
        if self.count < self.interval:
            n = min(len(key), len(self.last))
            while shared < n and key[shared] == self.last[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.count = 0
        self.buf += _varint(shared) + _varint(len(key) - shared) + _varint(len(value)) + key[shared:] + value
        self.last, self.count = key, self.count + 1

    def size(self):
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self):
        n = len(self.restarts)
        return bytes(self.buf) + struct.pack(f"<{n}I", *self.restarts) + struct.pack("<I", n)


def _separator(start, limit):
    """A short key >= ``start`` and < ``limit`` (LevelDB's bytewise ``FindShortestSeparator``)."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n and start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def _successor(key):
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key


def build_table(items):
    """The bytes of a table holding ``items`` (``(key bytes, value bytes)`` in ascending key order)."""
    out, index, data = bytearray(), _Block(1), _Block(RESTART_INTERVAL)
    pending, last = None, b""

    def write_block(block):
        contents = block.finish() + b"\x00"
        handle = _varint(len(out)) + _varint(len(contents) - 1)
        out.extend(contents + struct.pack("<I", mask(crc32c(contents))))
        return handle

    for key, value in items:
        if pending is not None:
            index.add(_separator(last, key), pending)
            pending = None
        data.add(key, value)
        last = key
        if data.size() >= BLOCK_SIZE:
            pending, data = write_block(data), _Block(RESTART_INTERVAL)
    if data.count:
        pending = write_block(data)
    meta = write_block(_Block(RESTART_INTERVAL))
    if pending is not None:
        index.add(_successor(last), pending)
    footer = (meta + write_block(index)).ljust(40, b"\x00") + struct.pack("<Q", MAGIC)
    return bytes(out) + footer


def read_table(buf, where):
    """``[(key, value)]`` of a table's bytes, checking the magic number and every block's CRC."""
    if len(buf) < FOOTER_SIZE or struct.unpack("<Q", buf[-8:])[0] != MAGIC:
        raise DataLossError(None, None, f"{where}: not a TensorFlow checkpoint index (bad magic number)")
    footer = buf[-FOOTER_SIZE:]
    pos = 0
    for _ in range(2):                       # skip the meta-index handle
        _, pos = _read_varint(footer, pos, where)
    idx_off, pos = _read_varint(footer, pos, where)
    idx_size, pos = _read_varint(footer, pos, where)
    items = []
    for _, handle in _block_entries(_block(buf, idx_off, idx_size, where), where):
        off, p = _read_varint(handle, 0, where)
        size, _ = _read_varint(handle, p, where)
        items.extend(_block_entries(_block(buf, off, size, where), where))
    return items


def _block(buf, off, size, where):
    end = off + size
    if end + 5 > len(buf):
        raise DataLossError(None, None, f"{where}: truncated block")
    if buf[end] != 0:
        raise DataLossError(None, None, f"{where}: compressed blocks (type {buf[end]}) are not supported")
    if unmask(struct.unpack("<I", buf[end + 1:end + 5])[0]) != crc32c(buf[off:end + 1]):
        raise DataLossError(None, None, f"{where}: block checksum mismatch")
    return buf[off:end]


def _block_entries(block, where):
    if len(block) < 4:
        raise DataLossError(None, None, f"{where}: bad block")
    n_restarts = struct.unpack("<I", block[-4:])[0]
    limit = len(block) - 4 - 4 * n_restarts
    pos, key, out = 0, b"", []
    while pos < limit:
        shared, pos = _read_varint(block, pos, where)
        non_shared, pos = _read_varint(block, pos, where)
        value_len, pos = _read_varint(block, pos, where)
        key = key[:shared] + bytes(block[pos:pos + non_shared])
        pos += non_shared
        out.append((key, bytes(block[pos:pos + value_len])))
        pos += value_len
    if pos != limit:
        raise DataLossError(None, None, f"{where}: corrupt block entries")
    return out
