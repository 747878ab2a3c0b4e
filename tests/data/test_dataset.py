"""Dataset behaviour the oracle cannot pin down: jitgraph's own shuffle streams (seeded
determinism), prefetching in a background thread, caching, and argument checking."""

import threading

import numpy as np
import pytest

import jitgraph as tf


def drain(sess, fetch):
    out = []
    while True:
        try:
            out.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            return out


def elements(make_dataset, seed=None):
    """All elements of a one-shot iterator over ``make_dataset()`` in a fresh graph and session."""
    with tf.Graph().as_default():
        if seed is not None:
            tf.set_random_seed(seed)
        nxt = make_dataset().make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            return [np.asarray(v).tolist() for v in drain(sess, nxt)]


# ---- shuffle --------------------------------------------------------------------------------------
def test_shuffle_with_an_op_seed_is_reproducible_across_graphs_and_sessions(reference):
    make = lambda: tf.data.Dataset.range(50).shuffle(10, seed=3).repeat(2)   # noqa: E731
    a, b = elements(make), elements(make)
    assert a == b
    assert sorted(a[:50]) == sorted(a[50:]) == list(range(50))
    assert a[:50] != a[50:], "each epoch reshuffles"
    assert a[:50] != list(range(50))


def test_shuffle_with_a_graph_seed_is_reproducible(reference):
    make = lambda: tf.data.Dataset.range(30).shuffle(30)   # noqa: E731
    assert elements(make, seed=5) == elements(make, seed=5)
    assert elements(make, seed=5) != elements(make, seed=6)


def test_unseeded_shuffle_differs_between_initializations(g):
    it = tf.data.Dataset.range(40).shuffle(40).make_initializable_iterator()
    nxt = it.get_next()
    orders = []
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(it.initializer)
            orders.append(drain(sess, nxt))
    assert sorted(orders[0]) == sorted(orders[1]) == list(range(40))
    assert orders[0] != orders[1]


def test_shuffle_buffer_of_one_keeps_the_order(reference):
    assert elements(lambda: tf.data.Dataset.range(8).shuffle(1, seed=2)) == list(range(8))


# ---- prefetch --------------------------------------------------------------------------------------
def test_prefetch_gives_the_same_elements_as_without(reference):
    def make(prefetch):
        def build():
            ds = tf.data.Dataset.range(200).map(lambda x: (x, tf.cast(x, tf.float32) * 0.5))
            ds = ds.shuffle(50, seed=1).batch(7)
            return ds.prefetch(prefetch).map(lambda a, b: a + tf.cast(b, tf.int64)) if prefetch else \
                ds.map(lambda a, b: a + tf.cast(b, tf.int64))
        return build
    plain = elements(make(0))
    assert elements(make(3)) == plain
    assert elements(make(tf.data.experimental.AUTOTUNE)) == plain


def test_prefetch_produces_ahead_in_a_background_thread(g):
    produced, ahead = [], threading.Event()

    def gen():
        for i in range(10):
            produced.append(threading.current_thread().name)
            if i == 3:
                ahead.set()   # three elements beyond the one asked for
            yield i

    nxt = tf.data.Dataset.from_generator(gen, tf.int64, []).prefetch(5).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == 0
        assert ahead.wait(timeout=30), "the producer did not run ahead of the consumer"
        assert drain(sess, nxt) == list(range(1, 10))
    assert set(produced) == {"jitgraph-prefetch"}


def test_prefetch_delivers_errors_in_order(g):
    def gen():
        yield 1
        yield 2
        raise ValueError("disk on fire")

    nxt = tf.data.Dataset.from_generator(gen, tf.int64, []).prefetch(4).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [sess.run(nxt), sess.run(nxt)] == [1, 2]
        with pytest.raises(tf.errors.InvalidArgumentError, match="disk on fire"):
            sess.run(nxt)


def test_reinitializing_stops_the_old_producer(g):
    stopped = threading.Event()

    def gen():
        try:
            for i in range(1000):
                yield i
        finally:
            stopped.set()

    it = tf.data.Dataset.from_generator(gen, tf.int64, []).prefetch(2).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        assert sess.run(nxt) == 0
        sess.run(it.initializer)
        assert stopped.wait(timeout=30)
        assert sess.run(nxt) == 0


# ---- cache, generators, map functions ---------------------------------------------------------------
def test_cache_runs_its_input_once(g):
    calls = []

    def gen():
        calls.append(1)
        yield from range(3)

    ds = tf.data.Dataset.from_generator(gen, tf.int64, []).cache().repeat(3)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert drain(sess, nxt) == [0, 1, 2] * 3
    assert len(calls) == 1


def test_generator_is_called_again_for_each_epoch(g):
    calls = []

    def gen():
        calls.append(1)
        yield from range(2)

    nxt = tf.data.Dataset.from_generator(gen, tf.int64, []).repeat(3).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert drain(sess, nxt) == [0, 1] * 3
    assert len(calls) == 3


def test_random_ops_in_a_map_function_are_seeded_by_the_graph(reference):
    make = lambda: tf.data.Dataset.range(4).map(lambda x: tf.random_uniform([2], seed=1))   # noqa: E731
    a = elements(make, seed=9)
    assert a == elements(make, seed=9)
    assert len({tuple(v) for v in a}) == 4, "each element draws new values"


def test_map_over_strings_returns_dicts_with_python_values(g):
    ds = tf.data.Dataset.from_tensor_slices(["a", "b"]).map(lambda s: {"line": s, "n": 1})
    assert ds.output_types == {"line": tf.string, "n": tf.int32}
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert drain(sess, nxt) == [{"line": b"a", "n": 1}, {"line": b"b", "n": 1}]


# ---- arguments and element types -----------------------------------------------------------------------
def test_bad_arguments_are_build_time_errors(g):
    ds = tf.data.Dataset.range(3)
    with pytest.raises(TypeError, match="batch_size"):
        ds.batch("3")
    with pytest.raises(TypeError, match="count"):
        ds.repeat(2.5)
    with pytest.raises(TypeError, match="must return a `Dataset`"):
        ds.flat_map(lambda x: x)
    with pytest.raises(ValueError, match="only the in-memory cache"):
        ds.cache("/tmp/file")
    with pytest.raises(ValueError, match="padded_shapes"):
        tf.data.Dataset.from_generator(lambda: iter([]), tf.int64).padded_batch(2)


def test_element_types_and_iterator_properties(g):
    ds = tf.data.Dataset.from_tensor_slices(({"a": np.zeros((5, 2), np.float32)}, np.arange(5)))
    assert ds.output_types == ({"a": tf.float32}, tf.int64)
    assert ds.output_shapes[0]["a"].as_list() == [2] and ds.output_shapes[1].as_list() == []
    assert ds.output_classes == ({"a": tf.Tensor}, tf.Tensor)
    it = tf.data.make_initializable_iterator(ds.batch(2, drop_remainder=True))
    assert tf.data.get_output_shapes(it)[0]["a"].as_list() == [2, 2]
    assert tf.data.get_output_types(it) == ({"a": tf.float32}, tf.int64)
    assert "TensorSpec(shape=(2,), dtype=tf.float32" in repr(ds)


def test_batch_size_from_a_placeholder_keeps_the_batch_dimension_unknown(g):
    n = tf.placeholder(tf.int64, [])
    ds = tf.data.Dataset.range(10).batch(n, drop_remainder=True)
    assert ds.output_shapes.as_list() == [None]
    assert tf.data.Dataset.range(10).batch(tf.constant(4, tf.int64), drop_remainder=True).output_shapes.as_list() == [4]
