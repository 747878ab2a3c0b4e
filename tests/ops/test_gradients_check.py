"""Every gradient rule against central finite differences in float64: one row per (builder, shapes).

A row builds ``y = f(*inputs)`` from placeholders; the check compares ``tf.gradients(y, inputs,
grad_ys=gy)`` with the numerical derivative of ``sum(y * gy)``. It runs on the reference executor
(the rules are what is checked here; the compiler is checked against the reference elsewhere).
"""


import numpy as np
import pytest

import jitgraph as tf
from jitgraph.ops.registry import OPS
from op_library_checks import reference_executor

nn = tf.nn


def _pos(shape, rng):
    return rng.uniform(0.5, 2.0, shape)


def _dist(shape, rng):   # probability vectors along the last axis (xent labels)
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=-1, keepdims=True)


def _any(shape, rng):
    return rng.standard_normal(shape)


def _distinct(shape, rng):   # well-separated values: max/relu kinks are far from every probe
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2 + 0.5) * 0.3


CONV = dict(strides=[1, 2, 1, 1], padding="SAME")

# (id, builder, [(shape, sampler)], op types that must have a gradient rule)
ROWS = [
    ("conv2d_same", lambda x, w: nn.conv2d(x, w, **CONV), [((2, 5, 4, 3), _any), ((3, 2, 3, 2), _any)], ["Conv2D"]),
    ("conv2d_valid_s2", lambda x, w: nn.conv2d(x, w, [1, 2, 2, 1], "VALID"), [((1, 6, 7, 2), _any), ((3, 3, 2, 2), _any)],
     ["Conv2D"]),
    ("conv2d_dilated", lambda x, w: nn.conv2d(x, w, 1, "SAME", dilations=2), [((1, 6, 5, 2), _any), ((2, 2, 2, 3), _any)],
     ["Conv2D"]),
    ("conv2d_nchw", lambda x, w: nn.conv2d(x, w, [1, 1, 2, 1], "SAME", data_format="NCHW"),
     [((1, 2, 5, 4), _any), ((3, 2, 2, 3), _any)], ["Conv2D"]),
    ("bias_add", lambda x, b: nn.bias_add(x, b), [((2, 3, 4), _any), ((4,), _any)], ["BiasAdd"]),
    ("bias_add_nchw", lambda x, b: nn.bias_add(x, b, data_format="NCHW"), [((2, 3, 2, 2), _any), ((3,), _any)],
     ["BiasAdd"]),
    ("max_pool_same", lambda x: nn.max_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"), [((2, 5, 5, 2), _distinct)],
     ["MaxPool"]),
    ("max_pool_overlap", lambda x: nn.max_pool(x, [1, 3, 3, 1], [1, 1, 1, 1], "VALID"), [((1, 5, 4, 2), _distinct)],
     ["MaxPool"]),
    ("avg_pool_same", lambda x: nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"), [((2, 5, 4, 2), _any)],
     ["AvgPool"]),
    ("avg_pool_valid", lambda x: nn.avg_pool(x, 2, 1, "VALID"), [((1, 4, 4, 3), _any)], ["AvgPool"]),
    ("softmax", lambda x: nn.softmax(x), [((3, 5), _any)], ["Softmax"]),
    ("softmax_axis0", lambda x: nn.softmax(x, axis=0), [((3, 5), _any)], ["Softmax"]),
    ("log_softmax", lambda x: nn.log_softmax(x), [((3, 5), _any)], ["LogSoftmax"]),
    ("xent_v2", lambda l, z: nn.softmax_cross_entropy_with_logits_v2(labels=l, logits=z),
     [((4, 5), _dist), ((4, 5), _any)], ["SoftmaxCrossEntropyWithLogits"]),
    ("xent_v2_3d", lambda l, z: nn.softmax_cross_entropy_with_logits_v2(labels=l, logits=z),
     [((2, 3, 4), _dist), ((2, 3, 4), _any)], ["SoftmaxCrossEntropyWithLogits"]),
    ("sparse_xent", lambda z: nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 4, 2], logits=z),
     [((3, 5), _any)], ["SparseSoftmaxCrossEntropyWithLogits"]),
    ("l2_loss", lambda x: nn.l2_loss(x), [((3, 4), _any)], ["L2Loss"]),
    ("sigmoid_xent", lambda z, x: nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
     [((3, 4), _pos), ((3, 4), _any)], ["Relu", "Mul", "Sub", "Add", "Log1p", "Exp", "Neg", "Abs"]),
    ("identity", lambda x: tf.identity(x), [((2, 3), _any)], ["Identity"]),
    # elementwise math (rules written by the op library)
    ("add_bcast", lambda x, y: x + y, [((2, 3), _any), ((3,), _any)], ["Add"]),
    ("sub_bcast", lambda x, y: x - y, [((2, 1), _any), ((1, 3), _any)], ["Sub"]),
    ("mul_bcast", lambda x, y: x * y, [((2, 3), _any), ((2, 1), _any)], ["Mul"]),
    ("div", lambda x, y: x / y, [((2, 3), _any), ((3,), _pos)], ["RealDiv"]),
    ("pow", lambda x, y: tf.pow(x, y), [((2, 3), _pos), ((2, 3), _any)], ["Pow"]),
    ("max_min", lambda x, y: tf.maximum(x, y) + tf.minimum(x, y) * 2, [((6,), _distinct), ((6,), _any)],
     ["Maximum", "Minimum"]),
    ("sq_diff", lambda x, y: tf.squared_difference(x, y), [((2, 3), _any), ((3,), _any)], ["SquaredDifference"]),
    ("atan2", lambda y, x: tf.atan2(y, x), [((2, 3), _any), ((3,), _pos)], ["Atan2"]),
    ("floormod", lambda x, y: tf.floormod(x, y), [((2, 3), _pos), ((3,), _pos)], ["FloorMod"]),
    ("unary_smooth", lambda x: tf.exp(x) + tf.tanh(x) + tf.sigmoid(x) + tf.square(x) + tf.sin(x) + tf.cos(x) - x,
     [((2, 3), _any)], ["Exp", "Tanh", "Sigmoid", "Square", "Sin", "Cos", "Neg"]),
    ("unary_pos", lambda x: tf.log(x) + tf.sqrt(x) + tf.rsqrt(x) + tf.reciprocal(x) + tf.log1p(x) + tf.expm1(x),
     [((2, 3), _pos)], ["Log", "Sqrt", "Rsqrt", "Reciprocal", "Log1p", "Expm1"]),
    ("relu_family", lambda x: tf.nn.relu(x) + tf.nn.relu6(x * 4) + tf.nn.softplus(x) + tf.abs(x),
     [((8,), _distinct)], ["Relu", "Relu6", "Softplus", "Abs"]),
    ("where", lambda x, y: tf.where(x > 0, x * 2, y), [((6,), _distinct), ((6,), _any)], ["SelectV2"]),
    # linear algebra, reductions, layout (rules written by the op library)
    ("matmul", lambda a, b: tf.matmul(a, b), [((2, 3), _any), ((3, 4), _any)], ["MatMul"]),
    ("matmul_t", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True), [((3, 2), _any), ((4, 3), _any)],
     ["MatMul"]),
    ("batch_matmul", lambda a, b: tf.matmul(a, b), [((2, 2, 3), _any), ((2, 3, 2), _any)], ["BatchMatMulV2"]),
    ("reduce_sum_mean", lambda x: tf.reduce_sum(x, axis=1) + tf.reduce_mean(x, axis=1), [((3, 4), _any)],
     ["Sum", "Mean", "Add"]),
    ("reduce_keepdims", lambda x: tf.reduce_mean(x, axis=0, keepdims=True) * x, [((3, 4), _any)], ["Mean", "Mul"]),
    ("reduce_max_prod", lambda x: tf.reduce_max(x, axis=0) + tf.reduce_prod(x, axis=0), [((3, 4), _distinct)],
     ["Max", "Prod", "Add"]),
    ("reshape_transpose", lambda x: tf.transpose(tf.reshape(x, [4, 3]), [1, 0]), [((2, 6), _any)],
     ["Reshape", "Transpose"]),
    ("concat_stack", lambda x, y: tf.stack([tf.concat([x, y], axis=1), tf.concat([y, x], axis=1)]),
     [((2, 3), _any), ((2, 3), _any)], ["ConcatV2", "Pack"]),
    ("expand_squeeze_tile", lambda x: tf.tile(tf.expand_dims(tf.squeeze(x, [0]), 0), [2, 1]), [((1, 3), _any)],
     ["ExpandDims", "Squeeze", "Tile"]),
    ("slicing", lambda x: x[1:, ::2] * 2.0, [((3, 5), _any)], ["StridedSlice", "Mul"]),
    ("gather", lambda x: tf.gather(x, [2, 0, 2]), [((4, 3), _any)], ["GatherV2"]),
    ("pad", lambda x: tf.pad(x, [[1, 0], [0, 2]]), [((2, 3), _any)], ["Pad"]),
    ("unstack", lambda x: tf.unstack(x)[1] * 3.0, [((3, 2), _any)], ["Unpack", "Mul"]),
]



