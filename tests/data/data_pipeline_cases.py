"""Pipelines run both by TensorFlow (``tests/oracle/record_data.py``, recording what TF 2.21's
``tf.compat.v1`` does) and by jitgraph (``tests/data/test_data_oracle.py``). Each takes the module
to use as ``tf`` and a scratch directory; nothing here imports TensorFlow.

``PIPELINES``: functions returning a dataset whose elements come in a deterministic order: the
types, static shapes and every element are compared. (Iterator scenarios are in
``data_scenario_cases.py``.)
"""

import gzip
import os

import numpy as np

X = np.arange(12, dtype=np.float32).reshape(4, 3)
Y = np.array([3, 1, 4, 1], dtype=np.int64)

PIPELINES = {}


def pipeline(fn):
    PIPELINES[fn.__name__] = fn
    return fn


def seq(tf, n):
    """``tf.fill([n], n)`` for an int64 scalar ``n`` (a vector of n copies of n)."""
    return tf.fill([tf.cast(n, tf.int32)], n)


# ---- sources ---------------------------------------------------------------------------------------
@pipeline
def slices_array(tf, tmp):
    return tf.data.Dataset.from_tensor_slices(X)


@pipeline
def slices_tuple(tf, tmp):
    return tf.data.Dataset.from_tensor_slices((X, Y))


@pipeline
def slices_dict(tf, tmp):
    return tf.data.Dataset.from_tensor_slices({"x": X, "y": Y})


@pipeline
def slices_nested(tf, tmp):
    return tf.data.Dataset.from_tensor_slices(((X, Y), {"z": X * 2}))


@pipeline
def slices_python_list(tf, tmp):
    return tf.data.Dataset.from_tensor_slices([[1, 2], [3, 4], [5, 6]])


@pipeline
def slices_strings(tf, tmp):
    return tf.data.Dataset.from_tensor_slices(["a", "bc", "def"])


@pipeline
def tensors_tuple(tf, tmp):
    return tf.data.Dataset.from_tensors((X, 7))


@pipeline
def range_stop(tf, tmp):
    return tf.data.Dataset.range(5)


@pipeline
def range_start_stop_step(tf, tmp):
    return tf.data.Dataset.range(2, 11, 3)


@pipeline
def range_negative_step(tf, tmp):
    return tf.data.Dataset.range(10, 0, -3)


@pipeline
def range_int32(tf, tmp):
    return tf.data.Dataset.range(4, output_type=tf.int32)


@pipeline
def generator_scalars(tf, tmp):
    return tf.data.Dataset.from_generator(lambda: iter([5, 6, 7]), tf.int64, tf.TensorShape([]))


@pipeline
def generator_tuple(tf, tmp):
    def gen():
        for i in range(1, 4):
            yield i, [float(i)] * i
    return tf.data.Dataset.from_generator(gen, (tf.int64, tf.float32), (tf.TensorShape([]), tf.TensorShape([None])))


@pipeline
def generator_dict_unknown_shape(tf, tmp):
    return tf.data.Dataset.from_generator(lambda: iter([{"a": [1, 2]}, {"a": [3]}]), {"a": tf.int32})


@pipeline
def generator_args(tf, tmp):
    return tf.data.Dataset.from_generator(lambda n: iter(range(int(n))), tf.int64, tf.TensorShape([]), args=(3,))


def _write_text(tmp):
    a, b = os.path.join(tmp, "a.csv"), os.path.join(tmp, "b.csv")
    with open(a, "wb") as f:
        f.write(b"x,y\n1,2\r\n3,4\n\n5,6")
    with open(b, "wb") as f:
        f.write(b"x,y\n7,8\n")
    return a, b


@pipeline
def text_lines_skip_header(tf, tmp):
    a, _ = _write_text(tmp)
    return tf.data.TextLineDataset(a).skip(1)


@pipeline
def text_lines_two_files(tf, tmp):
    return tf.data.TextLineDataset(list(_write_text(tmp)))


@pipeline
def text_lines_per_file_header(tf, tmp):
    files = tf.data.Dataset.from_tensor_slices(list(_write_text(tmp)))
    return files.flat_map(lambda name: tf.data.TextLineDataset(name).skip(1))


@pipeline
def text_lines_gzip(tf, tmp):
    path = os.path.join(tmp, "c.txt.gz")
    with gzip.open(path, "wb") as f:
        f.write(b"one\ntwo\nthree\n")
    return tf.data.TextLineDataset(path, compression_type="GZIP")


@pipeline
def text_csv_decoded_and_batched(tf, tmp):
    a, _ = _write_text(tmp)
    lines = tf.data.TextLineDataset(a).skip(1).filter(lambda line: tf.not_equal(line, ""))
    return lines.map(lambda line: tuple(tf.decode_csv(line, [[0.0], [0]]))).batch(2)


