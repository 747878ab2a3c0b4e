"""Record what TensorFlow 2.21's ``tf.compat.v1.image`` computes: resizing (every corner/centre
mode, with gradients), flips, crops and pads, colour adjustments, dtype conversion, and decoding
of PNG/JPEG/GIF/BMP bytes (made here with Pillow).

Run with the TensorFlow venv from the repository root (never imported by jitgraph's tests):

    python tests/oracle/record_image.py     # writes tests/oracle/data/image.npz
"""

import io
import os

import numpy as np
import tensorflow.compat.v1 as tf
from PIL import Image

import image_cases

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "image.npz")
rng = np.random.default_rng(21)
rec = {}


def run(fetches):
    with tf.Session() as s:
        return s.run(fetches)


def case(name, **arrays):
    for k, v in arrays.items():
        rec[f"{name}/{k}"] = np.asarray(v)


def smooth_image(h, w):
    """A photo-like RGB uint8 image: gradients and a disc (JPEG keeps it close)."""
    y, x = np.mgrid[0:h, 0:w]
    r = 128 + 100 * np.sin(x / 5.0)
    g = 255 * y / (h - 1)
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (h / 3) ** 2, 220, 40)
    return np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)


def resizing():
    x = rng.standard_normal((2, 5, 7, 2)).astype(np.float32)
    modes = {"legacy": (False, False), "align": (True, False), "half": (False, True)}
    for size in ((9, 4), (3, 3), (1, 10)):
        for mode, (ac, hp) in modes.items():
            with tf.Graph().as_default():
                t = tf.constant(x)
                yb = tf.image.resize_bilinear(t, size, align_corners=ac, half_pixel_centers=hp)
                yn = tf.image.resize_nearest_neighbor(t, size, align_corners=ac, half_pixel_centers=hp)
                w = rng.standard_normal((2,) + size + (2,)).astype(np.float32)
                gb = tf.gradients(yb, t, grad_ys=tf.constant(w))[0]
                gn = tf.gradients(yn, t, grad_ys=tf.constant(w))[0]
                out = run([yb, yn, gb, gn])
            case(f"resize_{size[0]}x{size[1]}_{mode}", w=w, bilinear=out[0], nearest=out[1], bilinear_grad=out[2],
                 nearest_grad=out[3])
    case("resize", x=x)
    img = smooth_image(6, 8)
    with tf.Graph().as_default():
        t = tf.constant(img)
        outs = [tf.image.resize_images(t, [4, 11]), tf.image.resize(t, [3, 5], method=1),
                tf.image.resize_images(t, [12, 8], preserve_aspect_ratio=True), tf.image.resize_images(t, [6, 8]),
                tf.image.resize_images(tf.constant(img[None].astype(np.float64)), [5, 5], align_corners=True)]
        out = run(outs)
    case("resize_images", image=img, bilinear=out[0], nearest=out[1], aspect=out[2], same=out[3], batch_align=out[4])


def geometry():
    img = rng.integers(0, 256, (5, 7, 3)).astype(np.uint8)
    batch = rng.integers(0, 256, (2, 4, 6, 1)).astype(np.uint8)
    with tf.Graph().as_default():
        t, b = tf.constant(img), tf.constant(batch)
        outs = image_cases.geometry_ops(tf, t, b)
        out = run(outs)
    case("geometry", image=img, batch=batch, **out)


def colour():
    img = smooth_image(4, 5)
    img[0, 0] = [255, 255, 255]
    img[0, 1] = [0, 0, 0]
    img[1, 1] = [10, 200, 200]
    flt = img.astype(np.float32) / 255
    with tf.Graph().as_default():
        t, f = tf.constant(img), tf.constant(flt)
        outs = image_cases.colour_ops(tf, t, f, tf.constant(flt.astype(np.float64)))
        out = run(outs)
    case("colour", image=img, flt=flt, **out)
    vals = {"u8": np.array([0, 1, 127, 128, 254, 255], np.uint8), "f32": np.array([-0.5, 0, 0.25, 0.999, 1, 1.7],
                                                                                    np.float32),
            "i32": np.array([0, 1, 2 ** 24, 2 ** 31 - 1], np.int32), "u16": np.array([0, 255, 256, 65535], np.uint16)}
    pairs = [("u8", tf.float32, False), ("u8", tf.int32, False), ("u8", tf.uint16, False), ("f32", tf.uint8, False),
             ("f32", tf.uint8, True), ("f32", tf.int16, True), ("f32", tf.float64, False), ("i32", tf.uint8, False),
             ("i32", tf.float32, False), ("u16", tf.uint8, False), ("u16", tf.int8, True)]
    with tf.Graph().as_default():
        outs = [tf.image.convert_image_dtype(tf.constant(vals[src]), dt, saturate=sat) for src, dt, sat in pairs]
        out = run(outs)
    for (src, dt, sat), o in zip(pairs, out):
        case(f"convert_{src}_{dt.name}_{int(sat)}", x=vals[src], y=o)


