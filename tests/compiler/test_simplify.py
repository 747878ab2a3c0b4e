"""simplify's strength reduction of ``Pow`` by a constant scalar exponent: ``x ** 2.0`` runs as
``Square`` and ``x ** 1.0`` as ``x`` (both the values ``np.power`` gives, special values
included); other exponents, integer bases and exponents that broadcast stay ``Pow``."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import simplify as S
from jitgraph.kernels import denormals

SPECIAL = np.array([0.0, -0.0, 1.5, -2.25, 3e19, -3e-23, 1e-45, np.inf, -np.inf, np.nan], np.float32)


def _simplified(fetch):
    g = fetch.graph
    return S.simplify(g.get_operations(), [fetch], [])


def _types(simple):
    return [op.type for op in simple.ops]


@pytest.mark.parametrize("exponent, becomes", [(2.0, "Square"), (1.0, None), (3.0, "Pow"), (0.5, "Pow")])
def test_constant_exponents(g, exponent, becomes):
    x = tf.placeholder(tf.float32, [None])
    y = tf.pow(x, exponent) * 1.0
    simple = _simplified(y)
    types = _types(simple)
    if becomes is None:
        assert "Pow" not in types and "Square" not in types
        mul = next(op for op in simple.ops if op.type == "Mul")
        assert mul.inputs[0] is x
    else:
        assert becomes in types and (becomes == "Pow" or "Pow" not in types)


def test_int_base_and_broadcasting_exponent_keep_pow(g):
    i = tf.placeholder(tf.int32, [None])
    x = tf.placeholder(tf.float32, [])
    assert "Pow" in _types(_simplified(tf.pow(i, 2) + 0))
    assert "Pow" in _types(_simplified(tf.pow(x, np.full((1,), 2.0, np.float32)) + 0.0))   # [] -> [1]


@pytest.mark.parametrize("exponent", [2.0, 1.0])
def test_values_equal_numpy_power(g, eager_strict, exponent):
    x = tf.placeholder(tf.float32, [None])
    y = tf.pow(x, exponent) + 0.0
    with tf.Session() as sess:
        got = sess.run(y, {x: SPECIAL})
    with np.errstate(over="ignore"), denormals.flushed():     # a run flushes denormals, as TF1's
        want = np.power(SPECIAL, np.float32(exponent)) + np.float32(0)
    np.testing.assert_array_equal(got, want)


def test_square_of_a_rewired_pow_feeds_its_consumers(g, eager_strict):
    """A ``Pow`` whose input moved (here past an ``Identity``) is first rewired, then replaced by
    ``Square``: its consumers must read the ``Square`` (they read the dropped copy's output, which
    no step computed, and the runner failed with a NameError)."""
    x = tf.placeholder(tf.float32, [None])
    y = tf.pow(tf.identity(x), 2.0)               # not fetched: fetched outputs are never rewritten
    z = tf.reduce_mean(y) + tf.reduce_sum(y * 3.0)
    xv = np.array([1.5, -2.0, 0.25], np.float32)
    with tf.Session() as sess:
        got = sess.run(z, {x: xv})
    np.testing.assert_allclose(got, np.mean(xv * xv) + 3 * np.sum(xv * xv), rtol=1e-6)
