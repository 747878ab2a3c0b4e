"""Files and image codecs: ``tf.read_file``/``tf.io.write_file`` and ``tf.image.decode_jpeg``,
``decode_png``, ``decode_bmp``, ``decode_gif``, ``decode_image``, ``encode_png``,
``encode_jpeg``, running Pillow (the ``jitgraph[image]`` extra) at run time.

Contents are scalar ``tf.string`` tensors (Python ``bytes``). Decoded images are uint8 (or uint16
for 16-bit PNGs) ``[height, width, channels]``, GIFs ``[frames, height, width, 3]``. PNG, BMP and
GIF decode exactly as TF does; JPEG goes through the libjpeg that Pillow ships, whose inverse DCT
may differ from TF's by a level or two in some pixels. A file that is missing, or bytes that are
not an image of the expected kind, raise ``NotFoundError``/``InvalidArgumentError`` when run.
"""

import io

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import no_gradient
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["read_file", "write_file"]


def pillow():
    """The ``PIL.Image`` module, or an ImportError that says how to get it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("jitgraph's image codecs need Pillow: pip install 'jitgraph[image]'") from None
    return Image


def _string_input(op_type):
    def check(t, what="contents"):
        if t.dtype.base_dtype != dtypes.string:
            raise TypeError(f"{op_type}: {what} must be a tf.string tensor, got {t.dtype.base_dtype.name}")
        if t.shape.ndims not in (None, 0):
            raise ValueError(f"{op_type}: {what} must be a scalar, got shape {t.shape}")
    return check


def _string_tensor(v):
    """A Python string as a string constant; a tensor as it is (its op's rule checks the dtype)."""
    return convert_to_tensor(v) if hasattr(v, "dtype") else convert_to_tensor(v, dtypes.string)


def _as_bytes(v):
    v = v[()] if isinstance(v, np.ndarray) else v
    return v.encode() if isinstance(v, str) else bytes(v)


# ---- ReadFile, WriteFile ---------------------------------------------------------------------------
def _read_run(ctx, op, ins):
    path = _as_bytes(ins[0]).decode()
    try:
        with open(path, "rb") as f:
            return [np.array(f.read(), dtype=object)]
    except FileNotFoundError:
        raise errors.NotFoundError(None, op, f"{path}; No such file or directory") from None
    except IsADirectoryError:
        raise errors.FailedPreconditionError(None, op, f"{path}; Is a directory") from None


def _write_run(ctx, op, ins):
    path = _as_bytes(ins[0]).decode()
    try:
        with open(path, "wb") as f:
            f.write(_as_bytes(ins[1]))
    except FileNotFoundError:
        raise errors.NotFoundError(None, op, f"{path}; No such file or directory") from None
    return []


def _read_infer(ins, a):
    _string_input("ReadFile")(ins[0], "filename")
    return [(dtypes.string, TensorShape([]))]


def _write_infer(ins, a):
    _string_input("WriteFile")(ins[0], "filename")
    _string_input("WriteFile")(ins[1])
    return []


# stateful: a file is read (written) on every run, never folded into a constant
define_op("ReadFile", _read_infer, kind="library", stateful=True, run=_read_run, grad=no_gradient)
define_op("WriteFile", _write_infer, kind="library", stateful=True, run=_write_run, grad=no_gradient)


def read_file(filename, name=None):
    """The bytes of file ``filename`` as a scalar string tensor, read on every run."""
    return make_op("ReadFile", [_string_tensor(filename)], {}, name or "ReadFile").outputs[0]


def write_file(filename, contents, name=None):
    """An op that writes the string ``contents`` to file ``filename`` when run."""
    ts = [_string_tensor(filename), _string_tensor(contents)]
    return make_op("WriteFile", ts, {}, name or "WriteFile")


# ---- decoding ----------------------------------------------------------------------------------------
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG", b"GIF8": "GIF", b"BM": "BMP"}


def _kind(data):
    return next((k for magic, k in _MAGIC.items() if data.startswith(magic)), None)


def _open(data, op_type, expect):
    kind = _kind(data)
    if expect is not None and kind not in expect:
        want = " or ".join(expect)
        raise errors.InvalidArgumentError(None, None, f"{op_type}: the contents are not a {want} image")
    if kind is None:
        raise errors.InvalidArgumentError(None, None, f"{op_type}: unknown image format; expected JPEG, PNG, GIF or "
                                                      "BMP")
    try:
        img = pillow().open(io.BytesIO(data))
        if kind != "JPEG":   # a JPEG is loaded after choosing libjpeg's output mode and scale
            img.load()
        return img, kind
    except (OSError, ValueError) as e:
        raise errors.InvalidArgumentError(None, None, f"{op_type}: cannot decode the {kind} image: {e}") from None


def _pixels(img, channels, dtype, kind=None):
    """``img`` as an ``[h, w, c]`` array of ``dtype`` (uint8 or uint16) with ``channels`` (0: as stored)."""
    wide = img.mode.startswith("I")            # 16-bit grayscale PNG
    if wide:
        arr = np.asarray(img).astype(np.uint16)[..., None]
        if channels in (3, 4):
            arr = np.concatenate([arr] * 3 + ([np.full_like(arr, 65535)] if channels == 4 else []), axis=-1)
        elif channels == 2:
            arr = np.concatenate([arr, np.full_like(arr, 65535)], axis=-1)
    elif kind == "PNG" and channels in (1, 2) and img.mode not in ("L", "LA", "1"):
        rgba = np.asarray(img.convert("RGBA")).astype(np.uint32)
        # libpng's rgb_to_gray (what TF runs): weights 0.299/0.587 in 1/32768ths, truncated
        gray = (rgba[..., 0] * 9797 + rgba[..., 1] * 19234 + rgba[..., 2] * 3737) >> 15
        arr = np.stack([gray, rgba[..., 3]] if channels == 2 else [gray], -1).astype(np.uint8)
    else:
        mode = _MODES.get(channels) or {"P": "RGBA" if "transparency" in img.info else "RGB", "1": "L",
                                        "CMYK": "RGB", "YCbCr": "RGB", "PA": "RGBA"}.get(img.mode, img.mode)
        arr = np.asarray(img.convert(mode) if img.mode != mode else img)
        arr = arr.reshape(arr.shape[:2] + (-1,))
    if dtype == dtypes.uint16 and not wide:
        return arr.astype(np.uint16) * 257
    if dtype == dtypes.uint8 and wide:
        return (arr >> 8).astype(np.uint8)
    return arr.astype(dtype.as_np)


def _decode_jpeg(data, channels, ratio, op_type):
    img, _ = _open(data, op_type, ("JPEG",))
    size = (-(-img.size[0] // ratio), -(-img.size[1] // ratio))
    if channels == 1 or ratio > 1:   # libjpeg's own grayscale output and DCT scaling, as TF uses them
        img.draft("L" if channels == 1 else img.mode, size)
    try:
        img.load()
    except OSError as e:
        raise errors.InvalidArgumentError(None, None, f"{op_type}: cannot decode the JPEG image: {e}") from None
    if img.size != size:
        img = img.resize(size)
    return _pixels(img, channels, dtypes.uint8)


def _decode_run(ctx, op, ins):
    a = op.attrs
    data = _as_bytes(ins[0])
    kind = _kind(data)
    if op.type == "DecodeJpeg" or (op.type == "DecodeImage" and kind == "JPEG"):
        return [_decode_jpeg(data, a["channels"], a.get("ratio", 1), op.type)]
    expect = {"DecodePng": ("PNG",), "DecodeBmp": ("BMP",), "DecodeGif": ("GIF",)}.get(op.type)
    img, kind = _open(data, op.type, expect)
    if kind == "GIF" and (op.type == "DecodeGif" or a.get("expand_animations", True)):
        frames = []
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            frames.append(np.asarray(img.convert("RGB")))
        out = np.stack(frames)
        return [out if op.type == "DecodeGif" else out.astype(a["dtype"].as_np)]
    return [_pixels(img, a["channels"], a["dtype"], kind)]


def _decode_infer(op_type):
    def infer(ins, a):
        _string_input(op_type)(ins[0])
        c = a.get("channels", 0) or None
        if op_type == "DecodeGif":
            return [(dtypes.uint8, [None, None, None, 3])]
        shape = TensorShape(None) if op_type == "DecodeImage" and a.get("expand_animations", True) \
            else TensorShape([None, None, c])
        return [(a["dtype"], shape)]
    return infer


define_op("IsJpeg", lambda ins, a: [_string_input("IsJpeg")(ins[0]) or (dtypes.bool, TensorShape([]))],
          lambda contents: np.array(_kind(_as_bytes(contents)) == "JPEG"), kind="library", grad=no_gradient)
for _t in ("DecodeJpeg", "DecodePng", "DecodeBmp", "DecodeGif", "DecodeImage"):
    define_op(_t, _decode_infer(_t), kind="library", run=_decode_run, grad=no_gradient)


def decode(op_type, contents, channels, dtype, name, **attrs):
    """Build a decoder op (the ``tf.image.decode_*`` functions in ``jitgraph/image`` call this)."""
    pillow()   # fail while building the graph if Pillow is missing
    if channels not in (0, 1, 2, 3, 4):
        raise ValueError(f"{op_type}: channels must be 0, 1, 2, 3 or 4, got {channels}")
    attrs.update(channels=int(channels), dtype=dtypes.as_dtype(dtype))
    return make_op(op_type, [_string_tensor(contents)], attrs, name or op_type).outputs[0]


# ---- encoding ------------------------------------------------------------------------------------------
def _encode_run(ctx, op, ins):
    image = ins[0]
    c = image.shape[-1]
    if c not in (1, 2, 3, 4) or (op.type == "EncodeJpeg" and c not in (1, 3)):
        raise errors.InvalidArgumentError(None, op, f"{op.type}: image must have 1-4 channels (JPEG: 1 or 3), got {c}")
    buf = io.BytesIO()
    a = op.attrs
    if image.dtype == np.uint16 and c != 1:
        raise errors.InvalidArgumentError(None, op, "EncodePng: only 1-channel uint16 images can be written")
    img = pillow().fromarray(np.ascontiguousarray(image[..., 0] if c == 1 else image))   # mode from shape and dtype
    if op.type == "EncodePng":
        level = a["compression"]
        img.save(buf, format="PNG", compress_level=6 if level == -1 else level)
    else:
        img.save(buf, format="JPEG", quality=a["quality"], progressive=a["progressive"],
                 optimize=a["optimize_size"], subsampling=2 if a["chroma_downsampling"] else 0,
                 dpi=(a["x_density"], a["y_density"]))
    return [np.array(buf.getvalue(), dtype=object)]


def _encode_infer(op_type, allowed):
    def infer(ins, a):
        img = ins[0]
        if img.dtype.base_dtype not in allowed:
            raise TypeError(f"{op_type}: image must be {' or '.join(d.name for d in allowed)}, got "
                            f"{img.dtype.base_dtype.name}")
        if img.shape.ndims not in (None, 3):
            raise ValueError(f"{op_type}: image must be 3-dimensional [height, width, channels], got {img.shape}")
        return [(dtypes.string, TensorShape([]))]
    return infer


define_op("EncodePng", _encode_infer("EncodePng", (dtypes.uint8, dtypes.uint16)), kind="library", stateful=False,
          run=_encode_run, grad=no_gradient)
define_op("EncodeJpeg", _encode_infer("EncodeJpeg", (dtypes.uint8,)), kind="library", run=_encode_run,
          grad=no_gradient)


def encode(op_type, image, name, **attrs):
    """Build an encoder op (``tf.image.encode_png``/``encode_jpeg`` call this)."""
    pillow()
    return make_op(op_type, [convert_to_tensor(image)], attrs, name or op_type).outputs[0]
