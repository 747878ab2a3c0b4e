"""Training steps of common TF1 programs, one builder each: ``builder(rng)`` makes the graph in the
default graph and returns ``(train, loss, feed_dict)``. Collected by building the patterns of public
TF1 examples (MLPs, CNNs with batch norm, RNNs, GANs, VAEs, word2vec, DQN, attention, input
pipelines) under strict compilation
each of the bugs this found fails one of them."""

import numpy as np

import jitgraph as tf

CASES = {}


def case(f):
    CASES[f.__name__] = f
    return f


def mnist_xy(rng, batch=32, d=784):
    return rng.random((batch, d), dtype=np.float32), np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]

@case
def dense_layers_dropout(rng):
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.float32, [None, 10])
    kp = tf.placeholder(tf.float32)
    h = tf.layers.dense(x, 128, activation=tf.nn.relu)
    h = tf.nn.dropout(h, kp)
    h = tf.layers.dense(h, 64, activation=tf.nn.tanh)
    logits = tf.layers.dense(h, 10)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    xs, ys = mnist_xy(rng)
    return tf.train.AdamOptimizer().minimize(loss), loss, {x: xs, y: ys, kp: 0.5}

@case
def sparse_xent_l2(rng):
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.int64, [None])
    w = tf.Variable(tf.truncated_normal([784, 10], stddev=0.1))
    b = tf.Variable(tf.zeros([10]))
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)) + 1e-4 * tf.nn.l2_loss(w)
    xs, _ = mnist_xy(rng)
    return tf.train.GradientDescentOptimizer(0.1).minimize(loss), loss, {x: xs, y: rng.integers(0, 10, 32)}

@case
def sigmoid_xent_logreg(rng):
    x = tf.placeholder(tf.float32, [None, 20])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([20, 1]))
    b = tf.Variable(0.0)
    logits = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.round(tf.sigmoid(logits)), y), tf.float32))
    return [tf.train.AdagradOptimizer(0.1).minimize(loss), acc], loss, {x: rng.random((32, 20), dtype=np.float32), y: rng.integers(0, 2, (32, 1)).astype(np.float32)}

@case
def losses_mse_momentum(rng):
    x = tf.placeholder(tf.float32, [None, 13])
    y = tf.placeholder(tf.float32, [None])
    pred = tf.squeeze(tf.layers.dense(tf.layers.dense(x, 32, tf.nn.relu), 1), axis=1)
    loss = tf.losses.mean_squared_error(y, pred)
    return tf.train.MomentumOptimizer(0.01, 0.9).minimize(loss), loss, {x: rng.random((32, 13), dtype=np.float32), y: rng.random(32, dtype=np.float32)}

@case
def linear_regression_scalar_vars(rng):
    X = tf.placeholder("float")
    Y = tf.placeholder("float")
    W = tf.Variable(rng.standard_normal(), name="weight")
    b = tf.Variable(rng.standard_normal(), name="bias")
    pred = tf.add(tf.multiply(X, W), b)
    cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * 17)
    return tf.train.GradientDescentOptimizer(0.01).minimize(cost), cost, {X: np.float32(3.3), Y: np.float32(1.7)}

@case
def layers_cnn_bn(rng):
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    y = tf.placeholder(tf.int32, [None])
    training = tf.placeholder(tf.bool)
    h = tf.layers.conv2d(x, 8, 3, padding="same", activation=tf.nn.relu)
    h = tf.layers.batch_normalization(h, training=training)
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.flatten(h)
    logits = tf.layers.dense(h, 10)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
    ups = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(ups):
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    return train, loss, {x: rng.random((16, 28, 28, 1), dtype=np.float32), y: rng.integers(0, 10, 16), training: True}

