"""``tf.contrib`` programs written once against the TF1 API and run by ``case_runner`` on jitgraph
and, when recording, on TensorFlow, where ``record_contrib.py`` puts a stand-in at ``tf.contrib``:
``tf_slim`` (TF 1.15's ``contrib.layers`` code, split out) for ``layers``, the core cells and
``tf.nn.static_rnn``/``static_bidirectional_rnn`` for ``rnn``.

``CASES``: value cases (outputs, gradients, regularization losses, the variables after the update
ops), trainable variables set by name (``case_runner.fixed_value``). ``structure(tf, fn)``: the
variable names/shapes, collections and update-op names a case builds. ``RELATIONS``: facts a
program computes that hold in both (an initializer draws what another does with the same seed).
"""

import zlib

import numpy as np

from rnn_cases import rnn_fetches

SEQ_LENGTHS = np.array([4, 2, 3], np.int32)


def _x_value(shape, salt):
    return np.random.default_rng(zlib.crc32(salt.encode())).standard_normal(shape).astype(np.float32)


def _standard(tf, x, out, shape, training=None, values=(None,)):
    """Steps: outputs, d(sum(out * w))/d(x and every trainable variable) and the regularization
    losses; then the update ops; then every variable (one round per fed ``training`` value)."""
    graph = tf.get_default_graph()
    w = tf.constant(_x_value([shape[0]] + out.shape.as_list()[1:], f"w{shape}{out.shape.as_list()}"))
    grads = tf.gradients(tf.reduce_sum(out * w), [x] + tf.trainable_variables())
    regs = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(updates):
        updated = tf.identity(tf.constant(0.0))
    xv = _x_value(shape, f"x{shape}")
    steps = []
    for value in values:
        feeds = {x: xv} if training is None else {x: xv, training: value}
        fetch = {"out": out}
        fetch.update({f"grad{i}": g for i, g in enumerate(grads) if g is not None})
        fetch.update({f"reg{i}": r for i, r in enumerate(regs)})
        steps.append((fetch, feeds))
        steps.append(({"updated": updated}, feeds))
        steps.append(({f"var/{v.op.name}": v for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)}, {}))
    return steps


def _case(shape, build, training=None):
    """A case: ``build(tf, x[, training])`` → output, on a float32 placeholder ``x`` of ``shape``
    (a ``None`` batch is fed as 2) and, when ``training`` lists values, a bool placeholder fed each
    in turn."""
    feed_shape = [2 if d is None else d for d in shape]

    def fn(tf):
        x = tf.placeholder(tf.float32, shape, name="x")
        if training is None:
            return _standard(tf, x, build(tf, x), feed_shape)
        t = tf.placeholder(tf.bool, [], name="training")
        return _standard(tf, x, build(tf, x, t), feed_shape, t, training)
    return fn


def _fc_two(tf, x):
    L = tf.contrib.layers
    return L.fully_connected(L.fully_connected(x, 4), 3, activation_fn=None)


def _fc_reuse(tf, x):
    L = tf.contrib.layers
    a = L.fully_connected(x, 3, scope="fc")
    return a + L.fully_connected(x * 2.0, 3, scope="fc", reuse=True)


def _fc_regularized(tf, x):
    L = tf.contrib.layers
    h = L.fully_connected(x, 3, weights_regularizer=L.sum_regularizer([L.l1_regularizer(0.1), L.l2_regularizer(0.05)]),
                          biases_regularizer=L.l2_regularizer(0.2))
    h = L.fully_connected(h, 2, activation_fn=tf.nn.tanh, weights_regularizer=L.l1_l2_regularizer(0.01, 0.02))
    penalty = L.apply_regularization(L.l2_regularizer(0.3), tf.trainable_variables())
    return h * penalty


def _fc_collections(tf, x):
    L = tf.contrib.layers
    h = L.fully_connected(x, 3, variables_collections={"weights": ["my_weights"]}, outputs_collections="my_outputs")
    return L.fully_connected(h, 2, variables_collections=["all_mine"], outputs_collections=["my_outputs"],
                             trainable=False, weights_initializer=tf.constant_initializer(0.2))


def _conv_bn(tf, x, t=True):
    L = tf.contrib.layers
    h = L.conv2d(x, 4, 3, normalizer_fn=L.batch_norm, normalizer_params={"is_training": t, "decay": 0.9})
    return L.flatten(L.max_pool2d(h, 2))


def _two_flattens(tf, x):
    return tf.contrib.layers.flatten(x) + tf.contrib.layers.flatten(x * 2.0)