@pipeline
def csv_dataset_with_header(tf, tmp):
    path = os.path.join(tmp, "d.csv")
    with open(path, "wb") as f:
        f.write(b'a,b,c\n1,2.5,x\r\n3,,"y,z"\n5,6,NA\n')
    return tf.data.experimental.CsvDataset(path, [tf.int64, [9.0], ["?"]], header=True, na_value="NA")


@pipeline
def csv_dataset_select_cols(tf, tmp):
    path = os.path.join(tmp, "e.csv")
    with open(path, "wb") as f:
        f.write(b"1;2;3\n4;5;6\n")
    return tf.data.experimental.CsvDataset([path, path], [[0], [0.0]], field_delim=";", select_cols=[0, 2])


# ---- transformations -------------------------------------------------------------------------------
@pipeline
def zip_tuple(tf, tmp):
    return tf.data.Dataset.zip((tf.data.Dataset.range(10), tf.data.Dataset.from_tensor_slices(X)))


@pipeline
def zip_nested_dict(tf, tmp):
    d = tf.data.Dataset
    return d.zip({"a": d.range(3), "b": (d.range(10, 13), d.from_tensor_slices(Y))})


@pipeline
def concatenate(tf, tmp):
    return tf.data.Dataset.range(3).concatenate(tf.data.Dataset.range(10, 12))


@pipeline
def concatenate_shapes_merge(tf, tmp):
    d = tf.data.Dataset
    return d.from_tensor_slices(X[:, :2]).concatenate(d.from_tensor_slices(X))


@pipeline
def map_scalar(tf, tmp):
    return tf.data.Dataset.range(5).map(lambda x: x * 2 + 1)


@pipeline
def map_tuple_args(tf, tmp):
    return tf.data.Dataset.from_tensor_slices((X, Y)).map(lambda x, y: (tf.reduce_sum(x), y * 2))


@pipeline
def map_dict(tf, tmp):
    ds = tf.data.Dataset.from_tensor_slices({"x": X, "y": Y})
    return ds.map(lambda d: {"s": d["x"] * 2.0, "y": d["y"] - 1}, num_parallel_calls=4)


@pipeline
def map_list_becomes_tuple(tf, tmp):
    return tf.data.Dataset.range(3).map(lambda x: [x, x + 1])


@pipeline
def map_python_values(tf, tmp):
    return tf.data.Dataset.range(3).map(lambda x: (x, 1.5, np.zeros(2, np.int32)))


@pipeline
def map_float_math(tf, tmp):
    return tf.data.Dataset.range(4).map(lambda x: tf.sqrt(tf.cast(x, tf.float32)))


@pipeline
def map_captures_constant(tf, tmp):
    c = tf.constant([1.0, 2.0, 3.0])
    return tf.data.Dataset.from_tensor_slices(X).map(lambda x: x * c)


@pipeline
def map_captures_computed_tensor(tf, tmp):
    c = tf.range(3) * 2
    return tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.int32) + c)


@pipeline
def map_then_map(tf, tmp):
    return tf.data.Dataset.range(4).map(lambda x: (x, -x)).map(lambda a, b: a * 10 + b)


@pipeline
def filter_scalar(tf, tmp):
    return tf.data.Dataset.range(10).filter(lambda x: tf.equal(x % 3, 0))


@pipeline
def filter_tuple(tf, tmp):
    return tf.data.Dataset.from_tensor_slices((X, Y)).filter(lambda x, y: y > 1)


@pipeline
def batch(tf, tmp):
    return tf.data.Dataset.range(10).batch(3)


@pipeline
def batch_drop_remainder(tf, tmp):
    return tf.data.Dataset.range(10).batch(3, drop_remainder=True)


@pipeline
def batch_tuple(tf, tmp):
    return tf.data.Dataset.from_tensor_slices((X, Y)).batch(3)


@pipeline
def batch_of_batches(tf, tmp):
    return tf.data.Dataset.range(10).batch(2).batch(2)


@pipeline
def batch_strings(tf, tmp):
    return tf.data.Dataset.from_tensor_slices(["a", "bc", "def"]).batch(2)


@pipeline
def padded_batch_longest(tf, tmp):
    return tf.data.Dataset.range(1, 5).map(lambda x: seq(tf, x)).padded_batch(2, padded_shapes=[None])


@pipeline
def padded_batch_fixed_value(tf, tmp):
    ds = tf.data.Dataset.range(1, 5).map(lambda x: seq(tf, x))
    return ds.padded_batch(3, padded_shapes=[5], padding_values=tf.constant(-1, tf.int64))


@pipeline
def padded_batch_tuple(tf, tmp):
    ds = tf.data.Dataset.range(1, 5).map(lambda x: (seq(tf, x), x))
    return ds.padded_batch(3, padded_shapes=([None], []), padding_values=(np.int64(9), np.int64(0)),
                           drop_remainder=True)


@pipeline
def padded_batch_2d(tf, tmp):
    ds = tf.data.Dataset.range(1, 4).map(lambda x: tf.reshape(tf.fill([tf.cast(x, tf.int32) * 2], x), [-1, 2]))
    return ds.padded_batch(2, padded_shapes=[None, 3])