@case
def clip_global_norm_rmsprop(rng):
    x = tf.placeholder(tf.float32, [None, 10])
    y = tf.placeholder(tf.float32, [None, 1])
    w1 = tf.Variable(tf.random_normal([10, 16]))
    w2 = tf.Variable(tf.random_normal([16, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(tf.nn.elu(tf.matmul(x, w1)), w2) - y))
    opt = tf.train.RMSPropOptimizer(0.01)
    gv = opt.compute_gradients(loss)
    g, v = zip(*gv)
    g, _ = tf.clip_by_global_norm(g, 1.0)
    return opt.apply_gradients(zip(g, v)), loss, {x: rng.random((32, 10), dtype=np.float32), y: rng.random((32, 1), dtype=np.float32)}

@case
def embedding_avg(rng):
    ids = tf.placeholder(tf.int32, [None, 5])
    y = tf.placeholder(tf.float32, [None, 2])
    emb = tf.Variable(tf.random_uniform([100, 8], -1, 1))
    h = tf.reduce_mean(tf.nn.embedding_lookup(emb, ids), axis=1)
    logits = tf.layers.dense(h, 2)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    return tf.train.AdamOptimizer(0.01).minimize(loss), loss, {ids: rng.integers(0, 100, (16, 5)), y: np.eye(2, dtype=np.float32)[rng.integers(0, 2, 16)]}

@case
def leaky_relu_gan_style(rng):
    z = tf.placeholder(tf.float32, [None, 16])
    w = tf.Variable(tf.random_normal([16, 32], stddev=0.1))
    h = tf.nn.leaky_relu(tf.matmul(z, w), 0.2)
    d = tf.layers.dense(h, 1)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=d, labels=tf.ones_like(d)))
    return tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(loss), loss, {z: rng.random((8, 16), dtype=np.float32)}

@case
def accuracy_argmax(rng):
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.float32, [None, 10])
    w = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    pred = tf.nn.softmax(tf.matmul(x, w) + b)
    cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(pred), reduction_indices=1))
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1)), tf.float32))
    xs, ys = mnist_xy(rng)
    return [tf.train.GradientDescentOptimizer(0.5).minimize(cost), acc], cost, {x: xs, y: ys}

@case
def exp_decay_lr_global_step(rng):
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.float32, [None, 1])
    gs = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.1, gs, 100, 0.96, staircase=True)
    loss = tf.reduce_mean(tf.abs(tf.layers.dense(x, 1) - y))
    return tf.train.GradientDescentOptimizer(lr).minimize(loss, global_step=gs), loss, {x: rng.random((8, 4), dtype=np.float32), y: rng.random((8, 1), dtype=np.float32)}


