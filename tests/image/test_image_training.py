"""``tf.image`` in a training loop: augmented (flipped, brightened, resized, standardized) images
train a small classifier that then labels clean images correctly."""

import numpy as np

import jitgraph as tf


def _images(rng, n):
    """Class 0: the top half is bright; class 1: the bottom half. Noise on top."""
    labels = rng.integers(0, 2, n)
    x = rng.uniform(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    for i, c in enumerate(labels):
        x[i, 4 * c:4 * c + 4] += 0.6
    return x, labels


def test_augmented_images_train_a_classifier():
    rng = np.random.default_rng(0)
    train_x, train_y = _images(rng, 256)
    test_x, test_y = _images(rng, 100)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        images = tf.placeholder(tf.float32, [None, 8, 8, 1])
        labels = tf.placeholder(tf.int64, [None])
        augment = tf.placeholder_with_default(True, [])
        aug = tf.image.adjust_brightness(tf.image.random_flip_left_right(images, seed=1),
                                         tf.random_uniform([], -0.2, 0.2, seed=2))
        x = tf.where(augment, aug, images)
        x = tf.image.per_image_standardization(tf.image.resize_images(x, [6, 6]))
        w = tf.Variable(tf.zeros([36, 2]))
        b = tf.Variable(tf.zeros([2]))
        logits = tf.matmul(tf.reshape(x, [-1, 36]), w) + b
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(acc, {images: test_x, labels: test_y, augment: False})
            for i in range(60):
                batch = rng.integers(0, 256, 32)
                sess.run(step, {images: train_x[batch], labels: train_y[batch]})
            after = sess.run(acc, {images: test_x, labels: test_y, augment: False})
    assert before < 0.7 and after > 0.95
