"""Runs the oracle cases (``control_cases.py``, ``rnn_cases.py``) with a TF1-API module ``tf``:
TensorFlow when recording, jitgraph in the tests. Variables start from deterministic values
(``fixed_value``: a function of the variable's name and shape), so both runs see the same
weights without storing them."""

import zlib

import numpy as np


def fixed_value(name, shape, dtype):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return (rng.uniform(-0.5, 0.5, size=shape)).astype(dtype)


def run_case(tf, fn, load_weights=False):
    """``{"<step>/<fetch name>": value}`` of case ``fn``."""
    out = {}
    with tf.Graph().as_default():
        steps = fn(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            if load_weights:
                for v in tf.trainable_variables():
                    if v.dtype.base_dtype.is_floating:
                        v.load(fixed_value(v.op.name, v.shape.as_list(), v.dtype.base_dtype.as_numpy_dtype), sess)
            for k, (fetches, feeds) in enumerate(steps):
                values = sess.run(fetches, feeds)
                for name, value in values.items():
                    out[f"{k}/{name}"] = np.asarray(value)
    return out


def build_error(tf, fn):
    """The class name of the exception ``fn(tf)`` raises while building (None if it does not)."""
    with tf.Graph().as_default():
        try:
            fn(tf)
        except Exception as e:   # noqa: BLE001 - the class is what is recorded
            return type(e).__name__
    return None


def run_error(tf, fn):
    """The class name of the exception running case ``fn``'s single step raises (None if none)."""
    with tf.Graph().as_default():
        (fetches, feeds), = fn(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            try:
                sess.run(fetches, feeds)
            except Exception as e:   # noqa: BLE001
                return type(e).__name__
    return None
