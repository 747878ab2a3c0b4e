"""``jitgraph/tfrecord.py``, ``jitgraph/ops/parsing_ops.py`` and ``jitgraph/sparse.py`` beyond the TF
oracle (``test_tfrecord_oracle.py``): the writer's life cycle and options, the Example classes,
build-time checks, SparseTensor fetches and ``SparseToDense``, and parsing inside ``tf.data``."""

import os

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.summary.records import encode_record, read_records


def _example(**features):
    T = tf.train
    feats = {}
    for k, v in features.items():
        if isinstance(v[0], bytes):
            feats[k] = T.Feature(bytes_list=T.BytesList(value=v))
        elif isinstance(v[0], float):
            feats[k] = T.Feature(float_list=T.FloatList(value=v))
        else:
            feats[k] = T.Feature(int64_list=T.Int64List(value=v))
    return T.Example(features=T.Features(feature=feats))


def test_writer_life_cycle_and_names(tmp_path):
    path = str(tmp_path / "a.tfrecord")
    assert tf.python_io.TFRecordWriter is tf.io.TFRecordWriter
    w = tf.python_io.TFRecordWriter(path)
    w.write(b"one")
    w.write("two")             # str is written as UTF-8, as TF does
    w.flush()
    assert list(tf.python_io.tf_record_iterator(path)) == [b"one", b"two"]
    w.close()
    w.close()                  # a second close does nothing
    with pytest.raises(tf.errors.FailedPreconditionError, match="Writer is closed"):
        w.write(b"three")
    with pytest.raises(TypeError):
        tf.io.TFRecordWriter(str(tmp_path / "b.tfrecord")).write(3)
    with pytest.raises(tf.errors.NotFoundError):
        tf.io.TFRecordWriter(str(tmp_path / "no" / "dir.tfrecord"))


def test_compression_options(tmp_path):
    O, C = tf.io.TFRecordOptions, tf.io.TFRecordCompressionType
    assert [O.get_compression_type_string(o) for o in (None, "", "gzip", O("ZLIB"), O(C.GZIP), O(None), C.NONE)] == \
        ["", "", "GZIP", "ZLIB", "GZIP", "", ""]
    with pytest.raises(ValueError):
        O.get_compression_type_string("LZ4")
    for options in (O(C.ZLIB), "GZIP", O("GZIP", compression_level=9)):
        path = str(tmp_path / "c.tfrecord")
        with tf.io.TFRecordWriter(path, options) as w:
            for i in range(100):
                w.write(b"%d" % i * 50)
        assert os.path.getsize(path) < 100 * 60     # compressed
        assert list(tf.io.tf_record_iterator(path, options)) == [b"%d" % i * 50 for i in range(100)]
    with pytest.raises(ValueError):
        tf.data.TFRecordDataset(path, compression_type="LZ4")


def test_event_file_reading_still_stops_quietly_at_a_partial_record(tmp_path):
    path = tmp_path / "events"
    path.write_bytes(encode_record(b"whole") + encode_record(b"being written")[:-2])
    assert list(read_records(str(path))) == [b"whole"]
    with pytest.raises(tf.errors.DataLossError, match="truncated record at 21"):
        list(tf.io.tf_record_iterator(str(path)))


def test_example_classes_are_protobuf_messages():
    ex = _example(x=[1.5], y=[b"s"])
    data = ex.SerializeToString()
    back = tf.train.Example()
    back.ParseFromString(data)
    assert back == ex and tf.train.Example.FromString(data) == ex
    assert back.features.feature["x"].WhichOneof("kind") == "float_list"
    assert "float_list" in str(back)
    seq = tf.train.SequenceExample()
    seq.feature_lists.feature_list["t"].feature.add().int64_list.value.extend([1, 2])
    assert tf.train.SequenceExample.FromString(seq.SerializeToString()) == seq
    assert isinstance(tf.train.FeatureLists(), type(seq.feature_lists))


def test_build_time_checks():
    s = tf.constant(b"")
    with pytest.raises(TypeError, match="int32"):
        tf.io.parse_single_example(s, {"a": tf.io.FixedLenFeature([], tf.int32)})
    with pytest.raises(ValueError, match="First dimension of shape for feature a unknown"):
        tf.io.parse_example([b""], {"a": tf.io.FixedLenFeature([None], tf.int64)})
    with pytest.raises(ValueError, match="3 elements"):
        tf.io.parse_example([b""], {"a": tf.io.FixedLenFeature([2], tf.int64, default_value=[1, 2, 3])})
    with pytest.raises(ValueError, match="must be a scalar"):
        tf.io.parse_single_example([b""], {"a": tf.io.VarLenFeature(tf.int64)})
    with pytest.raises(ValueError, match="empty"):
        tf.io.parse_example([b""], {})


