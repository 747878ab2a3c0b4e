"""Record TensorFlow's ``tf.compat.v1.losses`` values and gradients for ``losses_cases.CASES`` into
``data/losses.npz`` (and the loss names / LOSSES collection into ``data/losses.json``):

    python tests/oracle/record_losses.py
"""

import json
import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from losses_cases import CASES  # noqa: E402

tf.disable_v2_behavior()


def make(kind, shape, rng):
    """A value of ``kind`` (see losses_cases) and its dtype."""
    if kind == "prob":
        return rng.uniform(0.02, 0.98, shape).astype(np.float32), tf.float32
    if kind == "binary":
        return rng.integers(0, 2, shape).astype(np.float32), tf.float32
    if kind == "onehot":
        return np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], shape[:-1])], tf.float32
    if kind == "label":
        return rng.integers(0, 3, shape).astype(np.int64), tf.int64
    if kind == "weight":
        w = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        w.reshape(-1)[::3] = 0.0
        return w, tf.float32
    if kind == "unit":
        v = rng.standard_normal(shape)
        return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32), tf.float32
    if kind == "float64":
        return rng.standard_normal(shape), tf.float64
    return rng.standard_normal(shape).astype(np.float32), tf.float32


def main():
    rng = np.random.default_rng(7)
    arrays, info = {}, {}
    for name, (inputs, build) in CASES.items():
        with tf.Graph().as_default(), tf.Session() as sess:
            values, phs = {}, []
            for k, (shape, kind) in inputs.items():
                values[k], dt = make(kind, shape, rng)
                phs.append(tf.placeholder(dt, shape, name=k))
            loss = build(tf, *phs)
            floats = [p for p in phs if p.dtype.is_floating]
            grads = tf.gradients(tf.reduce_sum(loss), floats)
            feeds = {p: values[k] for p, k in zip(phs, inputs)}
            out, g = sess.run([loss, [x for x in grads if x is not None]], feeds)
            info[name] = {"name": loss.name, "dtype": loss.dtype.name, "shape": loss.shape.as_list(),
                          "losses": [t.name for t in tf.get_collection(tf.GraphKeys.LOSSES)]}
        for k, v in values.items():
            arrays[f"{name}/in/{k}"] = v
        arrays[f"{name}/out"] = out
        it = iter(g)
        for p, gr in zip(floats, grads):
            if gr is not None:
                arrays[f"{name}/grad/{p.op.name}"] = next(it)
        print("recorded", name)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    np.savez_compressed(os.path.join(here, "losses.npz"), **arrays)
    with open(os.path.join(here, "losses.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
