"""What a fetch returns, as a local TF1 session returns it: a fetched variable shows the run's own
updates, the fetch structure keeps its types (a tuple stays a tuple), and a fetched value never
shares memory with the caller's feed. Each test runs on the reference executor and compiled."""

import collections

import numpy as np
import pytest

import jitgraph as tf


def test_fetched_variable_shows_the_runs_own_update(g, mode):
    v = tf.Variable(0.0)
    assignment = v.assign_add(1.0)
    with tf.control_dependencies([assignment]):
        w = v.read_value()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = [sess.run([w, v]) for _ in range(3)]
    assert got == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]   # TF1 gives [3.0, 3.0] on the third run


def test_fetched_global_step_is_the_incremented_one(g, mode):
    step = tf.train.get_or_create_global_step()
    inc = tf.assign_add(step, 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert [tuple(sess.run([inc, step])) for _ in range(2)] == [(1, 1), (2, 2)]


def test_reads_inside_the_graph_keep_program_order(g, mode):
    v = tf.Variable(1.0)
    before = v.value() * 1.0          # the read made when v was created: the run's start value
    update = v.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([before, update, v]) == [1.0, 2.0, 2.0]


def test_fetch_a_variable_with_its_initializer(g, mode):
    v = tf.Variable(5.0)
    with tf.Session() as sess:
        assert sess.run([v.initializer, v])[1] == 5.0


def test_uninitialized_fetched_variable_fails_before_any_update(g, mode):
    a = tf.Variable(1.0)
    b = tf.Variable(2.0)
    inc = a.assign_add(1.0)
    with tf.Session() as sess:
        sess.run(a.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="Variable_1"):
            sess.run([inc, b])
        assert sess.run(a) == 1.0


def test_fetch_structures_keep_their_types(g, mode):
    x = tf.constant(1.0)
    y = tf.constant(2.0)
    Pair = collections.namedtuple("Pair", "a b")
    with tf.Session() as sess:
        for _ in range(2):    # the second run takes the cached fast path
            assert type(sess.run((x, y))) is tuple
            assert type(sess.run([x, y])) is list
            assert type(sess.run((x, y))) is tuple
        assert sess.run((x, y)) == (1.0, 2.0)
        p = sess.run(Pair(x, y))
        assert type(p) is Pair and p == Pair(1.0, 2.0)
        od = sess.run(collections.OrderedDict([("b", y), ("a", x)]))
        assert type(od) is collections.OrderedDict and list(od) == ["b", "a"]
        nested = sess.run({"t": (x, [y]), "n": Pair(x, (y,))})
        assert type(nested["t"]) is tuple and type(nested["t"][1]) is list
        assert type(nested["n"]) is Pair and type(nested["n"].b) is tuple
        assert type(sess.make_callable((x, y))()) is tuple


@pytest.mark.parametrize("view", [tf.identity, lambda t: tf.reshape(t, [2, 2]), lambda t: tf.squeeze(t)])
def test_fetch_never_aliases_the_feed(g, mode, view):
    x = tf.placeholder(tf.float32, [4])
    y = view(x)
    a = np.arange(4, dtype=np.float32)
    with tf.Session() as sess:
        for _ in range(2):
            r = sess.run(y, {x: a})
            assert not np.shares_memory(r, a)
            r[...] = 99
            np.testing.assert_array_equal(a, np.arange(4, dtype=np.float32))
        r = sess.run(x, {x: a})    # the fed tensor itself
        assert not np.shares_memory(r, a)


def test_nested_list_keeps_its_nesting(g, mode):
    a, b = tf.constant(1.0), tf.constant(2.0)
    with tf.Session() as sess:
        assert sess.run([a, [b]]) == [1.0, [2.0]]
        assert sess.run((a, (b,))) == (1.0, (2.0,))
