"""A 1,000-step training loop compiles on its first steps and never again, and it learns."""

import numpy as np

import jitgraph as tf


def test_thousand_step_loop_recompiles_nothing_and_learns():
    rng = np.random.default_rng(0)
    w_true = rng.standard_normal((8, 3)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8])
        y = tf.placeholder(tf.int64, [None])
        hidden = tf.layers.dense(x, 16, activation=tf.nn.relu)
        logits = tf.layers.dense(hidden, 3)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        step = tf.train.get_or_create_global_step()
        train = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=step)

        def batch(n):
            xb = rng.standard_normal((n, 8)).astype(np.float32)
            return {x: xb, y: np.argmax(xb @ w_true, axis=1)}

        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run(loss, batch(256))
            for _ in range(3):                      # tier 0, then compile (lazy policy)
                sess.run([train, loss], batch(32))
            with sess.assert_no_recompile():
                for i in range(1000):
                    _, last = sess.run([train, loss], batch(32 if i % 7 else 17))   # batch size varies
            final = sess.run(loss, batch(256))
            assert sess.run(step) == 1003
    assert final < 0.5 * first, (first, final)
    assert np.isfinite(last)
