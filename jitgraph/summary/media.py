"""Images and audio for summaries, as TensorFlow's ``ImageSummary``/``AudioSummaryV2`` kernels make them.

Images: uint8 pixels are used as they are; float images are scaled per image into uint8 — values
all >= 0 by ``255 / max``, otherwise by ``127 / max|v|`` around 128 (scale 0 below 1e-6), the
result truncated to uint8, and a pixel with a non-finite channel painted ``bad_color``. The min/max
and the scale are float32 (as TF computes them), the product in the image's own dtype.
PNG encoding is Pillow's (TF's libpng output differs in bytes but not in pixels).

Audio: float samples clipped to [-1, 1] by the int16 range after ``round(x * 32768)`` (half away
from zero, in float32 as TF), written as a 16-bit PCM WAV file by the standard ``wave`` module.
"""

import io
import wave

import numpy as np

_ZERO = np.float32(1e-6)


def normalize_image(img, bad_color):
    """One image [h, w, depth] -> uint8 [h, w, depth] (see the module docstring)."""
    if img.dtype == np.uint8:
        return img
    h, w, depth = img.shape
    flat = img.reshape(h * w, depth)
    finite = np.all(np.isfinite(flat), axis=1)
    good = flat[finite].astype(np.float32)
    lo = good.min() if good.size else np.float32(np.inf)
    hi = good.max() if good.size else np.float32(-np.inf)
    if lo < 0:
        top = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0) if top < _ZERO else np.float32(127) / top), 128
    else:
        scale, offset = (np.float32(0) if hi < _ZERO else np.float32(255) / hi), 0
    t = img.dtype.type
    with np.errstate(invalid="ignore", over="ignore"):
        out = (flat * t(scale) + t(offset)).astype(np.uint8)
    out[~finite] = np.asarray(bad_color, dtype=np.uint8)[:depth]
    return out.reshape(h, w, depth)


def encode_png(pixels):
    """PNG bytes of a uint8 image [h, w, 1|3|4] (grey, RGB or RGBA)."""
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)).save(buf, format="PNG")
    return buf.getvalue()


def encode_wav(samples, sample_rate):
    """16-bit PCM WAV bytes of float samples [frames, channels]."""
    x = np.asarray(samples, dtype=np.float32) * np.float32(32768)
    x = x.astype(np.float64)
    rounded = np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))
    pcm = np.clip(rounded, -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as f:
        f.setnchannels(pcm.shape[1])
        f.setsampwidth(2)
        f.setframerate(max(1, int(np.rint(sample_rate))))
        f.writeframes(pcm.tobytes())
    return buf.getvalue()