def _bn_params(tf, x):
    L = tf.contrib.layers
    inits = {"moving_mean": tf.constant_initializer(0.3), "moving_variance": tf.constant_initializer(2.0),
             "gamma": tf.constant_initializer(1.5)}
    return L.batch_norm(x, scale=True, is_training=False, param_initializers=inits,
                        variables_collections={"moving_mean": ["stats"], "beta": ["betas"]})


def _lenet(tf, x):
    L = tf.contrib.layers
    h = L.conv2d(x, 3, [3, 3], scope="conv1")
    h = L.max_pool2d(h, [2, 2], scope="pool1")
    h = L.conv2d(h, 4, 2, padding="VALID", weights_initializer=L.xavier_initializer_conv2d())
    h = L.avg_pool2d(h, 2, stride=1, padding="SAME")
    h = L.flatten(h)
    h = L.fully_connected(h, 5, weights_initializer=L.variance_scaling_initializer())
    h = L.dropout(h, keep_prob=0.7, is_training=False)
    return L.fully_connected(h, 2, activation_fn=None, scope="logits")


CASES = {
    "fc_default": _case([3, 5], lambda tf, x: tf.contrib.layers.fully_connected(x, 4)),
    "fc_two_default_names": _case([3, 5], _fc_two),
    "fc_rank3": _case([2, 3, 5], lambda tf, x: tf.contrib.layers.fully_connected(x, 2, activation_fn=tf.nn.sigmoid)),
    "fc_scope_reuse": _case([2, 4], _fc_reuse),
    "fc_no_bias": _case([3, 4], lambda tf, x: tf.contrib.layers.fully_connected(
        x, 3, biases_initializer=None, activation_fn=None)),
    "fc_linear_alias": _case([3, 4], lambda tf, x: tf.contrib.layers.linear(x, 3)),
    "fc_regularizers": _case([4, 5], _fc_regularized),
    "fc_collections": _case([3, 4], _fc_collections),
    "fc_batch_norm": _case([6, 4], lambda tf, x: tf.contrib.layers.fully_connected(
        x, 3, normalizer_fn=tf.contrib.layers.batch_norm, normalizer_params={"is_training": True, "decay": 0.9})),
    "fc_batch_norm_tensor": _case([6, 4], lambda tf, x, t: tf.contrib.layers.fully_connected(
        x, 3, normalizer_fn=tf.contrib.layers.batch_norm, normalizer_params={"is_training": t, "decay": 0.8,
                                                                             "scale": True}), [True, False]),
    "conv2d_default": _case([2, 6, 6, 3], lambda tf, x: tf.contrib.layers.conv2d(x, 4, 3)),
    "conv2d_strided_valid": _case([2, 7, 6, 3], lambda tf, x: tf.contrib.layers.conv2d(
        x, 2, [3, 2], stride=2, padding="VALID", activation_fn=None)),
    "conv1d_dilated": _case([2, 9, 3], lambda tf, x: tf.contrib.layers.convolution(x, 3, 3, rate=2)),
    "conv2d_batch_norm_pool": _case([3, 6, 6, 2], _conv_bn),
    "conv2d_batch_norm_tensor": _case([3, 4, 4, 2], _conv_bn, [True, False]),
    "lenet": _case([2, 8, 8, 1], _lenet),
    "max_pool2d": _case([2, 6, 5, 3], lambda tf, x: tf.contrib.layers.max_pool2d(x, 2)),
    "avg_pool2d_same": _case([2, 6, 5, 3], lambda tf, x: tf.contrib.layers.avg_pool2d(x, 3, stride=1,
                                                                                         padding="SAME")),
    "flatten": _case([None, 3, 4], lambda tf, x: tf.contrib.layers.flatten(x)),
    "flatten_twice": _case([2, 3, 2], _two_flattens),
    "dropout_inference": _case([3, 4], lambda tf, x: tf.contrib.layers.dropout(x, 0.5, is_training=False)),
    "dropout_tensor": _case([3, 4], lambda tf, x, t: tf.contrib.layers.dropout(x, 0.6, is_training=t), [False]),
    "bn_rank2_default": _case([5, 3], lambda tf, x: tf.contrib.layers.batch_norm(x)),
    "bn_rank2_scale_no_center": _case([5, 3], lambda tf, x: tf.contrib.layers.batch_norm(
        x, decay=0.9, center=False, scale=True)),
    "bn_rank2_forced_updates": _case([5, 3], lambda tf, x: tf.contrib.layers.batch_norm(
        x, decay=0.5, updates_collections=None)),
    "bn_rank2_unfused_forced": _case([5, 3], lambda tf, x: tf.contrib.layers.batch_norm(
        x, decay=0.5, fused=False, updates_collections=None, scale=True)),
    "bn_rank2_batch_weights": _case([4, 3], lambda tf, x: tf.contrib.layers.batch_norm(
        x, decay=0.5, batch_weights=tf.constant([1.0, 2.0, 0.5, 1.0]))),
    "bn_rank2_inference_params": _case([4, 3], _bn_params),
    "bn_rank2_tensor": _case([5, 3], lambda tf, x, t: tf.contrib.layers.batch_norm(x, is_training=t, decay=0.6),
                             [True, False]),
    "bn_rank4_default": _case([3, 3, 3, 2], lambda tf, x: tf.contrib.layers.batch_norm(x, decay=0.9, scale=True)),
    "bn_rank4_unfused": _case([3, 2, 2, 3], lambda tf, x: tf.contrib.layers.batch_norm(x, decay=0.5, fused=False)),
    "bn_rank4_forced_updates": _case([3, 2, 2, 3], lambda tf, x: tf.contrib.layers.batch_norm(
        x, decay=0.5, updates_collections=None)),
    "bn_rank3": _case([2, 4, 3], lambda tf, x: tf.contrib.layers.batch_norm(x, decay=0.5, activation_fn=tf.nn.relu)),
    "bn_rank4_tensor": _case([3, 2, 2, 3], lambda tf, x, t: tf.contrib.layers.batch_norm(x, is_training=t),
                             [True, False]),
    "layer_norm": _case([2, 3, 4], lambda tf, x: tf.contrib.layers.layer_norm(x)),
    "layer_norm_last_axis": _case([2, 3, 4], lambda tf, x: tf.contrib.layers.layer_norm(
        x, begin_norm_axis=-1, center=False, activation_fn=tf.nn.relu)),
}


