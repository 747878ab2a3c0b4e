"""Record TF 2.21's MaxPool / AvgPool and their gradients (``tf.compat.v1``, CPU, default oneDNN
settings) on inputs with ties, -inf and NaN, for ``tests/kernels/test_pool.py``.

Run with the TensorFlow venv from the repository root: ``python tests/oracle/record_pooling.py``;
writes ``tests/oracle/data/pooling.npz`` (keys ``<case>/<name>``) and prints a summary.
"""
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

# (name, x shape, ksize, strides, padding)
CONFIGS = [
    ("k2s2same", (2, 7, 6, 3), (2, 2), (2, 2), "SAME"),
    ("k3s2same", (2, 7, 6, 3), (3, 3), (2, 2), "SAME"),
    ("k3s1valid", (1, 6, 7, 2), (3, 3), (1, 1), "VALID"),
    ("k2x3s1x2same", (2, 5, 8, 3), (2, 3), (1, 2), "SAME"),
    ("k1s2valid", (1, 5, 5, 2), (1, 1), (2, 2), "VALID"),
    ("k4s3same", (1, 9, 7, 2), (4, 4), (3, 3), "SAME"),
    ("k3s3valid_batch1", (1, 9, 10, 5), (3, 3), (3, 3), "VALID"),
]


def inputs(shape, kind, rng):
    if kind == "ties":                      # few distinct values: many ties in every window
        return rng.integers(0, 3, shape).astype(np.float64)
    x = rng.standard_normal(shape)
    if kind == "neginf":                    # windows of -inf only, and -inf beside finite values
        x[:, : shape[1] // 2] = -np.inf
        x[0, -1, -1, 0] = -np.inf
    elif kind == "nan":                     # NaN first in some windows, later in others
        flat = x.reshape(-1)
        flat[rng.choice(flat.size, max(2, flat.size // 7), replace=False)] = np.nan
        x[0, 0, 0, :] = np.nan
    return x


def main():
    rng = np.random.default_rng(0)
    out = {}
    for name, shape, k, s, padding in CONFIGS:
        for kind in ("ties", "neginf", "nan"):
            for dtype in (np.float32, np.float64):
                x = inputs(shape, kind, rng).astype(dtype)
                case = f"{name}/{kind}/{np.dtype(dtype).name}"
                with tf.Graph().as_default():
                    xt = tf.placeholder(dtype, shape)
                    ksize, strides = [1, *k, 1], [1, *s, 1]
                    mp = tf.nn.max_pool(xt, ksize, strides, padding)
                    ap = tf.nn.avg_pool(xt, ksize, strides, padding)
                    g = rng.standard_normal(mp.shape.as_list()).astype(dtype)
                    gt = tf.constant(g)
                    dmp = tf.gradients(mp, xt, grad_ys=gt)[0]
                    dap = tf.gradients(ap, xt, grad_ys=gt)[0]
                    with tf.Session() as sess:
                        vals = sess.run([mp, ap, dmp, dap], {xt: x})
                for key, v in zip(("x", "g", "max_pool", "avg_pool", "max_pool_grad", "avg_pool_grad"),
                                  [x, g] + vals):
                    out[f"{case}/{key}"] = v
                out[f"{case}/config"] = np.array([*k, *s, padding == "SAME"])
    np.savez_compressed(os.path.join(os.path.dirname(__file__), "data", "pooling.npz"), **out)
    print(f"tensorflow {tf.__version__}: {len(out)} arrays")


if __name__ == "__main__":
    main()
