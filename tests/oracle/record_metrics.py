"""Record TensorFlow's streaming ``tf.compat.v1.metrics`` for ``metrics_cases.CASES``: the state
variables' names and collections, and the update/value results over several batches and after a
reset. Writes ``data/metrics.json`` and ``data/metrics.npz``:

    python tests/oracle/record_metrics.py
"""

import json
import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_cases import BATCHES, CASES  # noqa: E402

tf.disable_v2_behavior()


def make(kind, shape, rng):
    if kind in ("int2", "int3"):
        return rng.integers(0, int(kind[-1]), shape).astype(np.int64), tf.int64
    if kind == "prob":
        return rng.uniform(0, 1, shape).astype(np.float32), tf.float32
    if kind == "weight":
        w = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        w.reshape(-1)[::4] = 0.0
        return w, tf.float32
    if kind == "unit":
        v = rng.standard_normal(shape)
        return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32), tf.float32
    v = rng.standard_normal(shape).astype(np.float32)
    if kind == "normalizer":
        v.reshape(-1)[::3] = 0.0
    return v, tf.float32


def main():
    rng = np.random.default_rng(11)
    info, arrays = {}, {}
    for name, (inputs, build) in CASES.items():
        with tf.Graph().as_default(), tf.Session() as sess:
            phs = [tf.placeholder(make(kind, (1,) + shape, rng)[1], (None,) + shape, name=k)
                   for k, (shape, kind) in inputs.items()]
            value, update_op = build(tf, *phs)
            info[name] = {"local": [v.name for v in tf.local_variables()],
                          "metric": [v.name for v in tf.get_collection(tf.GraphKeys.METRIC_VARIABLES)],
                          "global": [v.name for v in tf.global_variables()],
                          "value": [value.name, value.dtype.name, value.shape.as_list()],
                          "update_op": [update_op.name, update_op.dtype.name, update_op.shape.as_list()]}
            sess.run(tf.local_variables_initializer())
            for b, n in enumerate(BATCHES + (4,)):
                if b == len(BATCHES):
                    sess.run(tf.local_variables_initializer())
                feeds = {}
                for p, (k, (shape, kind)) in zip(phs, inputs.items()):
                    feeds[p] = arrays[f"{name}/{b}/in/{k}"] = make(kind, (n,) + shape, rng)[0]
                arrays[f"{name}/{b}/update"] = sess.run(update_op, feeds)
                arrays[f"{name}/{b}/value"] = sess.run(value)
        print("recorded", name)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    np.savez_compressed(os.path.join(here, "metrics.npz"), **arrays)
    with open(os.path.join(here, "metrics.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
