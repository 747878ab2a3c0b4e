"""``tf.layers`` against TensorFlow (tf_keras legacy layers), recorded by
``tests/oracle/record_layers.py``: variable names, shapes and collections, update ops, output
shapes, outputs with fixed weights, gradients, moving statistics after an update."""

import json
import os
import sys

import numpy as np
import pytest

import jitgraph as tf

ORACLE = os.path.join(os.path.dirname(__file__), os.pardir, "oracle")
sys.path.insert(0, ORACLE)
from layers_cases import CASES  # noqa: E402

INFO = json.load(open(os.path.join(ORACLE, "data", "layers.json")))
DATA = np.load(os.path.join(ORACLE, "data", "layers.npz"))
KEYS = {"trainable": tf.GraphKeys.TRAINABLE_VARIABLES, "model": tf.GraphKeys.MODEL_VARIABLES,
        "moving_average": tf.GraphKeys.MOVING_AVERAGE_VARIABLES, "local": tf.GraphKeys.LOCAL_VARIABLES}
TOL = dict(rtol=2e-5, atol=2e-5)


def _build(name):
    case = CASES[name]
    x = tf.placeholder(tf.float32, case["shape"], name="x")
    t = tf.placeholder(tf.bool, [], name="training") if case.get("training") else None
    res = case["build"](tf, x, t) if t is not None else case["build"](tf, x)
    out, layer = res if isinstance(res, tuple) else (res, None)
    return x, t, out, layer


@pytest.mark.parametrize("name", sorted(CASES))
def test_structure_matches_tensorflow(name):
    want = INFO[name]
    with tf.Graph().as_default():
        _, _, out, layer = _build(name)
        assert [[v.name, v.shape.as_list()] for v in tf.global_variables()] == want["variables"]
        for key, collection in KEYS.items():
            assert [v.name for v in tf.get_collection(collection)] == want["collections"][key], key
        assert [u.name for u in tf.get_collection(tf.GraphKeys.UPDATE_OPS)] == _plain_update_names(want, name)
        assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == len(want["regularization_losses"])
        assert out.shape.as_list() == want["output_shape"]
        if layer is not None:
            got = {"name": layer.name, "scope_name": layer.scope_name, "updates": len(layer.updates),
                   **{k: [v.name for v in getattr(layer, k)] for k in (
                       "weights", "variables", "trainable_weights", "trainable_variables", "non_trainable_weights")}}
            assert got == want["layer"]


def _plain_update_names(want, name):
    """TF's names for the update ops; with a ``training`` tensor TF wraps them in ``tf.cond``
    (``cond_2/Merge``), where jitgraph's select-based updates keep the plain names."""
    if not CASES[name].get("training"):
        return want["update_ops"]
    scope = want["update_ops"][0].split("/")[0] if want["update_ops"] else ""
    return [f"{scope}/AssignMovingAvg", f"{scope}/AssignMovingAvg_1"] if want["update_ops"] else []


def _replay(name):
    case = CASES[name]
    with tf.Graph().as_default():
        x, t, out, _ = _build(name)
        variables, trainable = tf.global_variables(), tf.trainable_variables()
        w = DATA[f"{name}/weight"]
        grads = tf.gradients(tf.reduce_sum(out * w), [x] + trainable)
        regs = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for v in variables:
                if case.get("keep_init"):
                    np.testing.assert_allclose(sess.run(v), DATA[f"{name}/var/{v.name}"], **TOL)
            for tv in case.get("training") or [None]:
                for v in variables:
                    v.load(DATA[f"{name}/var/{v.name}"], sess)
                feeds = {x: DATA[f"{name}/x"]} if t is None else {x: DATA[f"{name}/x"], t: tv}
                tag = "" if tv is None else f"{tv}/"
                y, *rest = sess.run([out, *grads, *regs], feeds)
                g, r = rest[:len(grads)], rest[len(grads):]
                np.testing.assert_allclose(y, DATA[f"{name}/{tag}out"], **TOL, err_msg="output")
                for key, gv in zip(["x"] + [v.name for v in trainable], g):
                    np.testing.assert_allclose(gv, DATA[f"{name}/{tag}grad/{key}"], **TOL, err_msg=f"d/d{key}")
                for i, rv in enumerate(r):
                    np.testing.assert_allclose(rv, DATA[f"{name}/{tag}reg/{i}"], **TOL, err_msg="regularizer")
                if updates:
                    sess.run(updates, feeds)
                    for v in variables:
                        np.testing.assert_allclose(sess.run(v), DATA[f"{name}/{tag}after/{v.name}"], **TOL,
                                                   err_msg=f"{v.name} after the update ops")


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_tensorflow(name, reference):
    _replay(name)


@pytest.mark.parametrize("name", ["cnn", "bn_tensor_training_fused", "conv2d_transpose_same"])
def test_compiled_values_match_tensorflow(name, eager):
    _replay(name)
