"""Record what TensorFlow 2.21's ``tf.compat.v1.summary`` ops produce: serialized ``Summary`` protos,
op names, tags, collections and run-time errors. Run with the TensorFlow venv from the repository
root (no jitgraph import):

    python tests/oracle/record_tb_summary.py     # writes tests/oracle/data/tb_summary.json
"""

import base64
import json
import os

import numpy as np
import tensorflow.compat.v1 as tf

import summary_cases

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tb_summary.json")


def inputs():
    rng = np.random.RandomState(0)
    return {
        "hist": np.concatenate([rng.randn(200) * 3, [0.0, -0.0, 1e-13, -1e-13, 7.5, 1e25]]).astype(np.float32),
        "hist_int": np.array([[0, 1, 2], [-5, 100, 3]], dtype=np.int32),
        "hist_f64": rng.randn(50) * 1e-3,
        "img_f32": rng.randn(3, 4, 5, 3).astype(np.float32),
        "img_pos": np.abs(rng.randn(2, 3, 3, 1)).astype(np.float32) * 7,
        "img_bad": np.where(rng.rand(1, 4, 4, 4) < 0.2, np.nan, rng.randn(1, 4, 4, 4)).astype(np.float32),
        "img_u8": rng.randint(0, 256, size=(2, 3, 2, 4)).astype(np.uint8),
        "img_f64": rng.randn(1, 2, 3, 3) * 1e-7,
        "audio": np.clip(rng.randn(2, 30, 2) * 0.6, -1.5, 1.5).astype(np.float32),
        "audio_mono": np.array([[0.0, 0.5, -0.5, 1.0, -1.0, 0.25, 1.0 / 65536, 3.0 / 65536]], np.float32),
    }


def b64(x):
    return base64.b64encode(x).decode("ascii")


def main():
    data = inputs()
    rec = {"inputs": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "data": b64(v.tobytes())}
                      for k, v in data.items()}}
    g = tf.Graph()
    with g.as_default():
        s, coll, other, merged_all, merged_named, feeds = summary_cases.summary_graph(tf, data)
        merged_dup = tf.summary.merge([s["scalar"], s["scalar"]])
        nan_hist = tf.summary.histogram("nanhist", tf.constant([1.0, np.nan]))
        bad_scalar = tf.summary.scalar("vec", tf.constant([1.0, 2.0]))
        with tf.Session() as sess:
            values = sess.run({**s, "merged_all": merged_all, "merged_named": merged_named}, feeds)
            errors = {}
            for key, t in (("merge_dup", merged_dup), ("nan_hist", nan_hist), ("bad_scalar", bad_scalar)):
                try:
                    sess.run(t)
                except tf.errors.OpError as e:
                    lines = [ln for ln in e.message.split("\n") if ln.strip()]
                    errors[key] = {"type": type(e).__name__, "message": lines[-2].strip()}
        rec["summaries"] = {k: b64(v) for k, v in values.items()}
        rec["names"] = {k: t.name for k, t in {**s, "merged_all": merged_all, "merged_named": merged_named,
                                                "other": other}.items()}
        rec["op_inputs"] = {k: [i.name for i in t.op.inputs] for k, t in s.items()}
        rec["collection"] = [t.name for t in coll]
        rec["mine"] = [t.name for t in tf.get_collection("mine")]
        rec["errors"] = errors
    with open(OUT, "w") as f:
        json.dump(rec, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
