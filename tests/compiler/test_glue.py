"""glue: SumToShape steps that symbolic shapes prove to be identities disappear (with the Shape
ops that fed them); the others stay, and results equal the reference executor's."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.compiler.schedule import KernelStep

from plan_checks import numpy_step_types, reference_values

pytestmark = pytest.mark.usefixtures("eager_strict")


def _steps(sess):
    plan = max((p for p in sess._plans._plans.values() if p.compiled), key=lambda p: len(p.fetch_tensors))
    return next(iter(plan.compiled.values())).steps


_numpy_types, _reference = numpy_step_types, reference_values


def test_bias_layer_gradients_need_no_sum_to_shape(g):
    x = tf.placeholder(tf.float32, [None, 6])
    w = tf.Variable(np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4))
    h = tf.nn.relu(tf.matmul(x, w) + tf.Variable(np.full(4, 0.1, np.float32)))
    loss = tf.reduce_sum(tf.square(h))
    grads = tf.gradients(loss, [w, x])
    init = tf.global_variables_initializer()
    xv = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(init)
        got = sess.run(grads, {x: xv})
        types = _numpy_types(_steps(sess))
    assert "SumToShape" not in types and types.count("Shape") <= 1, types
    for a, b in zip(got, _reference(g, grads, {x: xv}, init)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_classifiers_logit_gradient_needs_no_sum_to_shape(g, sparse):
    """``softmax_cross_entropy(logits = x @ w + b)`` with a ``None`` batch: the cross-entropy's
    outputs have the logits' batch (``shapes._cross_entropy``), so the bias gradient's
    ``SumToShape`` to ``Shape(x @ w)`` is the identity."""
    x = tf.placeholder(tf.float32, [None, 6])
    w = tf.Variable(np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4))
    logits = tf.matmul(x, w) + tf.Variable(np.full(4, 0.1, np.float32))
    if sparse:
        y = tf.placeholder(tf.int32, [None])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        yv = np.array([0, 3, 1, 2, 3], np.int32)
    else:
        y = tf.placeholder(tf.float32, [None, 4])
        loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)
        yv = np.eye(4, dtype=np.float32)[[0, 3, 1, 2, 3]]
    grads = tf.gradients(tf.reduce_mean(loss), [w, x])
    init = tf.global_variables_initializer()
    feeds = {x: np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32), y: yv}
    with tf.Session() as sess:
        sess.run(init)
        got = sess.run(grads, feeds)
        types = _numpy_types(_steps(sess))
    assert "SumToShape" not in types, types
    for a, b in zip(got, _reference(g, grads, feeds, init)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_real_broadcast_keeps_its_sum(g):
    x = tf.placeholder(tf.float32, [None, 1])
    y = tf.placeholder(tf.float32, [None, 3])
    dx = tf.gradients(tf.reduce_sum((x + y) * y), x)[0]
    feeds = {x: np.ones((4, 1), np.float32), y: np.arange(12, dtype=np.float32).reshape(4, 3)}
    with tf.Session() as sess:
        got = sess.run(dx, feeds)
        assert "SumToShape" in _numpy_types(_steps(sess))
    np.testing.assert_allclose(got, feeds[y].sum(axis=1, keepdims=True))


def test_squared_error_of_a_difference_compiles(g):
    """P3's loss, ``mean((x - h) ** 2)``: the gradient's ``SumToShape`` to ``Shape(x - h)`` takes
    that shape, so when glue resolves it the ``Neg`` after it still has dims its operand gives
    (it failed to compile, and the whole step ran on the reference executor)."""
    x = tf.placeholder(tf.float32, [None, 4])
    w = tf.Variable(np.linspace(-1, 1, 16, dtype=np.float32).reshape(4, 4))
    h = tf.nn.sigmoid(tf.matmul(x, w))
    loss = tf.reduce_mean(tf.pow(x - h, 2))
    grads = tf.gradients(loss, [w, x])
    init = tf.global_variables_initializer()
    xv = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    with tf.Session() as sess:          # eager_strict: a compile failure raises
        sess.run(init)
        got = sess.run(grads, {x: xv})
        types = _numpy_types(_steps(sess))
    assert "SumToShape" not in types, types
    assert "BroadcastTo" not in types and "Shape" not in types, types     # the mean's gradient fused
    for a, b in zip(got, _reference(g, grads, {x: xv}, init)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_broadcast_like_values(g):
    """``_BroadcastLike`` fused into a loop, as the reference computes ``BroadcastTo``: a mean's
    gradient over a batch of several shapes in one session (the specialization per rank)."""
    x = tf.placeholder(tf.float32, [None, 3])
    loss = tf.reduce_mean(x * x) + tf.reduce_mean(tf.reduce_mean(x, axis=1) * 2.0)
    dx = tf.gradients(loss, x)[0]
    with tf.Session() as sess:
        for n in (1, 4, 7):
            xv = np.arange(3 * n, dtype=np.float32).reshape(n, 3) - 2
            got = sess.run(dx, {x: xv})
            np.testing.assert_allclose(got, 2 * xv / xv.size + 2.0 / (3 * n), rtol=1e-6)
        assert "BroadcastTo" not in _numpy_types(_steps(sess))


def test_a_shape_query_reads_a_donor_not_a_fused_value(g):
    """``Size(h)`` and ``Shape(h)`` of a value fused into a kernel read the feed of the same
    symbolic shape instead, so the kernel does not write ``h`` out for its shape alone (batch
    norm's gradient glue wrote three activations' worth per layer that way)."""
    x = tf.placeholder(tf.float32, [None, 5])
    h = tf.exp(x * 0.5, name="h")
    n = tf.cast(tf.size(h), tf.float32) + tf.cast(tf.reduce_sum(tf.shape(h)), tf.float32)
    out = tf.reduce_sum(h) / n
    xv = np.random.default_rng(2).standard_normal((7, 5)).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(out, {x: xv})
        steps = _steps(sess)
    written = [t.name for s in steps if isinstance(s, KernelStep) for t, _ in s.outs]
    assert not any(name.startswith("h:") or name.startswith("h/") for name in written), written
    np.testing.assert_allclose(got, np.exp(xv * 0.5).sum() / (35 + 12), rtol=1e-5)
    np.testing.assert_allclose(got, _reference(g, out, {x: xv}, tf.no_op()), rtol=1e-6)


def test_equal_shape_queries_run_once(g):
    """Batch norm under ``control_dependencies(UPDATE_OPS)``: its gradient asks the shape of the
    conv output through a dozen ``Shape`` ops (each with the same control inputs, so CSE kept
    them apart); after the donor rewrite they are one query of the same tensor and run once."""
    x = tf.placeholder(tf.float32, [None, 6, 6, 3])
    k = np.random.default_rng(4).standard_normal((3, 3, 3, 4)).astype(np.float32) * 0.3
    h = tf.layers.conv2d(x, 4, 3, padding="same", kernel_initializer=tf.constant_initializer(k))
    h = tf.nn.relu(tf.layers.batch_normalization(h, training=True))
    loss = tf.reduce_mean(tf.square(h))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    xv = np.random.default_rng(3).standard_normal((5, 6, 6, 3)).astype(np.float32)
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        sess.run(train, {x: xv})
        plans = [c for p in sess._plans._plans.values() if p.compiled for c in p.compiled.values()]
        types = _numpy_types(max(plans, key=lambda c: len(c.steps)).steps)
        got = sess.run(tf.trainable_variables())
    assert "Conv2DBackpropFilter" in types and types.count("Shape") <= 3, types
    with tf.Session(graph=g) as ref:
        prev = config.set_compile_mode("never")
        try:
            ref.run(init)
            ref.run(train, {x: xv})
            want = ref.run(tf.trainable_variables())
        finally:
            config.set_compile_mode(prev)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_a_fetched_shape_query_keeps_its_step(g):
    """A fetched ``tf.shape`` of a fused value under a feed signature with a size-1 batch (so the
    value's shape equals one feed's): the donor rewrite once gave the fetch a copy that the dead
    ``Shape`` sweep then dropped, and the runner returned a name no step set (NameError)."""
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    t = tf.exp(x * y)
    s, r = tf.shape(t), tf.reduce_sum(t)
    with tf.Session() as sess:
        for nx, ny in ((2, 1), (1, 2), (3, 3)):
            got = sess.run([s, r], {x: np.ones((nx, 3), np.float32), y: np.ones((ny, 3), np.float32)})
            assert got[0].tolist() == [max(nx, ny), 3]
            np.testing.assert_allclose(got[1], np.e * 3 * max(nx, ny), rtol=1e-6)


def test_fetched_shape_queries_of_rewired_values_run(g):
    """``tf.shape`` and ``tf.size`` of a mean's gradient: glue rewrote the gradient (its
    ``BroadcastTo`` became ``_BroadcastLike``), so the fetched queries became rewired copies, and
    the sweep of dead shape queries, which knew only the original fetches, dropped them (the
    runner returned names no step set: NameError)."""
    x = tf.placeholder(tf.float32, [None, 3])
    h = tf.gradients(tf.reduce_mean(tf.exp(x)), x)[0] * 2.0
    with tf.Session() as sess:
        shape, size, value = sess.run([tf.shape(h), tf.size(h), h], {x: np.zeros((4, 3), np.float32)})
    assert shape.tolist() == [4, 3] and size == 12
    np.testing.assert_allclose(value, np.full((4, 3), 2 / 12, np.float32), rtol=1e-6)


def _slices_gradient(x, cuts, axis):
    """The gradient of ``sum(i * tanh(slice_i))`` over slices of ``x`` along ``axis`` at ``cuts``
    ((begin, size) pairs): the sum of each slice's padded gradient."""
    loss = 0.0
    for i, (begin, size) in enumerate(cuts):
        b, s = [0, 0], [-1, -1]
        b[axis], s[axis] = begin, size
        loss += float(i + 1) * tf.reduce_sum(tf.tanh(tf.slice(x, b, s)))
    return tf.gradients(loss, x)[0]