@case
def lstm_dynamic_rnn(rng):
    x = tf.placeholder(tf.float32, [None, 7, 5])
    y = tf.placeholder(tf.float32, [None, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(8)
    out, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    logits = tf.layers.dense(out[:, -1], 3)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    return tf.train.AdamOptimizer(1e-2).minimize(loss), loss, {x: rng.random((4, 7, 5), dtype=np.float32), y: np.eye(3, dtype=np.float32)[rng.integers(0, 3, 4)]}

@case
def static_rnn_gru(rng):
    x = tf.placeholder(tf.float32, [None, 6, 4])
    y = tf.placeholder(tf.float32, [None, 1])
    xs = tf.unstack(x, 6, 1)
    cell = tf.nn.rnn_cell.GRUCell(8)
    outs, _ = tf.nn.static_rnn(cell, xs, dtype=tf.float32)
    loss = tf.reduce_mean(tf.square(tf.layers.dense(outs[-1], 1) - y))
    return tf.train.RMSPropOptimizer(1e-2).minimize(loss), loss, {x: rng.random((4, 6, 4), dtype=np.float32), y: rng.random((4, 1), dtype=np.float32)}

@case
def conv_autoencoder_transpose(rng):
    x = tf.placeholder(tf.float32, [None, 16, 16, 1])
    h = tf.layers.conv2d(x, 8, 3, strides=2, padding="same", activation=tf.nn.relu)
    h = tf.layers.conv2d_transpose(h, 1, 3, strides=2, padding="same", activation=tf.nn.sigmoid)
    loss = tf.reduce_mean(tf.square(h - x))
    return tf.train.AdamOptimizer(1e-3).minimize(loss), loss, {x: rng.random((4, 16, 16, 1), dtype=np.float32)}

@case
def moments_batchnorm_avgpool(rng):
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    y = tf.placeholder(tf.float32, [None, 2])
    w = tf.Variable(tf.random_normal([3, 3, 3, 4], stddev=0.1))
    h = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")
    mean, var = tf.nn.moments(h, [0, 1, 2])
    h = tf.nn.batch_normalization(h, mean, var, tf.Variable(tf.zeros([4])), tf.Variable(tf.ones([4])), 1e-3)
    h = tf.nn.avg_pool(tf.nn.relu(h), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    logits = tf.layers.dense(tf.reshape(h, [-1, 4 * 4 * 4]), 2)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    return tf.train.MomentumOptimizer(0.01, 0.9, use_nesterov=True).minimize(loss), loss, {x: rng.random((4, 8, 8, 3), dtype=np.float32), y: np.eye(2, dtype=np.float32)[rng.integers(0, 2, 4)]}

@case
def regularizer_collection_onehot(rng):
    x = tf.placeholder(tf.float32, [None, 10])
    lab = tf.placeholder(tf.int32, [None])
    with tf.variable_scope("m", regularizer=lambda w: 1e-3 * tf.nn.l2_loss(w)):
        w = tf.get_variable("w", [10, 4], initializer=tf.glorot_uniform_initializer())
    logits = tf.matmul(x, w)
    loss = tf.losses.softmax_cross_entropy(tf.one_hot(lab, 4), logits) + tf.losses.get_regularization_loss()
    return tf.train.AdamOptimizer(1e-2).minimize(loss), loss, {x: rng.random((8, 10), dtype=np.float32), lab: rng.integers(0, 4, 8)}

@case
def manual_softmax_log_clip(rng):
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(tf.random_normal([6, 3]))
    b = tf.Variable(tf.zeros([3]))
    p = tf.nn.softmax(tf.matmul(x, w) + b)
    loss = -tf.reduce_sum(y * tf.log(tf.clip_by_value(p, 1e-10, 1.0)))
    return tf.train.GradientDescentOptimizer(0.01).minimize(loss), loss, {x: rng.random((8, 6), dtype=np.float32), y: np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]}

@case
def cond_training_switch(rng):
    x = tf.placeholder(tf.float32, [None, 4])
    is_tr = tf.placeholder(tf.bool, [])
    h = tf.layers.dense(x, 8)
    h = tf.cond(is_tr, lambda: tf.nn.dropout(h, 0.5), lambda: h)
    loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 1)))
    return tf.train.AdamOptimizer().minimize(loss), loss, {x: rng.random((8, 4), dtype=np.float32), is_tr: True}

@case
def gather_topk_embedding_sgd(rng):
    ids = tf.placeholder(tf.int64, [None])
    y = tf.placeholder(tf.int32, [None])
    emb = tf.get_variable("emb", [50, 6])
    h = tf.gather(emb, ids)
    logits = tf.layers.dense(h, 5)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    acc = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, y, 2), tf.float32))
    return [tf.train.GradientDescentOptimizer(0.1).minimize(loss), acc], loss, {ids: rng.integers(0, 50, 8), y: rng.integers(0, 5, 8)}

@case
def huber_adadelta_selu(rng):
    x = tf.placeholder(tf.float32, [None, 5])
    y = tf.placeholder(tf.float32, [None, 1])
    p = tf.layers.dense(tf.layers.dense(x, 8, activation=tf.nn.selu), 1)
    loss = tf.losses.huber_loss(y, p)
    return tf.train.AdadeltaOptimizer(1.0).minimize(loss), loss, {x: rng.random((8, 5), dtype=np.float32), y: rng.random((8, 1), dtype=np.float32)}

@case
def concat_split_softplus_ftrl(rng):
    a = tf.placeholder(tf.float32, [None, 3])
    bb = tf.placeholder(tf.float32, [None, 2])
    h = tf.concat([a, bb], axis=1)
    h1, h2 = tf.split(tf.layers.dense(h, 4), 2, axis=1)
    loss = tf.reduce_mean(tf.nn.softplus(h1) * tf.nn.sigmoid(h2))
    return tf.train.FtrlOptimizer(0.1).minimize(loss), loss, {a: rng.random((8, 3), dtype=np.float32), bb: rng.random((8, 2), dtype=np.float32)}


