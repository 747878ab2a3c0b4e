"""``tf.train.ExponentialMovingAverage`` against TensorFlow 2.21's (``tests/oracle/data/ema.json``,
recorded by ``tests/oracle/record_ema.py`` from the same scenario), compiled and on the reference."""

import json
import os
import sys

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config

ORACLE = os.path.join(os.path.dirname(__file__), "..", "oracle")
sys.path.insert(0, ORACLE)
import ema_cases  # noqa: E402

with open(os.path.join(ORACLE, "data", "ema.json")) as f:
    WANT = json.load(f)


@pytest.mark.parametrize("mode", ["never", "eager"])
def test_ema_matches_tensorflow(mode):
    prev = config.set_compile_mode(mode)
    try:
        got = json.loads(json.dumps(ema_cases.ema_scenario(tf)))
    finally:
        config.set_compile_mode(prev)
    for key in ("names", "average_name", "trainable", "moving_average_variables", "global", "restore"):
        assert got[key] == WANT[key], key
    for x, y in zip(got["initial"], WANT["initial"]):
        np.testing.assert_allclose(x, y)
    for a, b in zip(got["steps"], WANT["steps"]):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-6)


def test_ema_refuses_what_tf_refuses(g):
    ema = tf.train.ExponentialMovingAverage(0.5)
    v = tf.Variable(1.0)
    ema.apply([v])
    with pytest.raises(ValueError, match="already computed"):
        ema.apply([v])
    with pytest.raises(TypeError, match="half, float, or double"):
        ema.apply([tf.Variable(1)])
