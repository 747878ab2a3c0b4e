"""Session: fetch structures, fetch by name, feeds (and every bad feed), default sessions, pruning."""

import collections

import numpy as np
import pytest

import jitgraph as tf


def test_fetch_structures_are_mirrored(g):
    a, b = tf.constant(1.0), tf.constant([2, 3])
    noop = tf.no_op()
    Pair = collections.namedtuple("Pair", "x y")
    with tf.Session() as sess:
        out = sess.run({"l": [a, (b, noop)], "p": Pair(a, {"k": b}), "e": [], "d": {}})
        assert sess.run([]) == [] and sess.run({}) == {} and sess.run(noop) is None
    assert out["l"][0] == 1.0 and isinstance(out["l"][1], tuple) and out["l"][1][1] is None
    assert isinstance(out["p"], Pair) and out["p"].y["k"].tolist() == [2, 3]
    assert out["e"] == [] and out["d"] == {}


def test_fetched_values_are_numpy_with_tf_dtypes(g):
    with tf.Session() as sess:
        f, i, s, arr = sess.run([tf.constant(1.5), tf.constant(2), tf.constant("hi"), tf.constant([1.0])])
    assert type(f) is np.float32 and type(i) is np.int32 and s == b"hi"
    assert arr.dtype == np.float32 and arr.shape == (1,)


def test_fetch_and_feed_by_name(g):
    x = tf.placeholder(tf.float32, [2], name="x")
    tf.multiply(x, 2.0, name="y")
    tf.no_op(name="op")
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run("y:0", {"x:0": [1, 2]}), [2, 4])
        assert sess.run("op") is None
        for bad in ("nope:0", "y:3", "nope"):
            with pytest.raises(ValueError):
                sess.run(bad)
        for bad in (None, 3):
            with pytest.raises(TypeError):
                sess.run(bad)


def test_bad_feeds(g):
    x = tf.placeholder(tf.float32, [2], name="x")
    y = x * 2
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="shape"):
            sess.run(y, {x: [1.0, 2.0, 3.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="x"):
            sess.run(y, {x: [1.0, 2.0, 3.0]})          # the same error is also an InvalidArgumentError
        with pytest.raises(TypeError):
            sess.run(y, {x: tf.constant([1.0, 2.0])})   # a Tensor as a value
        with pytest.raises(TypeError):
            sess.run(y, {"nope:0": [1.0, 2.0]})         # a key naming no tensor
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed a value for placeholder tensor 'x'"):
            sess.run(y)


def test_any_tensor_may_be_fed_and_placeholder_with_default(g):
    a = tf.constant(2.0)
    b = a * 3
    c = b + 1
    d = tf.placeholder_with_default(tf.constant([1.0, 1.0]), [2])
    v = tf.Variable(5.0)
    with tf.Session() as sess:
        assert sess.run(c, {b: 10.0}) == 11.0        # an intermediate
        assert sess.run(v * 2, {v: 1.0}) == 2.0      # a variable, no initialization needed
        np.testing.assert_allclose(sess.run(d), [1, 1])
        np.testing.assert_allclose(sess.run(d, {d: [3, 4]}), [3, 4])


def test_default_session_eval_and_run(g):
    x = tf.constant(3.0)
    noop = tf.no_op()
    with pytest.raises(ValueError, match="default session"):
        x.eval()
    sess = tf.Session()
    with sess.as_default():
        assert tf.get_default_session() is sess
        assert x.eval() == 3.0 and noop.run() is None
        p = tf.placeholder(tf.float32)
        assert (p + 1).eval(feed_dict={p: 1.0}) == 2.0
    assert tf.get_default_session() is None
    assert x.eval(session=sess) == 3.0
    with tf.Session() as inner:
        assert tf.get_default_session() is inner
    inter = tf.InteractiveSession()
    assert tf.get_default_session() is inter and x.eval() == 3.0
    inter.close()
    sess.close()
    with pytest.raises(RuntimeError, match="closed"):
        sess.run(x)


def test_fetching_from_another_graph_is_an_error(g):
    with tf.Graph().as_default():
        other = tf.constant(1.0)
    with tf.Session() as sess:
        with pytest.raises(ValueError):
            sess.run(other)


def test_a_run_executes_only_what_its_fetches_need(g):
    v = tf.Variable(0.0)
    inc = v.assign_add(1.0)
    x = tf.placeholder(tf.float32)
    unrelated = inc * 2          # needs the assign
    wanted = x + 1               # does not
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(wanted, {x: 1.0}) == 2.0
        assert sess.run(v) == 0.0                   # the assign was pruned away
        assert sess.run(unrelated) == 2.0 and sess.run(v) == 1.0


def test_make_callable_takes_positional_feeds(g):
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * 2)
    with tf.Session() as sess:
        f = sess.make_callable([y, x], feed_list=[x])
        out = f(np.array([1.0, 2.0], np.float32))
        assert out[0] == 6.0 and out[1].tolist() == [1.0, 2.0]
        assert f([3.0])[0] == 6.0
        with pytest.raises(TypeError):
            f()


def test_config_proto_is_accepted(g):
    with tf.device("/device:GPU:3"):
        x = tf.constant(1.0) * 2
    config = tf.ConfigProto(allow_soft_placement=True, log_device_placement=False)
    with tf.Session(config=config) as sess:
        assert sess.run(x) == 2.0
