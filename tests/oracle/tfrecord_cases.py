"""The TFRecord / ``tf.train.Example`` scenarios, written once against the TF1 API: replayed by
``record_tfrecord.py`` with TensorFlow (into ``data/tfrecord.json`` and the TF-written files in
``data/tfrecord/``) and by ``tests/data/test_tfrecord_oracle.py`` with jitgraph."""

import os
import re
import zlib

import numpy as np

# Each Example: feature -> (kind, values). "name" is missing from the second (its default is
# used), "tags" from the third; an empty list is a present feature with no values.
EXAMPLES = [
    {"image": ("float", [0.5, -1.25, 3.0, 0.0]), "label": ("int64", [3]), "name": ("bytes", [b"cat"]),
     "tags": ("bytes", [b"a", b"bb"]), "ids": ("int64", [7, 8, 9])},
    {"image": ("float", [1.0, 2.0, 3.0, 4.0]), "label": ("int64", [-5]), "tags": ("bytes", []),
     "ids": ("int64", [2 ** 40])},
    {"image": ("float", [1e-3, 2.5e7, -0.0, 7.25]), "label": ("int64", [0]), "name": ("bytes", [b"\x00\xffbin"]),
     "ids": ("int64", [])},
]
# Records that are not Examples, written after them: framing edge cases.
RAW_RECORDS = [b"", b"\x00" * 300, bytes(range(256))]
COMPRESSIONS = {"none": "", "gzip": "GZIP", "zlib": "ZLIB"}


def features(tf):
    return {"image": tf.io.FixedLenFeature([2, 2], tf.float32), "label": tf.io.FixedLenFeature([], tf.int64),
            "name": tf.io.FixedLenFeature([], tf.string, default_value="none"),
            "tags": tf.io.VarLenFeature(tf.string), "ids": tf.VarLenFeature(tf.int64)}


def feature(tf, kind, values):
    T = tf.train
    if kind == "bytes":
        return T.Feature(bytes_list=T.BytesList(value=values))
    if kind == "float":
        return T.Feature(float_list=T.FloatList(value=values))
    return T.Feature(int64_list=T.Int64List(value=values))


def example(tf, spec):
    return tf.train.Example(features=tf.train.Features(feature={k: feature(tf, *v) for k, v in spec.items()}))


def records(tf):
    """Every record of the files: the Examples (map keys in sorted order) then ``RAW_RECORDS``."""
    return [example(tf, s).SerializeToString(deterministic=True) for s in EXAMPLES] + RAW_RECORDS


def serialized(tf):
    """Hex of serialized protos. A map with several keys is serialized in hash order (random per
    process, in TF too), so those use ``deterministic=True``; one-key maps use the plain call."""
    T = tf.train
    out = {f"example_{i}": example(tf, s).SerializeToString(deterministic=True).hex() for i, s in enumerate(EXAMPLES)}
    for kind, values in (("float", [1.5, -2.0, 3.4028234663852886e38]), ("int64", [0, -1, 2 ** 63 - 1]),
                         ("bytes", [b"", b"x" * 200]), ("float", []), ("int64", [1] * 40)):
        out[f"one_{kind}_{len(values)}"] = example(tf, {"f": (kind, values)}).SerializeToString().hex()
    out["empty_example"] = T.Example().SerializeToString().hex()
    seq = T.SequenceExample(
        context=T.Features(feature={"length": feature(tf, "int64", [2])}),
        feature_lists=T.FeatureLists(feature_list={"tokens": T.FeatureList(
            feature=[feature(tf, "bytes", [b"hello"]), feature(tf, "bytes", [b"world"])])}))
    out["sequence_example"] = seq.SerializeToString().hex()
    parsed = T.Example.FromString(bytes.fromhex(out["example_0"]))
    out["roundtrip_keys"] = sorted(parsed.features.feature)
    out["roundtrip_ids"] = list(parsed.features.feature["ids"].int64_list.value)
    return out


