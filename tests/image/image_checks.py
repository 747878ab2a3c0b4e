"""Helpers for the ``tf.image`` tests: TF 2.21's recorded values and a reference-executor run.
Not collected."""

from pathlib import Path

import numpy as np

import jitgraph as tf

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "image.npz")


def evaluate(fetches, feed_dict=None):
    """Run ``fetches`` once with the NumPy references (these tests check the ops' own rules)."""
    from jitgraph.compiler import config
    prev = config.set_compile_mode("never")
    try:
        with tf.Session() as sess:
            return sess.run(fetches, feed_dict)
    finally:
        config.set_compile_mode(prev)


def file_bytes(key):
    return TF[f"codecs/file_{key}"].tobytes()
