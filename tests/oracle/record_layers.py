"""Record TensorFlow's ``tf.layers`` (tf_keras legacy layers) behaviour for ``layers_cases.CASES``:
variable names/shapes/collections, update ops, outputs with fixed weights, gradients, and the
moving statistics after one run of the update ops. Writes ``data/layers.json`` and
``data/layers.npz``. Run with a Python that has TensorFlow and tf_keras:

    TF_USE_LEGACY_KERAS=1 python tests/oracle/record_layers.py
"""

import json
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layers_cases import CASES  # noqa: E402

tf.disable_v2_behavior()
KEYS = {"trainable": tf.GraphKeys.TRAINABLE_VARIABLES, "model": tf.GraphKeys.MODEL_VARIABLES,
        "moving_average": tf.GraphKeys.MOVING_AVERAGE_VARIABLES, "local": tf.GraphKeys.LOCAL_VARIABLES}


def weight_values(variables, rng):
    out = {}
    for v in variables:
        shape = tuple(v.shape.as_list())
        value = rng.uniform(0.5, 1.5, shape) if "moving_variance" in v.name else 0.5 * rng.standard_normal(shape)
        out[v.name] = value.astype(np.float32)
    return out


def record(name, case, rng, info, arrays):
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, case["shape"], name="x")
        t = tf.placeholder(tf.bool, [], name="training") if case.get("training") else None
        res = case["build"](tf, x, t) if t is not None else case["build"](tf, x)
        out, layer = res if isinstance(res, tuple) else (res, None)
        variables = tf.global_variables()
        trainable = tf.trainable_variables()
        entry = {"variables": [[v.name, v.shape.as_list()] for v in variables],
                 "collections": {k: [v.name for v in tf.get_collection(key)] for k, key in KEYS.items()},
                 "update_ops": [u.name for u in tf.get_collection(tf.GraphKeys.UPDATE_OPS)],
                 "regularization_losses": [r.name for r in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)],
                 "output_name": out.name, "output_shape": out.shape.as_list()}
        if layer is not None:
            entry["layer"] = {"name": layer.name, "scope_name": layer.scope_name, "updates": len(layer.updates),
                              **{k: [v.name for v in getattr(layer, k)] for k in (
                                  "weights", "variables", "trainable_weights", "trainable_variables",
                                  "non_trainable_weights")}}
        info[name] = entry
        sess.run(tf.global_variables_initializer())
        values = {v.name: sess.run(v) for v in variables}
        if not case.get("keep_init"):
            values = weight_values(variables, rng)
        for k, v in values.items():
            arrays[f"{name}/var/{k}"] = v
        feed_shape = case.get("feed", case["shape"])
        xv = rng.standard_normal(feed_shape).astype(np.float32)
        arrays[f"{name}/x"] = xv
        w = rng.standard_normal(feed_shape[:1] + out.shape.as_list()[1:]).astype(np.float32)
        arrays[f"{name}/weight"] = w
        grads = tf.gradients(tf.reduce_sum(out * w), [x] + trainable)
        regs = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        for tv in case.get("training") or [None]:
            for v in variables:
                v.load(values[v.name], sess)
            feeds = {x: xv} if t is None else {x: xv, t: tv}
            tag = "" if tv is None else f"{tv}/"
            y, g, r = sess.run([out, grads, regs], feeds)
            arrays[f"{name}/{tag}out"] = y
            for key, gv in zip(["x"] + [v.name for v in trainable], g):
                arrays[f"{name}/{tag}grad/{key}"] = gv
            for i, rv in enumerate(r):
                arrays[f"{name}/{tag}reg/{i}"] = rv
            if updates:
                sess.run(updates, feeds)
                for v in variables:
                    arrays[f"{name}/{tag}after/{v.name}"] = sess.run(v)


def main():
    rng = np.random.default_rng(1234)
    info, arrays = {}, {}
    for name, case in CASES.items():
        record(name, case, rng, info, arrays)
        print("recorded", name)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    with open(os.path.join(here, "layers.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
    np.savez_compressed(os.path.join(here, "layers.npz"), **arrays)
    print("wrote", len(info), "cases,", len(arrays), "arrays")


if __name__ == "__main__":
    main()