def _check(builder, specs, seed=0, eps=1e-6):
    rng = np.random.default_rng(seed)
    values = [sampler(shape, rng) for shape, sampler in specs]
    g = tf.Graph()
    with g.as_default():
        xs = [tf.placeholder(tf.float64, v.shape) for v in values]
        y = builder(*xs)
        gy = rng.standard_normal(y.shape.as_list())
        grads = tf.gradients(y, xs, grad_ys=tf.constant(gy))
        feed = dict(zip(xs, values))
        with tf.Session() as sess, reference_executor():
            analytic = sess.run(grads, feed)

            def f():
                return float(np.sum(sess.run(y, feed) * gy))

            for x, v, a in zip(xs, values, analytic):
                assert a.shape == v.shape and a.dtype == np.float64
                num = np.zeros_like(v)
                for i in np.ndindex(v.shape):
                    orig = v[i]
                    v[i] = orig + eps
                    up = f()
                    v[i] = orig - eps
                    down = f()
                    v[i] = orig
                    num[i] = (up - down) / (2 * eps)
                np.testing.assert_allclose(a, num, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("builder,specs,needs", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_gradient_matches_finite_differences(builder, specs, needs):
    missing = [t for t in needs if t not in OPS or OPS[t].grad is None]
    if missing:
        pytest.skip(f"no gradient rule yet for {missing}")
    try:
        _check(builder, specs)
    except AttributeError as e:   # the op library has not exported this function yet
        pytest.skip(str(e))
