"""``tf.metrics`` against TensorFlow's, recorded by ``tests/oracle/record_metrics.py``: the state
variables (names, LOCAL/METRIC collections, nothing global), the value and update tensors, and
their results over three update batches, then after ``local_variables_initializer`` resets them."""

import json
import os
import sys

import numpy as np
import pytest

import jitgraph as tf

ORACLE = os.path.join(os.path.dirname(__file__), os.pardir, "oracle")
sys.path.insert(0, ORACLE)
from metrics_cases import BATCHES, CASES  # noqa: E402

DATA = np.load(os.path.join(ORACLE, "data", "metrics.npz"))
INFO = json.load(open(os.path.join(ORACLE, "data", "metrics.json")))


def _replay(name):
    inputs, build = CASES[name]
    want = INFO[name]
    with tf.Graph().as_default():
        phs = [tf.placeholder(tf.as_dtype(DATA[f"{name}/0/in/{k}"].dtype), (None,) + shape, name=k)
               for k, (shape, _) in inputs.items()]
        value, update_op = build(tf, *phs)
        assert [v.name for v in tf.local_variables()] == want["local"]
        assert [v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == want["metric"]
        assert [v.name for v in tf.global_variables()] == want["global"] == []
        assert [value.name, value.dtype.name, value.shape.as_list()] == want["value"]
        assert [update_op.name, update_op.dtype.name, update_op.shape.as_list()] == want["update_op"]
        with tf.Session() as sess:
            sess.run(tf.local_variables_initializer())
            for b in range(len(BATCHES) + 1):
                if b == len(BATCHES):
                    sess.run(tf.local_variables_initializer())
                feeds = {p: DATA[f"{name}/{b}/in/{k}"] for p, k in zip(phs, inputs)}
                np.testing.assert_allclose(sess.run(update_op, feeds), DATA[f"{name}/{b}/update"], rtol=2e-5,
                                           atol=1e-6, err_msg=f"update_op after batch {b}")
                np.testing.assert_allclose(sess.run(value), DATA[f"{name}/{b}/value"], rtol=2e-5, atol=1e-6,
                                           err_msg=f"value after batch {b}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_streaming_matches_tensorflow(name, reference):
    _replay(name)


def test_compiled_streaming_matches_tensorflow(eager):
    for name in ("accuracy_weighted_column_labels", "auc_pr_careful_interpolation", "mean_iou"):
        _replay(name)
