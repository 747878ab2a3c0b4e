"""``tf.contrib.layers`` and ``tf.contrib.rnn`` behaviour the TF recording does not cover:
distributions of the initializers, regularizer values and edge cases, dropout while training,
one-hot encoding, NCHW against NHWC, unsupported batch-norm options, and the contrib RNN names."""

import numpy as np
import pytest

import jitgraph as tf

L = tf.contrib.layers


def _draw(initializer, shape, dtype=tf.float32):
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape, dtype=dtype, initializer=initializer)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(v)


def test_xavier_uniform_limit_and_variance_follow_the_fans(reference):
    w = _draw(L.xavier_initializer(seed=1), [3, 3, 16, 32])        # fans 144 and 288
    limit = np.sqrt(6.0 / (144 + 288))
    assert np.abs(w).max() <= limit
    np.testing.assert_allclose(w.var(), limit ** 2 / 3, rtol=0.05)


def test_xavier_normal_and_he_default_are_truncated_at_two_stddevs(reference):
    w = _draw(L.xavier_initializer(uniform=False, seed=2), [200, 300])
    stddev = np.sqrt(1.3 / 250)
    assert np.abs(w).max() <= 2 * stddev
    np.testing.assert_allclose(w.std(), 0.8796 * stddev, rtol=0.03)
    he = _draw(L.variance_scaling_initializer(seed=3), [400, 100])  # factor 2, FAN_IN, normal
    np.testing.assert_allclose(he.std(), 0.8796 * np.sqrt(1.3 * 2 / 400), rtol=0.03)


def test_initializer_config_and_dtype():
    init = L.variance_scaling_initializer(factor=1.5, mode="FAN_OUT", uniform=True, seed=4, dtype=tf.float64)
    assert init.get_config() == {"factor": 1.5, "mode": "FAN_OUT", "uniform": True, "seed": 4, "dtype": "float64"}
    assert _draw(init, [2, 3], tf.float64).dtype == np.float64
    assert L.xavier_initializer_conv2d is L.xavier_initializer
    with pytest.raises(TypeError, match="non-floating"):
        _draw(L.xavier_initializer(), [2, 2], tf.int32)


def test_regularizer_values_and_names(reference):
    w_value = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        w = tf.constant(w_value)
        l1, l2 = L.l1_regularizer(0.1)(w), L.l2_regularizer(0.2)(w)
        both = L.l1_l2_regularizer(0.1, 0.2)(w)
        assert (l1.op.name, l2.op.name, both.op.name) == ("l1_regularizer", "l2_regularizer", "l1_l2_regularizer")
        got = sess.run([l1, l2, both])
    want_l1, want_l2 = 0.1 * np.abs(w_value).sum(), 0.2 * (w_value ** 2).sum() / 2
    np.testing.assert_allclose(got, [want_l1, want_l2, want_l1 + want_l2], rtol=1e-6)


def test_zero_scale_disables_a_regularizer():
    assert L.l2_regularizer(0.0)(tf.constant(1.0)) is None
    assert L.sum_regularizer([None, None]) is None
    with tf.Graph().as_default():
        L.fully_connected(tf.placeholder(tf.float32, [2, 3]), 2, weights_regularizer=L.l1_regularizer(0.0))
        assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == []


def test_apply_regularization_defaults_to_the_weights_collection(reference):
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(ValueError, match="No weights to regularize"):
            L.apply_regularization(L.l2_regularizer(1.0))
        h = L.fully_connected(tf.placeholder(tf.float32, [2, 3]), 2,
                              variables_collections={"weights": [tf.GraphKeys.WEIGHTS]})
        penalty = L.apply_regularization(L.l2_regularizer(1.0))
        assert penalty.op.name == "get_regularization_penalty"
        assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == [penalty]
        sess.run(tf.global_variables_initializer())
        w = sess.run(tf.get_collection(tf.GraphKeys.WEIGHTS)[0])
        np.testing.assert_allclose(sess.run(penalty), (w ** 2).sum() / 2, rtol=1e-6)
        assert h.shape.as_list() == [2, 2]


def test_dropout_keeps_keep_prob_of_the_inputs_scaled_while_training(reference):
    with tf.Graph().as_default(), tf.Session() as sess:
        keep = tf.placeholder(tf.float32, [])
        training = tf.placeholder(tf.bool, [])
        y = L.dropout(tf.ones([200, 100]), keep_prob=keep, is_training=training, seed=1)
        assert y.op.name.startswith("Dropout/")
        out = sess.run(y, {keep: 0.25, training: True})
        np.testing.assert_array_equal(sess.run(y, {keep: 0.25, training: False}), np.ones((200, 100)))
    assert set(np.unique(out)) == {0.0, 4.0}
    np.testing.assert_allclose((out > 0).mean(), 0.25, atol=0.02)