# ---- tf.contrib.rnn ------------------------------------------------------------------------------
def _sequence(tf, shape=(3, 4, 5)):
    return tf.placeholder(tf.float32, shape, name="x")


def _rnn_steps(tf, x, outputs, states):
    return [(rnn_fetches(tf, x, outputs, states), {x: _x_value(x.shape.as_list(), "rnn")})]


def static_lstm(tf):
    x = _sequence(tf)
    outputs, state = tf.contrib.rnn.static_rnn(tf.contrib.rnn.BasicLSTMCell(3), tf.unstack(x, axis=1),
                                               dtype=tf.float32)
    return _rnn_steps(tf, x, tf.stack(outputs, 1), state)


def static_multi_rnn_lengths(tf):
    x = _sequence(tf)
    cell = tf.contrib.rnn.MultiRNNCell([tf.contrib.rnn.BasicRNNCell(4), tf.contrib.rnn.GRUCell(2)])
    outputs, state = tf.contrib.rnn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32,
                                               sequence_length=SEQ_LENGTHS)
    return _rnn_steps(tf, x, tf.stack(outputs, 1), state)


def static_bidirectional(tf):
    x = _sequence(tf)
    outputs, fw, bw = tf.contrib.rnn.static_bidirectional_rnn(
        tf.contrib.rnn.LSTMCell(3), tf.contrib.rnn.GRUCell(2), tf.unstack(x, axis=1), dtype=tf.float32,
        sequence_length=SEQ_LENGTHS)
    return _rnn_steps(tf, x, tf.stack(outputs, 1), (fw, bw))


def stack_bidirectional(tf):
    x = _sequence(tf)
    outputs, fw, bw = tf.contrib.rnn.stack_bidirectional_rnn(
        [tf.contrib.rnn.BasicRNNCell(3), tf.contrib.rnn.BasicRNNCell(2)],
        [tf.contrib.rnn.BasicLSTMCell(2), tf.contrib.rnn.GRUCell(2)], tf.unstack(x, axis=1), dtype=tf.float32)
    return _rnn_steps(tf, x, tf.stack(outputs, 1), (fw, bw))


def stack_bidirectional_dynamic(tf):
    x = _sequence(tf)
    outputs, fw, bw = tf.contrib.rnn.stack_bidirectional_dynamic_rnn(
        [tf.contrib.rnn.GRUCell(3), tf.contrib.rnn.BasicLSTMCell(2)],
        [tf.contrib.rnn.GRUCell(2), tf.contrib.rnn.BasicRNNCell(2)], x, dtype=tf.float32,
        sequence_length=SEQ_LENGTHS)
    return _rnn_steps(tf, x, outputs, (fw, bw))


RNN_CASES = {f.__name__: f for f in (static_lstm, static_multi_rnn_lengths, static_bidirectional, stack_bidirectional,
                                     stack_bidirectional_dynamic)}


