"""``jitgraph/image/color.py`` and the hue/saturation kernels: adjustments, standardization,
grayscale and dtype conversion against TF 2.21's recorded values; the random adjustments by
their ranges and argument checks."""

import numpy as np
import pytest

import jitgraph as tf
from image_checks import TF, evaluate
from tests.oracle import image_cases

IMG, FLT = TF["colour/image"], TF["colour/flt"]


def test_colour_adjustments_match_tf():
    with tf.Graph().as_default():
        t, f = tf.constant(IMG), tf.constant(FLT)
        outs = image_cases.colour_ops(tf, t, f, tf.constant(FLT.astype(np.float64)))
        got = evaluate(outs)
    for key, v in got.items():
        want = TF[f"colour/{key}"]
        assert v.dtype == want.dtype and v.shape == want.shape, key
        np.testing.assert_allclose(v, want, atol=5e-7, err_msg=key)   # uint8 results are equal


CONVERSIONS = [("u8", "float32", 0), ("u8", "int32", 0), ("u8", "uint16", 0), ("f32", "uint8", 0), ("f32", "uint8", 1),
               ("f32", "int16", 1), ("f32", "float64", 0), ("i32", "uint8", 0), ("i32", "float32", 0),
               ("u16", "uint8", 0), ("u16", "int8", 1)]


@pytest.mark.parametrize("src, dst, saturate", CONVERSIONS)
def test_convert_image_dtype_matches_tf(src, dst, saturate):
    key = f"convert_{src}_{dst}_{saturate}"
    with tf.Graph().as_default():
        y = tf.image.convert_image_dtype(tf.constant(TF[f"{key}/x"]), getattr(tf, dst), saturate=bool(saturate))
        got = evaluate(y)
    assert got.dtype == TF[f"{key}/y"].dtype
    np.testing.assert_array_equal(got, TF[f"{key}/y"])


def test_adjustments_have_gradients_where_tf_does():
    with tf.Graph().as_default():
        f = tf.constant(FLT)
        g = tf.gradients(tf.reduce_sum(tf.image.adjust_contrast(tf.image.adjust_brightness(f, 0.1), 2.0)), f)[0]
        assert g is not None and np.allclose(evaluate(g), 1, atol=1e-5)   # contrast keeps each channel's sum
        with pytest.raises(LookupError, match="AdjustHue"):
            tf.gradients(tf.image.adjust_hue(f, 0.1), f)


def test_random_adjustments_stay_in_range_and_check_arguments():
    with tf.Graph().as_default():
        f = tf.constant(FLT)
        b = tf.image.random_brightness(f, 0.2, seed=1) - f
        c = tf.image.random_contrast(f, 0.5, 1.5, seed=2)
        s = tf.image.random_saturation(f, 0.0, 2.0, seed=3)
        h = tf.image.random_hue(f, 0.5, seed=4)
        with tf.Session() as sess:
            deltas = [sess.run(b) for _ in range(20)]
            rest = sess.run([c, s, h])
    shifts = [d[FLT > 0.3][0] for d in deltas]   # an unclipped pixel shows the delta
    assert all(-0.2 - 1e-6 <= v < 0.2 + 1e-6 for v in shifts) and len(set(np.round(shifts, 6))) > 10
    assert all(r.shape == FLT.shape and r.dtype == np.float32 for r in rest)
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="max_delta must be non-negative"):
            tf.image.random_brightness(tf.constant(FLT), -0.1)
        with pytest.raises(ValueError, match="upper must be > lower"):
            tf.image.random_contrast(tf.constant(FLT), 1.0, 0.5)
        with pytest.raises(ValueError, match="lower must be non-negative"):
            tf.image.random_saturation(tf.constant(FLT), -1.0, 0.5)
        with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
            tf.image.random_hue(tf.constant(FLT), 0.7)
        with pytest.raises(ValueError, match="RGB"):
            tf.image.adjust_hue(tf.zeros([2, 2, 4]), 0.1)
