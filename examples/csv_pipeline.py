"""A classifier trained from CSV files through a tf.data pipeline, TF1 style: TextLineDataset ->
decode_csv -> shuffle -> batch, one reinitializable iterator for the training and test sets, an
epoch ending with OutOfRangeError.

    python examples/csv_pipeline.py
"""

import os
import tempfile

import numpy as np

import jitgraph as tf


def write_csv(path, n, rng):
    """Rows ``x0,x1,x2,x3,label``: four features, three classes (noisy linear boundaries)."""
    x = rng.standard_normal((n, 4)).astype(np.float32)
    scores = x @ np.array([[2.0, -1, 0], [0, 2, -1], [-1, 0, 2], [1, 1, 1]])
    label = np.argmax(scores + 0.3 * rng.standard_normal((n, 3)), 1)
    with open(path, "w") as f:
        f.write("x0,x1,x2,x3,label\n")
        for row, y in zip(x, label):
            f.write(",".join(f"{v:.4f}" for v in row) + f",{y}\n")


def dataset(path, shuffle):
    def parse(line):
        *features, label = tf.decode_csv(line, [[0.0]] * 4 + [[0]])
        return tf.stack(features), label
    ds = tf.data.TextLineDataset(path).skip(1).map(parse)
    return (ds.shuffle(1000, seed=1) if shuffle else ds).batch(32)


def main(epochs=15):
    with tempfile.TemporaryDirectory() as tmp:
        return run(tmp, epochs)


def run(tmp, epochs):
    rng = np.random.default_rng(0)
    train_csv, test_csv = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
    write_csv(train_csv, 2000, rng)
    write_csv(test_csv, 500, rng)

    train_ds, test_ds = dataset(train_csv, shuffle=True), dataset(test_csv, shuffle=False)
    iterator = tf.data.Iterator.from_structure(train_ds.output_types, train_ds.output_shapes)
    features, labels = iterator.get_next()
    train_init, test_init = iterator.make_initializer(train_ds), iterator.make_initializer(test_ds)

    hidden = tf.layers.dense(features, 32, activation=tf.nn.relu)
    logits = tf.layers.dense(hidden, 3)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.cast(tf.argmax(logits, 1), tf.int32), labels), tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            sess.run(train_init)
            losses = []
            while True:
                try:
                    losses.append(sess.run([train, loss])[1])
                except tf.errors.OutOfRangeError:
                    break
            print(f"epoch {epoch + 1:2d}  loss {np.mean(losses):.4f}")
        sess.run(test_init)
        right = 0.0
        while True:
            try:
                right += sess.run(correct)
            except tf.errors.OutOfRangeError:
                break
    print(f"test accuracy {right / 500:.4f} on 500 rows read from {os.path.basename(test_csv)}")
    return right / 500


if __name__ == "__main__":
    main()
