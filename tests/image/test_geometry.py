"""``jitgraph/image/geometry.py``: flips, crops, pads against TF 2.21's recorded values; the
random ones by their properties (a crop is a window of the input, flips happen about half the
time, seeds repeat)."""

import numpy as np
import pytest

import jitgraph as tf
from image_checks import TF, evaluate
from tests.oracle import image_cases

IMG, BATCH = TF["geometry/image"], TF["geometry/batch"]


def test_deterministic_geometry_matches_tf():
    with tf.Graph().as_default():
        t, b = tf.constant(IMG), tf.constant(BATCH)
        outs = image_cases.geometry_ops(tf, t, b)
        for key, y in outs.items():
            assert y.shape.as_list() == list(TF[f"geometry/{key}"].shape), key
        got = evaluate(outs)
    for key, v in got.items():
        np.testing.assert_array_equal(v, TF[f"geometry/{key}"], err_msg=key)


def test_crop_or_pad_with_unknown_sizes():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.uint8, [None, None, 3])
        y = tf.image.resize_image_with_crop_or_pad(p, 3, 10)
        assert y.shape.as_list() == [3, 10, 3]
        np.testing.assert_array_equal(evaluate(y, {p: IMG}), TF["geometry/crop_or_pad_a"])
        c = tf.image.central_crop(p, 0.5)
        np.testing.assert_array_equal(evaluate(c, {p: IMG}), TF["geometry/central_half"])


def test_geometry_errors():
    with tf.Graph().as_default():
        t = tf.constant(IMG)
        with pytest.raises(ValueError, match="width must be >= target \\+ offset"):
            tf.image.crop_to_bounding_box(t, 0, 4, 2, 4)
        with pytest.raises(ValueError, match="offset_height must be >= 0"):
            tf.image.pad_to_bounding_box(t, -1, 0, 8, 8)
        with pytest.raises(ValueError, match="height must be <= target - offset"):
            tf.image.pad_to_bounding_box(t, 2, 0, 6, 8)
        with pytest.raises(ValueError, match=r"central_fraction must be within \(0, 1\]"):
            tf.image.central_crop(t, 0.0)
        with pytest.raises(ValueError, match="either 3 or 4"):
            tf.image.flip_left_right(tf.zeros([3, 3]))
        with pytest.raises(ValueError, match="need value.shape >= size"):
            tf.random_crop(t, [6, 2, 3])


def test_random_crop_picks_windows_of_the_input_reproducibly():
    with tf.Graph().as_default():
        tf.set_random_seed(4)
        c = tf.random_crop(tf.constant(IMG), [3, 4, 3], seed=1)
        assert c.shape.as_list() == [3, 4, 3]
        with tf.Session() as sess:
            crops = [sess.run(c) for _ in range(40)]
        with tf.Session() as sess:
            again = sess.run(c)
    windows = {(i, j): IMG[i:i + 3, j:j + 4] for i in range(3) for j in range(4)}
    seen = {next(k for k, w in windows.items() if np.array_equal(w, cr)) for cr in crops}
    assert len(seen) >= 6                    # many offsets come up
    np.testing.assert_array_equal(again, crops[0])


def test_random_flips_flip_about_half_the_images():
    with tf.Graph().as_default():
        batch = tf.constant(np.repeat(IMG[None], 200, axis=0))
        flipped = evaluate(tf.image.random_flip_left_right(batch, seed=2))
        single = tf.image.random_flip_up_down(tf.constant(IMG), seed=3)
        with tf.Session() as sess:
            singles = [sess.run(single) for _ in range(30)]
    is_flipped = [np.array_equal(f, IMG[:, ::-1]) for f in flipped]
    assert all(f or np.array_equal(x, IMG) for f, x in zip(is_flipped, flipped))
    assert 60 < sum(is_flipped) < 140
    assert {np.array_equal(s, IMG[::-1]) for s in singles} == {True, False}


def test_flip_and_crop_gradients():
    with tf.Graph().as_default():
        x = tf.constant(np.arange(24.0).reshape(2, 4, 3))
        y = tf.image.resize_image_with_crop_or_pad(tf.image.flip_left_right(x), 3, 2)
        g = evaluate(tf.gradients(tf.reduce_sum(y), x)[0])
    want = np.zeros((2, 4, 3))
    want[:, 1:3] = 1   # both rows are kept (and padded), the middle two of four columns survive the crop
    np.testing.assert_array_equal(g, want)


def test_sample_distorted_bounding_box_draws_like_tf():
    """The streams differ; the distribution of crops (height, width, area, aspect) must not."""
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        b, s, box = tf.image.sample_distorted_bounding_box(
            [60, 80, 3], [[[0.1, 0.2, 0.5, 0.6], [0.5, 0.5, 0.9, 0.7]]], min_object_covered=0.5, area_range=(0.1, 0.9))
        assert b.shape.as_list() == [3] and box.shape.as_list() == [1, 1, 4]
        with tf.Session() as sess:
            ours = np.array([np.concatenate(sess.run([b, s])) for _ in range(500)])
    theirs = TF["distorted/draws"]
    for draws in (ours, theirs):
        y, x, h, w = draws[:, 0], draws[:, 1], draws[:, 3], draws[:, 4]
        assert np.all((y + h <= 60) & (x + w <= 80) & (draws[:, 2] == 0) & (draws[:, 5] == -1))
    stats = [lambda d: d[:, 3], lambda d: d[:, 4], lambda d: d[:, 3] * d[:, 4] / 4800.0, lambda d: d[:, 4] / d[:, 3]]
    for stat in stats:
        a, t = stat(ours).astype(float), stat(theirs).astype(float)
        assert abs(a.mean() - t.mean()) < 4 * np.sqrt(a.var() / len(a) + t.var() / len(t))


def test_sample_distorted_bounding_box_falls_back_to_the_whole_image():
    with tf.Graph().as_default():
        out = tf.image.sample_distorted_bounding_box([60, 80, 3], [[[0.0, 0.0, 1.0, 1.0]]], min_object_covered=1.0,
                                                     area_range=(0.05, 0.06), max_attempts=20)
        got = evaluate(list(out))
        none = tf.image.sample_distorted_bounding_box([60, 80, 3], tf.zeros([1, 0, 4]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="use_image_if_no_bounding_boxes"):
            evaluate(list(none))
    for g, key in zip(got, ("fb_begin", "fb_size", "fb_box")):
        np.testing.assert_array_equal(g, TF[f"distorted/{key}"])