def write_file(tf, path, compression):
    with tf.io.TFRecordWriter(path, tf.io.TFRecordOptions(compression)) as w:
        for r in records(tf):
            w.write(r)


def jsonable(value):
    """A fetched value as JSON: dtype, shape and values (bytes as hex)."""
    if hasattr(value, "dense_shape"):   # a SparseTensorValue
        return {"sparse": [jsonable(value.indices), jsonable(value.values), jsonable(value.dense_shape)]}
    a = np.asarray(value, dtype=object) if isinstance(value, bytes) else np.asarray(value)
    vals = [v.hex() for v in a.reshape(-1)] if a.dtype == object else a.reshape(-1).tolist()
    return {"dtype": a.dtype.str if a.dtype != object else "bytes", "shape": list(a.shape), "values": vals}


def core_message(e):
    """The message of an error without TF's decoration (``Graph execution error``, node lines) or
    jitgraph's (`` (op 'name' of type T)``)."""
    lines = [re.sub(r" \(op '[^']*' of type \w+\)$", "", ln) for ln in str(e).splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith((" ", "\t")) and not ln.startswith(
        ("Graph execution error", "Detected at node", "Node:", "Original stack", "Traceback"))]
    return keep[0] if keep else lines[0]


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the class and message are what is recorded)
        return {"error": type(e).__name__, "message": core_message(e)}
    return {"error": None}


def drain(tf, tensors, feed=None):
    """Every element of a one-shot pipeline."""
    out = []
    with tf.Session() as sess:
        try:
            while True:
                out.append(sess.run(tensors, feed))
        except tf.errors.OutOfRangeError:
            return out


def _dense(tf, parsed):
    """Parsed features with the sparse ones made dense (dataset elements)."""
    out = dict(parsed)
    out["tags"] = tf.sparse.to_dense(parsed["tags"], default_value=b"-")
    out["ids"] = tf.sparse_tensor_to_dense(parsed["ids"], default_value=-1)
    return out


def pipelines(tf, path, compression):
    """The parsed elements of the file read two ways: per record (``parse_single_example`` in
    ``map``) and per batch of 2 (``batch`` then ``parse_example``)."""
    n = len(EXAMPLES)
    res = {}
    with tf.Graph().as_default():
        ds = tf.data.TFRecordDataset(path, compression_type=compression).take(n)
        ds = ds.map(lambda r: _dense(tf, tf.io.parse_single_example(r, features(tf))))
        it = tf.data.make_one_shot_iterator(ds)
        res["single"] = [{k: jsonable(v) for k, v in el.items()} for el in drain(tf, it.get_next())]
        assert it.output_shapes["image"].as_list() == [2, 2]
    with tf.Graph().as_default():
        ds = tf.data.TFRecordDataset([path], compression_type=compression, buffer_size=1024).take(n).batch(2)
        ds = ds.map(lambda r: _dense(tf, tf.io.parse_example(r, features(tf))))
        elements = drain(tf, tf.data.make_one_shot_iterator(ds).get_next())
        res["batched"] = [{k: jsonable(v) for k, v in el.items()} for el in elements]
    return res


def graph_parse(tf):
    """``parse_example`` / ``parse_single_example`` on a fed string placeholder, sparse fetched."""
    recs = records(tf)[:len(EXAMPLES)]
    with tf.Graph().as_default():
        batch = tf.placeholder(tf.string, [None])
        one = tf.placeholder(tf.string, [])
        pb = tf.parse_example(batch, features(tf))
        ps = tf.parse_single_example(one, features(tf))
        shapes = {k: [str(t.shape) for t in (v.indices, v.values, v.dense_shape)] if hasattr(v, "indices")
                  else str(v.shape) for k, v in pb.items()}
        with tf.Session() as sess:
            b = sess.run(pb, {batch: recs})
            s = sess.run(ps, {one: recs[1]})
    return {"static_shapes": shapes, "batch": {k: jsonable(v) for k, v in b.items()},
            "single": {k: jsonable(v) for k, v in s.items()}}