def test_one_hot_encoding(reference):
    with tf.Graph().as_default(), tf.Session() as sess:
        labels = tf.constant([2, 0, 3], tf.int32)
        y = L.one_hot_encoding(labels, 4, on_value=2.0, off_value=-1.0, outputs_collections="ends")
        assert y.op.name.startswith("OneHotEncoding/") and y.dtype == tf.float32
        assert tf.get_collection("ends") == [y]
        np.testing.assert_array_equal(sess.run(y), np.where(np.eye(4)[[2, 0, 3]] == 1, 2.0, -1.0))


def test_nchw_conv_and_pools_are_the_nhwc_ones_transposed(reference):
    x = np.random.default_rng(5).standard_normal((2, 3, 6, 6)).astype(np.float32)
    results = []
    for data_format in ("NCHW", "NHWC"):
        with tf.Graph().as_default(), tf.Session() as sess:
            feed = x if data_format == "NCHW" else x.transpose(0, 2, 3, 1)
            h = L.conv2d(tf.constant(feed), 4, 3, data_format=data_format,
                         weights_initializer=tf.constant_initializer(np.linspace(-1, 1, 108)),
                         biases_initializer=tf.constant_initializer(0.1))
            h = L.avg_pool2d(L.max_pool2d(h, 2, stride=1, data_format=data_format), 2, data_format=data_format)
            sess.run(tf.global_variables_initializer())
            out = sess.run(h)
            results.append(out if data_format == "NCHW" else out.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_reuse_needs_an_existing_scope():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="does not exist"):
            L.fully_connected(tf.placeholder(tf.float32, [2, 3]), 2, scope="fc", reuse=True)


@pytest.mark.parametrize("kwargs,what", [(dict(zero_debias_moving_mean=True), "zero_debias_moving_mean"),
                                         (dict(renorm=True), "renorm")])
def test_batch_norm_options_jitgraph_lacks_say_so(kwargs, what):
    with tf.Graph().as_default():
        with pytest.raises(NotImplementedError, match=what):
            L.batch_norm(tf.placeholder(tf.float32, [2, 3]), **kwargs)


def test_batch_norm_updates_go_to_the_named_collection():
    with tf.Graph().as_default():
        L.batch_norm(tf.placeholder(tf.float32, [4, 2, 2, 3]), updates_collections="bn_updates")
        assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
        assert [u.name for u in tf.get_collection("bn_updates")] == ["BatchNorm/AssignMovingAvg:0",
                                                                     "BatchNorm/AssignMovingAvg_1:0"]


def test_contrib_rnn_names_are_the_core_objects():
    for name in ("BasicLSTMCell", "BasicRNNCell", "LSTMCell", "GRUCell", "MultiRNNCell", "DropoutWrapper",
                 "LSTMStateTuple", "RNNCell", "ResidualWrapper"):
        assert getattr(tf.contrib.rnn, name) is getattr(tf.nn.rnn_cell, name)
    assert tf.contrib.rnn.static_rnn is tf.nn.static_rnn
    assert tf.contrib.rnn.static_bidirectional_rnn is tf.nn.static_bidirectional_rnn


def test_stack_bidirectional_argument_errors():
    cell = tf.contrib.rnn.GRUCell
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 3, 4])
        with pytest.raises(ValueError, match="same depth"):
            tf.contrib.rnn.stack_bidirectional_dynamic_rnn([cell(2)], [cell(2), cell(2)], x, dtype=tf.float32)
        with pytest.raises(ValueError, match="cells_fw must be a list"):
            tf.contrib.rnn.stack_bidirectional_rnn((cell(2),), [cell(2)], tf.unstack(x, axis=1), dtype=tf.float32)
        with pytest.raises(ValueError, match="initial_states_bw must be a list"):
            tf.contrib.rnn.stack_bidirectional_dynamic_rnn([cell(2)], [cell(2)], x, initial_states_bw=[],
                                                           dtype=tf.float32)
        with pytest.raises(TypeError, match="'cell_bw'.*not an RNNCell"):
            tf.nn.static_bidirectional_rnn(cell(2), object(), tf.unstack(x, axis=1), dtype=tf.float32)
