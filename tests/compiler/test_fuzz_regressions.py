"""Cases the graph fuzzer (tests/test_fuzz_graphs.py, run with JITGRAPH_COMPILE=eager and other
seeds) found: compiled and reference runs must agree with each other and with TF."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


pytestmark = pytest.mark.usefixtures("eager_strict")


@pytest.mark.parametrize("mode", ["eager", "never"])
def test_matmul_of_unknown_rank_vectors_is_an_error(mode):
    """matmul of a placeholder of unknown rank (BatchMatMulV2) fed a vector returned a dot product;
    TF (and now its compute) says In[0] ndims must be >= 2."""
    config.set_compile_mode(mode)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, None)
        y = tf.matmul(x, x)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="not a matrix"):
                sess.run([x, tf.reduce_sum(y)], {x: np.array([0.5], np.float32)})
            np.testing.assert_allclose(sess.run(y, {x: np.ones((2, 2), np.float32)}), np.full((2, 2), 2.))


@pytest.mark.parametrize("mode", ["eager", "never"])
def test_assign_add_of_a_broadcasting_value_is_an_error(mode):
    """assign_add of a scalar (rank unknown at build time) to a (1,) variable broadcast silently;
    TF's update ops require the same shape. The variable keeps its value."""
    config.set_compile_mode(mode)
    with tf.Graph().as_default():
        v = tf.Variable(np.array([4], np.int32))
        x = tf.placeholder(tf.int32, None)
        upd = v.assign_add(x)
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(upd, {x: np.int32(4)})
            np.testing.assert_array_equal(sess.run(v), [4])
            np.testing.assert_array_equal(sess.run(upd, {x: np.array([1], np.int32)}), [5])


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.int32, tf.int64])
def test_max_min_reduction_kernels_compile_for_every_dtype(dtype):
    """An earlier fuzz run hit a Numba TypingError: a max-reduction kernel initialised its
    accumulator with np.float32('lowest'). Identities are now -inf/inf or the integer limits."""
    rng = np.random.default_rng(0)
    data = rng.integers(-5, 6, (3, 4)).astype(dtype.as_np)
    with tf.Graph().as_default():
        x = tf.placeholder(dtype, [None, None])
        fetches = [tf.reduce_max(x * x, axis=1), tf.reduce_min(x - 1, axis=0, keepdims=True),
                   tf.reduce_max(x + 0), tf.reduce_min(-x), tf.reduce_max(tf.abs(x), axis=-1, keepdims=True)]
        out = {}
        for m in ("eager", "never"):
            config.set_compile_mode(m)
            with tf.Session() as sess:
                out[m] = sess.run(fetches, {x: data})
                if m == "eager":
                    assert sess.cache_info()["compiles"] == 1 and not sess.cache_info()["fallbacks"]
    for a, b in zip(out["eager"], out["never"]):
        np.testing.assert_array_equal(a, b)
