"""Gradients through loops, conds and TensorArrays against central finite differences (float64,
reference executor)."""

import os
import sys

import numpy as np
import pytest

import jitgraph as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops"))
from op_library_checks import gradient_error  # noqa: E402

RNG = np.random.default_rng(5)
M = RNG.standard_normal((4, 3))
V = RNG.standard_normal(3)


def _rnn_like(x, w):
    ta = tf.TensorArray(tf.float64, size=4).unstack(x)
    out = tf.TensorArray(tf.float64, size=4)

    def body(t, h, out):
        h = tf.tanh(h * w + ta.read(t))
        return t + 1, h, out.write(t, h * h)
    _, h, out = tf.while_loop(lambda t, h, o: t < 4, body, [0, tf.zeros([3], tf.float64), out])
    return out.stack() + h


def _nested(x):
    def body(i, h):
        h2 = tf.while_loop(lambda j, h: j < 2, lambda j, h: (j + 1, tf.sin(h) * x[0]), [0, h])[1]
        return i + 1, tf.cond(tf.reduce_sum(h2) > 0, lambda: h2 * 2.0, lambda: h2 - x[1])
    return tf.while_loop(lambda i, h: i < 3, body, [0, x[2]])[1]


def _tensor_array_ops(x):
    ta = tf.TensorArray(tf.float64, size=4, clear_after_read=False).scatter([3, 1, 0, 2], x)
    parts = tf.TensorArray(tf.float64, size=2, clear_after_read=False).split(tf.reshape(x, [12]), [6, 6])
    return tf.concat([tf.reshape(ta.gather([0, 3]), [6]), parts.concat() * 2.0, tf.reshape(ta.stack(), [12])], 0)


CASES = {
    "while_with_captured_weight": (lambda x, w: _rnn_like(x, w), [M, V]),
    "nested_loops_and_cond": (_nested, [M]),
    "cond_both_branches": (lambda x: tf.cond(tf.reduce_sum(x) > 0, lambda: tf.exp(x) * x, lambda: x * 3.0), [M]),
    "scan": (lambda x: tf.scan(lambda a, r: tf.sin(a) + r * a, x, initializer=tf.ones([3], tf.float64)), [M]),
    "scan_reverse": (lambda x: tf.scan(lambda a, r: a * r + 1.0, x, reverse=True), [M]),
    "map_fn": (lambda x: tf.map_fn(lambda r: r * tf.reduce_sum(r * r), x), [M]),
    "foldl_foldr": (lambda x: tf.foldl(lambda a, r: a * r, x) + tf.foldr(lambda a, r: tf.tanh(a + r), x), [M]),
    "max_iterations": (lambda x: tf.while_loop(lambda v: tf.reduce_sum(v) < 1e9, lambda v: v * x[0], [x[1]],
                                                 maximum_iterations=3), [M]),
    "tensor_array_ops": (_tensor_array_ops, [M]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_finite_differences(name):
    fn, values = CASES[name]
    assert gradient_error(fn, values) < 1e-6
