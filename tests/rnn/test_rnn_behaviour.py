"""RNN behaviour beyond the recorded TF values: sequence lengths, dropout, reverse_sequence, and a
network that learns (reference executor; the compiled loops are checked in tests/control_flow)."""

import os
import sys

import numpy as np
import pytest

import jitgraph as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops"))
from op_library_checks import gradient_error, reference_executor  # noqa: E402

RNG = np.random.default_rng(11)


def test_sequence_length_zeros_outputs_and_keeps_the_last_state(g):
    tf.set_random_seed(1)
    x = tf.constant(RNG.standard_normal((3, 5, 2)).astype(np.float32))
    cell = tf.nn.rnn_cell.GRUCell(4)
    out, state = tf.nn.dynamic_rnn(cell, x, sequence_length=[5, 2, 0], dtype=tf.float32)
    full, full_states = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)   # same cell, same weights
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, s, fo = sess.run([out, state, full])
    np.testing.assert_array_equal(o[1, 2:], 0)
    np.testing.assert_array_equal(o[2], 0)
    np.testing.assert_allclose(o[0], fo[0], rtol=1e-6)
    np.testing.assert_allclose(s[1], fo[1, 1], rtol=1e-6)       # the state after 2 steps
    np.testing.assert_array_equal(s[2], 0)                       # never stepped: the zero state


def test_dropout_wrapper_drops_outputs_and_scales_the_rest(g):
    tf.set_random_seed(2)
    x = tf.constant(np.ones((64, 3, 4), np.float32))
    base = tf.nn.rnn_cell.BasicLSTMCell(8)
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.DropoutWrapper(base, output_keep_prob=0.5, state_keep_prob=0.5),
                                   x, dtype=tf.float32)
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, (c, h) = sess.run([out, state])
    zero = np.mean(o == 0)
    assert 0.4 < zero < 0.6
    assert np.mean(c == 0) < 0.05          # an LSTM's c state is never dropped (TF's default filter)
    assert 0.4 < np.mean(h == 0) < 0.6


def test_dropout_keep_prob_one_adds_nothing(g):
    cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(3))
    tf.nn.dynamic_rnn(cell, tf.zeros([2, 2, 3]), dtype=tf.float32)
    assert not [op for op in g.get_operations() if "dropout" in op.name]
    with pytest.raises(ValueError, match="between 0 and 1"):
        tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(3), input_keep_prob=1.5)


def test_reverse_sequence_values_and_gradient(g):
    x = np.arange(24.0).reshape(2, 4, 3)
    with reference_executor(), tf.Session() as sess:
        got = sess.run(tf.reverse_sequence(x, [3, 1], seq_axis=1, batch_axis=0))
    np.testing.assert_array_equal(got[0], x[0][[2, 1, 0, 3]])
    np.testing.assert_array_equal(got[1], x[1])
    w = RNG.standard_normal((2, 4, 3))
    assert gradient_error(lambda t: tf.reverse_sequence(t, [2, 4], seq_axis=1, batch_axis=0) * w, [x]) < 1e-8


def test_multi_rnn_cell_concatenated_state(g):
    cells = [tf.nn.rnn_cell.BasicRNNCell(3), tf.nn.rnn_cell.GRUCell(2)]
    cell = tf.nn.rnn_cell.MultiRNNCell(cells, state_is_tuple=False)
    out, state = tf.nn.dynamic_rnn(cell, tf.ones([4, 3, 2]), dtype=tf.float32)
    assert cell.state_size == 5 and state.shape.as_list() == [4, 5] and out.shape.as_list() == [4, 3, 2]
    with pytest.raises(ValueError, match="state_is_tuple"):
        tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(2)], state_is_tuple=False)


def test_residual_wrapper_needs_matching_shapes(g):
    cell = tf.nn.rnn_cell.ResidualWrapper(tf.nn.rnn_cell.BasicRNNCell(5))
    with pytest.raises(ValueError):
        tf.nn.dynamic_rnn(cell, tf.ones([2, 3, 4]), dtype=tf.float32)


def test_lstm_learns_to_recall_the_first_input(g):
    """The last output must reproduce the sign of the first step's input (memory across 6 steps)."""
    tf.set_random_seed(4)
    rng = np.random.default_rng(4)
    x = tf.placeholder(tf.float32, [32, 6, 1])
    y = tf.placeholder(tf.float32, [32, 1])
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.LSTMCell(8), x, dtype=tf.float32)
    pred = tf.layers.dense(out[:, -1], 1)
    loss = tf.reduce_mean(tf.square(pred - y))
    step = tf.train.AdamOptimizer(0.03).minimize(loss)
    losses = []
    with reference_executor(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(120):
            xv = rng.uniform(-1, 1, (32, 6, 1)).astype(np.float32)
            yv = np.sign(xv[:, 0])
            losses.append(sess.run([loss, step], {x: xv, y: yv})[0])
    assert np.mean(losses[:10]) > 0.8 and np.mean(losses[-10:]) < 0.15
