"""Record TensorFlow's values and gradients for ``nn_window_cases.CASES`` into
``data/nn_window.npz``. Run with a Python that has TensorFlow (never jitgraph's test deps):

    python tests/oracle/record_nn_window.py
"""

import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_window_cases import CASES  # noqa: E402

tf.disable_v2_behavior()


def record(name, shapes, build, dtype, rng, out):
    with tf.Graph().as_default(), tf.Session() as sess:
        values = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        phs = [tf.placeholder(dtype, s, name=k) for k, s in shapes.items()]
        outputs = build(tf, *phs)
        outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        feeds = {p: values[k] for p, k in zip(phs, shapes)}
        weights = [rng.standard_normal(tuple(o.shape.as_list())).astype(dtype) for o in outputs]
        loss = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outputs, weights)])
        grads = tf.gradients(loss, phs)
        got = sess.run(outputs, feeds)
        got_grads = sess.run([g for g in grads if g is not None], feeds)
    for k, v in values.items():
        out[f"{name}/in/{k}"] = v
    for i, (o, w) in enumerate(zip(got, weights)):
        out[f"{name}/out/{i}"] = o
        out[f"{name}/weight/{i}"] = w
    it = iter(got_grads)
    for k, g in zip(shapes, grads):
        if g is not None:
            out[f"{name}/grad/{k}"] = next(it)


def main():
    rng = np.random.default_rng(20240601)
    out = {}
    for name, (shapes, build, *dtype) in CASES.items():
        record(name, shapes, build, (dtype or ["float64"])[0], rng, out)
        print("recorded", name)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "nn_window.npz")
    np.savez_compressed(path, **out)
    print("wrote", path, len(out), "arrays")


if __name__ == "__main__":
    main()
