"""FileWriter event files, read back by TensorBoard's own EventAccumulator and record reader."""

import glob
import os
import socket

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator

import jitgraph as tf
from jitgraph.summary.records import encode_record, read_records


def _accumulate(logdir):
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={"images": 0, "histograms": 0,
                                                                    "scalars": 0, "audio": 0})
    acc.Reload()
    return acc


def _train_logs(logdir):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", [2, 1], initializer=tf.ones_initializer())
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)), name="loss")
        step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        tf.summary.scalar("train_loss", loss)
        tf.summary.histogram("weights", w)
        tf.summary.image("input", tf.reshape(x, [-1, 1, 2, 1]), max_outputs=1)
        merged = tf.summary.merge_all()
        data = np.array([[1.0, 2.0], [0.5, -1.0]], np.float32)
        losses = []
        with tf.Session() as sess, tf.summary.FileWriter(logdir, sess.graph, flush_secs=1000) as writer:
            sess.run(tf.global_variables_initializer())
            for i in range(4):
                s, l, _ = sess.run([merged, loss, step], {x: data})
                writer.add_summary(s, global_step=i)
                losses.append(l)
    return g, losses


def test_event_accumulator_reads_scalars_histograms_images_and_graph(tmp_path):
    g, losses = _train_logs(str(tmp_path))
    files = glob.glob(os.path.join(tmp_path, "events.out.tfevents.*"))
    assert len(files) == 1 and os.path.basename(files[0]).endswith("." + socket.gethostname())
    acc = _accumulate(str(tmp_path))
    tags = acc.Tags()
    assert tags["scalars"] == ["train_loss"] and tags["histograms"] == ["weights"]
    assert tags["images"] == ["input/image"] and tags["graph"]
    scalars = acc.Scalars("train_loss")
    assert [e.step for e in scalars] == [0, 1, 2, 3]
    np.testing.assert_allclose([e.value for e in scalars], losses, rtol=1e-6)
    hist = acc.Histograms("weights")
    assert hist[0].histogram_value.num == 2 and sum(hist[0].histogram_value.bucket) == 2
    img = acc.Images("input/image")[0]
    assert (img.width, img.height) == (2, 1) and img.encoded_image_string.startswith(b"\x89PNG")
    graph_def = acc.Graph()
    nodes = {n.name: n for n in graph_def.node}
    assert {"x", "layer/w", "layer/w/Assign", "loss", "MatMul"} <= set(nodes)
    assert nodes["MatMul"].op == "MatMul" and list(nodes["MatMul"].input) == ["x", "layer/w"]
    assert nodes["loss"].input[1] == "loss/reduction_indices"
    assert len(nodes["MatMul"].attr["_output_shapes"].list.shape) == 1     # add_graph writes shapes
    assert len(graph_def.node) >= len(g.get_operations())


def test_file_version_first_and_records_framed(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as w:
        w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=2.0)]), 7)
        path = w.event_file_path
    events = [tf.summary.Event.FromString(r) for r in read_records(path)]
    assert events[0].file_version == "brain.Event:2" and events[0].wall_time > 0
    assert events[1].step == 7 and events[1].summary.value[0].simple_value == 2.0
    raw = open(path, "rb").read()
    assert raw.startswith(encode_record(events[0].SerializeToString()))
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
    assert raw[8:12] == masked_crc32c(raw[:8]).to_bytes(4, "little")   # TensorBoard's own CRC agrees


def test_flush_close_reopen_and_queue(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path), max_queue=3, flush_secs=1000, filename_suffix=".v2")
    assert w.get_logdir() == str(tmp_path) and w.event_file_path.endswith(".v2")
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)]), 1)
    assert len(list(read_records(w.event_file_path))) == 1          # queued, not written yet
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)]), 2)
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)]), 3)
    assert len(list(read_records(w.event_file_path))) == 4          # max_queue reached: written
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)]), 4)
    w.flush()
    assert len(list(read_records(w.event_file_path))) == 5
    first = w.event_file_path
    w.close()
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=9.0)]), 5)   # dropped
    w.reopen()
    assert w.event_file_path != first
    w.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=3.0)]), 6)
    w.close()
    steps = [e.step for p in (first, w.event_file_path) for e in map(tf.summary.Event.FromString, read_records(p))]
    assert steps == [0, 1, 2, 3, 4, 0, 6]


def test_metadata_written_once_per_tag_and_run_metadata(tmp_path):
    with tf.Graph().as_default():
        t = tf.summary.text("note", tf.constant("hi"))
        with tf.Session() as sess:
            s = sess.run(t)
    with tf.summary.FileWriter(str(tmp_path)) as w:
        w.add_summary(s, 1)
        w.add_summary(s, 2)
        w.add_run_metadata(tf.RunMetadata(), "step1", global_step=1)
        with pytest.raises(ValueError, match="already been added for tag step1"):
            w.add_run_metadata(tf.RunMetadata(), "step1")
        path = w.event_file_path
    events = [tf.summary.Event.FromString(r) for r in read_records(path)][1:]
    assert events[0].summary.value[0].metadata.plugin_data.plugin_name == "text"
    assert not events[1].summary.value[0].HasField("metadata")
    assert events[2].tagged_run_metadata.tag == "step1"
    acc = _accumulate(str(tmp_path))
    assert acc.Tags()["tensors"] == ["note"] and acc.Tags()["run_metadata"] == ["step1"]


def test_add_graph_errors_and_cache(tmp_path):
    w = tf.summary.FileWriter(str(tmp_path))
    with pytest.raises(TypeError, match="instance of `Graph`"):
        w.add_graph("not a graph")
    with pytest.raises(ValueError, match="not both"):
        w.add_graph(tf.Graph(), graph_def=tf.GraphDef())
    with pytest.raises(TypeError, match="Summary proto"):
        w.add_summary(3.0)
    w.close()
    a = tf.summary.FileWriterCache.get(str(tmp_path / "c"))
    assert tf.summary.FileWriterCache.get(str(tmp_path / "c")) is a
    tf.summary.FileWriterCache.clear()
    assert tf.summary.FileWriterCache.get(str(tmp_path / "c")) is not a
    tf.summary.FileWriterCache.clear()
