"""remap: Conv2D -> bias add -> Relu chains become one ``_FusedConv2D`` step, only when nothing
else sees the intermediates; results equal the reference executor's."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.compiler.pipeline import compile_plan
from jitgraph.compiler.prune import prune
from jitgraph.compiler.schedule import KernelStep
from jitgraph.compiler.simplify import simplify
from jitgraph.ops.registry import OPS

pytestmark = pytest.mark.usefixtures("eager_strict")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 9, 9, 8)).astype(np.float32)
K = (RNG.standard_normal((5, 5, 8, 8)) * 0.2).astype(np.float32)
B = RNG.standard_normal(8).astype(np.float32)


def _types(fetches, feeds, targets=()):
    return [o.type for o in simplify(prune(fetches, targets, feeds), fetches, feeds).ops]


def _steps(fetches, feeds):
    sig = tuple((t.shape.ndims, tuple(d == 1 for d in t.shape.as_list())) for t in feeds)
    steps = compile_plan(fetches, [], feeds, sig).steps
    return [s.ops[0].type if isinstance(s, KernelStep) else s.type for s in steps]


def _run_both(fetches, feeds, init=None):
    out = []
    for mode in ("eager", "never"):
        prev = config.set_compile_mode(mode)
        try:
            with tf.Session() as s:
                if init is not None:
                    s.run(init)
                out.append(s.run(fetches, feeds))
        finally:
            config.set_compile_mode(prev)
    return out


def _want(relu=True):
    y = OPS["Conv2D"].compute(X, K, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]) + B
    return np.maximum(y, 0) if relu else y


@pytest.mark.parametrize("form", ["bias_add", "add", "add_reversed"])
@pytest.mark.parametrize("relu", [True, False])
def test_conv_bias_relu_becomes_one_step(g, form, relu):
    x = tf.placeholder(tf.float32, X.shape)
    conv = tf.nn.conv2d(x, tf.constant(K), [1, 1, 1, 1], "SAME")
    b = tf.constant(B)
    y = {"bias_add": lambda: tf.nn.bias_add(conv, b), "add": lambda: conv + b,
         "add_reversed": lambda: b + conv}[form]()
    y = tf.nn.relu(y) if relu else y
    assert _steps([y], [x]) == ["_FusedConv2D"]
    got, ref = _run_both(y, {x: X})
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, _want(relu), rtol=1e-4, atol=1e-4)


def test_variables_as_filter_and_bias_as_in_the_guide(g):
    x = tf.placeholder(tf.float32, X.shape)
    w = tf.get_variable("weights", initializer=K)
    b = tf.get_variable("biases", initializer=B)
    y = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
    assert "_FusedConv2D" in _types([y], [x])
    got, ref = _run_both(y, {x: X}, init=tf.global_variables_initializer())
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_a_fetched_or_shared_intermediate_keeps_the_chain_apart(g):
    x = tf.placeholder(tf.float32, X.shape)
    conv = tf.nn.conv2d(x, tf.constant(K), [1, 1, 1, 1], "SAME")
    biased = conv + tf.constant(B)
    y = tf.nn.relu(biased)
    assert "_FusedConv2D" not in _types([y, conv], [x])            # conv output fetched
    assert _types([y, biased], [x]).count("_FusedConv2D") == 1     # conv+bias fused, relu apart
    shared = tf.nn.relu(biased) + tf.reduce_sum(conv)              # conv read twice
    assert "_FusedConv2D" not in _types([shared], [x])
    got, ref = _run_both([y, biased, conv], {x: X})
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[0], _want(), rtol=1e-4, atol=1e-4)


def test_nchw_and_non_channel_bias_are_left_alone(g):
    x = tf.placeholder(tf.float32, X.shape)
    conv = tf.nn.conv2d(x, tf.constant(K), [1, 1, 1, 1], "SAME")
    not_a_bias = tf.nn.relu(conv + tf.constant(np.ones((9, 8), np.float32)))
    assert "_FusedConv2D" not in _types([not_a_bias], [x])
    nchw = tf.nn.relu(tf.nn.conv2d(tf.transpose(x, [0, 3, 1, 2]), tf.constant(K), [1, 1, 1, 1], "SAME",
                                   data_format="NCHW"))
    assert "_FusedConv2D" not in _types([nchw], [x])


def test_training_through_a_fused_chain_matches_the_reference(g):
    x = tf.placeholder(tf.float32, X.shape)
    w = tf.get_variable("weights", initializer=K)
    b = tf.get_variable("biases", initializer=B)
    y = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
    loss = tf.reduce_mean(tf.square(y - 0.5))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    assert "_FusedConv2D" in _types([loss], [x], [step])
    runs = []
    for mode in ("eager", "never"):
        prev = config.set_compile_mode(mode)
        try:
            with tf.Session() as s:
                s.run(tf.global_variables_initializer())
                runs.append([s.run([loss, step], {x: X})[0] for _ in range(3)] + [s.run(w), s.run(b)])
        finally:
            config.set_compile_mode(prev)
    for a, b_ in zip(*runs):
        np.testing.assert_allclose(a, b_, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("relu", [True, False])
def test_fused_op_fast_kernel_equals_its_reference(relu):
    d = OPS["_FusedConv2D"]
    attrs = dict(strides=[1, 1, 1, 1], padding="SAME", data_format="NHWC", dilations=[1, 1, 1, 1],
                 fused_ops=("BiasAdd", "Relu") if relu else ("BiasAdd",))
    np.testing.assert_allclose(d.extra["fast"](X, K, B, **attrs), d.compute(X, K, B, **attrs),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(d.compute(X, K, B, **attrs), _want(relu), rtol=1e-5, atol=1e-5)


# ---- remap.epilogues: MatMul chains and the other activations ------------------------------------
from jitgraph.compiler import remap  # noqa: E402


def evaluate(fetches, feeds=None):
    """The reference executor's value of ``fetches``."""
    prev = config.set_compile_mode("never")
    try:
        with tf.Session() as s:
            return s.run(fetches, feeds)
    finally:
        config.set_compile_mode(prev)

