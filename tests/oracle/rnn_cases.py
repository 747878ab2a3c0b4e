"""RNN programs written once against the TF1 API (see ``control_cases.py``); variables get fixed
values by name (``case_runner.fixed_value``) before the runs."""

import numpy as np

X = np.random.default_rng(7).uniform(-1, 1, size=(3, 5, 4)).astype(np.float32)
LENGTHS = np.array([5, 2, 4], np.int32)


def rnn_fetches(tf, x, outputs, state):
    """What an RNN case fetches: outputs, each state tensor, a loss of both and its gradients
    with respect to the input ``x`` and every trainable variable."""
    flat_state = tf.nest.flatten(state)
    loss = tf.reduce_sum(outputs * outputs) + sum(tf.reduce_sum(s) for s in flat_state)
    grads = tf.gradients(loss, [x] + tf.trainable_variables())
    fetch = {"outputs": outputs, "loss": loss}
    fetch.update({f"state{i}": s for i, s in enumerate(flat_state)})
    fetch.update({f"grad{i}": g for i, g in enumerate(grads) if g is not None})
    return fetch


def _run(tf, outputs, state, extra=None):
    x = tf.get_default_graph().get_tensor_by_name("x:0")
    fetch = rnn_fetches(tf, x, outputs, state)
    fetch.update(extra or {})
    return [(fetch, {x: X})]


def _x(tf, shape=(3, 5, 4)):
    return tf.placeholder(tf.float32, shape, name="x")


def basic_lstm(tf):
    x = _x(tf)
    out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(6), x, dtype=tf.float32)
    return _run(tf, out, st)


def basic_lstm_concat_state(tf):
    x = _x(tf)
    out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3, forget_bias=0.5, state_is_tuple=False), x,
                                dtype=tf.float32)
    return _run(tf, out, st)


def lstm_peephole_projection(tf):
    x = _x(tf)
    cell = tf.nn.rnn_cell.LSTMCell(5, use_peepholes=True, num_proj=3, cell_clip=0.3, proj_clip=0.2)
    out, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    return _run(tf, out, st)


def gru_sequence_length(tf):
    x = _x(tf)
    out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(4), x, sequence_length=LENGTHS, dtype=tf.float32)
    return _run(tf, out, st)


def basic_rnn_time_major(tf):
    x = _x(tf, (5, 3, 4))
    init = tf.constant(np.linspace(-1, 1, 6, dtype=np.float32).reshape(1, 6) * np.ones((3, 1), np.float32))
    out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(6, activation=tf.nn.relu), x, initial_state=init,
                                time_major=True, scope="my_rnn")
    return [(step[0], {tf.get_default_graph().get_tensor_by_name("x:0"): X.transpose(1, 0, 2)})
            for step in _run(tf, out, st)]


def multi_rnn(tf):
    x = _x(tf)
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(4), tf.nn.rnn_cell.GRUCell(3)])
    out, st = tf.nn.dynamic_rnn(cell, x, sequence_length=LENGTHS, dtype=tf.float32)
    return _run(tf, out, st)


def bidirectional(tf):
    x = _x(tf)
    (fw, bw), (sfw, sbw) = tf.nn.bidirectional_dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.BasicLSTMCell(2),
                                                            x, sequence_length=LENGTHS, dtype=tf.float32)
    return _run(tf, tf.concat([fw, bw], 2), (sfw, sbw))


def static_lstm(tf):
    x = _x(tf)
    outs, st = tf.nn.static_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), tf.unstack(x, axis=1), dtype=tf.float32,
                                sequence_length=LENGTHS)
    return _run(tf, tf.stack(outs, 1), st)


def residual_and_dropout(tf):
    x = _x(tf)
    cell = tf.nn.rnn_cell.ResidualWrapper(tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(4),
                                                                        input_keep_prob=1.0, output_keep_prob=1.0))
    out, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    return _run(tf, out, st)


def two_rnns_naming(tf):
    x = _x(tf)
    with tf.variable_scope("enc"):
        o1, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), x, dtype=tf.float32)
    o2, s2 = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), o1, dtype=tf.float32)
    return _run(tf, o2, s2)


CASES = {f.__name__: f for f in (basic_lstm, basic_lstm_concat_state, lstm_peephole_projection, gru_sequence_length,
                                 basic_rnn_time_major, multi_rnn, bidirectional, static_lstm, residual_and_dropout,
                                 two_rnns_naming)}


def variable_names(tf, fn):
    with tf.Graph().as_default():
        fn(tf)
        return [v.name for v in tf.global_variables()]


def err_no_dtype(tf):
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), _x(tf))


def err_unknown_depth(tf):
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(3), tf.placeholder(tf.float32, [2, 3, None]), dtype=tf.float32)


def err_rank2_input(tf):
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), tf.placeholder(tf.float32, [2, 3]), dtype=tf.float32)


BUILD_ERRORS = {f.__name__: f for f in (err_no_dtype, err_unknown_depth, err_rank2_input)}