@pytest.mark.parametrize("cuts, axis, concat", [
    ([(0, 5), (5, 3)], 0, True),              # nce_loss: the true rows, then the sampled ones
    ([(4, 4), (0, 4)], 1, True),              # any order, along columns
    ([(0, 2), (2, 3), (5, 3)], 0, False),     # three parts, added a pair at a time: the first
                                              # pair leaves a gap, so the Pads stay
    ([(0, 5), (3, 5)], 0, False),             # overlapping slices: a real sum
    ([(0, 3), (5, 3)], 0, False),             # a gap: zeros there
])
def test_padded_gradients_of_slices_that_tile_become_a_concat(g, cuts, axis, concat):
    x = tf.placeholder(tf.float32, [8, 8])
    dx = _slices_gradient(x, cuts, axis)
    xv = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(dx, {x: xv})
        types = _numpy_types(_steps(sess))
    assert ("Pad" not in types) == concat, types      # (the concat may be a kernel's stores)
    np.testing.assert_allclose(got, _reference(g, [dx], {x: xv}, [])[0], rtol=1e-6)


def test_a_padded_gradient_read_twice_keeps_its_pad(g):
    x = tf.placeholder(tf.float32, [8, 8])
    a, b = tf.slice(x, [0, 0], [5, -1]), tf.slice(x, [5, 0], [-1, -1])
    ga = tf.pad(tf.tanh(a), [[0, 3], [0, 0]])
    total = ga + tf.pad(tf.sin(b), [[5, 0], [0, 0]])
    xv = np.random.default_rng(1).standard_normal((8, 8)).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run([total, ga], {x: xv})       # ga is fetched: read twice
        assert "Pad" in _numpy_types(_steps(sess))
    for u, v in zip(got, _reference(g, [total, ga], {x: xv}, [])):
        np.testing.assert_allclose(u, v, rtol=1e-6)
    with tf.Session() as sess:
        one = sess.run(total, {x: xv})             # ga not fetched: a concat of tanh(a), sin(b)
        assert "Pad" not in _numpy_types(_steps(sess))
    np.testing.assert_allclose(one, np.concatenate([np.tanh(xv[:5]), np.sin(xv[5:])]), rtol=1e-6)


def test_an_add_n_of_three_tiling_pads_is_one_concat(g):
    x = tf.placeholder(tf.float32, [8, 6])
    parts = [tf.tanh(tf.slice(x, [0, 0], [-1, 1])), tf.sin(tf.slice(x, [0, 1], [-1, 3])), tf.slice(x, [0, 4], [-1, 2])]
    total = tf.add_n([tf.pad(parts[1], [[0, 0], [1, 2]]), tf.pad(parts[0], [[0, 0], [0, 5]]),
                      tf.pad(parts[2], [[0, 0], [4, 0]])])
    xv = np.random.default_rng(2).standard_normal((8, 6)).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(total, {x: xv})
        assert "Pad" not in _numpy_types(_steps(sess))
    np.testing.assert_allclose(got, np.concatenate([np.tanh(xv[:, :1]), np.sin(xv[:, 1:4]), xv[:, 4:]], 1), rtol=1e-6)