@pipeline
def repeat_count(tf, tmp):
    return tf.data.Dataset.range(3).repeat(2)


@pipeline
def repeat_forever_take(tf, tmp):
    return tf.data.Dataset.range(3).repeat().take(7)


@pipeline
def repeat_then_batch(tf, tmp):
    return tf.data.Dataset.range(5).repeat(2).batch(4)


@pipeline
def skip_take(tf, tmp):
    return tf.data.Dataset.range(10).skip(3).take(4)


@pipeline
def take_all(tf, tmp):
    return tf.data.Dataset.range(4).take(-1)


@pipeline
def skip_all(tf, tmp):
    return tf.data.Dataset.range(4).skip(-1)


@pipeline
def skip_past_end(tf, tmp):
    return tf.data.Dataset.range(4).skip(10)


@pipeline
def cache_repeat(tf, tmp):
    return tf.data.Dataset.range(3).map(lambda x: x * x).cache().repeat(2)


@pipeline
def prefetch(tf, tmp):
    return tf.data.Dataset.range(6).map(lambda x: x + 100).prefetch(2)


@pipeline
def prefetch_autotune_batch(tf, tmp):
    return tf.data.Dataset.from_tensor_slices((X, Y)).batch(3).prefetch(tf.data.experimental.AUTOTUNE)


@pipeline
def flat_map_range(tf, tmp):
    return tf.data.Dataset.range(4).flat_map(lambda x: tf.data.Dataset.range(x))


@pipeline
def flat_map_rows(tf, tmp):
    return tf.data.Dataset.from_tensor_slices(X).flat_map(lambda row: tf.data.Dataset.from_tensor_slices(row))


@pipeline
def interleave_blocks(tf, tmp):
    ds = tf.data.Dataset.range(1, 4)
    return ds.interleave(lambda x: tf.data.Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4)


@pipeline
def interleave_uneven(tf, tmp):
    ds = tf.data.Dataset.range(1, 5)
    return ds.interleave(lambda x: tf.data.Dataset.range(x * 10, x * 10 + x), cycle_length=3)


@pipeline
def unbatch(tf, tmp):
    return tf.data.Dataset.from_tensor_slices((X, Y)).batch(3).unbatch()


@pipeline
def enumerate_from(tf, tmp):
    return tf.data.Dataset.from_tensor_slices(Y).enumerate(5)


@pipeline
def map_and_batch(tf, tmp):
    return tf.data.Dataset.range(7).apply(tf.data.experimental.map_and_batch(lambda x: x * 3, 3))


# ---- turning what a session returns into comparable JSON ----------------------------------------
def encode(value):
    """A JSON form of a fetched element: nesting kept, arrays as dtype/shape/values."""
    if isinstance(value, dict):
        return {"dict": {str(k): encode(value[k]) for k in sorted(value)}}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, bytes):
        return {"dtype": "string", "shape": [], "value": value.decode("latin-1")}
    a = np.asarray(value)
    if a.dtype == object or a.dtype.kind == "S":
        return {"dtype": "string", "shape": list(a.shape),
                "value": np.vectorize(lambda b: b.decode("latin-1"), otypes=[object])(a).tolist()}
    return {"dtype": a.dtype.name, "shape": list(a.shape), "value": a.tolist()}


def describe(structure):
    """A JSON form of ``output_types``/``output_shapes``/a fetch structure's static shapes."""
    if isinstance(structure, dict):
        return {"dict": {str(k): describe(structure[k]) for k in sorted(structure)}}
    if isinstance(structure, tuple):
        return {"tuple": [describe(v) for v in structure]}
    if type(structure).__name__ == "TensorShape":
        return None if structure.ndims is None else list(structure.as_list())
    if hasattr(structure, "shape") and hasattr(structure, "dtype"):   # a Tensor
        return {"dtype": structure.dtype.name, "shape": describe(structure.shape)}
    return structure.name   # a DType


def drain(tf, sess, fetch, limit=60, feed_dict=None):
    """Run ``fetch`` until the end of input (or ``limit`` runs): encoded elements, then the
    name of the error that ended it."""
    out = []
    for _ in range(limit):
        try:
            out.append(encode(sess.run(fetch, feed_dict)))
        except tf.errors.OpError as e:
            out.append(type(e).__name__)
            break
    return out


def run_pipeline(tf, name, tmp):
    """What the oracle records for ``PIPELINES[name]``: types, shapes, get_next's static shapes and
    the elements of one pass."""
    with tf.Graph().as_default():
        ds = PIPELINES[name](tf, tmp)
        nxt = tf.data.make_one_shot_iterator(ds).get_next()
        with tf.Session() as sess:
            elements = drain(tf, sess, nxt)
        return {"types": describe(ds.output_types), "shapes": describe(ds.output_shapes),
                "get_next": describe(nxt), "elements": elements}