@case
def vae_reparam(rng):
    x = tf.placeholder(tf.float32, [None, 20])
    h = tf.layers.dense(x, 16, tf.nn.relu)
    mu, logvar = tf.layers.dense(h, 4), tf.layers.dense(h, 4)
    eps = tf.random_normal(tf.shape(mu))
    z = mu + tf.exp(0.5 * logvar) * eps
    xr = tf.layers.dense(tf.layers.dense(z, 16, tf.nn.relu), 20, tf.nn.sigmoid)
    rec = -tf.reduce_sum(x * tf.log(1e-8 + xr) + (1 - x) * tf.log(1e-8 + 1 - xr), 1)
    kl = -0.5 * tf.reduce_sum(1 + logvar - tf.square(mu) - tf.exp(logvar), 1)
    loss = tf.reduce_mean(rec + kl)
    return tf.train.AdamOptimizer(1e-3).minimize(loss), loss, {x: rng.random((8, 20), dtype=np.float32)}

@case
def dynamic_reshape_shape0(rng):
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    y = tf.placeholder(tf.float32, [None, 3])
    h = tf.reshape(x, [tf.shape(x)[0], 32])
    logits = tf.layers.dense(h, 3)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits)) / tf.cast(tf.shape(x)[0], tf.float32)
    return tf.train.GradientDescentOptimizer(0.1).minimize(loss), loss, {x: rng.random((5, 4, 4, 2), dtype=np.float32), y: np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]}

@case
def logsumexp_l2norm_tile(rng):
    x = tf.placeholder(tf.float32, [None, 6])
    w = tf.Variable(tf.random_normal([6, 6], stddev=0.3))
    h = tf.nn.l2_normalize(tf.matmul(x, w), axis=1)
    t = tf.tile(tf.expand_dims(tf.reduce_max(h, axis=1), 1), [1, 6])
    loss = tf.reduce_mean(tf.reduce_logsumexp(h - t, axis=1)) + tf.reduce_mean(tf.nn.log_softmax(h))
    return tf.train.AdamOptimizer().minimize(loss), loss, {x: rng.random((8, 6), dtype=np.float32)}

@case
def label_smoothing_stop_gradient(rng):
    x = tf.placeholder(tf.float32, [None, 5])
    y = tf.placeholder(tf.float32, [None, 3])
    logits = tf.layers.dense(x, 3)
    target = tf.stop_gradient(tf.nn.softmax(logits))
    loss = tf.losses.softmax_cross_entropy(y, logits, label_smoothing=0.1) + tf.reduce_mean(tf.square(target - tf.nn.softmax(logits)))
    return tf.train.AdamOptimizer().minimize(loss), loss, {x: rng.random((8, 5), dtype=np.float32), y: np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]}

@case
def sequence_mask_where_broadcast(rng):
    x = tf.placeholder(tf.float32, [None, 7, 3])
    lens = tf.placeholder(tf.int32, [None])
    h = tf.layers.dense(x, 4)
    mask = tf.sequence_mask(lens, 7, dtype=tf.float32)
    s = tf.reduce_sum(h * tf.expand_dims(mask, -1), axis=1) / tf.expand_dims(tf.cast(lens, tf.float32), -1)
    loss = tf.reduce_mean(tf.where(s > 0, s, 0.1 * s) ** 2)
    return tf.train.AdamOptimizer().minimize(loss), loss, {x: rng.random((4, 7, 3), dtype=np.float32), lens: np.array([7, 3, 5, 1], np.int32)}

@case
def batch_norm_layer_dense_training_false(rng):
    x = tf.placeholder(tf.float32, [None, 10])
    y = tf.placeholder(tf.float32, [None, 1])
    h = tf.layers.dense(x, 8)
    h = tf.layers.batch_normalization(h, training=True)
    h = tf.nn.relu(h)
    loss = tf.losses.mean_squared_error(y, tf.layers.dense(h, 1))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.MomentumOptimizer(0.01, 0.9).minimize(loss)
    return train, loss, {x: rng.random((16, 10), dtype=np.float32), y: rng.random((16, 1), dtype=np.float32)}

