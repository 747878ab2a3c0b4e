"""The ``tf.train.ExponentialMovingAverage`` scenario, written once against the TF1 API: run by
``record_ema.py`` with TensorFlow (into ``data/ema.json``) and by ``tests/train/test_moving_averages.py``
with jitgraph."""

import numpy as np


def ema_scenario(tf):
    """Shadow names, collections, the restore map and the averages over four training steps."""
    out = {}
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(np.array([1.0, -2.0], np.float32), name="w")
        with tf.variable_scope("layer"):
            b = tf.get_variable("b", initializer=np.float32(0.5))
        step = tf.Variable(0, trainable=False, name="step")
        loss = tf.reduce_sum(tf.square(w - 3.0)) + tf.square(b + 1.0)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        ema = tf.train.ExponentialMovingAverage(0.9, num_updates=step)
        with tf.control_dependencies([train]):
            train_avg = ema.apply([w, b])
        out["names"] = [ema.average(v).name for v in (w, b)]
        out["average_name"] = ema.average_name(w)
        out["trainable"] = sorted(v.name for v in tf.trainable_variables())
        out["moving_average_variables"] = sorted(v.name for v in tf.moving_average_variables())
        out["global"] = sorted(v.name for v in tf.global_variables())
        out["restore"] = sorted((k, v.name) for k, v in ema.variables_to_restore().items())
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out["initial"] = [sess.run(ema.average(v)).tolist() for v in (w, b)]
            out["steps"] = []
            for _ in range(4):
                sess.run(train_avg)
                out["steps"].append([np.asarray(sess.run(x), np.float64).tolist()
                                     for x in (w, b, ema.average(w), ema.average(b))])
    return out
