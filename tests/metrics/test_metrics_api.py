"""``tf.metrics``: collections, errors, ``tf.confusion_matrix``, and streaming evaluation of a model
as it trains (TF's recorded values are in test_metrics_oracle.py)."""

import numpy as np
import pytest

import jitgraph as tf


def test_collections_and_state_placement(g):
    labels, preds = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.int64, [None])
    value, update = tf.metrics.recall(labels, preds, metrics_collections=["m"], updates_collections=["u"])
    assert tf.get_collection("m") == [value] and tf.get_collection("u") == [update]
    assert tf.trainable_variables() == [] and tf.global_variables() == []
    assert [v.name for v in tf.local_variables()] == ["recall/true_positives/count:0",
                                                     "recall/false_negatives/count:0"]
    assert tf.get_collection(tf.GraphKeys.METRIC_VARIABLES) == tf.local_variables()


def test_errors(g):
    s, l = tf.placeholder(tf.float32, [None]), tf.placeholder(tf.int64, [None])
    with pytest.raises(ValueError, match="ROC or PR"):
        tf.metrics.auc(l, s, curve="DET")
    with pytest.raises(ValueError, match="summation_method"):
        tf.metrics.auc(l, s, summation_method="simpson")
    with pytest.raises(ValueError, match="specificity"):
        tf.metrics.sensitivity_at_specificity(l, s, 1.5)
    with pytest.raises(ValueError, match="incompatible"):
        tf.metrics.accuracy(tf.ones([3], tf.int64), tf.ones([4], tf.int64))
    with pytest.raises(ValueError, match="fully known"):
        tf.metrics.mean_tensor(s)
    with pytest.raises(ValueError, match="rank of the values"):
        tf.metrics.true_positives(tf.ones([3, 2]), tf.ones([3, 2]), weights=tf.ones([3, 2, 1, 1]))


def test_confusion_matrix(g, reference):
    labels, preds = np.array([0, 2, 1, 2, 2, 0]), np.array([0, 1, 1, 2, 0, 0])
    weights = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0], np.float32)
    want = np.zeros((3, 3))
    np.add.at(want, (labels, preds), weights)
    cm = tf.confusion_matrix(labels, preds)
    cmw = tf.confusion_matrix(labels, preds, num_classes=4, weights=weights, dtype=tf.float32)
    assert cm.dtype == tf.int32 and cm.shape.as_list() == [None, None] and cmw.shape.as_list() == [4, 4]
    bad = tf.confusion_matrix([0, 3], [1, 1], num_classes=3)
    r = np.arange(9.0).reshape(3, 3)
    w = tf.constant(weights.astype(np.float64))
    dw = tf.gradients(tf.reduce_sum(tf.confusion_matrix(labels, preds, 3, dtype=tf.float64, weights=w) * r), w)[0]
    with tf.Session() as sess:
        got, gotw, dwv = sess.run([cm, cmw, dw])
        with pytest.raises(tf.errors.InvalidArgumentError, match="labels"):
            sess.run(bad)
    np.testing.assert_array_equal(got, (want > 0) * np.array([[2, 0, 0], [0, 1, 0], [1, 1, 1]]))
    np.testing.assert_allclose(gotw[:3, :3], want)
    np.testing.assert_array_equal(dwv, r[labels, preds])     # linear in the weights


def test_streaming_evaluation_tracks_training(reference):
    rng = np.random.default_rng(2)
    x_all = rng.standard_normal((400, 2)).astype(np.float32)
    y_all = (x_all[:, 0] - 0.5 * x_all[:, 1] > 0).astype(np.int64)
    with tf.Graph().as_default():
        x, y = tf.placeholder(tf.float32, [None, 2]), tf.placeholder(tf.int64, [None])
        logits = tf.layers.dense(x, 1, kernel_initializer=tf.zeros_initializer())[:, 0]   # untrained: chance
        loss = tf.losses.sigmoid_cross_entropy(y, logits)
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        prob = tf.sigmoid(logits)
        acc, acc_up = tf.metrics.accuracy(y, tf.cast(prob > 0.5, tf.int64))
        auc, auc_up = tf.metrics.auc(y, prob)

        def evaluate(sess):
            sess.run(tf.local_variables_initializer())
            probs = [sess.run([prob, acc_up, auc_up], {x: x_all[i:i + 100], y: y_all[i:i + 100]})[0]
                     for i in range(0, 400, 100)]
            return sess.run([acc, auc]), np.concatenate(probs)

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            (acc0, auc0), _ = evaluate(sess)
            for _ in range(50):
                sess.run(train, {x: x_all, y: y_all})
            (acc1, auc1), probs = evaluate(sess)
    assert acc1 == pytest.approx(((probs > 0.5) == y_all).mean())      # streamed = whole-set accuracy
    assert acc1 > 0.95 and auc1 > 0.98 and acc1 > acc0 and auc1 > auc0
