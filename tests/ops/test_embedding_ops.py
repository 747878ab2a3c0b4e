"""``jitgraph/ops/embedding_ops.py``: embedding_lookup of one table and of a table split into
shards ("mod" and "div"), with max_norm; values and (dense) gradients against TF 2.21."""

from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate, gradient_error

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "ops.npz")
TABLE, IDS, W = TF["embedding/table"], TF["embedding/ids"], TF["embedding/w"]
SHARDS = {"mod": [TABLE[i::3] for i in range(3)], "div": [TABLE[0:4], TABLE[4:8], TABLE[8:11]]}


@pytest.mark.parametrize("key", ["single", "mod", "div", "max_norm", "div_max_norm"])
def test_embedding_lookup_matches_tf(key):
    strategy = "div" if key.startswith("div") else "mod"
    with tf.Graph().as_default():
        ps = [tf.constant(TABLE)] if key in ("single", "max_norm") else [tf.constant(s) for s in SHARDS[strategy]]
        y = tf.nn.embedding_lookup(ps if len(ps) > 1 else ps[0], IDS, partition_strategy=strategy,
                                   max_norm=1.5 if "max_norm" in key else None)
        assert y.shape.as_list() == [2, 3, 3]
        out = evaluate([y] + tf.gradients(y, ps, grad_ys=tf.constant(W)))
    np.testing.assert_allclose(out[0], TF[f"embedding_{key}/value"], rtol=1e-12)
    for i, g in enumerate(out[1:]):
        np.testing.assert_allclose(g, TF[f"embedding_{key}/grad{i}"], rtol=1e-12)


def test_embedding_lookup_of_variables_trains_only_the_looked_up_rows():
    with tf.Graph().as_default():
        shards = [tf.Variable(s) for s in SHARDS["div"]]
        ids = tf.placeholder(tf.int32, [None])
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(shards, ids, partition_strategy="div")))
        step = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step, {ids: [5, 9]})
            table = np.concatenate(sess.run(shards))
    want = TABLE.copy()
    want[[5, 9]] *= 0.5   # x - 0.25 * 2x
    np.testing.assert_allclose(table, want)


def test_embedding_lookup_gradient_by_finite_differences():
    ids = np.array([[2, 0], [2, 4]])
    err = gradient_error(lambda a, b: tf.nn.embedding_lookup([a, b], ids, max_norm=0.8),
                         [np.random.default_rng(5).standard_normal((3, 2)),
                          np.random.default_rng(6).standard_normal((2, 2))])
    assert err < 1e-6


def test_embedding_lookup_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="partition strategy"):
            tf.nn.embedding_lookup(tf.constant(TABLE), [0], partition_strategy="hash")
        with pytest.raises(TypeError, match="int32 or int64"):
            tf.nn.embedding_lookup(tf.constant(TABLE), [0.5])
        y = tf.nn.embedding_lookup([tf.constant(s) for s in SHARDS["mod"]], [11])
        with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
            evaluate(y)
