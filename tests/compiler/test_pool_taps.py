"""pool_taps: a 2x2 stride-2 max pool whose gradient reads its input becomes ``_MaxPoolTaps`` +
``_MaxPoolGradTaps`` (the gradient from the recorded taps), with the reference's values; other
pools keep ``MaxPool``/``MaxPoolGrad``. A ReLU's mask after the pool's gradient moves onto the
pool's output grid, and the bias gradient with it."""

import numpy as np
import pytest

import jitgraph as tf

from jitgraph.compiler.schedule import KernelStep
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


def _run(g, x, fetches, x_value, steps=None):
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        got = sess.run(fetches, {x: x_value})
        plan = max((p for p in sess._plans._plans.values() if p.compiled), key=lambda p: len(p.fetch_tensors))
        plan_steps = next(iter(plan.compiled.values())).steps
    want = reference_values(g, fetches, {x: x_value}, init)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    if steps is not None:
        steps.extend(plan_steps)
    return numpy_step_types(plan_steps)


def _kernel_ops(steps, op_type):
    return [op for s in steps if isinstance(s, KernelStep) for op in s.ops if op.type == op_type]


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


@pytest.mark.parametrize("bias", ["add", "bias_add", None])
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_relu_mask_and_bias_gradient_run_on_the_pool_grid(bias, dtype):
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(3)
        x = tf.placeholder(dtype, [None, 6, 4, 2])
        w = tf.Variable(rng.standard_normal((3, 3, 2, 5)).astype(dtype.as_np) * 0.4)
        b = tf.Variable(rng.standard_normal(5).astype(dtype.as_np) * 0.3)
        y = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        y = {"add": lambda: y + b, "bias_add": lambda: tf.nn.bias_add(y, b), None: lambda: y}[bias]()
        p = tf.nn.max_pool(tf.nn.relu(y), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        loss = tf.reduce_sum(p * p * 0.5 + p)
        grads = tf.gradients(loss, [w, b] if bias else [w])
        steps = []
        _run(g, x, [loss] + grads, rng.standard_normal((3, 6, 4, 2)).astype(dtype.as_np), steps)
    greater, = _kernel_ops(steps, "Greater")
    assert greater.inputs[0].op.type == "_MaxPoolTaps"       # the mask reads the pool, not the relu
    select, = _kernel_ops(steps, "SelectV2")
    assert select.outputs[0].shape.as_list()[1:] == [3, 2, 5]
    if bias:
        summed = [s.inputs[0] for s in _kernel_ops(steps, "Sum") + _kernel_ops(steps, "BiasAddGrad")]
        assert select.outputs[0] in summed
        assert not [t for t in summed if t.shape.as_list()[1:3] == [6, 4]]   # nothing sums the big grid


def test_relu_mask_before_the_scatter_keeps_ties_nan_and_inf():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4, 4, 3])
        v = tf.Variable(np.ones((1, 1, 1, 3), np.float32))
        p = tf.nn.max_pool(tf.nn.relu(x * v), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        up = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3) - 5    # negative, zero and positive
        grad, dx = tf.gradients(tf.reduce_sum(p * up), [v, x])
        xv = np.zeros((2, 4, 4, 3), np.float32)                 # ties of zeros everywhere
        xv[0, 1, 1, 0] = np.nan
        xv[0, :2, 2:, 0] = [[np.nan, 2.0], [2.0, np.nan]]
        xv[0, 2:, 2:, 1] = -np.inf
        xv[0, 2:, :2, 1] = [[np.inf, 1.0], [np.inf, -3.0]]
        xv[1, :2, :2, 2] = [[1.0, 5.0], [5.0, 2.0]]
        xv[1, 2:, 2:, 2] = [[-1.0, -5.0], [-0.0, -2.0]]
        steps = []
        _run(g, x, [p, grad, dx], xv, steps)
    assert [op.inputs[0].op.type for op in _kernel_ops(steps, "Greater")] == ["_MaxPoolTaps"]


def test_relu_mask_stays_where_the_pool_gradient_is_read_elsewhere():
    g = tf.Graph()
    with g.as_default():
        x, p, loss, _ = _train_step([None, 8, 6, 2])
        w, = tf.trainable_variables()
        grad, dh = tf.gradients(loss, [w, p.op.inputs[0]])     # the scattered gradient, fetched
        steps = []
        _run(g, x, [loss, grad, dh], np.random.default_rng(1).standard_normal((2, 8, 6, 2)).astype(np.float32),
             steps)
    assert [op.inputs[0].op.type for op in _kernel_ops(steps, "Greater")] != ["_MaxPoolTaps"]


def test_relu_mask_moves_with_the_control_inputs_of_its_ops():
    """Under ``control_dependencies`` (batch norm's moving averages before the train op, as P8
    builds it) the gradient ops carry control inputs; the rewrite keeps them."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 6, 4, 2])
        w = tf.Variable(np.random.default_rng(2).standard_normal((3, 3, 2, 3)).astype(np.float32))
        count = tf.Variable(0.0)
        bump = tf.assign_add(count, 1.0)
        with tf.control_dependencies([bump]):
            p = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1],
                               "VALID")
            loss = tf.reduce_sum(p * p)
            grad, = tf.gradients(loss, [w])
        steps = []
        _run(g, x, [loss, grad, count], np.random.default_rng(3).standard_normal((2, 6, 4, 2)).astype(np.float32),
             steps)
    assert [op.inputs[0].op.type for op in _kernel_ops(steps, "Greater")] == ["_MaxPoolTaps"]


def test_gradient_glue_after_a_pool_resolves_with_an_unknown_batch():
    """The pool, its taps and the scattered gradient keep the pool input's batch symbol, so the
    ``SumToShape`` of a batch-norm-like ``z * scale + offset`` before the ReLU still resolves as
    the identity it is (P8 ran it as a NumPy step when the scatter's batch was a new symbol)."""
    g = tf.Graph()
    with g.as_default():
        rng = np.random.default_rng(4)
        x = tf.placeholder(tf.float32, [None, 6, 4, 2])
        w = tf.Variable(rng.standard_normal((3, 3, 2, 3)).astype(np.float32))
        scale, offset = tf.Variable(np.ones(3, np.float32) * 1.5), tf.Variable(np.full(3, 0.1, np.float32))
        z = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
        p = tf.nn.max_pool(tf.nn.relu(z * scale + offset), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        loss = tf.reduce_sum(p * p)
        grads = tf.gradients(loss, [w, scale, offset])
        types = _run(g, x, [loss] + grads, rng.standard_normal((3, 6, 4, 2)).astype(np.float32))
    assert "SumToShape" not in types and "BroadcastTo" not in types, types
