"""Fit y = 3x + 2 (plus noise) with a TF1-style graph and plain gradient descent.

    python examples/linear_regression.py
"""

import os
import sys
import time

import numpy as np

import jitgraph as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _progress import Progress  # noqa: E402


def main(epochs=50, batch=64, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-1, 1, (1024, 1)).astype(np.float32)
    ys = (3 * xs + 2 + 0.1 * rng.standard_normal(xs.shape)).astype(np.float32)

    x = tf.placeholder(tf.float32, [None, 1], name="x")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    w = tf.Variable(tf.zeros([1, 1]), name="w")
    b = tf.Variable(tf.zeros([1]), name="b")
    pred = tf.matmul(x, w) + b
    loss = tf.reduce_mean(tf.square(pred - y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)

    start = time.perf_counter()
    with tf.Session() as sess, Progress(epochs, "train") as bar:
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            order = rng.permutation(len(xs))
            for i in range(0, len(xs), batch):
                idx = order[i:i + batch]
                sess.run(train, {x: xs[idx], y: ys[idx]})
            epoch_loss = sess.run(loss, {x: xs, y: ys})
            if epoch % 10 == 0 or epoch == epochs - 1:
                bar.stream.write(f"\repoch {epoch:4d}  loss {epoch_loss:.5f}\n")
            bar.update(note=f"loss {epoch_loss:.4f}")
        w_val, b_val = sess.run([w, b])
    wall = time.perf_counter() - start
    print(f"learned w = {w_val[0, 0]:.3f} (true 3), b = {b_val[0]:.3f} (true 2); final loss {epoch_loss:.5f}")
    print(f"wall time {wall:.2f} s")
    return float(w_val[0, 0]), float(b_val[0]), float(epoch_loss)


if __name__ == "__main__":
    main()
