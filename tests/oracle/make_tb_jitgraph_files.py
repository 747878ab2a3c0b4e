"""Write the files jitgraph makes for TensorFlow — a TF-format checkpoint of every dtype, a model's
checkpoint with its TF ``.meta``, a GraphDef of many ops, an event file — into
tests/oracle/data/tb_jitgraph/, for ``record_tb_checkpoint.py`` to read with TensorFlow 2.21.
Run with jitgraph's venv from the repository root:

    PYTHONPATH=. python tests/oracle/make_tb_jitgraph_files.py

``build_*`` are shared with the tests, which rebuild these files and check they are unchanged.
"""

import json
import os
import shutil

import numpy as np

import jitgraph as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tb_jitgraph")
X = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], np.float32)
X_OPS = np.array([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]], np.float32)     # fed to build_ops' graph
DTYPE_VALUES = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "f64": np.float64(np.e),
                "f16": np.array([1.5, -0.125], np.float16), "i8": np.array([-7, 8], np.int8),
                "i32": np.array([[1, -2], [3, 4]], np.int32), "i64": np.array([2**50], np.int64),
                "u8": np.array([200], np.uint8), "b": np.array([False, True]),
                "s": np.array([b"jit", b"graph", b""], dtype=object), "scope/z": np.zeros([2, 0], np.float32)}


def build_model():
    """The model of record_tb_checkpoint.py, built with jitgraph."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.variable_scope("dense"):
        w = tf.get_variable("kernel", initializer=tf.constant([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]))
        b = tf.get_variable("bias", initializer=tf.constant([0.1, -0.2]))
    step = tf.Variable(0, name="global_step", trainable=False)
    y = tf.nn.relu(tf.matmul(x, w) + b, name="y")
    tf.add_to_collection("outputs", y)
    return x, y, step


def build_ops():
    """A graph of many op kinds; returns the tensors to fetch (x is fed [2, 3] float32)."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    img = tf.reshape(tf.tile(x, [2, 4]), [1, 4, 3, 4], name="img")
    labels = tf.constant([0, 2], name="labels")
    outs = [tf.reduce_sum(x, 1), tf.reduce_mean(x, [0, -1], keepdims=True), tf.reduce_max(x, -1),
            tf.reduce_prod(x), tf.reduce_all(x > 0, 0), tf.argmax(x, -1), tf.argmin(x, 0, output_type=tf.int32),
            tf.transpose(x), tf.expand_dims(x, -1), tf.concat([x, x * 2.0], -1), tf.gather(x, [2, 0], axis=1),
            tf.split(x, 3, axis=1)[1], tf.split(x, [1, 2], 1)[1], tf.cumsum(x, 1, exclusive=True),
            tf.cumprod(x, axis=0, reverse=True), tf.reverse(x, [1]), tf.one_hot(labels, 4, 2.0, -1.0),
            tf.pad(x, [[1, 0], [0, 2]]), tf.pad(x, [[0, 1], [1, 1]], constant_values=5.0),
            tf.pad(x, [[1, 1], [0, 0]], mode="REFLECT"), tf.nn.softmax(x), tf.nn.log_softmax(x),
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.nn.softmax(x * 0.5), logits=x),
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x), tf.cast(x, tf.int32),
            tf.stack([x, x], 1), tf.unstack(x, axis=1)[1], tf.slice(x, [0, 1], [2, 2]), x[:, ::2], tf.squeeze(x[:1]),
            tf.where(x > 0.5), tf.fill([2, 2], 3.0), tf.range(1, 7, 2), tf.matmul(x, x, transpose_b=True),
            tf.matmul(tf.stack([x, x]), tf.stack([x, x]), transpose_a=True), tf.nn.relu6(x * 3.0),
            tf.nn.conv2d(img, tf.ones([2, 2, 4, 2]), [1, 1, 1, 1], "SAME"),
            tf.nn.max_pool(img, [1, 2, 2, 1], [1, 2, 1, 1], "VALID"),
            tf.nn.avg_pool(img, [1, 2, 2, 1], [1, 1, 1, 1], "SAME"),
            tf.nn.bias_add(img, tf.constant([1.0, 2.0, 3.0, 4.0])), tf.where(x > 1.0, x, -x), tf.add_n([x, x, x]),
            tf.square(x) - tf.sqrt(tf.abs(x)) / tf.exp(x), tf.maximum(x, 0.5), tf.floordiv(x, 2.0),
            tf.math.squared_difference(x, 1.0), tf.nn.sigmoid(x) * tf.tanh(x), tf.shape(x), tf.size(x),
            tf.rank(x), tf.broadcast_to(x[:1], [3, 3]), tf.gather_nd(x, [[1, 2], [0, 0]]), tf.nn.l2_loss(x),
            tf.clip_by_value(x, -0.5, 1.5), tf.unsorted_segment_sum(x, [1, 0], 3), tf.log1p(tf.abs(x))]
    return [t.name for t in outs]


def build_logs(logdir):
    g = tf.Graph()
    with g.as_default():
        x, y, step = build_model()
        loss = tf.reduce_mean(tf.square(y), name="loss")
        s1 = tf.summary.scalar("train_loss", loss)
        s2 = tf.summary.histogram("kernel", tf.trainable_variables()[0])
        merged = tf.summary.merge([s1, s2])
        with tf.Session() as sess, tf.summary.FileWriter(logdir, g) as writer:
            sess.run(tf.global_variables_initializer())
            for i in range(3):
                writer.add_summary(sess.run(merged, {x: X * (i + 1)}), i)
            return writer.event_file_path


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with tf.Graph().as_default():
        vs = {k: tf.Variable(v, name=k) for k, v in DTYPE_VALUES.items()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver(vs, format="tensorflow").save(sess, os.path.join(OUT, "ckpt"), write_meta_graph=False,
                                                         write_state=False)
    with tf.Graph().as_default():
        x, y, step = build_model()
        inc = tf.assign_add(step, 7)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(inc)
            tf.train.Saver(format="tensorflow").save(sess, os.path.join(OUT, "model"), write_state=False)
    with tf.Graph().as_default() as g:
        names = build_ops()
        with open(os.path.join(OUT, "graph.pb"), "wb") as f:
            f.write(g.as_graph_def().SerializeToString(deterministic=True))
        with open(os.path.join(OUT, "graph_fetches.json"), "w") as f:
            json.dump(names, f, indent=0)
    build_logs(os.path.join(OUT, "logs"))


if __name__ == "__main__":
    main()
