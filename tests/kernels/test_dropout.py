"""kernels.dropout: DropoutMask's fast path draws the reference's numbers from the op's generator,
gives the reference's mask exactly and leaves the generator where the reference leaves it."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.kernels import dropout
from jitgraph.ops import nn_ops


class _Ctx:
    def __init__(self, seed):
        self.gen = np.random.default_rng(seed)

    def rng(self, op):
        return self.gen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rate", [0.0, 0.3, 0.5, 1.0, np.nan])
@pytest.mark.parametrize("shape", [(128, 1024), (3, 0, 2), (7,), ()])
def test_fast_mask_is_the_reference_mask(dtype, rate, shape):
    ins = [np.array(shape, np.int32), np.array(rate, dtype)]
    fast, ref = _Ctx(4), _Ctx(4)
    got, = dropout.dropout_mask_fast(fast, None, ins)
    want, = nn_ops._mask_run(ref, None, ins)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert fast.gen.random() == ref.gen.random()            # the same state after


def test_other_dtypes_take_the_reference():
    ins = [np.array([4, 5], np.int32), np.array(0.5, np.float16)]
    got, = dropout.dropout_mask_fast(_Ctx(1), None, ins)
    want, = nn_ops._mask_run(_Ctx(1), None, ins)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want)


def test_compiled_dropout_matches_the_reference_executor():
    from jitgraph.compiler import config
    xv = np.random.default_rng(0).standard_normal((64, 300)).astype(np.float32)
    out = []
    for mode in ("never", "eager"):
        prev = config.set_compile_mode(mode)
        try:
            with tf.Graph().as_default():
                tf.set_random_seed(7)
                x = tf.placeholder(tf.float32, [64, 300])
                y = tf.nn.dropout(x * 2.0, keep_prob=0.6, seed=3)
                with tf.Session() as sess:
                    out.append([sess.run(y, {x: xv}) for _ in range(3)])
        finally:
            config.set_compile_mode(prev)
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
