"""``tf.image``: resizing, flips and crops, colour adjustments, and JPEG/PNG/GIF/BMP codecs
(through Pillow: ``pip install 'jitgraph[image]'``)."""

from jitgraph.image.color import *  # noqa: F401,F403
from jitgraph.image.geometry import *  # noqa: F401,F403
from jitgraph.image.resize import *  # noqa: F401,F403
from jitgraph.ops import image_codec_ops as _codecs
from jitgraph.ops.image_codec_ops import read_file, write_file  # noqa: F401
from jitgraph import dtypes as _dtypes
from jitgraph.image.geometry import resize_image_with_crop_or_pad as resize_with_crop_or_pad  # noqa: F401
from jitgraph.image.geometry import transpose_image as transpose  # noqa: F401


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                acceptable_fraction=1, dct_method="", name=None):
    """A JPEG file's bytes as a uint8 ``[height, width, channels]`` image (``channels`` 0: as stored,
    1: grayscale, 3: RGB); ``ratio`` (1, 2, 4, 8) downscales while decoding."""
    if ratio not in (1, 2, 4, 8):
        raise ValueError(f"decode_jpeg: ratio must be 1, 2, 4 or 8, got {ratio}")
    if channels not in (0, 1, 3):
        raise ValueError(f"decode_jpeg: channels must be 0, 1 or 3, got {channels}")
    return _codecs.decode("DecodeJpeg", contents, channels, _dtypes.uint8, name, ratio=int(ratio))


def decode_png(contents, channels=0, dtype=_dtypes.uint8, name=None):
    """A PNG file's bytes as a ``[height, width, channels]`` image of ``dtype`` (uint8 or uint16)."""
    if _dtypes.as_dtype(dtype) not in (_dtypes.uint8, _dtypes.uint16):
        raise TypeError(f"decode_png: dtype must be uint8 or uint16, got {_dtypes.as_dtype(dtype).name}")
    return _codecs.decode("DecodePng", contents, channels, dtype, name)


def decode_bmp(contents, channels=0, name=None):
    """A BMP file's bytes as a uint8 ``[height, width, channels]`` image."""
    return _codecs.decode("DecodeBmp", contents, channels, _dtypes.uint8, name)


def decode_gif(contents, name=None):
    """A GIF file's bytes as uint8 RGB frames ``[frames, height, width, 3]``."""
    return _codecs.decode("DecodeGif", contents, 0, _dtypes.uint8, name)


def decode_image(contents, channels=None, dtype=_dtypes.uint8, name=None, expand_animations=True):
    """Any of JPEG, PNG, GIF or BMP bytes as an image (a GIF as frames, unless
    ``expand_animations=False``: its first frame). A float ``dtype`` rescales to ``[0, 1]``."""
    dtype = _dtypes.as_dtype(dtype)
    raw = dtype if dtype in (_dtypes.uint8, _dtypes.uint16) else _dtypes.uint8
    img = _codecs.decode("DecodeImage", contents, channels or 0, raw, name, expand_animations=bool(expand_animations))
    return img if raw == dtype else convert_image_dtype(img, dtype)


def encode_png(image, compression=-1, name=None):
    """A uint8 (or one-channel uint16) ``[height, width, channels]`` image as PNG bytes;
    ``compression`` 0-9 (-1: the default)."""
    if not -1 <= compression <= 9:
        raise ValueError(f"encode_png: compression must be in [-1, 9], got {compression}")
    return _codecs.encode("EncodePng", image, name, compression=int(compression))


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False, chroma_downsampling=True,
                density_unit="in", x_density=300, y_density=300, xmp_metadata="", name=None):
    """A uint8 ``[height, width, channels]`` image (1 or 3 channels) as JPEG bytes."""
    if format not in ("", "grayscale", "rgb"):
        raise ValueError(f"encode_jpeg: format must be '', 'grayscale' or 'rgb', got {format!r}")
    if not 0 <= quality <= 100:
        raise ValueError(f"encode_jpeg: quality must be in [0, 100], got {quality}")
    from jitgraph.ops.registry import convert_to_tensor
    image = convert_to_tensor(image)
    want = {"grayscale": 1, "rgb": 3}.get(format)
    if want and image.shape.ndims == 3 and image.shape[-1].value not in (None, want):
        raise ValueError(f"encode_jpeg: format {format!r} needs {want} channel(s), got shape {image.shape}")
    return _codecs.encode("EncodeJpeg", image, name, quality=int(quality), progressive=bool(progressive),
                          optimize_size=bool(optimize_size), chroma_downsampling=bool(chroma_downsampling),
                          x_density=int(x_density), y_density=int(y_density))


def is_jpeg(contents, name=None):
    """A scalar bool tensor: do the bytes start like a JPEG file?"""
    from jitgraph.ops.registry import make_op
    return make_op("IsJpeg", [_codecs._string_tensor(contents)], {}, name or "is_jpeg").outputs[0]
