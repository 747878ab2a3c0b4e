"""TensorFlow's V2 checkpoint format ("tensor bundle"), read and written without TensorFlow.

A checkpoint ``prefix`` is ``prefix.index`` — a sorted string table (``tf_checkpoint_table``)
mapping ``""`` to a ``BundleHeaderProto`` and each tensor name to a ``BundleEntryProto`` (dtype,
shape, shard, offset, size, masked CRC32C) — and ``prefix.data-NNNNN-of-MMMMM`` shards of raw
little-endian tensor bytes. A string tensor is stored as varint64 lengths, a masked CRC32C of those
lengths (as u32 each), then the bytes; its entry's CRC covers lengths, that checksum and bytes.

The two messages are described here to the ``protobuf`` runtime (a ``FileDescriptorProto``
built in code, reusing TensorBoard's ``DataType``/``TensorShapeProto``/``VersionDef``), so encoding
is protobuf's own. Writing is what TF's ``BundleWriter`` does for one shard (tensors in name order,
no padding), so TF 2.21 restores what jitgraph saves (``tests/oracle/record_tb_checkpoint.py``).
Partitioned (sliced) variables are not supported: reading one raises ``UnimplementedError``.
Functions mirror ``checkpoint_io`` so ``Saver`` can use either format.
"""

import functools
import os
import struct

import numpy as np

from jitgraph import dtypes
from jitgraph.errors import DataLossError, InvalidArgumentError, NotFoundError, UnimplementedError
from jitgraph.files import atomic_write, fsync_dir
from jitgraph.framework.tensor_proto import datatype_enum, dtype_from_enum, shape_from_proto, shape_proto
from jitgraph.framework.tf_protos import protos
from jitgraph.summary.records import crc32c, mask, unmask
from jitgraph.train.tf_checkpoint_table import _read_varint, _varint, build_table, read_table

INDEX_SUFFIX = ".index"


def index_path(prefix):
    return os.fspath(prefix) + INDEX_SUFFIX


def data_file(prefix, shard=0, num_shards=1):
    return f"{os.fspath(prefix)}.data-{shard:05d}-of-{num_shards:05d}"


def saver_format(format, write_version):
    """The checkpoint format a ``Saver(format=, write_version=)`` writes: "jitgraph" or "tensorflow"."""
    if write_version in (1, "V1"):
        raise ValueError("TensorFlow's V1 checkpoint format is not supported; use write_version=SaverDef.V2 "
                         "or format='tensorflow'")
    if format is None:
        return "tensorflow" if write_version in (2, "V2") else "jitgraph"
    if format not in ("jitgraph", "tensorflow"):
        raise ValueError(f"Saver format must be 'jitgraph' or 'tensorflow', got {format!r}")
    return format


def is_tf_checkpoint(prefix):
    """True if ``prefix`` names a TF-format checkpoint (its ``.index`` exists)."""
    return os.path.exists(index_path(prefix))


