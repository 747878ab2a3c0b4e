"""Record TensorFlow 2.21's values and gradients for the cases of ``extra_cases.py`` (TF1 aliases
and the smaller ``tf.math``/``tf.linalg``/``tf.nn`` functions). Run with the TensorFlow venv:

    python tests/oracle/record_extra_ops.py     # writes tests/oracle/data/extra_ops.npz
"""

import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extra_cases import cases  # noqa: E402

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "extra_ops.npz")


def main():
    rec, rng = {}, np.random.default_rng(5)
    for name, (build, inputs, differentiable) in cases().items():
        with tf.Graph().as_default():
            ts = [tf.constant(x) for x in inputs]
            y = build(tf, *ts)
            fetch = [y]
            if differentiable:
                w = rng.standard_normal(y.shape.as_list())
                rec[f"{name}/w"] = w
                fetch += [tf.convert_to_tensor(g) for g in tf.gradients(y, ts, grad_ys=tf.constant(w, y.dtype))]
            with tf.Session() as s:
                out = s.run(fetch)
        rec[f"{name}/value"] = out[0]
        for i, g in enumerate(out[1:]):
            rec[f"{name}/grad{i}"] = g
    np.savez_compressed(OUT, **rec)
    print(f"wrote {len(rec)} arrays to {OUT}")


if __name__ == "__main__":
    main()