def parse_errors(tf):
    recs = records(tf)
    out = {}
    with tf.Graph().as_default():
        one = tf.placeholder(tf.string, [])
        batch = tf.placeholder(tf.string, [None])
        req = {"name": tf.io.FixedLenFeature([], tf.string)}
        single, batched = tf.io.parse_single_example(one, req), tf.io.parse_example(batch, req)
        wrong = tf.io.parse_single_example(one, {"label": tf.io.FixedLenFeature([], tf.float32)})
        count = tf.io.parse_example(batch, {"image": tf.io.FixedLenFeature([3], tf.float32)})
        with tf.Session() as sess:
            out["missing_single"] = error_of(lambda: sess.run(single, {one: recs[1]}))
            out["missing_batch"] = error_of(lambda: sess.run(batched, {batch: recs[:2]}))
            out["wrong_type"] = error_of(lambda: sess.run(wrong, {one: recs[0]}))
            out["wrong_count"] = error_of(lambda: sess.run(count, {batch: recs[:1]}))
            out["not_an_example"] = error_of(lambda: sess.run(single, {one: b"garbage"}))
    with tf.Graph().as_default():
        ds = tf.data.Dataset.from_tensor_slices(recs[:2]).map(
            lambda r: tf.io.parse_single_example(r, {"name": tf.io.FixedLenFeature([], tf.string)}))
        nxt = tf.data.make_one_shot_iterator(ds).get_next()
        out["missing_in_map"] = error_of(lambda: drain(tf, nxt))
    return out


def damaged_files(root, source):
    """Copies of the uncompressed file ``source`` with a flipped data byte, a flipped length byte
    and the end cut off."""
    raw = open(source, "rb").read()
    first = 16 + int.from_bytes(raw[:8], "little")
    files = {"bad_data": raw[:14] + bytes([raw[14] ^ 1]) + raw[15:],
             "bad_length": raw[:first + 2] + bytes([raw[first + 2] ^ 1]) + raw[first + 3:],
             "truncated": raw[:-3]}
    paths = {}
    for name, data in files.items():
        paths[name] = os.path.join(root, name + ".tfrecord")
        with open(paths[name], "wb") as f:
            f.write(data)
    with open(os.path.join(root, "bad.gz"), "wb") as f:   # not a gzip stream at all
        f.write(zlib.compress(raw))
    paths["bad_gzip"] = os.path.join(root, "bad.gz")
    return paths


def read_errors(tf, paths):
    out = {}
    for name, path in paths.items():
        compression = "GZIP" if name == "bad_gzip" else ""
        out["iter_" + name] = error_of(lambda: list(tf.io.tf_record_iterator(path, compression)))
        with tf.Graph().as_default():
            nxt = tf.data.make_one_shot_iterator(tf.data.TFRecordDataset(path, compression)).get_next()
            out["dataset_" + name] = error_of(lambda: drain(tf, nxt))
    out["iter_missing"] = {"error": error_of(lambda: list(tf.python_io.tf_record_iterator(
        os.path.join(os.path.dirname(path), "missing.tfrecord"))))["error"]}
    return out


def interleave(tf, root):
    """The record order of ``num_parallel_reads=2`` over three files of 2, 3 and 4 records."""
    paths = []
    for n in range(3):
        paths.append(os.path.join(root, f"part{n}.tfrecord"))
        with tf.python_io.TFRecordWriter(paths[-1]) as w:
            for k in range(n + 2):
                w.write(f"{n}-{k}".encode())
    with tf.Graph().as_default():
        nxt = tf.data.make_one_shot_iterator(tf.data.TFRecordDataset(paths, num_parallel_reads=2)).get_next()
        return [v.decode() for v in drain(tf, nxt)]
