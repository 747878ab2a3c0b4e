"""Conv3D / pooling 1-D and 3-D / depthwise and separable convolution / conv1d / batch norm /
moments: values and gradients against TensorFlow's, recorded by ``tests/oracle/record_nn_window.py``."""

import os
import sys

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import reference_executor

ORACLE = os.path.join(os.path.dirname(__file__), os.pardir, "oracle")
sys.path.insert(0, ORACLE)
from nn_window_cases import CASES  # noqa: E402

DATA = np.load(os.path.join(ORACLE, "data", "nn_window.npz"))


def _run_case(name):
    shapes, build, *dtype = CASES[name]
    dtype = (dtype or ["float64"])[0]
    values = {k: DATA[f"{name}/in/{k}"] for k in shapes}
    with tf.Graph().as_default():
        phs = [tf.placeholder(dtype, s, name=k) for k, s in shapes.items()]
        outputs = build(tf, *phs)
        outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        weights = [DATA[f"{name}/weight/{i}"] for i in range(len(outputs))]
        for o, w in zip(outputs, weights):
            assert o.shape.as_list() == list(w.shape), (name, o)
        loss = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outputs, weights)])
        grads = tf.gradients(loss, phs)
        with tf.Session() as sess:
            got = sess.run(outputs, dict(zip(phs, values.values())))
            got_grads = sess.run([g for g in grads if g is not None], dict(zip(phs, values.values())))
    return dtype, got, dict(zip([k for k, g in zip(shapes, grads) if g is not None], got_grads))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name):
    with reference_executor():
        dtype, got, grads = _run_case(name)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-9, atol=1e-9)
    for i, value in enumerate(got):
        np.testing.assert_allclose(value, DATA[f"{name}/out/{i}"], **tol, err_msg=f"{name} output {i}")
    recorded = sorted(k.split("/")[-1] for k in DATA.files if k.startswith(f"{name}/grad/"))
    assert sorted(grads) == recorded
    for k, g in grads.items():
        np.testing.assert_allclose(g, DATA[f"{name}/grad/{k}"], **tol, err_msg=f"{name} d/d{k}")


@pytest.mark.parametrize("name", ["conv3d_same_strided", "depthwise_same_strided", "fused_batch_norm_train"])
def test_compiled_path_agrees(name):
    from jitgraph.compiler import config
    prev = config.set_compile_mode("eager")
    try:
        dtype, got, grads = _run_case(name)
    finally:
        config.set_compile_mode(prev)
    for i, value in enumerate(got):
        np.testing.assert_allclose(value, DATA[f"{name}/out/{i}"], rtol=1e-4, atol=1e-4)
    for k, g in grads.items():
        np.testing.assert_allclose(g, DATA[f"{name}/grad/{k}"], rtol=1e-4, atol=1e-4)
