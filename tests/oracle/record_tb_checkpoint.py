"""Record TensorFlow 2.21 checkpoints and meta graphs for jitgraph's TF-format readers, and check
that TensorFlow reads what jitgraph writes. Run with the TensorFlow venv from the repository root:

    python tests/oracle/record_tb_checkpoint.py

Part 1 writes tests/oracle/data/tb_tf/ (small: a model with its .meta and checkpoint, a checkpoint of
every dtype jitgraph has, a GraphDef) and tb_tf.json (their values and a forward pass).
Part 2 (when tests/oracle/data/tb_jitgraph/ exists, made by ``make_tb_jitgraph_files.py`` with
jitgraph) loads jitgraph's checkpoint, meta graph, GraphDef and event file with TensorFlow and
writes what it read to tb_jitgraph_read_by_tf.json.
"""

import base64
import json
import os
import shutil

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TF_DIR, JG_DIR = os.path.join(DATA, "tb_tf"), os.path.join(DATA, "tb_jitgraph")


def enc(a):
    a = np.asarray(a)
    if a.dtype == object:
        return {"dtype": "string", "shape": list(a.shape),
                "items": [base64.b64encode(x).decode() for x in a.reshape(-1)]}
    return {"dtype": str(a.dtype), "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}


def model_graph():
    """A small model: name scopes, a get_variable, a Variable, a non-trainable counter."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.variable_scope("dense"):
        w = tf.get_variable("kernel", initializer=tf.constant([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]))
        b = tf.get_variable("bias", initializer=tf.constant([0.1, -0.2]))
    step = tf.Variable(0, name="global_step", trainable=False)
    y = tf.nn.relu(tf.matmul(x, w) + b, name="y")
    loss = tf.reduce_mean(tf.square(y), name="loss")
    tf.add_to_collection("outputs", y)
    return x, y, loss, step


def part1():
    shutil.rmtree(TF_DIR, ignore_errors=True)
    os.makedirs(TF_DIR)
    rec = {}
    xval = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], np.float32)
    with tf.Graph().as_default():
        x, y, loss, step = model_graph()
        inc = tf.assign_add(step, 5)
        tf.io.write_graph(tf.get_default_graph(), TF_DIR, "model.pbtxt", as_text=True)   # without the saver
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(inc)
            saver = tf.train.Saver()
            saver.save(sess, os.path.join(TF_DIR, "model.ckpt"), global_step=5, write_state=False)
            tf.train.update_checkpoint_state(TF_DIR, "model.ckpt-5", ["model.ckpt-5"])   # relative paths
            rec["model_y"] = enc(sess.run(y, {x: xval}))
            rec["model_loss"] = float(sess.run(loss, {x: xval}))
            rec["model_vars"] = {v.op.name: enc(sess.run(v)) for v in tf.global_variables()}
    rec["x"] = enc(xval)
    with tf.Graph().as_default():           # resource variables: VarHandleOp, ReadVariableOp, ...
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        v = tf.Variable([[1.0], [2.0], [-1.0]], name="w", use_resource=True)
        y = tf.matmul(x, v, name="y")
        inc = v.assign_add([[1.0], [1.0], [1.0]], name="inc")
        tf.add_to_collection("outputs", y)
        tf.add_to_collection("updates", inc.op)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(inc)
            tf.train.Saver().save(sess, os.path.join(TF_DIR, "resource"), write_state=False)
            rec["resource_y"] = enc(sess.run(y, {x: xval}))
            sess.run(inc)
            rec["resource_y_after_inc"] = enc(sess.run(y, {x: xval}))
    values = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "f64": np.float64(np.pi),
              "f16": np.array([0.5, -2.25, 65504], np.float16), "i8": np.array([-128, 127], np.int8),
              "i16": np.array([[-3, 4]], np.int16), "i32": np.array([1, -2, 3, 2**31 - 1], np.int32),
              "i64": np.array([[2**40, -5], [0, 7]], np.int64), "u8": np.array([0, 255], np.uint8),
              "u16": np.array([65535], np.uint16), "b": np.array([True, False, True]),
              "s": np.array([b"hello", b"", "wörld".encode()], dtype=object),
              "scope/empty": np.zeros([0, 3], np.float32)}
    with tf.Graph().as_default():
        vs = {k: tf.Variable(v, name=k) for k, v in values.items()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver(vs).save(sess, os.path.join(TF_DIR, "dtypes"), write_meta_graph=False, write_state=False)
    rec["dtypes"] = {k: enc(v) for k, v in values.items()}
    with open(os.path.join(DATA, "tb_tf.json"), "w") as f:
        json.dump(rec, f, indent=1, sort_keys=True)


def part2():
    out = {}
    reader = tf.train.load_checkpoint(os.path.join(JG_DIR, "ckpt"))
    out["checkpoint"] = {k: enc(reader.get_tensor(k)) for k in sorted(reader.get_variable_to_shape_map())}
    out["dtype_map"] = {k: v.name for k, v in reader.get_variable_to_dtype_map().items()}
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(os.path.join(JG_DIR, "model.meta"))
        with tf.Session() as sess:
            saver.restore(sess, os.path.join(JG_DIR, "model"))
            y = tf.get_collection("outputs")[0]
            x = tf.get_default_graph().get_tensor_by_name("x:0")
            out["meta_y"] = enc(sess.run(y, {x: np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], np.float32)}))
            out["meta_trainable"] = [v.op.name for v in tf.trainable_variables()]
            out["meta_global"] = [v.op.name for v in tf.global_variables()]
            out["meta_step"] = int(sess.run(tf.get_default_graph().get_tensor_by_name("global_step:0")))
    with tf.Graph().as_default():
        gd = tf.GraphDef()
        with open(os.path.join(JG_DIR, "graph.pb"), "rb") as f:
            gd.ParseFromString(f.read())
        tf.import_graph_def(gd, name="")
        g = tf.get_default_graph()
        out["graph_ops"] = sorted({op.type for op in g.get_operations()})
        with tf.Session() as sess:
            feeds = {g.get_tensor_by_name("x:0"): np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]], np.float32)}
            names = json.load(open(os.path.join(JG_DIR, "graph_fetches.json")))
            out["graph_values"] = {n: enc(sess.run(g.get_tensor_by_name(n), feeds)) for n in names}
    events = []
    for path in sorted(os.listdir(os.path.join(JG_DIR, "logs"))):
        for e in tf.train.summary_iterator(os.path.join(JG_DIR, "logs", path)):
            events.append({"step": e.step, "what": e.WhichOneof("what"),
                           "tags": [v.tag for v in e.summary.value]})
    out["events"] = events
    with open(os.path.join(DATA, "tb_jitgraph_read_by_tf.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    part1()
    if os.path.isdir(JG_DIR):
        part2()
