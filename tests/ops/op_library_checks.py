"""Helpers for the op-library tests (array, slicing, reduction, linalg, random): evaluate on the
reference executor and compare ``tf.gradients`` with central finite differences. Not collected."""

import contextlib

import numpy as np

import jitgraph as tf


@contextlib.contextmanager
def reference_executor():
    """Run plans with the NumPy references only: these tests check the ops' own rules."""
    from jitgraph.compiler import config
    prev = config.set_compile_mode("never")
    try:
        yield
    finally:
        config.set_compile_mode(prev)


def evaluate(fetches, feed_dict=None):
    """Run ``fetches`` once in a fresh session of the default graph."""
    with reference_executor(), tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def gradient_error(builder, values, seed=0, eps=1e-6):
    """max |symbolic - numeric| / (1 + |numeric|) of ``d sum(builder(*x) * w) / dx`` for float64
    inputs ``values`` and fixed random weights ``w``."""
    rng = np.random.default_rng(seed)
    with tf.Graph().as_default(), reference_executor(), tf.Session() as sess:
        xs = [tf.placeholder(tf.float64, v.shape) for v in values]
        y = builder(*xs)
        feeds = dict(zip(xs, values))
        w = rng.standard_normal(np.shape(sess.run(y, feeds)))
        grads = tf.gradients(y, xs, grad_ys=tf.constant(w))
        symbolic = sess.run([g if g is not None else tf.zeros_like(x) for g, x in zip(grads, xs)], feeds)
        worst = 0.0
        for i, v in enumerate(values):
            numeric = np.zeros_like(v)
            for j in np.ndindex(v.shape):
                hi, lo = v.copy(), v.copy()
                hi[j] += eps
                lo[j] -= eps
                f_hi = np.sum(sess.run(y, {**feeds, xs[i]: hi}) * w)
                f_lo = np.sum(sess.run(y, {**feeds, xs[i]: lo}) * w)
                numeric[j] = (f_hi - f_lo) / (2 * eps)
            worst = max(worst, float(np.max(np.abs(symbolic[i] - numeric) / (1 + np.abs(numeric)), initial=0)))
        return worst
