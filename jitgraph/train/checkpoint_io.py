"""On-disk checkpoint storage under ``tf.train.Saver``: safetensors files, checksummed, crash-safe.

A checkpoint is named by its TF *prefix* (``/dir/model.ckpt-42``); its single data file is
``prefix + ".safetensors"``, a standard safetensors file (readable by ``safetensors.numpy.load_file``,
mmap-able), written and read here with plain NumPy. Nothing is ever pickled or unpickled.

Layout::

    u64 little-endian N | N bytes of UTF-8 JSON header (space-padded to a multiple of 8) | data

The header maps each tensor name to ``{"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}``
(offsets relative to the start of the data; tensors are contiguous, no gaps, sorted by item size
then name so every tensor is naturally aligned). Dtypes: F16 F32 F64 I8 I16 I32 I64 U8 U16 U32 U64
BOOL, always little-endian. ``__metadata__`` is a ``{str: str}`` dict holding the caller's metadata
plus these reserved ``jitgraph.*`` keys:

* ``jitgraph.format``: ``"1"``.
* ``jitgraph.strings``: JSON ``{name: {"shape": [...], "b64": [base64 of each element, row-major]}}``
  -- string (bytes) tensors live here, not in the data section (extension; safetensors has no
  string dtype). They are read back as object arrays of ``bytes``.
* ``jitgraph.sha256``: JSON ``{name: hex sha256 of that tensor's raw bytes}``.
* ``jitgraph.header_sha256``: sha256 of the canonical JSON (``sort_keys``, no spaces) of the whole
  header without this key; it covers shapes, dtypes, offsets, strings and the data checksums.

Reading checks the structure (sizes, offsets, coverage, file length) and the checksums; a
truncated or corrupted file raises ``DataLossError`` naming the file (and the tensor), a missing
file or tensor ``NotFoundError``.

Writes go to a temp file in the same directory, are flushed and fsynced, ``os.replace``-d onto the
final name and the directory is fsynced, so a crash at any moment leaves either the old complete
file or the new complete file. The ``checkpoint`` state file (TF's text-proto form,
``model_checkpoint_path: "model.ckpt-42"``, paths relative to its directory) is written the same way.

``latest_checkpoint(dir)`` follows TF: no (or unparseable) state file -> ``None`` (no directory
scan, so unrelated files are never picked up). Otherwise it returns the newest listed prefix whose
data file is structurally complete (``model_checkpoint_path`` first, then
``all_model_checkpoint_paths`` newest first), else ``None``. The full checksum pass happens on read.
"""
import base64
import hashlib
import json
import os
import re
import struct

import numpy as np

from jitgraph.errors import DataLossError, InvalidArgumentError, NotFoundError
from jitgraph.files import atomic_write

SUFFIX = ".safetensors"
_RESERVED = "jitgraph."
_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4",
           "I64": "<i8", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}
_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024


def data_path(prefix):
    """The data file of checkpoint ``prefix`` (a path already ending in ``.safetensors`` is kept)."""
    prefix = os.fspath(prefix)
    return prefix if prefix.endswith(SUFFIX) else prefix + SUFFIX


def _canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _to_bytes(x):
    if isinstance(x, (bytes, str)):
        return x.encode("utf-8") if isinstance(x, str) else bytes(x)
    raise InvalidArgumentError(None, None, f"string tensor element must be bytes or str, got {type(x).__name__}")


def write_checkpoint(prefix, tensors, metadata=None):
    """Write ``{name: array}`` (plus ``{str: str}`` metadata) as checkpoint ``prefix``, atomically."""
    entries, strings, sums, blobs, numeric = {}, {}, {}, [], []
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise InvalidArgumentError(None, None, f"invalid tensor name {name!r}")
        a = np.asarray(value)
        if a.dtype.kind in "SUO":
            strings[name] = {"shape": list(a.shape),
                             "b64": [base64.b64encode(_to_bytes(x)).decode("ascii") for x in a.reshape(-1).tolist()]}
        else:
            code = _CODES.get(a.dtype.newbyteorder("=").str)
            if code is None:
                raise InvalidArgumentError(None, None, f"tensor {name!r}: unsupported dtype {a.dtype}")
            numeric.append((-a.dtype.itemsize, name, code, a))
    offset = 0
    for _, name, code, a in sorted(numeric, key=lambda t: t[:2]):
        raw = np.ascontiguousarray(a, dtype=np.dtype(_DTYPES[code])).reshape(-1).view(np.uint8)
        entries[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + raw.size]}
        sums[name] = hashlib.sha256(raw).hexdigest()
        blobs.append(raw)
        offset += raw.size
    meta = {}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str) or k.startswith(_RESERVED):
            raise InvalidArgumentError(None, None, f"invalid metadata entry {k!r}: {v!r}")
        meta[k] = v
    meta.update({"jitgraph.format": "1", "jitgraph.strings": json.dumps(strings, sort_keys=True),
                 "jitgraph.sha256": json.dumps(sums, sort_keys=True)})
    header = dict(entries, __metadata__=meta)
    meta["jitgraph.header_sha256"] = hashlib.sha256(_canon(header)).hexdigest()
    hbytes = json.dumps(header, ensure_ascii=False).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)
    atomic_write(data_path(prefix), [struct.pack("<Q", len(hbytes)), hbytes] + blobs)
    return os.fspath(prefix)


