"""``jitgraph/ops/image_codec_ops.py`` and the ``tf.image`` decode/encode functions: decoding of
PNG, BMP, GIF (exact) and JPEG (within libjpeg's DCT differences) against TF 2.21's recorded
results, encoding round trips, and ``tf.read_file``/``tf.io.write_file``."""

import io

import numpy as np
import pytest

import jitgraph as tf
from image_checks import TF, evaluate, file_bytes


def _decoders():
    f = {k: file_bytes(k) for k in ("png", "jpeg", "bmp", "gray_png", "rgba_png", "png16", "gif")}
    return {"png": tf.image.decode_png(f["png"]), "png_gray3": tf.image.decode_png(f["gray_png"], 3),
            "png_rgba": tf.image.decode_png(f["rgba_png"]), "png_rgba3": tf.image.decode_png(f["rgba_png"], 3),
            "png_rgb1": tf.image.decode_png(f["png"], 1), "png16": tf.image.decode_png(f["png16"], dtype=tf.uint16),
            "png16_u8": tf.image.decode_png(f["png16"]), "png_u16": tf.image.decode_png(f["png"], dtype=tf.uint16),
            "bmp": tf.image.decode_bmp(f["bmp"]), "gif": tf.image.decode_gif(f["gif"]),
            "image_png": tf.image.decode_image(f["png"]), "jpeg": tf.image.decode_jpeg(f["jpeg"]),
            "jpeg_gray": tf.image.decode_jpeg(f["jpeg"], 1), "jpeg_ratio2": tf.image.decode_jpeg(f["jpeg"], ratio=2),
            "image_jpeg_f": tf.image.decode_image(f["jpeg"], dtype=tf.float32)}


def test_decoders_match_tf():
    with tf.Graph().as_default():
        outs = _decoders()
        assert outs["png"].shape.as_list() == [None, None, None] and outs["png_rgb1"].shape.as_list() == [None, None, 1]
        assert outs["gif"].shape.as_list() == [None, None, None, 3]
        got = evaluate(outs)
    for key, v in got.items():
        want = TF[f"codecs/{key}"]
        assert v.dtype == want.dtype and v.shape == want.shape, key
        if key.startswith(("jpeg", "image_jpeg")):   # Pillow's libjpeg: another inverse DCT than TF's
            scale = 1 / 255 if v.dtype == np.float32 else 1
            diff = np.abs(v.astype(float) - want)
            assert diff.max() <= 3 * scale + 1e-6 and diff.mean() <= 1.1 * scale, key
        else:
            np.testing.assert_array_equal(v, want, err_msg=key)


def test_encoders_round_trip():
    img = TF["codecs/image"]
    with tf.Graph().as_default():
        png = tf.image.encode_png(img, compression=9)
        gray16 = tf.image.encode_png(img[..., :1].astype(np.uint16) * 257)
        jpeg = tf.image.encode_jpeg(img, quality=100, chroma_downsampling=False)
        assert png.dtype == tf.string and png.shape.as_list() == []
        back = evaluate([tf.image.decode_png(png), tf.image.decode_png(gray16, dtype=tf.uint16),
                         tf.image.decode_jpeg(jpeg), tf.image.is_jpeg(jpeg), tf.image.is_jpeg(png)])
    np.testing.assert_array_equal(back[0], img)
    np.testing.assert_array_equal(back[1], img[..., :1].astype(np.uint16) * 257)
    assert np.abs(back[2].astype(int) - img).max() <= 4
    assert back[3] and not back[4]


def test_read_and_write_files(tmp_path):
    src = tmp_path / "a.png"
    src.write_bytes(file_bytes("png"))
    with tf.Graph().as_default():
        name = tf.placeholder(tf.string, [])
        img = tf.image.decode_png(tf.read_file(name), channels=3)
        out = tf.io.write_file(str(tmp_path / "b.png"), tf.image.encode_png(img))
        got = evaluate([img, out], {name: str(src)})[0]
        with pytest.raises(tf.errors.NotFoundError, match="missing.png"):
            evaluate(img, {name: str(tmp_path / "missing.png")})
    np.testing.assert_array_equal(got, TF["codecs/png"])
    from PIL import Image
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO((tmp_path / "b.png").read_bytes()))), got)


def test_decode_errors():
    with tf.Graph().as_default():
        with pytest.raises(tf.errors.InvalidArgumentError, match="not a PNG"):
            evaluate(tf.image.decode_png(file_bytes("jpeg")))
        with pytest.raises(tf.errors.InvalidArgumentError, match="cannot decode"):
            evaluate(tf.image.decode_jpeg(file_bytes("jpeg")[:40]))
        with pytest.raises(TypeError, match="tf.string"):
            tf.image.decode_png(tf.zeros([]))
        with pytest.raises(ValueError, match="channels"):
            tf.image.decode_jpeg(file_bytes("jpeg"), channels=2)
