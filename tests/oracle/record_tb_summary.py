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
        ph = {k: tf.placeholder(tf.as_dtype(v.dtype), v.shape, name=f"in_{k}") for k, v in data.items()}
        s = {}
        s["scalar"] = tf.summary.scalar("loss", tf.constant(0.1, tf.float64))
        with tf.name_scope("train"):
            s["scalar_scoped"] = tf.summary.scalar("loss", tf.constant(3, tf.int32))
        s["scalar_family"] = tf.summary.scalar("acc", tf.constant(0.5), family="metrics")
        s["scalar_again"] = tf.summary.scalar("loss", tf.constant(2.0))
        s["scalar_badname"] = tf.summary.scalar("a b:c", tf.constant(1.0))
        s["hist"] = tf.summary.histogram("weights", ph["hist"])
        s["hist_int"] = tf.summary.histogram("ints", ph["hist_int"])
        s["hist_f64"] = tf.summary.histogram("small", ph["hist_f64"])
        s["hist_empty"] = tf.summary.histogram("empty", tf.zeros([0]))
        s["img_f32"] = tf.summary.image("img", ph["img_f32"], max_outputs=2)
        s["img_pos"] = tf.summary.image("pos", ph["img_pos"], max_outputs=1)
        s["img_bad"] = tf.summary.image("bad", ph["img_bad"])
        s["img_u8"] = tf.summary.image("u8", ph["img_u8"], max_outputs=5)
        s["img_f64"] = tf.summary.image("f64", ph["img_f64"])
        s["audio"] = tf.summary.audio("sound", ph["audio"], 8000.0, max_outputs=3)
        s["audio_mono"] = tf.summary.audio("mono", ph["audio_mono"], 44100.4, max_outputs=1)
        s["text"] = tf.summary.text("greeting", tf.constant([["hello", "wörld"]]))
        s["tensor"] = tf.summary.tensor_summary("t", tf.constant([[1.5, 2.0]], tf.float32),
                                                summary_description="desc", display_name="T")
        s["tensor_int"] = tf.summary.tensor_summary("ti", tf.constant(7, tf.int64))
        coll = tf.get_collection(tf.GraphKeys.SUMMARIES)
        other = tf.summary.scalar("other", tf.constant(1.0), collections=["mine"])
        merged_all = tf.summary.merge_all()
        merged_named = tf.summary.merge([s["scalar"], s["hist"]], name="pair")
        merged_dup = tf.summary.merge([s["scalar"], s["scalar"]])
        nan_hist = tf.summary.histogram("nanhist", tf.constant([1.0, np.nan]))
        bad_scalar = tf.summary.scalar("vec", tf.constant([1.0, 2.0]))
        feeds = {ph[k]: v for k, v in data.items()}
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