@case
def gan_two_optimizers_var_scope(rng):
    z = tf.placeholder(tf.float32, [None, 8])
    x = tf.placeholder(tf.float32, [None, 12])
    def G(z):
        with tf.variable_scope("G", reuse=tf.AUTO_REUSE):
            return tf.layers.dense(tf.layers.dense(z, 16, tf.nn.leaky_relu), 12, tf.nn.tanh)
    def D(v):
        with tf.variable_scope("D", reuse=tf.AUTO_REUSE):
            return tf.layers.dense(tf.layers.dense(v, 16, tf.nn.leaky_relu), 1)
    dr, df = D(x), D(G(z))
    dl = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=dr, labels=tf.ones_like(dr))) + \
         tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=df, labels=tf.zeros_like(df)))
    gl = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=df, labels=tf.ones_like(df)))
    tv = tf.trainable_variables()
    dt = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(dl, var_list=[v for v in tv if v.name.startswith("D")])
    gt = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(gl, var_list=[v for v in tv if v.name.startswith("G")])
    return [dt, gt], dl, {z: rng.random((8, 8), dtype=np.float32), x: rng.random((8, 12), dtype=np.float32)}

@case
def cnn_dropout_rate_flatten_nchw_free(rng):
    x = tf.placeholder(tf.float32, [None, 12, 12, 3])
    y = tf.placeholder(tf.int64, [None])
    h = tf.layers.conv2d(x, 6, 5, activation=tf.nn.relu)
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.conv2d(h, 8, 3, padding="same", activation=tf.nn.relu)
    h = tf.layers.average_pooling2d(h, 2, 2)
    h = tf.layers.dropout(tf.layers.flatten(h), rate=0.3, training=True)
    logits = tf.layers.dense(h, 4)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
    return [tf.train.AdamOptimizer().minimize(loss), acc], loss, {x: rng.random((4, 12, 12, 3), dtype=np.float32), y: rng.integers(0, 4, 4)}


@case
def word2vec_nce(rng):
    ids = tf.placeholder(tf.int32, [None])
    lab = tf.placeholder(tf.int64, [None, 1])
    emb = tf.Variable(tf.random_uniform([50, 8], -1.0, 1.0))
    nw = tf.Variable(tf.truncated_normal([50, 8], stddev=0.3))
    nb = tf.Variable(tf.zeros([50]))
    e = tf.nn.embedding_lookup(emb, ids)
    loss = tf.reduce_mean(tf.nn.nce_loss(nw, nb, lab, e, num_sampled=5, num_classes=50))
    norm = tf.sqrt(tf.reduce_sum(tf.square(emb), 1, keepdims=True))
    sim = tf.matmul(tf.nn.embedding_lookup(emb / norm, ids[:2]), emb / norm, transpose_b=True)
    return [tf.train.GradientDescentOptimizer(1.0).minimize(loss), sim], loss, {ids: rng.integers(0, 50, 16).astype(np.int32), lab: rng.integers(0, 50, (16, 1))}

@case
def bilstm_multicell_dropout(rng):
    x = tf.placeholder(tf.float32, [None, 5, 3])
    y = tf.placeholder(tf.float32, [None, 2])
    fw = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.LSTMCell(4), output_keep_prob=0.8)
    bw = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.GRUCell(4) for _ in range(2)])
    (of, ob), _ = tf.nn.bidirectional_dynamic_rnn(fw, bw, x, dtype=tf.float32)
    h = tf.concat([of[:, -1], ob[:, 0]], 1)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=tf.layers.dense(h, 2)))
    return tf.train.AdamOptimizer(1e-2).minimize(loss), loss, {x: rng.random((3, 5, 3), dtype=np.float32), y: np.eye(2, dtype=np.float32)[rng.integers(0, 2, 3)]}

@case
def dataset_iterator_training(rng):
    xs = rng.random((64, 4), dtype=np.float32)
    ys = (xs.sum(1, keepdims=True) > 2).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((xs, ys)).shuffle(64).batch(16).repeat()
    x, y = ds.make_one_shot_iterator().get_next()
    logits = tf.layers.dense(tf.layers.dense(x, 8, tf.nn.relu), 1)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=logits))
    return tf.train.AdamOptimizer(1e-2).minimize(loss), loss, {}