class _Header:
    """Parsed and structurally validated header of one data file."""

    def __init__(self, path):
        self.path = path
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            raise NotFoundError(None, None, f"Checkpoint not found: {path}") from None
        except OSError as e:
            raise NotFoundError(None, None, f"Cannot open checkpoint {path}: {e}") from None
        with f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                self._fail(f"file is truncated ({size} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > min(size - 8, _MAX_HEADER):
                self._fail(f"header length {n} exceeds the file size {size} (truncated?)")
            try:
                header = json.loads(f.read(n).decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                self._fail(f"header is not valid JSON ({e})")
        self.data_start = 8 + n
        try:
            self._parse(header, size - self.data_start)
        except DataLossError:
            raise
        except Exception as e:  # any malformed structure (wrong types, missing keys, ...)
            self._fail(f"malformed header ({type(e).__name__}: {e})")

    def _fail(self, msg, name=None):
        where = f", tensor {name!r}" if name is not None else ""
        raise DataLossError(None, None, f"Corrupt checkpoint {self.path}{where}: {msg}")

    def _parse(self, header, data_len):
        if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
            self._fail("header has no __metadata__ dict")
        meta = dict(header["__metadata__"])
        if meta.get("jitgraph.format") != "1":
            self._fail(f"not a jitgraph checkpoint (format {meta.get('jitgraph.format')!r})")
        want = meta.pop("jitgraph.header_sha256", None)
        if want != hashlib.sha256(_canon(dict(header, __metadata__=meta))).hexdigest():
            self._fail("header checksum mismatch")
        self.strings = json.loads(meta.pop("jitgraph.strings"))
        self.sums = json.loads(meta.pop("jitgraph.sha256"))
        meta.pop("jitgraph.format")
        self.metadata = meta
        self.entries, spans = {}, []
        for name, e in header.items():
            if name == "__metadata__":
                continue
            if e["dtype"] not in _DTYPES:
                self._fail(f"unsupported dtype {e['dtype']!r}", name)
            dt = np.dtype(_DTYPES[e["dtype"]])
            shape = tuple(int(d) for d in e["shape"])
            b, end = (int(x) for x in e["data_offsets"])
            if min(shape, default=0) < 0 or end - b != dt.itemsize * int(np.prod(shape, dtype=np.int64)):
                self._fail(f"offsets {[b, end]} do not match shape {list(shape)} of {e['dtype']}", name)
            if name not in self.sums or name in self.strings:
                self._fail("no checksum recorded", name)
            self.entries[name] = (dt, shape, b, end)
            spans.append((b, end, name))
        for name, s in self.strings.items():
            if len(s["b64"]) != int(np.prod(s["shape"], dtype=np.int64)):
                self._fail("string element count does not match its shape", name)
        pos = 0
        for b, end, name in sorted(spans):
            if b != pos:
                self._fail(f"data offsets are not contiguous at {b} (expected {pos})", name)
            pos = end
        if pos != data_len:
            self._fail(f"data section is {data_len} bytes, header describes {pos} (truncated?)")

    def names(self):
        return sorted(list(self.entries) + list(self.strings))

    def read(self, names):
        out = {}
        with open(self.path, "rb") as f:
            for name in names:
                if name in self.strings:
                    s = self.strings[name]
                    try:
                        elems = [base64.b64decode(x, validate=True) for x in s["b64"]]
                    except (ValueError, TypeError) as e:
                        self._fail(f"bad string data ({e})", name)
                    arr = np.empty(len(elems), dtype=object)
                    arr[:] = elems
                    out[name] = arr.reshape(s["shape"])
                    continue
                if name not in self.entries:
                    raise NotFoundError(None, None, f"Tensor {name!r} not found in checkpoint {self.path}")
                dt, shape, b, end = self.entries[name]
                buf = bytearray(end - b)
                f.seek(self.data_start + b)
                if f.readinto(buf) != len(buf):
                    self._fail("data is truncated", name)
                if hashlib.sha256(buf).hexdigest() != self.sums[name]:
                    self._fail("data checksum mismatch", name)
                out[name] = np.frombuffer(buf, dtype=dt).reshape(shape).astype(dt.newbyteorder("="), copy=False)
        return out


def read_checkpoint(prefix, names=None):
    """``{name: array}`` for all (or the given) tensors of checkpoint ``prefix``, checksums verified."""
    h = _Header(data_path(prefix))
    return h.read(h.names() if names is None else list(names))


def read_tensor(prefix, name):
    return read_checkpoint(prefix, [name])[name]


def read_metadata(prefix):
    """The caller's ``{str: str}`` metadata given to ``write_checkpoint`` (reserved keys removed)."""
    return dict(_Header(data_path(prefix)).metadata)


def tensor_specs(prefix):
    """``{name: (np.dtype, shape list)}``; string tensors have dtype ``object``."""
    h = _Header(data_path(prefix))
    specs = {n: (dt.newbyteorder("="), list(shape)) for n, (dt, shape, _, _) in h.entries.items()}
    specs.update({n: (np.dtype(object), list(s["shape"])) for n, s in h.strings.items()})
    return dict(sorted(specs.items()))


def list_tensors(prefix):
    """``[(name, shape list)]`` sorted by name, like ``tf.train.list_variables``."""
    return [(n, shape) for n, (_, shape) in tensor_specs(prefix).items()]


def checkpoint_exists(prefix):
    """True if the data file of ``prefix`` exists and is structurally complete (no checksum pass)."""
    try:
        _Header(data_path(prefix))
        return True
    except (NotFoundError, DataLossError):
        return False


def remove_checkpoint(prefix):
    """Delete the data file of ``prefix`` and any temp files a crashed write of it left behind."""
    path = data_path(prefix)
    directory, base = os.path.split(os.path.abspath(path))
    stale = [os.path.join(directory, f) for f in os.listdir(directory)
             if f.startswith("." + base + ".") and f.endswith(".tmp")] if os.path.isdir(directory) else []
    for p in [path] + stale:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


# ---- the ``checkpoint`` state file ------------------------------------------------------------


class CheckpointState:
    """TF's ``CheckpointState``: absolute ``model_checkpoint_path`` and ``all_model_checkpoint_paths``."""

    def __init__(self, model_checkpoint_path, all_model_checkpoint_paths):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)


def _rel(save_dir, path):
    path = os.fspath(path)
    if not os.path.isabs(path):
        return path
    rel = os.path.relpath(path, save_dir)
    return path if rel.startswith(os.pardir) else rel


def update_checkpoint_state(save_dir, model_checkpoint_path, all_model_checkpoint_paths=None,
                            latest_filename="checkpoint"):
    """Atomically write the state file; ``model_checkpoint_path`` is made the last of the list."""
    save_dir = os.fspath(save_dir)
    paths = [p for p in (all_model_checkpoint_paths or []) if os.fspath(p) != os.fspath(model_checkpoint_path)]
    paths.append(model_checkpoint_path)
    q = lambda p: json.dumps(_rel(save_dir, p), ensure_ascii=False)  # noqa: E731
    text = f"model_checkpoint_path: {q(model_checkpoint_path)}\n"
    text += "".join(f"all_model_checkpoint_paths: {q(p)}\n" for p in paths)
    atomic_write(os.path.join(save_dir, latest_filename or "checkpoint"), [text.encode("utf-8")])


_LINE = re.compile(r'^\s*(\w+)\s*:\s*("(?:[^"\\]|\\.)*")\s*$')


def get_checkpoint_state(checkpoint_dir, latest_filename="checkpoint"):
    """The parsed state file with absolute paths, or None if it is missing or unparseable."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    try:
        with open(os.path.join(checkpoint_dir, latest_filename or "checkpoint"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    model, paths = None, []
    for line in lines:
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            continue  # other TF fields (timestamps) or garbage
        try:
            value = json.loads(m.group(2))
        except ValueError:
            return None
        value = value if os.path.isabs(value) else os.path.join(checkpoint_dir, value)
        if m.group(1) == "model_checkpoint_path":
            model = value
        elif m.group(1) == "all_model_checkpoint_paths":
            paths.append(value)
    if not model:
        return None
    return CheckpointState(model, paths)


def latest_checkpoint(checkpoint_dir, latest_filename="checkpoint", exists=None):
    """Prefix of the newest complete checkpoint listed in the state file, or None (see module doc).
    ``exists(prefix)`` says whether a listed prefix is complete (default: this module's format)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename or "checkpoint")
    if state is None:
        return None
    for prefix in [state.model_checkpoint_path] + state.all_model_checkpoint_paths[::-1]:
        if (exists or checkpoint_exists)(prefix):
            return prefix
    return None
