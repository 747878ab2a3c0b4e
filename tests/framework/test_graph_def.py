"""GraphDef export and import: TF's node forms, TF 2.21's own GraphDef imported and run, jitgraph's
GraphDef of 56 op kinds computed by TF 2.21 to jitgraph's values (tests/oracle/record_tb_checkpoint.py)."""

import os

import numpy as np
import pytest
from google.protobuf import text_format

import jitgraph as tf
from tests.oracle import make_tb_jitgraph_files as made
from tests.oracle.tb_data import JG_DIR, TF_DIR, dec, load

READ_BY_TF = load("tb_jitgraph_read_by_tf.json")


def _tf_model_graph_def():
    with open(os.path.join(TF_DIR, "model.pbtxt")) as f:
        return text_format.Parse(f.read(), tf.GraphDef())


def test_node_forms_follow_tensorflow():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        with tf.name_scope("block"):
            m = tf.reduce_mean(x, axis=-1, keepdims=True)
        with tf.control_dependencies([m]):
            tf.identity(x, name="z")
        tf.concat([x, x], 1, name="cat")
        gd = g.as_graph_def(add_shapes=True)
    nodes = {n.name: n for n in gd.node}
    assert gd.versions.producer == 2474
    mean = nodes["block/Mean"]
    assert list(mean.input) == ["x", "block/Mean/reduction_indices"]
    assert mean.attr["T"].type == 1 and mean.attr["Tidx"].type == 3
    assert mean.attr["keep_dims"].b and "axis" not in mean.attr
    assert list(nodes["block/Mean/reduction_indices"].attr["value"].tensor.int_val) == [1]
    assert list(nodes["z"].input) == ["x", "^block/Mean"]
    assert list(nodes["cat"].input) == ["x", "x", "cat/axis"] and nodes["cat"].attr["N"].i == 2
    assert [d.size for d in nodes["x"].attr["_output_shapes"].list.shape[0].dim] == [-1, 3]
    assert nodes["x"].attr["shape"].shape.dim[0].size == -1
    assert [n.name for n in g.as_graph_def(from_version=2).node] == ["z", "cat/axis", "cat"]


def test_imports_tensorflows_graph_def_with_names_maps_and_returns():
    gd = _tf_model_graph_def()
    rec = load("tb_tf.json")
    with tf.Graph().as_default() as g:
        feed = tf.placeholder(tf.float32, [None, 3], name="feed")
        y, *init = tf.import_graph_def(gd, input_map={"x:0": feed}, name="m",
                                       return_elements=["y:0", "dense/kernel/Assign", "dense/bias/Assign"])
        assert y.name == "m/y:0" and init[0].name == "m/dense/kernel/Assign" and init[0].type == "Assign"
        assert g.get_operation_by_name("m/add").type == "Add"                    # TF's AddV2
        assert g.get_operation_by_name("m/loss").get_attr("axis") == (0, 1)      # from m/Const
        with tf.Session() as sess:
            sess.run(init)
            np.testing.assert_array_equal(sess.run(y, {feed: dec(rec["x"])}), dec(rec["model_y"]))
        again = tf.import_graph_def(gd, return_elements=["y"], name="m")
        assert again[0].name == "m_1/y"


def test_import_errors_name_the_node():
    gd = tf.GraphDef()
    gd.node.add(name="a", op="Placeholder").attr["dtype"].type = 1
    gd.node.add(name="weird", op="FancyOp", input=["a"])
    with tf.Graph().as_default() as g:
        with pytest.raises(ValueError, match="node 'weird' has op type 'FancyOp'"):
            tf.import_graph_def(gd)
        assert g.get_operations() == []                                # nothing was added
    gd.node[1].op = "Identity"
    gd.node[1].input[:] = ["b"]
    with tf.Graph().as_default(), pytest.raises(ValueError, match="'b' that is not in the graph_def"):
        tf.import_graph_def(gd)
    gd.node[1].input[:] = ["weird"]
    with tf.Graph().as_default(), pytest.raises(ValueError, match="cycle"):
        tf.import_graph_def(gd)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="not found"):
        gd.node[1].input[:] = ["a"]
        tf.import_graph_def(gd, return_elements=["nope:0"])


def test_graph_def_of_many_ops_is_what_tf_computed():
    with tf.Graph().as_default() as g:
        names = made.build_ops()
        gd = g.as_graph_def()
        with open(os.path.join(JG_DIR, "graph.pb"), "rb") as f:
            assert gd == tf.GraphDef.FromString(f.read())      # the GraphDef TF 2.21 imported
        with tf.Session() as sess:
            values = sess.run(names, {"x:0": made.X_OPS})
    for name, v in zip(names, values):
        want = dec(READ_BY_TF["graph_values"][name])
        assert np.asarray(v).dtype == want.dtype and np.shape(v) == want.shape, name
        np.testing.assert_allclose(v, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_round_trip_through_graph_def_keeps_values():
    with tf.Graph().as_default() as g:
        names = made.build_ops()
        gd = g.as_graph_def()
        with tf.Session() as sess:
            want = sess.run(names, {"x:0": made.X_OPS})
    with tf.Graph().as_default() as g2:
        out = tf.import_graph_def(gd, return_elements=names, name="")
        assert [t.name for t in out] == names
        assert g2.as_graph_def() == gd                       # the same nodes, attrs and inputs again
        with tf.Session() as sess:
            got = sess.run(out, {"x:0": made.X_OPS})
    for name, a, b in zip(names, got, want):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_write_graph_text_and_binary(tmp_path):
    with tf.Graph().as_default() as g:
        tf.nn.relu(tf.placeholder(tf.float32, [2], name="x"), name="r")
        text = tf.train.write_graph(g, str(tmp_path / "d"), "g.pbtxt")
        binary = tf.train.write_graph(g.as_graph_def(), str(tmp_path / "d"), "g.pb", as_text=False)
    with open(text) as f:
        from_text = text_format.Parse(f.read(), tf.GraphDef())
    with open(binary, "rb") as f:
        assert tf.GraphDef.FromString(f.read()) == from_text
    assert [n.op for n in from_text.node] == ["Placeholder", "Relu"]


def test_event_file_jitgraph_wrote_was_read_by_tensorflow():
    from jitgraph.summary.records import read_records
    logs = os.path.join(JG_DIR, "logs")
    events = [tf.summary.Event.FromString(r) for p in sorted(os.listdir(logs))
              for r in read_records(os.path.join(logs, p))]
    assert [e.WhichOneof("what") for e in events] == [e["what"] for e in READ_BY_TF["events"]]
    assert [list(v.tag for v in e.summary.value) for e in events][2:] == [["train_loss", "kernel"]] * 3


def test_attrs_without_a_proto_form(tmp_path):
    from jitgraph.ops.registry import make_op
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [2], name="x")
        make_op("Identity", [x], {"callback": print}, "odd2")
        with pytest.raises(ValueError, match="attr 'callback' of op 'odd2'"):
            g.as_graph_def()
        with tf.summary.FileWriter(str(tmp_path), g) as w:         # TensorBoard still gets the graph
            path = w.event_file_path
    from jitgraph.summary.records import read_records
    graph_def = tf.GraphDef.FromString(tf.summary.Event.FromString(list(read_records(path))[1]).graph_def)
    assert {n.name: n for n in graph_def.node}["odd2"].attr["callback"].s.startswith(b"<built-in function print")