# ---- structure and relations ---------------------------------------------------------------------
def structure(tf, fn):
    """Names, shapes and collections of what case ``fn`` builds."""
    with tf.Graph().as_default():
        fn(tf)
        keys = {"global": tf.GraphKeys.GLOBAL_VARIABLES, "trainable": tf.GraphKeys.TRAINABLE_VARIABLES,
                "model": tf.GraphKeys.MODEL_VARIABLES, "my_weights": "my_weights", "all_mine": "all_mine",
                "stats": "stats", "betas": "betas", "my_outputs": "my_outputs"}
        return {"variables": [[v.name, v.shape.as_list()] for v in tf.global_variables()],
                "collections": {k: [v.name for v in tf.get_collection(key)] for k, key in keys.items()},
                "update_ops": [u.name for u in tf.get_collection(tf.GraphKeys.UPDATE_OPS)],
                "regularization_losses": [r.name for r in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)]}


def _draw(tf, initializer, shape):
    with tf.Graph().as_default():
        v = tf.get_variable("v", shape, initializer=initializer)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(v)


def _xavier_is_glorot(tf):
    a = _draw(tf, tf.contrib.layers.xavier_initializer(seed=5), [30, 50])
    b = _draw(tf, tf.glorot_uniform_initializer(seed=5), [30, 50])
    return bool(np.array_equal(a, b)) and bool(np.abs(a).max() <= np.sqrt(6.0 / 80))


def _scaling_normal_stddev(tf):
    """contrib's normal variance scaling is a truncated normal of stddev sqrt(1.3 * factor / n)."""
    a = _draw(tf, tf.contrib.layers.variance_scaling_initializer(factor=2.0, mode="FAN_AVG", seed=3), [3, 3, 20, 40])
    b = _draw(tf, tf.truncated_normal_initializer(stddev=np.sqrt(1.3 * 2.0 / 270.0), seed=3), [3, 3, 20, 40])
    return bool(np.allclose(a, b, rtol=1e-6, atol=0))


def _scaling_uniform_fan_out(tf):
    a = _draw(tf, tf.contrib.layers.variance_scaling_initializer(factor=3.0, mode="FAN_OUT", uniform=True, seed=9),
              [7, 11])
    b = _draw(tf, tf.random_uniform_initializer(-np.sqrt(9.0 / 11), np.sqrt(9.0 / 11), seed=9), [7, 11])
    return bool(np.allclose(a, b, rtol=1e-6, atol=0))


RELATIONS = {"xavier_is_glorot": _xavier_is_glorot, "scaling_normal_stddev": _scaling_normal_stddev,
             "scaling_uniform_fan_out": _scaling_uniform_fan_out}


# ---- build errors --------------------------------------------------------------------------------
def err_fc_float_units(tf):
    tf.contrib.layers.fully_connected(tf.placeholder(tf.float32, [2, 3]), 2.0)


def err_conv_rank2(tf):
    tf.contrib.layers.conv2d(tf.placeholder(tf.float32, [2, 3]), 2, 3)


def err_conv_bad_format(tf):
    tf.contrib.layers.conv2d(tf.placeholder(tf.float32, [2, 3, 3, 1]), 2, 3, data_format="HWNC")


def err_bn_unknown_channels(tf):
    tf.contrib.layers.batch_norm(tf.placeholder(tf.float32, [2, None]))


def err_l2_integer_scale(tf):
    tf.contrib.layers.l2_regularizer(1)


def err_l1_negative_scale(tf):
    tf.contrib.layers.l1_regularizer(-0.5)


def err_xavier_int_dtype(tf):
    tf.contrib.layers.xavier_initializer(dtype=tf.int32)


def err_scaling_mode(tf):
    tf.contrib.layers.variance_scaling_initializer(mode="fan_in")


def err_stack_depths(tf):
    tf.contrib.rnn.stack_bidirectional_dynamic_rnn([tf.contrib.rnn.GRUCell(2)], [], _sequence(tf), dtype=tf.float32)


def err_static_bidirectional_tensor_inputs(tf):
    tf.contrib.rnn.static_bidirectional_rnn(tf.contrib.rnn.GRUCell(2), tf.contrib.rnn.GRUCell(2), _sequence(tf),
                                            dtype=tf.float32)


def err_layer_norm_axis(tf):
    tf.contrib.layers.layer_norm(tf.placeholder(tf.float32, [2, 3]), begin_norm_axis=2)


BUILD_ERRORS = {f.__name__: f for f in (err_fc_float_units, err_conv_rank2, err_conv_bad_format,
                                        err_bn_unknown_channels, err_l2_integer_scale, err_l1_negative_scale,
                                        err_xavier_int_dtype, err_scaling_mode, err_stack_depths,
                                        err_static_bidirectional_tensor_inputs, err_layer_norm_axis)}