A = RNG.standard_normal((6, 5)).astype(np.float32)
W = RNG.standard_normal((5, 4)).astype(np.float32)
BM = RNG.standard_normal(4).astype(np.float32)


@pytest.fixture
def any_weight_size(monkeypatch):
    """The matmul tests use small weights: fuse them as a large dense layer would be."""
    monkeypatch.setattr(remap, "FUSED_MATMUL_MIN_WEIGHTS", 0)


def _chains(fetches, feeds):
    return list(remap.epilogues(prune(fetches, [], feeds), set(fetches) | set(feeds)).values())


def _fused_value(chain, values):
    """The fused op's reference on the chain's input values: what simplify's rewrite computes."""
    ins = [values[t] if t in values else evaluate(t) for t in chain.fused_inputs()]
    return OPS[chain.fused_type].compute(*ins, **chain.fused_attrs())


@pytest.mark.parametrize("act", [None, "Relu", "Relu6", "Tanh", "Sigmoid"])
@pytest.mark.parametrize("form", ["bias_add", "add", "add_reversed", "transposed"])
@pytest.mark.usefixtures("any_weight_size")
def test_matmul_bias_activation_chains(g, act, form):
    x = tf.placeholder(tf.float32, A.shape)
    if form == "transposed":
        y = tf.nn.bias_add(tf.matmul(tf.transpose(x), tf.constant(W.T.copy()), transpose_a=True, transpose_b=True),
                           tf.constant(BM))
    else:
        mm = tf.matmul(x, tf.constant(W))
        y = {"bias_add": lambda: tf.nn.bias_add(mm, tf.constant(BM)), "add": lambda: mm + BM,
             "add_reversed": lambda: tf.constant(BM) + mm}[form]()
    y = {None: y, "Relu": tf.nn.relu, "Relu6": tf.nn.relu6, "Tanh": tf.tanh, "Sigmoid": tf.sigmoid}[act](y) \
        if act else y
    (chain,) = _chains([y], [x])
    assert chain.fused_type == "_FusedMatMul" and chain.last is y.op
    assert chain.fused_attrs()["fused_ops"] == ("BiasAdd",) + ((act,) if act else ())
    values = {x: A} if form != "transposed" else {}
    if form == "transposed":
        values = {chain.fused_inputs()[0]: A.T.copy()}
    np.testing.assert_allclose(_fused_value(chain, values), evaluate(y, {x: A}), rtol=1e-5, atol=1e-6)


