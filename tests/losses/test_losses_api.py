"""``tf.losses``: reductions, weight broadcasting rules, errors, the loss collections, and a small
model trained on ``get_total_loss()`` (TF's recorded values are in test_losses_oracle.py)."""

import numpy as np
import pytest

import jitgraph as tf


def test_reduction_keys():
    R = tf.losses.Reduction
    assert R.all() == ("none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
                       "weighted_sum_by_nonzero_weights", "weighted_sum_by_nonzero_weights")
    assert R.SUM_OVER_NONZERO_WEIGHTS == R.SUM_BY_NONZERO_WEIGHTS
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        R.validate("average")


def test_weight_and_shape_errors(g):
    y, p = tf.ones([4, 3]), tf.zeros([4, 3])
    with pytest.raises(ValueError, match="values.rank=2. weights.rank=1"):
        tf.losses.mean_squared_error(y, p, tf.ones([4]))
    with pytest.raises(ValueError, match="Mismatch at dim 1"):
        tf.losses.absolute_difference(y, p, tf.ones([4, 2]))
    with pytest.raises(ValueError, match="incompatible"):
        tf.losses.mean_squared_error(y, tf.zeros([4, 2]))
    with pytest.raises(ValueError, match="`labels` must not be None"):
        tf.losses.log_loss(None, p)
    with pytest.raises(ValueError, match="axis"):
        tf.losses.cosine_distance(y, p)
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        tf.losses.mean_squared_error(y, p, reduction="mean")
    assert tf.get_collection(tf.GraphKeys.LOSSES) == []


def test_zero_weights_give_zero_not_nan(g, reference):
    loss = tf.losses.mean_squared_error(tf.ones([2, 2]), tf.zeros([2, 2]), weights=tf.zeros([2, 1]))
    mean = tf.losses.compute_weighted_loss(tf.ones([3]), tf.zeros([3]), reduction=tf.losses.Reduction.MEAN)
    with tf.Session() as sess:
        assert sess.run([loss, mean]) == [0.0, 0.0]


def test_collections(g, reference):
    a = tf.losses.absolute_difference(tf.ones([2]), tf.zeros([2]), scope="first")
    with tf.name_scope("tower"):
        b = tf.losses.mean_squared_error(tf.ones([2]), 3 * tf.ones([2]))
    tf.losses.hinge_loss(tf.ones([2]), tf.zeros([2]), loss_collection=None)
    c = tf.losses.log_loss(tf.ones([2]), tf.ones([2]), loss_collection="mine")
    assert tf.losses.get_losses() == [a, b] and tf.losses.get_losses(loss_collection="mine") == [c]
    assert tf.losses.get_losses(scope="tower") == [b]
    extra = tf.constant(10.0)
    tf.losses.add_loss(extra)
    with pytest.raises(ValueError, match="No losses"):
        with tf.Graph().as_default():
            tf.losses.get_total_loss()
    with tf.Session() as sess:
        assert sess.run(tf.losses.get_regularization_loss()) == 0.0
        tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.5))
        total = tf.losses.get_total_loss()
        assert total.op.name == "total_loss"
        assert sess.run(total) == pytest.approx(1 + 4 + 10 + 0.5)
        assert sess.run(tf.losses.get_total_loss(add_regularization_losses=False)) == pytest.approx(15)
        assert sess.run(tf.losses.get_regularization_loss()) == 0.5


def test_classifier_trained_on_total_loss_learns(reference):
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 4)) * 3
    labels = rng.integers(0, 3, 300)
    data = (centers[labels] + rng.standard_normal((300, 4))).astype(np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.placeholder(tf.int64, [None])
        h = tf.layers.dense(x, 8, tf.nn.relu, kernel_regularizer=lambda w: 1e-3 * tf.nn.l2_loss(w))
        logits = tf.layers.dense(h, 3)
        tf.losses.sparse_softmax_cross_entropy(y, logits)
        tf.losses.softmax_cross_entropy(tf.one_hot(y, 3), logits, label_smoothing=0.1, weights=0.5)
        total = tf.losses.get_total_loss()
        train = tf.train.GradientDescentOptimizer(0.1).minimize(total)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(total, {x: data, y: labels})
            for _ in range(100):
                sess.run(train, {x: data, y: labels})
            last, out = sess.run([total, logits], {x: data, y: labels})
    assert last < 0.3 * first
    assert (out.argmax(1) == labels).mean() > 0.9
