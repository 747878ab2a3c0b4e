"""``jitgraph/ops/segment_ops.py``: sorted and unsorted segment reductions, dynamic_partition and
dynamic_stitch, values and gradients against TF 2.21's recorded values and finite differences."""

from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, gradient_error

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "ops.npz")
DATA, IDS, UIDS = TF["segments/data"], TF["segments/ids"], TF["segments/uids"]


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod"])
def test_sorted_segment_ops_match_tf(op):
    with tf.Graph().as_default():
        d = tf.constant(DATA)
        y = getattr(tf.math, "segment_" + op)(d, IDS)
        assert y.shape.as_list() == [4, 2]   # ids are constant: the segment count is static
        fetch = [y] + ([tf.gradients(y, d, grad_ys=tf.constant(TF["segments/w4"]))[0]] if op != "prod" else [])
        out = evaluate(fetch)
    np.testing.assert_allclose(out[0], TF[f"segments/segment_{op}"])   # an empty segment holds 0
    if op != "prod":
        np.testing.assert_allclose(out[1], TF[f"segments/segment_{op}_grad"])


@pytest.mark.parametrize("op", ["sum", "max", "min", "prod", "mean", "sqrt_n"])
def test_unsorted_segment_ops_match_tf(op):
    with tf.Graph().as_default():
        d = tf.constant(DATA)
        y = getattr(tf.math, "unsorted_segment_" + op)(d, UIDS, 5)
        out = evaluate([y, tf.gradients(y, d, grad_ys=tf.constant(TF["segments/w5"]))[0]])
    np.testing.assert_allclose(out[0], TF[f"segments/unsorted_{op}"], rtol=1e-6)
    np.testing.assert_allclose(out[1], TF[f"segments/unsorted_{op}_grad"], rtol=1e-6)


def test_segment_gradients_by_finite_differences():
    x = np.random.default_rng(4).standard_normal((5, 2))
    x[3, 0] = 0.0   # a zero in a product segment
    for fn in (lambda a: tf.math.segment_mean(a, [0, 0, 1, 1, 1]),
               lambda a: tf.math.unsorted_segment_prod(a, [1, 0, 1, 1, 0], 3),
               lambda a: tf.math.segment_max(a, [0, 0, 1, 2, 2]),
               lambda a: tf.math.unsorted_segment_sqrt_n(a, [2, 0, 2, 2, 0], 3)):
        assert gradient_error(fn, [x]) < 1e-6


def test_sorted_segment_ids_are_checked_at_run_time():
    with tf.Graph().as_default():
        ids = tf.placeholder(tf.int32, [None])
        y = tf.math.segment_sum(tf.constant(DATA), ids)
        assert y.shape.as_list() == [None, 2]
        with pytest.raises(tf.errors.InvalidArgumentError, match="sorted"):
            evaluate(y, {ids: [0, 2, 1, 3, 3, 3]})
        z = tf.math.unsorted_segment_max(tf.constant(DATA), UIDS, 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
            evaluate(z)


def test_dynamic_partition_and_stitch_with_gradients_match_tf():
    with tf.Graph().as_default():
        d = tf.constant(DATA)
        parts = tf.dynamic_partition(d, [1, 0, 2, 1, 1, 0], 3)
        assert [p.shape.as_list() for p in parts] == [[None, 2]] * 3
        stitched = tf.dynamic_stitch([[0, 2], [1, 3, 2]], [d[:2], d[2:5]])
        assert stitched.shape.as_list() == [4, 2]
        pg = tf.gradients(parts, [d], grad_ys=[tf.constant(TF[f"segments/wp{i}"]) for i in range(3)])[0]
        sg = tf.gradients(stitched, [d], grad_ys=tf.constant(TF["segments/ws"]))[0]
        out = evaluate(parts + [stitched, pg, sg])
    keys = ["part0", "part1", "part2", "stitched", "partition_grad", "stitch_grad"]
    for got, key in zip(out, keys):
        np.testing.assert_allclose(got, TF[f"segments/{key}"], err_msg=key)


def test_dynamic_partition_rejects_bad_partition_ids():
    with tf.Graph().as_default():
        with pytest.raises(TypeError, match="partitions"):
            tf.dynamic_partition(tf.constant(DATA), np.zeros(6, np.int64), 2)
        parts = tf.dynamic_partition(tf.constant(DATA), [0, 1, 2, 0, 0, 0], 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match="partitions"):
            evaluate(parts)
