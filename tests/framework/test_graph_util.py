"""``jitgraph/framework/graph_util.py``: freezing a trained model as TF 2.21 does
(``tests/oracle/record_graph_util.py``), and the frozen GraphDef running on its own."""

import json
import logging
import os
import sys

import numpy as np
import pytest

import jitgraph as tf

pytest.importorskip("tensorboard")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
import graph_util_cases as cases  # noqa: E402

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "graph_util.json")))


def test_freeze_matches_tensorflow(caplog):
    want = ORACLE["freeze"]
    with caplog.at_level(logging.INFO, logger="jitgraph"):
        got = cases.freeze_scenario(tf)
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-6)
    np.testing.assert_allclose(got["y_imported"], want["y"], rtol=1e-6)    # the frozen graph alone
    for name, value in want["consts"].items():
        np.testing.assert_allclose(got["consts"][name], value, rtol=1e-6, err_msg=name)
    # TF's MatMul reads "w/read"; jitgraph's reads the variable itself: the same nodes otherwise
    tf_nodes = {n for n, _ in want["frozen"] if not n.endswith("/read")}
    assert {n for n, _ in got["frozen"]} == tf_nodes
    ops = dict(got["frozen"])
    assert all(ops[n] == "Const" for n in want["consts"]) and "VariableV2" not in ops.values()
    assert "counter" not in ops and "check" not in ops       # only what y needs
    assert got["whitelist_ops"] == want["whitelist_ops"] and got["blacklist_ops"] == want["blacklist_ops"]
    assert got["missing_error"] == want["missing_error"] and got["string_error"] == want["string_error"]
    assert set(got["sub_check"]) == {n for n in want["sub_check"] if not n.endswith("/read")}
    assert [r.getMessage() for r in caplog.records if "variables" in r.getMessage()][:2] == \
        ["Froze 3 variables.", "Converted 3 variables to const ops."]


def test_remove_training_nodes_matches_tensorflow():
    want, got = ORACLE["training_nodes"], cases.training_nodes_scenario(tf)

    def shape(nodes):
        """(name, op, inputs) without the scalar constants, which TF names "mul/y" and jitgraph
        "Const"; Add for TF 2.21's AddV2."""
        consts = {n for n, op, _ in nodes if op == "Const"}
        return [(n, "Add" if op == "AddV2" else op, [i for i in ins if i not in consts])
                for n, op, ins in nodes if n not in consts]
    for key in ("kept", "protected"):
        assert shape(got[key]) == shape(want[key]), key


def test_frozen_graph_round_trips_through_bytes_and_keeps_variables_untouched():
    g = tf.Graph()
    with g.as_default():
        x, y, train = cases.build(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = {v.name: sess.run(v) for v in tf.global_variables()}
            frozen = tf.graph_util.convert_variables_to_constants(sess, g.as_graph_def(), ["y"])
            after = {v.name: sess.run(v) for v in tf.global_variables()}
            want = sess.run(y, {x: cases.X})
    assert all(np.array_equal(before[k], after[k]) for k in before)
    data = frozen.SerializeToString()
    with tf.Graph().as_default():
        out, = tf.import_graph_def(data, return_elements=["y:0"], input_map={"x:0": tf.constant(cases.X)})
        assert not tf.global_variables()
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out), want, rtol=1e-6)


def test_make_tensor_proto_and_shape_helpers():
    p = tf.make_tensor_proto(1.5, tf.float32, shape=[2, 2])
    np.testing.assert_array_equal(tf.make_ndarray(p), np.full((2, 2), 1.5, np.float32))
    np.testing.assert_array_equal(tf.make_ndarray(tf.make_tensor_proto([1, 2, 3, 4], shape=[2, 2])),
                                  [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="Too many elements provided. Takes at most 2, but got 3"):
        tf.make_tensor_proto([1, 2, 3], shape=[2])
    with tf.Graph().as_default() as g:
        tf.placeholder(tf.float32, [None, 7], name="p")
        assert tf.graph_util.tensor_shape_from_node_def_name(g, "p").as_list() == [None, 7]
        assert tf.graph_util.must_run_on_cpu(g.get_operation_by_name("p"))
