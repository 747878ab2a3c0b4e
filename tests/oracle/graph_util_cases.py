"""Freezing a trained TF1 model with ``tf.graph_util``, written once against the TF1 API: run by
``record_graph_util.py`` with TensorFlow (into ``data/graph_util.json``) and by
``tests/framework/test_graph_util.py`` with jitgraph."""

import numpy as np

X = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], np.float32)


def build(tf):
    """A two-layer model with a training op beside it; returns (x, y, train)."""
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.variable_scope("dense"):
        w = tf.get_variable("w", initializer=np.arange(6, dtype=np.float32).reshape(3, 2) / 10)
        b = tf.get_variable("b", initializer=np.array([0.5, -0.5], np.float32))
    h = tf.nn.relu(tf.matmul(x, w) + b)
    v = tf.Variable(np.array([[1.0], [-1.0]], np.float32), name="v")
    counter = tf.Variable(0, name="counter", trainable=False)          # not reachable from y
    y = tf.identity(tf.matmul(h, v), name="y")
    loss = tf.reduce_sum(tf.square(y))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss, global_step=counter)
    tf.check_numerics(y, "y is finite", name="check")
    return x, y, train


def freeze_scenario(tf):
    out = {}
    g = tf.Graph()
    with g.as_default():
        x, y, train = build(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train, {x: X})
            out["y"] = sess.run(y, {x: X}).tolist()
            gd = g.as_graph_def()
            frozen = tf.graph_util.convert_variables_to_constants(sess, gd, ["y"])
            out["frozen"] = [(n.name, n.op) for n in frozen.node]
            out["consts"] = {n.name: tf.make_ndarray(n.attr["value"].tensor).tolist() for n in frozen.node
                             if n.name in ("dense/w", "dense/b", "v")}
            only_b = tf.graph_util.convert_variables_to_constants(sess, gd, ["y"], variable_names_whitelist=["dense/b"])
            out["whitelist_ops"] = {n.name: n.op for n in only_b.node if n.name in ("dense/w", "dense/b", "v")}
            no_b = tf.graph_util.convert_variables_to_constants(sess, gd, ["y"], variable_names_blacklist=["dense/b"])
            out["blacklist_ops"] = {n.name: n.op for n in no_b.node if n.name in ("dense/w", "dense/b", "v")}
        sub = tf.graph_util.extract_sub_graph(gd, ["check"])
        out["sub_check"] = sorted(n.name for n in sub.node)
        try:
            tf.graph_util.extract_sub_graph(gd, ["nope"])
        except AssertionError as e:
            out["missing_error"] = ["AssertionError", str(e)]
        try:
            tf.graph_util.extract_sub_graph(gd, "y")
        except TypeError as e:
            out["string_error"] = ["TypeError", str(e)]
    g2 = tf.Graph()
    with g2.as_default():
        tf.import_graph_def(frozen, name="")
        with tf.Session() as sess:
            out["y_imported"] = sess.run("y:0", {"x:0": X}).tolist()
    return out


def training_nodes_scenario(tf):
    """``remove_training_nodes``: CheckNumerics nodes removed, Identity / StopGradient spliced out."""
    g = tf.Graph()
    with g.as_default():
        a = tf.placeholder(tf.float32, [2], name="a")
        b = tf.identity(a, name="b")
        c = tf.check_numerics(b, "b is finite", name="c")
        with tf.control_dependencies([c]):
            d = tf.identity(b * 2.0, name="d")
        e = tf.add(d, 1.0, name="e")
        tf.stop_gradient(e, name="f")
        gd = g.as_graph_def()
    kept = tf.graph_util.remove_training_nodes(gd)
    protected = tf.graph_util.remove_training_nodes(gd, protected_nodes=["d"])
    return {"kept": [(n.name, n.op, list(n.input)) for n in kept.node],
            "protected": [(n.name, n.op, list(n.input)) for n in protected.node]}
