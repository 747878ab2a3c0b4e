"""``jitgraph/image/resize.py`` and the resize kernels of ``jitgraph/ops/image_ops.py``: every
corner/centre mode of bilinear and nearest-neighbour resizing, their gradients, and TF1's
``resize_images`` rules, against TF 2.21's recorded values."""

import numpy as np
import pytest

import jitgraph as tf
from image_checks import TF, evaluate

MODES = {"legacy": (False, False), "align": (True, False), "half": (False, True)}


@pytest.mark.parametrize("size", [(9, 4), (3, 3), (1, 10)], ids=["up", "down", "row"])
@pytest.mark.parametrize("mode", list(MODES))
def test_resize_kernels_and_gradients_match_tf(size, mode):
    key = f"resize_{size[0]}x{size[1]}_{mode}"
    ac, hp = MODES[mode]
    with tf.Graph().as_default():
        t = tf.constant(TF["resize/x"])
        yb = tf.image.resize_bilinear(t, size, align_corners=ac, half_pixel_centers=hp)
        yn = tf.image.resize_nearest_neighbor(t, size, align_corners=ac, half_pixel_centers=hp)
        assert yb.shape.as_list() == [2, size[0], size[1], 2] and yn.dtype == tf.float32
        w = tf.constant(TF[f"{key}/w"])
        out = evaluate([yb, yn, tf.gradients(yb, t, grad_ys=w)[0], tf.gradients(yn, t, grad_ys=w)[0]])
    np.testing.assert_array_equal(out[0], TF[f"{key}/bilinear"])
    np.testing.assert_array_equal(out[1], TF[f"{key}/nearest"])   # the same source pixels, float32 positions
    np.testing.assert_allclose(out[2], TF[f"{key}/bilinear_grad"], atol=1e-6)
    np.testing.assert_allclose(out[3], TF[f"{key}/nearest_grad"], atol=1e-6)


def test_resize_images_follows_tf1():
    img = TF["resize_images/image"]
    with tf.Graph().as_default():
        t = tf.constant(img)
        outs = [tf.image.resize_images(t, [4, 11]), tf.image.resize(t, [3, 5], method=1),
                tf.image.resize_images(t, [12, 8], preserve_aspect_ratio=True), tf.image.resize_images(t, [6, 8]),
                tf.image.resize_images(tf.constant(img[None].astype(np.float64)), [5, 5], align_corners=True)]
        assert outs[3] is t or outs[3].op.type != "ResizeBilinear"   # same size: no resize, dtype kept
        assert outs[0].dtype == tf.float32 and outs[1].dtype == tf.uint8
        got = evaluate(outs)
    for o, key in zip(got, ["bilinear", "nearest", "aspect", "same", "batch_align"]):
        want = TF[f"resize_images/{key}"]
        assert o.dtype == want.dtype and o.shape == want.shape, key
        np.testing.assert_array_equal(o, want, err_msg=key)


def test_resize_with_fed_size_and_errors():
    with tf.Graph().as_default():
        size = tf.placeholder(tf.int32, [2])
        y = tf.image.resize_images(tf.zeros([4, 4, 1]), size)
        assert y.shape.as_list() == [None, None, 1]
        assert evaluate(y, {size: [2, 7]}).shape == (2, 7, 1)
        with pytest.raises(ValueError, match="3 or 4 dimensions"):
            tf.image.resize_images(tf.zeros([4, 4]), [2, 2])
        with pytest.raises(ValueError, match="2 elements"):
            tf.image.resize_images(tf.zeros([4, 4, 1]), [2, 2, 2])
        with pytest.raises(ValueError, match="not implemented"):
            tf.image.resize_images(tf.zeros([4, 4, 1]), [2, 2], method=tf.image.ResizeMethod.BICUBIC)
        with pytest.raises(ValueError, match="align_corners must be False"):
            tf.image.resize_bilinear(tf.zeros([1, 4, 4, 1]), [2, 2], align_corners=True, half_pixel_centers=True)


def test_compiled_plan_runs_resize_like_the_reference():
    x = TF["resize/x"]
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, 5, 7, 2])
        y = tf.nn.relu(tf.image.resize_bilinear(p * 2.0, [9, 4])) + 1.0
        with tf.Session() as sess:
            got = sess.run(y, {p: x})
        want = evaluate(y, {p: x})
    np.testing.assert_allclose(got, want, rtol=1e-6)