@case
def dqn_target_update_gather_nd(rng):
    s = tf.placeholder(tf.float32, [None, 4])
    a = tf.placeholder(tf.int32, [None])
    r = tf.placeholder(tf.float32, [None])
    s2 = tf.placeholder(tf.float32, [None, 4])
    with tf.variable_scope("q"):
        q = tf.layers.dense(tf.layers.dense(s, 16, tf.nn.relu), 2)
    with tf.variable_scope("t"):
        qt = tf.layers.dense(tf.layers.dense(s2, 16, tf.nn.relu), 2)
    idx = tf.stack([tf.range(tf.shape(a)[0]), a], axis=1)
    qa = tf.gather_nd(q, idx)
    target = r + 0.99 * tf.stop_gradient(tf.reduce_max(qt, axis=1))
    loss = tf.reduce_mean(tf.square(target - qa))
    qv = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "q")
    tv = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "t")
    sync = tf.group(*[tf.assign(t, v) for t, v in zip(tv, qv)])
    train = tf.train.RMSPropOptimizer(1e-3).minimize(loss, var_list=qv)
    return [train, sync, tf.argmax(q, 1)], loss, {s: rng.random((8, 4), dtype=np.float32), a: rng.integers(0, 2, 8).astype(np.int32), r: rng.random(8, dtype=np.float32), s2: rng.random((8, 4), dtype=np.float32)}

@case
def attention_batch_matmul(rng):
    q = tf.placeholder(tf.float32, [None, 5, 8])
    wq = tf.Variable(tf.random_normal([8, 8], stddev=0.2))
    k = tf.tensordot(q, wq, axes=1)
    att = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / np.sqrt(8.0), axis=-1)
    out = tf.matmul(att, k)
    loss = tf.reduce_mean(tf.square(out - q))
    return tf.train.AdamOptimizer().minimize(loss), loss, {q: rng.random((2, 5, 8), dtype=np.float32)}

@case
def clip_by_value_grads_and_norms(rng):
    x = tf.placeholder(tf.float32, [None, 6])
    y = tf.placeholder(tf.float32, [None, 1])
    pred = tf.layers.dense(tf.layers.dense(x, 8, tf.nn.tanh), 1)
    loss = tf.reduce_mean(tf.abs(pred - y))
    opt = tf.train.AdamOptimizer(1e-3)
    gv = [(tf.clip_by_value(g, -0.1, 0.1), v) for g, v in opt.compute_gradients(loss)]
    gn = tf.global_norm([g for g, _ in gv])
    return [opt.apply_gradients(gv), gn], loss, {x: rng.random((8, 6), dtype=np.float32), y: rng.random((8, 1), dtype=np.float32)}

@case
def conv1d_text_cnn(rng):
    ids = tf.placeholder(tf.int32, [None, 12])
    y = tf.placeholder(tf.int32, [None])
    e = tf.nn.embedding_lookup(tf.get_variable("E", [30, 6]), ids)
    h = tf.layers.conv1d(e, 5, 3, activation=tf.nn.relu)
    h = tf.reduce_max(h, axis=1)
    logits = tf.layers.dense(h, 3)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    return tf.train.AdamOptimizer().minimize(loss), loss, {ids: rng.integers(0, 30, (4, 12)).astype(np.int32), y: rng.integers(0, 3, 4).astype(np.int32)}

@case
def while_loop_accumulate(rng):
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.Variable(tf.ones([3, 3]) * 0.5)
    def body(i, h): return i + 1, tf.tanh(tf.matmul(h, w))
    _, hT = tf.while_loop(lambda i, h: i < 4, body, [tf.constant(0), x])
    loss = tf.reduce_sum(tf.square(hT))
    return tf.train.GradientDescentOptimizer(0.1).minimize(loss), loss, {x: rng.random((2, 3), dtype=np.float32)}


@case
def autoencoder_squared_error(rng):
    x = tf.placeholder(tf.float32, [None, 12])
    h = tf.nn.sigmoid(tf.layers.dense(tf.nn.sigmoid(tf.layers.dense(x, 4)), 12))
    loss = tf.reduce_mean(tf.pow(x - h, 2))
    return tf.train.RMSPropOptimizer(0.01).minimize(loss), loss, {x: rng.random((8, 12), dtype=np.float32)}


