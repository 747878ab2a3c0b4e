"""An MLP (64-128-10, ReLU) classifying scikit-learn's bundled 8x8 digits, trained with Adam.

    pip install scikit-learn   # the project's `examples` extra; the data ships with it (offline)
    python examples/mlp_digits.py
"""

import os
import sys
import time

import numpy as np

import jitgraph as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _progress import Progress  # noqa: E402


def load(seed=0):
    from sklearn.datasets import load_digits
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.8 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def main(epochs=20, batch=128, hidden=128, seed=0):
    x_train, y_train, x_test, y_test = load(seed)
    tf.set_random_seed(seed)
    x = tf.placeholder(tf.float32, [None, 64], name="x")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    h = tf.layers.dense(x, hidden, activation=tf.nn.relu, name="hidden")
    logits = tf.layers.dense(h, 10, name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    global_step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
    correct = tf.equal(tf.cast(tf.argmax(logits, axis=1), tf.int32), labels)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    with tf.Session() as sess, Progress(epochs, "train") as bar:
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            order = rng.permutation(len(x_train))
            total = 0.0
            for i in range(0, len(order), batch):
                idx = order[i:i + batch]
                _, batch_loss = sess.run([train, loss], {x: x_train[idx], labels: y_train[idx]})
                total += batch_loss * len(idx)
            bar.stream.write(f"\repoch {epoch + 1:3d}  loss {total / len(order):.4f}\n")
            bar.update()
        test_acc = sess.run(accuracy, {x: x_test, labels: y_test})
        steps = sess.run(global_step)
    wall = time.perf_counter() - start
    print(f"test accuracy {test_acc:.4f} on {len(x_test)} held-out digits after {steps} steps "
          f"(target >= 0.95)")
    print(f"wall time {wall:.2f} s")
    return float(test_acc)


if __name__ == "__main__":
    main()