def test_defaults_and_strings_in_a_fed_graph():
    s = tf.placeholder(tf.string, [None])
    out = tf.parse_example(s, {"m": tf.FixedLenFeature([2], tf.float32, default_value=[0.5, -1.0]),
                               "w": tf.FixedLenFeature([], tf.string, default_value="none"),
                               "v": tf.VarLenFeature(tf.string)})
    dense_v = tf.sparse.to_dense(out["v"])
    with tf.Session() as sess:
        m, w, v, dv = sess.run([out["m"], out["w"], out["v"], dense_v], {s: [
            _example(m=[1.0, 2.0]).SerializeToString(), _example(w=[b"x"], v=[b"p", b"q"]).SerializeToString()]})
    np.testing.assert_array_equal(m, np.array([[1, 2], [0.5, -1]], np.float32))
    assert w.dtype == object and list(w) == [b"none", b"x"]
    assert isinstance(v, tf.SparseTensorValue)
    np.testing.assert_array_equal(v.indices, [[1, 0], [1, 1]])
    assert list(v.values) == [b"p", b"q"] and list(v.dense_shape) == [2, 2]
    assert dv.tolist() == [[b"", b""], [b"p", b"q"]]


def test_sparse_tensor_and_sparse_to_dense():
    sp = tf.SparseTensor(indices=[[0, 1], [1, 1], [2, 0]], values=[1.0, 2.0, 3.0], dense_shape=[3, 2])
    assert sp.dtype == tf.float32 and sp.shape.as_list() == [3, 2]
    dense = tf.sparse_tensor_to_dense(sp, default_value=-1.0)
    assert dense.shape.as_list() == [3, 2]
    grad = tf.gradients(tf.reduce_sum(dense * tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])), sp.values)[0]
    one_d = tf.sparse_to_dense([1, 3], [5], 7)
    unsorted = tf.sparse_to_dense([[1], [0]], [2], [1, 2])
    with tf.Session() as sess:
        value, d, g, o = sess.run([sp, dense, grad, one_d])
        assert value.dense_shape.tolist() == [3, 2] and value.values.tolist() == [1, 2, 3]
        assert d.tolist() == [[-1, 1], [-1, 2], [3, -1]]
        assert g.tolist() == [2, 4, 5]      # TF's gradient: the output gradient at the indices
        assert o.tolist() == [0, 7, 0, 7, 0]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[0\] is out of order"):
            sess.run(unsorted)
        assert sp.eval(session=sess).indices.shape == (3, 2)


def test_sparse_result_in_a_dataset_asks_for_to_dense():
    ds = tf.data.Dataset.from_tensors(_example(v=[1]).SerializeToString())
    with pytest.raises(TypeError, match="tf.sparse.to_dense"):
        ds.map(lambda r: tf.io.parse_single_example(r, {"v": tf.io.VarLenFeature(tf.int64)}))


def test_dataset_shuffle_repeat_batch_of_parsed_records(tmp_path):
    path = str(tmp_path / "d.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        for i in range(10):
            w.write(_example(x=[float(i), float(-i)], y=[i]).SerializeToString())
    feats = {"x": tf.io.FixedLenFeature([2], tf.float32), "y": tf.io.FixedLenFeature([], tf.int64)}
    names = tf.placeholder(tf.string, [None])
    ds = tf.data.TFRecordDataset(names).map(lambda r: tf.io.parse_single_example(r, feats))
    ds = ds.shuffle(10, seed=1).repeat(2).batch(4)
    it = tf.data.make_initializable_iterator(ds)
    batch = it.get_next()
    assert batch["x"].shape.as_list() == [None, 2] and batch["y"].dtype == tf.int64
    ys = []
    with tf.Session() as sess:
        sess.run(it.initializer, {names: [path]})
        try:
            while True:
                b = sess.run(batch)
                np.testing.assert_array_equal(b["x"][:, 0], b["y"].astype(np.float32))
                ys.extend(b["y"].tolist())
        except tf.errors.OutOfRangeError:
            pass
    assert sorted(ys) == sorted(list(range(10)) * 2)
