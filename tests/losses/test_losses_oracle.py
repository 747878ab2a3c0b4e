"""``tf.losses`` values, gradients, dtypes, shapes and the LOSSES collection against TensorFlow's,
recorded by ``tests/oracle/record_losses.py``."""

import json
import os
import sys

import numpy as np
import pytest

import jitgraph as tf

ORACLE = os.path.join(os.path.dirname(__file__), os.pardir, "oracle")
sys.path.insert(0, ORACLE)
from losses_cases import CASES  # noqa: E402

DATA = np.load(os.path.join(ORACLE, "data", "losses.npz"))
INFO = json.load(open(os.path.join(ORACLE, "data", "losses.json")))


def _replay(name):
    inputs, build = CASES[name]
    with tf.Graph().as_default():
        values = {k: DATA[f"{name}/in/{k}"] for k in inputs}
        phs = [tf.placeholder(tf.as_dtype(values[k].dtype), shape, name=k) for k, (shape, _) in inputs.items()]
        loss = build(tf, *phs)
        want = INFO[name]
        assert (loss.dtype.name, loss.shape.as_list()) == (want["dtype"], want["shape"])
        assert [t.name for t in tf.get_collection(tf.GraphKeys.LOSSES)] == want["losses"] == [loss.name]
        floats = [p for p in phs if p.dtype.is_floating]
        grads = tf.gradients(tf.reduce_sum(loss), floats)
        floats, grads = zip(*[(p, gr) for p, gr in zip(floats, grads) if gr is not None])
        with tf.Session() as sess:
            out, *g = sess.run([loss, *grads], dict(zip(phs, values.values())))
    np.testing.assert_allclose(out, DATA[f"{name}/out"], rtol=1e-5, atol=1e-6)
    recorded = {k.split("/")[-1] for k in DATA.files if k.startswith(f"{name}/grad/")}
    assert {p.op.name for p in floats} == recorded
    for p, gr in zip(floats, g):
        if p.op.name in recorded:
            np.testing.assert_allclose(gr, DATA[f"{name}/grad/{p.op.name}"], rtol=1e-5, atol=1e-6,
                                       err_msg=f"d/d{p.op.name}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name, reference):
    _replay(name)


def test_compiled_path_matches_tensorflow(eager):
    for name in ("mse_weighted_sum_by_nonzero_weights", "softmax_cross_entropy_smoothing",
                 "mean_pairwise_squared_error"):
        _replay(name)
