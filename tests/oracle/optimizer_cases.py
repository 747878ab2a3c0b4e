"""Adadelta and FTRL training trajectories, and every optimizer on an embedding table (whose
gradient TF keeps as ``IndexedSlices``), written once against the TF1 API: run by
``record_optimizers.py`` with TensorFlow (into ``data/optimizers.json``) and by
``tests/train/test_optimizers.py`` with jitgraph."""

import numpy as np

#: name -> (optimizer class name, keyword arguments)
CASES = {
    "adadelta": ("AdadeltaOptimizer", dict(learning_rate=1.0, rho=0.9, epsilon=1e-6)),
    "adadelta_defaults": ("AdadeltaOptimizer", dict()),
    "ftrl": ("FtrlOptimizer", dict(learning_rate=0.1)),
    "ftrl_l1_l2": ("FtrlOptimizer", dict(learning_rate=0.3, l1_regularization_strength=0.05,
                                         l2_regularization_strength=0.02)),
    "ftrl_power_shrinkage": ("FtrlOptimizer", dict(learning_rate=0.2, learning_rate_power=-0.7,
                                                   initial_accumulator_value=0.2,
                                                   l2_shrinkage_regularization_strength=0.05,
                                                   l1_regularization_strength=0.01)),
    "ftrl_beta_names": ("FtrlOptimizer", dict(learning_rate=0.1, beta=0.3, accum_name="acc", linear_name="lin")),
}


def trajectory(tf, name, steps=5):
    """Variables after each step of ``minimize(loss)`` for a vector and a matrix variable, the slot
    variables' names, and the slots' final values."""
    cls, kwargs = CASES[name]
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.array([1.0, -2.0, 0.5, 0.0], np.float32), name="w")
        m = tf.Variable(np.array([[0.3, -0.7], [1.5, 0.05]], np.float32), name="m")
        loss = tf.reduce_sum(tf.square(w - 0.25) * np.float32([1, 2, 3, 4])) + tf.reduce_sum(tf.sin(m) * m)
        opt = getattr(tf.train, cls)(**kwargs)
        train = opt.minimize(loss)
        slots = sorted(opt.get_slot_names())
        out = {"slot_names": slots, "slot_vars": sorted(opt.get_slot(v, s).name for v in (w, m) for s in slots),
               "global": sorted(v.name for v in tf.global_variables()), "steps": []}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(steps):
                sess.run(train)
                out["steps"].append([np.asarray(sess.run(v), np.float64).tolist() for v in (w, m)])
            out["slots"] = {opt.get_slot(v, s).name: np.asarray(sess.run(opt.get_slot(v, s)), np.float64).tolist()
                            for v in (w, m) for s in slots}
    return out


#: name -> (optimizer class name, keyword arguments), applied to looked-up rows
EMBEDDING_CASES = {
    "sgd": ("GradientDescentOptimizer", dict(learning_rate=0.1)),
    "momentum": ("MomentumOptimizer", dict(learning_rate=0.05, momentum=0.9)),
    "nesterov": ("MomentumOptimizer", dict(learning_rate=0.05, momentum=0.9, use_nesterov=True)),
    "rmsprop": ("RMSPropOptimizer", dict(learning_rate=0.01, momentum=0.5)),
    "rmsprop_centered": ("RMSPropOptimizer", dict(learning_rate=0.01, centered=True)),
    "adagrad": ("AdagradOptimizer", dict(learning_rate=0.1)),
    "adadelta": ("AdadeltaOptimizer", dict(learning_rate=1.0)),
    "adam": ("AdamOptimizer", dict(learning_rate=0.1)),
    "ftrl": ("FtrlOptimizer", dict(learning_rate=0.1, l1_regularization_strength=0.01)),
}
#: per step: the ids of the two lookups of the table (repeats, rows left out, both lookups on a row)
EMBEDDING_IDS = [([1, 1, 4], [2]), ([4, 0, 0], [4]), ([2], [5, 2]), ([1], [1])]


def embedding_trajectory(tf, name):
    """A [6, 2] table looked up twice and a [6] bias looked up once, trained on ``EMBEDDING_IDS``:
    both variables after each step and the slots at the end."""
    cls, kwargs = EMBEDDING_CASES[name]
    g = tf.Graph()
    with g.as_default():
        table = tf.Variable(np.arange(12, dtype=np.float32).reshape(6, 2) * 0.25 - 1.0, name="table")
        bias = tf.Variable(np.linspace(-1, 1, 6).astype(np.float32), name="bias")
        a, b = tf.placeholder(tf.int32, [None]), tf.placeholder(tf.int32, [None])
        rows = tf.nn.embedding_lookup(table, a)
        loss = (tf.reduce_sum(tf.square(rows - 1.0) * (1.0 + tf.gather(bias, a)[:, None]))
                + tf.reduce_sum(tf.sin(tf.nn.embedding_lookup(table, b))))
        opt = getattr(tf.train, cls)(**kwargs)
        train = opt.minimize(loss)
        out = {"steps": []}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for ids_a, ids_b in EMBEDDING_IDS:
                sess.run(train, {a: ids_a, b: ids_b})
                out["steps"].append([np.asarray(sess.run(v), np.float64).tolist() for v in (table, bias)])
            out["slots"] = {s: [np.asarray(sess.run(opt.get_slot(v, s)), np.float64).tolist() for v in (table, bias)]
                            for s in sorted(opt.get_slot_names())}
    return out


def errors(tf):
    """The constructor errors TF raises for out-of-range FTRL arguments (class name and message)."""
    out = {}
    for key, kwargs in {"power": dict(learning_rate_power=0.5), "accum": dict(initial_accumulator_value=-1.0),
                        "l1": dict(l1_regularization_strength=-1.0), "l2": dict(l2_regularization_strength=-1.0),
                        "shrink": dict(l2_shrinkage_regularization_strength=-1.0)}.items():
        try:
            tf.train.FtrlOptimizer(0.1, **kwargs)
            out[key] = None
        except Exception as e:  # noqa: BLE001 - recorded as TF raised it
            out[key] = [type(e).__name__, str(e)]
    return out
