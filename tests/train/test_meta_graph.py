"""export_meta_graph / import_meta_graph: the graph as JSON data; a model loads and runs in a fresh
process without the code that built it."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.train.meta_graph import decode_value, encode_value


def test_attr_values_round_trip_as_plain_json():
    values = [None, True, 3, -(2 ** 60), 1.5, float("nan"), float("-inf"), "s", b"\x00\xff",
              tf.float32, tf.as_dtype("int64_ref"), tf.TensorShape(None), tf.TensorShape([None, 3]),
              np.arange(6, dtype=np.int64).reshape(2, 3), np.array([[True, False]]), np.float16(2.5),
              np.array([b"a", b"bc"], dtype=object), [1, (2, "x")], {"k": [tf.int32]}]
    for v in values:
        back = decode_value(json.loads(json.dumps(encode_value(v), allow_nan=False)))
        if isinstance(v, np.ndarray):
            assert back.dtype == v.dtype and back.shape == v.shape and (back == v).all()
        elif isinstance(v, float) and math.isnan(v):
            assert math.isnan(back)
        elif isinstance(v, tf.TensorShape):
            assert back.as_list() == v.as_list() if v.ndims is not None else back.ndims is None
        else:
            assert back == v and type(back) is type(v), (v, back)
    with pytest.raises(ValueError, match="cannot export"):
        encode_value(lambda x: x, "attr 'f'")


def test_import_rebuilds_ops_with_names_shapes_and_collections():
    with tf.Graph().as_default() as g:
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with g.name_scope("layer"):
            y = tf.identity(x * 2.0 + 1.0, name="y")
        g.add_to_collection("outputs", y)
        g.add_to_collection("numbers", 7)
        meta = tf.train.export_meta_graph()
    json.dumps(meta, allow_nan=False)   # pure data
    with tf.Graph().as_default() as g2:
        assert tf.train.import_meta_graph(meta) is None   # no variables → no saver
        assert [op.name for op in g2.get_operations()] == [o["name"] for o in meta["graph"]["ops"]]
        y2 = g2.get_tensor_by_name("layer/y:0")
        assert y2.shape.as_list() == [None, 2] and g2.get_collection("outputs") == [y2]
        assert g2.get_collection("numbers") == [7]
        tf.train.import_meta_graph(meta, import_scope="copy")   # a second copy under a scope
        with tf.Session() as sess:
            out = sess.run(["layer/y:0", "copy/layer/y:0"], {"x:0": [[1, 2]], "copy/x:0": [[0, 0]]})
        np.testing.assert_allclose(out[0], [[3, 5]])
        np.testing.assert_allclose(out[1], [[1, 1]])
        with g2.name_scope("layer") as scope:   # imported scopes count as used
            assert scope == "layer_1/"


BUILD = r'''
import sys
import numpy as np
import jitgraph as tf

def var(name, value):
    return tf.Variable(value, name=name)

x = tf.placeholder(tf.float32, [None, 3], name="x")
with tf.get_default_graph().name_scope("model"):
    w = var("w", np.array([1.0, 2.0, 3.0], np.float32))
    b = var("b", np.array(0.5, np.float32))
y = tf.identity(tf.reduce_sum(x * w._ref(), axis=1) + b._ref(), name="y")
step = tf.group(w.assign_add(tf.constant([0.25, 0.25, 0.25])), b.assign_sub(np.float32(1.0)), name="step")
with tf.Session() as sess:
    sess.run([w.initializer, b.initializer])
    for _ in range(3):
        sess.run(step)
    prefix = tf.train.Saver().save(sess, sys.argv[1] + "/model", global_step=3)
    np.save(sys.argv[1] + "/expected.npy", sess.run(y, {x: [[1, 1, 1], [0, 2, -1]]}))
print(prefix)
'''

LOAD = r'''
import sys
import numpy as np
import jitgraph as tf
prefix = tf.train.latest_checkpoint(sys.argv[1])
saver = tf.train.import_meta_graph(prefix + ".meta")
g = tf.get_default_graph()
names = sorted(v.op.name for v in g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES))
trainable = sorted(v.op.name for v in g.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES))
assert names == trainable == ["model/b", "model/w"], names
with tf.Session() as sess:
    saver.restore(sess, prefix)
    got = sess.run("y:0", {"x:0": [[1, 1, 1], [0, 2, -1]]})
    np.testing.assert_allclose(got, np.load(sys.argv[1] + "/expected.npy"))
    sess.run("step")                       # the imported training op still runs
    w = [v for v in g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) if v.op.name == "model/w"][0]
    np.testing.assert_allclose(sess.run(w._ref()), [2.0, 3.0, 4.0])
print("ok")
'''


def test_saved_model_loads_and_runs_in_a_fresh_process(tmp_path):
    built = subprocess.run([sys.executable, "-c", BUILD, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    prefix = built.stdout.strip()
    assert prefix.endswith("model-3")
    meta_text = open(prefix + ".meta", encoding="utf-8").read()
    assert json.loads(meta_text)["format"] == "jitgraph.meta_graph"
    loaded = subprocess.run([sys.executable, "-c", LOAD, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "ok"


def test_corrupt_meta_graph_is_data_loss(tmp_path):
    p = tmp_path / "bad.meta"
    p.write_bytes(b"\x80\x04garbage")   # e.g. a pickle: never loaded
    with tf.Graph().as_default(), pytest.raises(tf.errors.DataLossError):
        tf.train.import_meta_graph(str(p))
