"""The variable-sharing guide's ``conv_relu``/``my_image_filter`` on a batch of images.

Two calls share variables through ``variable_scope("model", reuse=True)``, so the same input gives
the same output; a third call in a new scope gets its own variables (and a different output).

    python examples/image_filter.py
"""

import time

import numpy as np

import jitgraph as tf


def conv_relu(input, kernel_shape, bias_shape):
    # Create variable named "weights".
    weights = tf.get_variable("weights", kernel_shape, initializer=tf.random_normal_initializer(stddev=0.05))
    # Create variable named "biases".
    biases = tf.get_variable("biases", bias_shape, initializer=tf.constant_initializer(0.1))
    conv = tf.nn.conv2d(input, weights, strides=[1, 1, 1, 1], padding="SAME")
    return tf.nn.relu(conv + biases)


def my_image_filter(input_images):
    with tf.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with tf.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


def main(batch=8, size=32, runs=20, seed=0):
    tf.set_random_seed(seed)
    images = tf.placeholder(tf.float32, [batch, size, size, 32], name="images")
    with tf.variable_scope("model"):
        output1 = my_image_filter(images)
    with tf.variable_scope("model", reuse=True):
        output2 = my_image_filter(images)
    with tf.variable_scope("other"):
        output3 = my_image_filter(images)
    print("variables:", [v.name for v in tf.global_variables()])

    x = np.random.default_rng(seed).standard_normal((batch, size, size, 32)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, c = sess.run([output1, output2, output3], {images: x})
        sess.run(output1, {images: x})       # warm-up (the first runs may compile)
        start = time.perf_counter()
        for _ in range(runs):
            sess.run(output1, {images: x})
        per_run = (time.perf_counter() - start) / runs
    same = np.array_equal(a, b)
    print(f"output shape {a.shape}; shared-variable outputs identical: {same}; "
          f"separate scope differs: {not np.allclose(a, c)}")
    print(f"my_image_filter on x{list(x.shape)}: {per_run * 1e3:.2f} ms per Session.run")
    assert same
    return a, b, c


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"wall time {time.perf_counter() - start:.2f} s")