@case
def summaries_merged_in_step(rng):
    x = tf.placeholder(tf.float32, [None, 5])
    y = tf.placeholder(tf.float32, [None, 1])
    with tf.name_scope("model"):
        w = tf.Variable(tf.random_normal([5, 1]))
        b = tf.Variable(0.0)
        pred = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.square(pred - y))
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("w", w)
    tf.summary.scalar("b", b)
    merged = tf.summary.merge_all()
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return [train, merged], loss, {x: rng.random((8, 5), dtype=np.float32), y: rng.random((8, 1), dtype=np.float32)}

@case
def keras_style_layers_api(rng):
    x = tf.placeholder(tf.float32, [None, 10])
    y = tf.placeholder(tf.int32, [None])
    dense1 = tf.layers.Dense(16, activation=tf.nn.relu, kernel_initializer=tf.initializers.he_normal())
    bn = tf.layers.BatchNormalization()
    drop = tf.layers.Dropout(0.2)
    out = tf.layers.Dense(3)
    logits = out(drop(bn(dense1(x), training=True), training=True))
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.AdamOptimizer().minimize(loss)
    return train, loss, {x: rng.random((8, 10), dtype=np.float32), y: rng.integers(0, 3, 8).astype(np.int32)}

@case
def metrics_streaming_in_loop(rng):
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.int64, [None])
    logits = tf.layers.dense(x, 2)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    acc, acc_up = tf.metrics.accuracy(y, tf.argmax(logits, 1))
    auc, auc_up = tf.metrics.auc(tf.cast(y, tf.bool), tf.nn.softmax(logits)[:, 1])
    return [tf.train.AdamOptimizer().minimize(loss), acc_up, auc_up], loss, {x: rng.random((16, 4), dtype=np.float32), y: rng.integers(0, 2, 16)}

@case
def scalar_feed_hyperparams(rng):
    x = tf.placeholder(tf.float32, [None, 3])
    lr = tf.placeholder(tf.float32, [])
    kp = tf.placeholder_with_default(1.0, [])
    h = tf.nn.dropout(tf.layers.dense(x, 8, tf.nn.relu), keep_prob=kp)
    loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 1)))
    return tf.train.MomentumOptimizer(lr, 0.9).minimize(loss), loss, {x: rng.random((8, 3), dtype=np.float32), lr: 0.05}

@case
def variable_scope_reuse_shared_tower(rng):
    a = tf.placeholder(tf.float32, [None, 6])
    b = tf.placeholder(tf.float32, [None, 6])
    def tower(v):
        with tf.variable_scope("tower", reuse=tf.AUTO_REUSE):
            return tf.layers.dense(tf.layers.dense(v, 8, tf.nn.tanh, name="h"), 4, name="o")
    ea, eb = tower(a), tower(b)
    d = tf.sqrt(tf.reduce_sum(tf.square(ea - eb), 1) + 1e-6)
    loss = tf.reduce_mean(tf.maximum(0.0, 1.0 - d))
    return tf.train.AdamOptimizer().minimize(loss), loss, {a: rng.random((8, 6), dtype=np.float32), b: rng.random((8, 6), dtype=np.float32)}

@case
def int_labels_one_hot_depth_argmax_accuracy_cast(rng):
    x = tf.placeholder(tf.float32, [None, 7])
    y = tf.placeholder(tf.uint8, [None])
    oh = tf.one_hot(tf.cast(y, tf.int32), 5)
    logits = tf.layers.dense(x, 5)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=oh, logits=logits))
    correct = tf.equal(tf.cast(tf.argmax(logits, axis=-1), tf.int32), tf.cast(y, tf.int32))
    return [tf.train.AdagradOptimizer(0.1).minimize(loss), tf.reduce_mean(tf.cast(correct, tf.float64))], loss, {x: rng.random((8, 7), dtype=np.float32), y: rng.integers(0, 5, 8).astype(np.uint8)}

@case
def float64_model(rng):
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.placeholder(tf.float64, [None, 1])
    w = tf.Variable(np.zeros((3, 1)))
    b = tf.Variable(np.zeros(1))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y)) + 0.01 * tf.reduce_sum(tf.abs(w))
    return tf.train.AdamOptimizer(0.1).minimize(loss), loss, {x: rng.random((8, 3)), y: rng.random((8, 1))}
