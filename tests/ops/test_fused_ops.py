"""``_FusedConv2D`` / ``_FusedMatMul`` (``ops/fused_ops.py``): their references are the unfused
ops' references one after the other, and bad attributes or biases fail at build time."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.ops import fused_ops
from jitgraph.ops.registry import OPS, make_op

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("act", [None] + list(fused_ops.ACTIVATIONS))
def test_references_are_the_unfused_ops(act):
    a, b = RNG.standard_normal((5, 7)) * 3, RNG.standard_normal((7, 4))
    bias = RNG.standard_normal(4)
    chain = ("BiasAdd",) + ((act,) if act else ())
    y = a @ b + bias
    want = {None: y, "Relu": np.maximum(y, 0), "Relu6": np.clip(y, 0, 6), "Tanh": np.tanh(y),
            "Sigmoid": 1 / (1 + np.exp(-y))}[act]
    got = OPS["_FusedMatMul"].compute(a, b, bias, transpose_a=False, transpose_b=False, fused_ops=chain)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got_t = OPS["_FusedMatMul"].compute(a.T.copy(), b.T.copy(), bias, transpose_a=True, transpose_b=True,
                                        fused_ops=chain)
    np.testing.assert_allclose(got_t, want, rtol=1e-12)
    x, w = RNG.standard_normal((2, 6, 5, 3)), RNG.standard_normal((3, 3, 3, 4))
    conv_attrs = dict(strides=[1, 1, 1, 1], padding="SAME", data_format="NHWC", dilations=[1, 1, 1, 1])
    yc = OPS["Conv2D"].compute(x, w, **conv_attrs) + bias
    wantc = {None: yc, "Relu": np.maximum(yc, 0), "Relu6": np.clip(yc, 0, 6), "Tanh": np.tanh(yc),
             "Sigmoid": 1 / (1 + np.exp(-yc))}[act]
    np.testing.assert_allclose(OPS["_FusedConv2D"].compute(x, w, bias, fused_ops=chain, **conv_attrs), wantc,
                               rtol=1e-12)


def test_build_time_errors_name_the_problem():
    with tf.Graph().as_default():
        a, b = tf.placeholder(tf.float32, [5, 7]), tf.placeholder(tf.float32, [7, 4])
        attrs = dict(transpose_a=False, transpose_b=False)
        y = make_op("_FusedMatMul", [a, b, tf.placeholder(tf.float32, [4])], dict(attrs, fused_ops=("BiasAdd", "Tanh")))
        assert y.outputs[0].shape.as_list() == [5, 4]
        with pytest.raises(ValueError, match="fused_ops must be"):
            make_op("_FusedMatMul", [a, b, tf.placeholder(tf.float32, [4])], dict(attrs, fused_ops=("Relu",)))
        with pytest.raises(ValueError, match="fused_ops must be"):
            make_op("_FusedMatMul", [a, b, tf.placeholder(tf.float32, [4])],
                    dict(attrs, fused_ops=("BiasAdd", "Softplus")))
        with pytest.raises(ValueError, match="bias has 3 elements for 4 output channels"):
            make_op("_FusedMatMul", [a, b, tf.placeholder(tf.float32, [3])], dict(attrs, fused_ops=("BiasAdd",)))
        with pytest.raises(TypeError, match="bias must be a 1-D float32"):
            make_op("_FusedMatMul", [a, b, tf.placeholder(tf.float64, [4])], dict(attrs, fused_ops=("BiasAdd",)))
        with pytest.raises(ValueError, match="Dimensions must be equal"):
            make_op("_FusedMatMul", [a, a, tf.placeholder(tf.float32, [7])], dict(attrs, fused_ops=("BiasAdd",)))
