"""The summary graph of ``record_tb_summary.py`` (TensorFlow) and ``tests/summary/test_summary_ops.py``
(jitgraph), written once: the same calls in the same order, so op names and tags line up."""


def summary_graph(tf, data):
    """Build the summaries over placeholders for ``data`` (name -> array) in the default graph;
    returns ``(summaries by key, SUMMARIES collection, a summary in another collection, merge_all,
    a named merge, the feed dict)``."""
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
    feeds = {ph[k]: v for k, v in data.items()}
    return s, coll, other, merged_all, merged_named, feeds
