"""Iterators inside jitgraph: per-session state, compiled plans, retried runs, exported graphs."""

import numpy as np
import pytest

import jitgraph as tf


def drain(sess, fetch, feed_dict=None):
    out = []
    while True:
        try:
            out.append(sess.run(fetch, feed_dict))
        except tf.errors.OutOfRangeError:
            return out


def test_get_next_in_a_compiled_plan_is_a_numpy_step(g, eager):
    x, y = tf.data.Dataset.from_tensor_slices((np.arange(6.0), np.arange(6))).batch(4).make_one_shot_iterator().get_next()
    z = tf.reduce_sum(x * 2.0) + tf.cast(tf.reduce_sum(y), tf.float64)
    with tf.Session() as sess:
        assert drain(sess, z) == [18.0, 27.0]
        info = sess.cache_info()
    assert info["compiled_plans"] == 1 and not info["fallbacks"]


def test_a_run_retried_after_a_shape_guard_keeps_its_element(g, eager):
    """The last batch has 1 row: the kernel's guard (batch dim == fed dim) fails after get_next ran,
    the reference executor redoes the run, and get_next must see the same element again."""
    x = tf.data.Dataset.range(4).batch(3).make_one_shot_iterator().get_next()
    p = tf.placeholder(tf.int64, [None])
    y = x * 2 + p
    with tf.Session() as sess:
        first = sess.run(y, {p: [10, 20, 30]})
        second = sess.run(y, {p: [10, 20, 30]})
        assert sess.cache_info()["fallbacks"], "the guard did not fail: the test lost its point"
    np.testing.assert_array_equal(first, [10, 22, 34])
    np.testing.assert_array_equal(second, [16, 26, 36])


def test_end_of_input_in_a_compiled_training_step_leaves_variables(g, eager):
    runs = tf.Variable(0.0)
    count = runs.assign_add(1.0)       # created first: its kernel runs before get_next fails
    nxt = tf.data.Dataset.from_tensor_slices(np.ones((3, 2), np.float32)).make_one_shot_iterator().get_next()
    v = tf.Variable(tf.zeros([2]))
    step = tf.group(count, v.assign_add(nxt), v.assign(v * 2.0))
    with tf.Session() as sess:
        sess.run([runs.initializer, v.initializer])
        for _ in range(3):
            sess.run(step)
        before = sess.run([runs, v])
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(step)
        after = sess.run([runs, v])
        assert sess.cache_info()["compiled_plans"] >= 1
    assert after[0] == before[0] == 3.0
    np.testing.assert_array_equal(after[1], before[1])


def test_map_function_runs_as_a_compiled_plan(g, eager):
    ds = tf.data.Dataset.range(5).map(lambda x: tf.cast(x, tf.float32) * 0.5 + 1.0)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert drain(sess, nxt) == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert ds._fn._plan.tier == "compiled"


def test_map_tracing_adds_no_ops_to_the_users_graph(g):
    ds = tf.data.Dataset.range(5)
    n = len(g.get_operations())
    ds.map(lambda x: tf.square(x) + 1).filter(lambda x: x > 2).flat_map(lambda x: tf.data.Dataset.range(x))
    assert len(g.get_operations()) == n


def test_nested_functions_capture_through_both_graphs(g, reference):
    c = tf.range(3, dtype=tf.int64) * 100       # not a constant: captured by placeholder
    ds = tf.data.Dataset.range(1, 3).flat_map(lambda x: tf.data.Dataset.range(x).map(lambda y: y + x + c[x]))
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert drain(sess, nxt) == [101, 202, 203]


def test_string_handle_of_an_unknown_iterator(g):
    handle = tf.placeholder(tf.string, [])
    nxt = tf.data.Iterator.from_string_handle(handle, tf.int64, tf.TensorShape([])).get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(nxt, {handle: b"NoSuchIterator"})


def test_string_handle_checks_the_element_types(g):
    ds = tf.data.Dataset.range(3)
    handle = tf.placeholder(tf.string, [])
    nxt = tf.data.Iterator.from_string_handle(handle, tf.float32, tf.TensorShape([])).get_next()
    h = ds.make_one_shot_iterator().string_handle()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="float32"):
            sess.run(nxt, {handle: sess.run(h)})


def test_initializer_copies_fed_arrays(g):
    p = tf.placeholder(tf.float32, [None])
    it = tf.data.Dataset.from_tensor_slices(p).make_initializable_iterator()
    nxt = it.get_next()
    data = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        sess.run(it.initializer, {p: data})
        data[:] = -1
        assert drain(sess, nxt) == [1.0, 2.0]


def test_pipeline_graph_exports_and_import_explains_the_missing_pipeline(g, tmp_path):
    p = tf.placeholder(tf.float32, [None])
    it = tf.data.Dataset.from_tensor_slices(p).batch(2).make_initializable_iterator()
    v = tf.Variable(1.0)
    y = it.get_next() * v
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run([v.initializer, it.initializer], {p: [1.0, 2.0, 3.0]})
        np.testing.assert_array_equal(sess.run(y), [1.0, 2.0])
        path = saver.save(sess, str(tmp_path / "model"))   # writes the meta graph too
    with tf.Graph().as_default() as g2:
        tf.train.import_meta_graph(path + ".meta")
        assert g2.get_tensor_by_name("IteratorGetNext:0").shape.as_list() == [None]
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="build the tf.data pipeline again"):
                sess.run(g2.get_operation_by_name("MakeIterator"), {g2.get_tensor_by_name("Placeholder:0"): [1.0]})



def test_two_get_next_ops_in_one_compiled_run_take_two_elements(g, eager):
    it = tf.data.Dataset.range(10).make_one_shot_iterator()
    a, b = it.get_next(), it.get_next()
    total = a * 10 + b
    with tf.Session() as sess:
        assert [sess.run(total) for _ in range(3)] == [1, 23, 45]
        assert sess.cache_info()["compiled_plans"] == 1


def test_fetched_elements_cannot_change_the_pipeline(g):
    x = np.arange(3.0)
    for ds in (tf.data.Dataset.from_tensors(x).repeat(2), tf.data.Dataset.range(3).batch(3).cache().repeat(2)):
        nxt = ds.make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            first = sess.run(nxt)
            first[:] = -1
            np.testing.assert_array_equal(sess.run(nxt), [0, 1, 2])