def codecs():
    img = smooth_image(24, 32)
    files = {}
    for fmt, kw in (("png", {}), ("jpeg", {"quality": 90}), ("bmp", {}), ("gray_png", {}), ("rgba_png", {}),
                    ("png16", {}), ("gif", {})):
        buf = io.BytesIO()
        if fmt == "gray_png":
            Image.fromarray(img[..., 1]).save(buf, format="PNG")
        elif fmt == "rgba_png":
            Image.fromarray(np.concatenate([img, img[..., :1]], -1)).save(buf, format="PNG")
        elif fmt == "png16":
            Image.fromarray(img[..., 0].astype(np.uint16) * 250).save(buf, format="PNG")
        elif fmt == "gif":
            frames = [Image.fromarray(img), Image.fromarray(img[::-1].copy())]
            frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
        else:
            Image.fromarray(img).save(buf, format=fmt.upper(), **kw)
        files[fmt] = buf.getvalue()
    with tf.Graph().as_default():
        outs = {"png": tf.image.decode_png(files["png"]), "png_gray3": tf.image.decode_png(files["gray_png"], 3),
                "png_rgba": tf.image.decode_png(files["rgba_png"]),
                "png_rgba3": tf.image.decode_png(files["rgba_png"], 3),
                "png_rgb1": tf.image.decode_png(files["png"], 1),
                "png16": tf.image.decode_png(files["png16"], dtype=tf.uint16),
                "png16_u8": tf.image.decode_png(files["png16"]),
                "png_u16": tf.image.decode_png(files["png"], dtype=tf.uint16),
                "jpeg": tf.image.decode_jpeg(files["jpeg"]), "jpeg_gray": tf.image.decode_jpeg(files["jpeg"], 1),
                "jpeg_ratio2": tf.image.decode_jpeg(files["jpeg"], ratio=2), "bmp": tf.image.decode_bmp(files["bmp"]),
                "gif": tf.image.decode_gif(files["gif"]), "image_png": tf.image.decode_image(files["png"]),
                "image_jpeg_f": tf.image.decode_image(files["jpeg"], dtype=tf.float32)}
        out = run(outs)
    case("codecs", image=img, **{f"file_{k}": np.frombuffer(v, np.uint8) for k, v in files.items()}, **out)


def distorted_boxes():
    """500 draws of TF's random crop (its stream differs from ours: the tests compare statistics),
    and the whole-image fallback when no crop can satisfy the constraints."""
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        b, s, box = tf.image.sample_distorted_bounding_box([60, 80, 3], [[[0.1, 0.2, 0.5, 0.6], [0.5, 0.5, 0.9, 0.7]]],
                                                           min_object_covered=0.5, area_range=(0.1, 0.9))
        fb = tf.image.sample_distorted_bounding_box([60, 80, 3], [[[0.0, 0.0, 1.0, 1.0]]], min_object_covered=1.0,
                                                    area_range=(0.05, 0.06), max_attempts=20)
        with tf.Session() as sess:
            draws = np.array([np.concatenate(sess.run([b, s])) for _ in range(500)])
            fallback = sess.run(fb)
    case("distorted", draws=draws, fb_begin=fallback[0], fb_size=fallback[1], fb_box=fallback[2])


if __name__ == "__main__":
    distorted_boxes()
    resizing()
    geometry()
    colour()
    codecs()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **rec)
    print(f"wrote {len(rec)} arrays to {OUT}")