def test_conv_chain_with_tanh_and_the_narrow_view(g):
    x = tf.placeholder(tf.float32, X.shape)
    y = tf.tanh(tf.nn.conv2d(x, tf.constant(K), [1, 1, 1, 1], "SAME") + B)
    (chain,) = _chains([y], [x])
    assert chain.fused_type == "_FusedConv2D" and chain.act is y.op
    np.testing.assert_allclose(_fused_value(chain, {x: X}), evaluate(y, {x: X}), rtol=1e-5, atol=1e-5)
    narrow = remap.conv_epilogues(prune([y], [], [x]), {x, y})
    (only,) = narrow.values()
    assert only.act is None and only.last is y.op.inputs[0].op          # conv + bias; tanh stays apart


@pytest.mark.usefixtures("any_weight_size")
def test_matmul_chains_left_alone(g):
    x = tf.placeholder(tf.float32, A.shape)
    mm = tf.matmul(x, tf.constant(W))
    biased = mm + BM
    assert [c.last for c in _chains([tf.nn.relu(biased), biased], [x])] == [biased.op]   # relu apart
    assert _chains([tf.nn.relu(biased), mm], [x]) == []                             # matmul fetched
    assert _chains([mm + tf.constant(np.ones((6, 4), np.float32))], [x]) == []      # not a bias
    xi = tf.placeholder(tf.int32, [2, 3])
    assert _chains([tf.matmul(xi, tf.ones([3, 2], tf.int32)) + tf.constant([1, 2])], [xi]) == []
    with tf.control_dependencies([x.op]):
        gated = tf.nn.relu(tf.matmul(x, tf.constant(W)) + BM)
    assert _chains([gated], [x]) == []                                              # under a control edge


@pytest.mark.usefixtures("any_weight_size")
def test_dense_layers_become_fused_matmuls_and_train_like_the_reference(g):
    x = tf.placeholder(tf.float32, A.shape)
    labels = tf.constant(np.array([0, 1, 2, 3, 1, 0], np.int32))
    w1 = tf.get_variable("w1", initializer=W)
    b1 = tf.get_variable("b1", initializer=BM)
    w2 = tf.get_variable("w2", initializer=RNG.standard_normal((4, 4)).astype(np.float32))
    b2 = tf.get_variable("b2", initializer=np.zeros(4, np.float32))
    h = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.nn.bias_add(tf.matmul(h, w2), b2)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    assert _types([loss], [x], [step]).count("_FusedMatMul") == 2
    runs = []
    for mode in ("eager", "never"):
        prev = config.set_compile_mode(mode)
        try:
            with tf.Session() as s:
                s.run(tf.global_variables_initializer())
                runs.append([s.run([loss, step], {x: A})[0] for _ in range(3)] + s.run([w1, b1, w2, b2]))
        finally:
            config.set_compile_mode(prev)
    for a, b_ in zip(*runs):
        np.testing.assert_allclose(a, b_, rtol=1e-4, atol=1e-5)


def test_small_dense_layers_stay_unfused(g):
    # a 5 x 4 weight: the separate bias + activation kernel is cheaper than a fused NumPy step
    x = tf.placeholder(tf.float32, A.shape)
    assert _chains([tf.nn.relu(tf.matmul(x, tf.constant(W)) + BM)], [x]) == []
    big = np.zeros((256, 256), np.float32)
    assert len(_chains([tf.nn.relu(tf.matmul(tf.zeros([2, 256]), tf.constant(big)) + tf.zeros([256]))], [])) == 1
