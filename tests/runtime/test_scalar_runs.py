"""Runs of tiny (scalar) compiled plans: the per-call fast path of ``Session.run`` and
``make_callable`` (bound closures, preallocated rank-0 outputs, rank-0 operands passed to kernels
as 1-d views) must keep the contracts: fetched values never alias variable buffers, failed runs
change no variable, a replaced variable buffer is followed, concurrent runs are exact."""

import threading

import numpy as np
import pytest

import jitgraph as tf
from jitgraph import debugging
from jitgraph.compiler import config


@pytest.fixture(params=["eager", "lazy"])
def compile_mode(request):
    prev_mode, prev_strict = config.set_compile_mode(request.param), config.set_strict(True)
    yield request.param
    config.set_compile_mode(prev_mode)
    config.set_strict(prev_strict)


def _counter():
    c = tf.Variable(0.0, name="counter")
    return c, c.assign_add(1.0)


def test_fetched_scalar_never_changes_later(g, compile_mode):
    c, t = _counter()
    with tf.Session() as sess:
        sess.run(c.initializer)
        mc, mc_list = sess.make_callable(t), sess.make_callable([t, c])
        got = [sess.run(t) for _ in range(4)] + [mc() for _ in range(3)]
        pairs = [mc_list() for _ in range(2)] + [sess.run([t, c]) for _ in range(2)]
        reads = [sess.run(c) for _ in range(2)]
        sess.run(t)
        assert got == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        assert pairs == [[8.0, 8.0], [9.0, 9.0], [10.0, 10.0], [11.0, 11.0]]   # a fetched variable: after the run
        assert reads == [11.0, 11.0] and sess.run(c) == 12.0
        assert all(type(x) is np.float32 for x in got)
        assert sess.make_callable(t.op)() is None and sess.run(c) == 13.0
        if compile_mode == "eager":
            assert sess.cache_info()["compiled_plans"] >= 3


def test_replaced_variable_buffer_is_followed(g, compile_mode):
    c, t = _counter()
    with tf.Session() as sess:
        sess.run(c.initializer)
        for _ in range(3):
            sess.run(t)
        sess.run(c.initializer)              # a new buffer from the reference executor
        assert sess.run(t) == 1.0 and sess.run(t) == 2.0
        c.load(10.0, sess)
        mc = sess.make_callable(t.op)
        mc()
        assert sess.run(c) == 11.0 and sess.run(t) == 12.0


@pytest.mark.parametrize("row", ["int division by zero", "check_numerics", "huge fill"])
def test_failed_compiled_run_leaves_scalar_variables(g, compile_mode, row):
    v, u = tf.Variable(1.0, name="v"), tf.Variable(2.0, name="u")
    n = tf.placeholder(tf.int32, [])
    x = tf.placeholder(tf.float32, [])
    writes = [v.assign_add(1.0), tf.assign(u, 100.0)]
    with tf.control_dependencies(writes):
        bad, feed = {"int division by zero": (tf.constant(7) // n, {n: 0}),
                     "check_numerics": (debugging.check_numerics(tf.log(x), "bad"), {x: -1.0}),
                     "huge fill": (tf.zeros([2 ** 40]), None)}[row]
    with tf.Session() as sess:
        sess.run([v.initializer, u.initializer])
        for _ in range(3):   # the reference run (lazy tier), then the compiled one
            with pytest.raises((tf.errors.InvalidArgumentError, tf.errors.ResourceExhaustedError)):
                sess.run(writes + [bad], feed)
            assert sess.run([v, u]) == [1.0, 2.0]
        assert sess.run(writes) == [2.0, 100.0]


def test_make_callable_without_feeds_arguments_and_close(g, compile_mode):
    c, t = _counter()
    sess = tf.Session()
    sess.run(c.initializer)
    f = sess.make_callable(t)
    g_opts = sess.make_callable(t.op, accept_options=True)
    assert f() == 1.0 and g_opts(options=None, run_metadata=None) is None and f() == 3.0
    with pytest.raises(TypeError):
        f(1.0)
    assert sess.run(c) == 3.0
    sess.close()
    for call in (f, g_opts):
        with pytest.raises(RuntimeError, match="closed"):
            call()


def test_rank0_operands_of_every_kind_match_the_reference(g, compile_mode):
    """Rank-0 feeds, constants, NumPy-step results and kernel results as kernel operands, and a
    rank-0 kernel result read by a NumPy step and fetched too."""
    x = tf.placeholder(tf.float32, [])
    a = tf.placeholder(tf.float32, [3])
    v = tf.Variable(2.0, name="v")
    s = tf.reduce_sum(a * 2.0)                   # kernel, rank-0 result
    m = tf.matmul(tf.reshape(s, [1, 1]), tf.reshape(x, [1, 1]))   # NumPy step reading it
    y = tf.reshape(m, []) * x + s + v            # NumPy rank-0 result into a kernel
    upd = v.assign_add(x * 0.5)
    fetches = [s, y, m, upd, tf.reduce_mean(a, keepdims=True)]
    feed = {x: np.float32(3.0), a: np.array([1.0, 2.0, 3.0], np.float32)}
    want_s = 12.0
    with tf.Session() as sess:
        sess.run(v.initializer)
        for i in range(3):
            got = sess.run(fetches, feed)
            want_v = 2.0 + 1.5 * (i + 1)
            assert got[0] == want_s and got[2].tolist() == [[36.0]]
            assert got[1] == pytest.approx(36.0 * 3.0 + 12.0 + (want_v - 1.5))
            assert got[3] == want_v and got[4].tolist() == [2.0]
            assert np.ndim(got[0]) == 0 and np.ndim(got[1]) == 0


def test_variance_kernel_with_rank0_and_keepdims_outputs(g, compile_mode):
    x = tf.Variable(np.arange(8, dtype=np.float32), name="x")
    for keep in (False, True):
        mean = tf.reduce_mean(x, keepdims=keep)
        ss = tf.reduce_sum((x - mean) ** 2, keepdims=keep)
        with tf.Session() as sess:
            sess.run(x.initializer)
            for _ in range(2):
                got_m, got_s = sess.run([mean, ss])
                assert np.shape(got_m) == ((1,) if keep else ())
                np.testing.assert_allclose(got_m, 3.5)
                np.testing.assert_allclose(got_s, 42.0, rtol=1e-6)


def test_threads_share_one_session_through_run_and_make_callable(g, compile_mode):
    c, t = _counter()
    sess = tf.Session()
    sess.run(c.initializer)
    mc = sess.make_callable(t)
    seen, failures = [], []

    def work(k):
        try:
            mine = [float(mc() if (k + i) % 2 else sess.run(t)) for i in range(500)]
            seen.extend(mine)
        except BaseException as e:   # reported below
            failures.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    assert not failures, failures[:3]
    assert sorted(seen) == [float(i) for i in range(1, 3001)]   # every update returned its own value
    assert sess.run(c) == 3000.0