@functools.lru_cache(maxsize=1)
def messages():
    """``(BundleHeaderProto, BundleEntryProto)`` classes, built from their field list."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    p = protos()
    fdp = descriptor_pb2.FileDescriptorProto(name="jitgraph/tensor_bundle.proto", package="jitgraph.bundle",
                                             syntax="proto3")
    fdp.dependency.extend([p.types.DESCRIPTOR.name, p.tensor_shape.DESCRIPTOR.name, p.versions.DESCRIPTOR.name])
    F = descriptor_pb2.FieldDescriptorProto

    def field(msg, name, number, ftype, type_name=None, repeated=False):
        f = msg.field.add(name=name, number=number, type=ftype,
                          label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
        if type_name:
            f.type_name = type_name

    header = fdp.message_type.add(name="BundleHeaderProto")
    header.enum_type.add(name="Endianness").value.extend(
        [descriptor_pb2.EnumValueDescriptorProto(name="LITTLE", number=0),
         descriptor_pb2.EnumValueDescriptorProto(name="BIG", number=1)])
    field(header, "num_shards", 1, F.TYPE_INT32)
    field(header, "endianness", 2, F.TYPE_ENUM, ".jitgraph.bundle.BundleHeaderProto.Endianness")
    field(header, "version", 3, F.TYPE_MESSAGE, ".tensorboard.VersionDef")
    slice_ = fdp.message_type.add(name="TensorSliceProto")
    extent = slice_.nested_type.add(name="Extent")
    field(extent, "start", 1, F.TYPE_INT64)
    field(extent, "length", 2, F.TYPE_INT64)
    field(slice_, "extent", 1, F.TYPE_MESSAGE, ".jitgraph.bundle.TensorSliceProto.Extent", repeated=True)
    entry = fdp.message_type.add(name="BundleEntryProto")
    field(entry, "dtype", 1, F.TYPE_ENUM, ".tensorboard.DataType")
    field(entry, "shape", 2, F.TYPE_MESSAGE, ".tensorboard.TensorShapeProto")
    field(entry, "shard_id", 3, F.TYPE_INT32)
    field(entry, "offset", 4, F.TYPE_INT64)
    field(entry, "size", 5, F.TYPE_INT64)
    field(entry, "crc32c", 6, F.TYPE_FIXED32)
    field(entry, "slices", 7, F.TYPE_MESSAGE, ".jitgraph.bundle.TensorSliceProto", repeated=True)
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(fdp.name)
    except KeyError:
        pool.AddSerializedFile(fdp.SerializeToString())
    return tuple(message_factory.GetMessageClass(pool.FindMessageTypeByName(f"jitgraph.bundle.{n}"))
                 for n in ("BundleHeaderProto", "BundleEntryProto"))


# ---- write ---------------------------------------------------------------------------------------------
def _string_bytes(arr, name):
    items = [x.encode("utf-8") if isinstance(x, str) else x for x in np.asarray(arr, dtype=object).reshape(-1)]
    if not all(isinstance(x, bytes) for x in items):
        raise InvalidArgumentError(None, None, f"string tensor '{name}' holds non-string elements")
    crc = 0
    for x in items:
        crc = crc32c(struct.pack("<I", len(x)) if len(x) <= 0xFFFFFFFF else struct.pack("<Q", len(x)), crc)
    length_sum = struct.pack("<I", mask(crc))
    crc = crc32c(length_sum, crc)
    for x in items:
        crc = crc32c(x, crc)
    return b"".join([_varint(len(x)) for x in items] + [length_sum] + items), crc


def write_checkpoint(prefix, tensors):
    """Write ``{name: array}`` as TF checkpoint ``prefix`` (one data shard), each file atomically:
    the data file first, the index last, so an index always describes a complete data file."""
    header_cls, entry_cls = messages()
    prefix = os.fspath(prefix)
    blobs, entries, offset = [], [], 0
    for name in sorted(tensors, key=lambda n: n.encode("utf-8")):
        arr = np.asarray(tensors[name])
        dtype = dtypes.as_dtype(arr.dtype)
        if dtype == dtypes.string:
            blob, crc = _string_bytes(arr, name)
        else:
            blob = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
            crc = crc32c(blob)
        entries.append((name.encode("utf-8"), entry_cls(dtype=datatype_enum(dtype), shape=shape_proto(arr.shape),
                                                        offset=offset, size=len(blob), crc32c=mask(crc))))
        blobs.append(blob)
        offset += len(blob)
    header = header_cls(num_shards=1)
    header.version.producer = 1
    table = build_table([(b"", header.SerializeToString())] +
                        [(k, e.SerializeToString()) for k, e in entries])
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    atomic_write(data_file(prefix), blobs)
    atomic_write(index_path(prefix), [table])
    fsync_dir(os.path.dirname(os.path.abspath(prefix)))


# ---- read ----------------------------------------------------------------------------------------------
class _Bundle:
    """The parsed index of one checkpoint."""

    def __init__(self, prefix):
        header_cls, entry_cls = messages()
        self.prefix = os.fspath(prefix)
        path = index_path(prefix)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise NotFoundError(None, None, f"Unsuccessful TensorSliceReader constructor: Failed to find any "
                                            f"matching files for {prefix}") from None
        items = read_table(raw, path)
        if not items or items[0][0] != b"":
            raise DataLossError(None, None, f"{path}: no header entry")
        try:
            self.header = header_cls.FromString(items[0][1])
            self.entries = {k.decode("utf-8"): entry_cls.FromString(v) for k, v in items[1:]}
        except Exception as e:   # noqa: BLE001 - protobuf's DecodeError
            raise DataLossError(None, None, f"{path}: unparseable entry ({e})") from None
        if self.header.endianness != 0:
            raise UnimplementedError(None, None, f"{path}: big-endian checkpoints are not supported")

    def spec(self, name):
        e = self.entries[name]
        shape = tuple(shape_from_proto(e.shape).as_list())
        return e.dtype, shape

    def read(self, name):
        e = self.entries.get(name)
        if e is None:
            raise NotFoundError(None, None, f"Key {name} not found in checkpoint {self.prefix}")
        if len(e.slices):
            raise UnimplementedError(None, None, f"tensor '{name}' of {self.prefix} is saved in slices "
                                                 f"(a partitioned variable): jitgraph does not read those")
        dtype = dtype_from_enum(e.dtype, f"tensor '{name}' of checkpoint {self.prefix}")
        shape = tuple(shape_from_proto(e.shape).as_list())
        path = data_file(self.prefix, e.shard_id, self.header.num_shards)
        try:
            with open(path, "rb") as f:
                f.seek(e.offset)
                blob = f.read(e.size)
        except FileNotFoundError:
            raise NotFoundError(None, None, f"data file {path} of checkpoint {self.prefix} is missing") from None
        if len(blob) != e.size:
            raise DataLossError(None, None, f"{path}: truncated data for tensor '{name}'")
        where = f"tensor '{name}' in {path}"
        if dtype == dtypes.string:
            value, crc = _parse_strings(blob, int(np.prod(shape, dtype=np.int64)), where)
            value = value.reshape(shape)
        else:
            crc = crc32c(blob)
            n = int(np.prod(shape, dtype=np.int64)) * dtype.as_np.itemsize
            if n != e.size:
                raise DataLossError(None, None, f"{where}: size {e.size} does not match shape {list(shape)}")
            value = np.frombuffer(blob, dtype=dtype.as_np.newbyteorder("<")).astype(dtype.as_np).reshape(shape)
        if crc != unmask(e.crc32c):
            raise DataLossError(None, None, f"Checksum does not match: stored {unmask(e.crc32c):08x} vs. "
                                            f"calculated on the restored bytes {crc:08x} ({where})")
        return value


def _parse_strings(blob, n, where):
    lengths, pos, crc = [], 0, 0
    for _ in range(n):
        length, pos = _read_varint(blob, pos, where)
        lengths.append(length)
        crc = crc32c(struct.pack("<I", length) if length <= 0xFFFFFFFF else struct.pack("<Q", length), crc)
    if pos + 4 > len(blob) or unmask(struct.unpack("<I", blob[pos:pos + 4])[0]) != crc:
        raise DataLossError(None, None, f"{where}: the length checksum does not match")
    crc = crc32c(blob[pos:pos + 4], crc)
    pos += 4
    out = np.empty(n, dtype=object)
    for i, length in enumerate(lengths):
        out[i] = bytes(blob[pos:pos + length])
        crc = crc32c(out[i], crc)
        pos += length
    return out, crc


def tensor_specs(prefix):
    """``{name: (dtype name, shape)}`` of the tensors in ``prefix`` (unsupported dtypes by TF name)."""
    bundle = _Bundle(prefix)
    out = {}
    for name in bundle.entries:
        enum, shape = bundle.spec(name)
        try:
            out[name] = (dtype_from_enum(enum).name, shape)
        except TypeError:
            out[name] = (protos().types.DataType.Name(enum), shape)
    return out


def list_tensors(prefix):
    return sorted((n, list(s)) for n, (_, s) in tensor_specs(prefix).items())


def read_checkpoint(prefix, names=None):
    bundle = _Bundle(prefix)
    return {n: bundle.read(n) for n in (names if names is not None else bundle.entries)}


def read_tensor(prefix, name):
    return _Bundle(prefix).read(name)


def checkpoint_exists(prefix):
    """True if the index of ``prefix`` parses and every data shard it names exists."""
    try:
        bundle = _Bundle(prefix)
    except (NotFoundError, DataLossError, UnimplementedError):
        return False
    return all(os.path.exists(data_file(prefix, i, bundle.header.num_shards))
               for i in range(bundle.header.num_shards))


def remove_checkpoint(prefix):
    """Delete the index and data shards of ``prefix``."""
    directory, base = os.path.split(os.path.abspath(os.fspath(prefix)))
    if not os.path.isdir(directory):
        return
    for f in os.listdir(directory):
        if f == base + INDEX_SUFFIX or f.startswith(base + ".data-"):
            try:
                os.unlink(os.path.join(directory, f))
            except FileNotFoundError:
                pass
