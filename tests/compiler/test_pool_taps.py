"""pool_taps: a 2x2 stride-2 max pool whose gradient reads its input becomes ``_MaxPoolTaps`` +
``_MaxPoolGradTaps`` (the gradient from the recorded taps), with the reference's values; other
pools keep ``MaxPool``/``MaxPoolGrad``."""

import numpy as np
import pytest

import jitgraph as tf

from plan_checks import numpy_step_types, reference_values

pytestmark = pytest.mark.usefixtures("eager_strict")


def _train_step(x_shape, ksize=2, stride=2, data_format="NHWC", dtype=tf.float32):
    x = tf.placeholder(dtype, x_shape)
    c = x_shape[-1] if data_format == "NHWC" else x_shape[1]
    w = tf.Variable(np.random.default_rng(0).standard_normal((3, 3, c, 4)).astype(dtype.as_np) * 0.3)
    h = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", data_format=data_format))
    k, s = ([1, ksize, ksize, 1], [1, stride, stride, 1]) if data_format == "NHWC" else \
        ([1, 1, ksize, ksize], [1, 1, stride, stride])
    p = tf.nn.max_pool(h, k, s, "VALID", data_format=data_format)
    loss = tf.reduce_sum(p * p)
    grad = tf.gradients(loss, [w])[0]
    return x, p, loss, grad


def _run(g, x, fetches, x_value):
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        got = sess.run(fetches, {x: x_value})
        plan = max((p for p in sess._plans._plans.values() if p.compiled), key=lambda p: len(p.fetch_tensors))
        types = numpy_step_types(next(iter(plan.compiled.values())).steps)
    want = reference_values(g, fetches, {x: x_value}, init)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    return types


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
@pytest.mark.parametrize("batch", [1, 3])
def test_pool_and_gradient_record_taps_and_match_the_reference(dtype, batch):
    g = tf.Graph()
    with g.as_default():
        x, p, loss, grad = _train_step([None, 8, 6, 2], dtype=dtype)
        xv = np.random.default_rng(batch).standard_normal((batch, 8, 6, 2)).astype(dtype.as_np)
        types = _run(g, x, [p, loss, grad], xv)
    assert "_MaxPoolTaps" in types and "_MaxPoolGradTaps" in types
    assert "MaxPool" not in types and "MaxPoolGrad" not in types


def test_ties_and_nan_route_the_gradient_as_max_pool_grad():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4, 4, 3])
        v = tf.Variable(np.ones((1, 1, 1, 3), np.float32))
        p = tf.nn.max_pool(x * v, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        grad = tf.gradients(tf.reduce_sum(p * np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)), [v])[0]
        dx = tf.gradients(tf.reduce_sum(p * 3.0), [x])[0]
        xv = np.zeros((2, 4, 4, 3), np.float32)                 # ties everywhere
        xv[0, 1, 1, 0] = np.nan
        xv[0, 2:, 2:, 1] = -np.inf
        xv[1, :2, :2, 2] = [[1.0, 5.0], [5.0, 2.0]]
        types = _run(g, x, [p, grad, dx], xv)
    assert "_MaxPoolGradTaps" in types


@pytest.mark.parametrize("case", ["3x3", "odd", "NCHW", "stride1"])
def test_other_pools_stay_as_they_were(case):
    shape = {"odd": [None, 7, 6, 2], "NCHW": [None, 2, 8, 6]}.get(case, [None, 8, 6, 2])
    kw = {"3x3": dict(ksize=3), "NCHW": dict(data_format="NCHW"), "stride1": dict(stride=1)}.get(case, {})
    g = tf.Graph()
    with g.as_default():
        x, p, loss, grad = _train_step(shape, **kw)
        xv = np.random.default_rng(0).standard_normal([2] + shape[1:]).astype(np.float32)
        types = _run(g, x, [p, loss, grad], xv)
    assert "_MaxPoolTaps" not in types and "MaxPoolGrad" in types
