"""Common-subexpression elimination in ``simplify``: what merges, what never does, and that the
compiled results still equal the reference executor's."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.compiler.pipeline import compile_plan
from jitgraph.compiler.prune import prune
from jitgraph.compiler.schedule import KernelStep
from jitgraph.compiler.simplify import simplify

pytestmark = pytest.mark.usefixtures("eager_strict")


def _simplified(fetches, feeds=(), targets=()):
    return simplify(prune(fetches, targets, feeds), fetches, feeds)


def _kernel_op_types(fetches, feeds):
    sig = tuple((t.shape.ndims, tuple(d == 1 for d in t.shape.as_list())) for t in feeds)
    compiled = compile_plan(fetches, [], feeds, sig)
    return [o.type for s in compiled.steps if isinstance(s, KernelStep) for o in s.ops]


def _reference_run(graph, fetches, feeds=None, init=None):
    prev = config.set_compile_mode("never")
    try:
        with tf.Session(graph=graph) as ref:
            if init is not None:
                ref.run(init)
            return ref.run(fetches, feeds)
    finally:
        config.set_compile_mode(prev)


def test_repeated_subexpression_is_computed_once(g):
    x = tf.placeholder(tf.float32, [2, 3])
    y = tf.exp(x * 2.0) + tf.exp(x * 2.0)
    # Two Const 2.0, two Mul, two Exp become one each; Add reads the same Exp twice.
    assert sorted(o.type for o in _simplified([y], [x]).ops) == ["Add", "Const", "Exp", "Mul"]
    assert sorted(_kernel_op_types([y], [x])) == ["Add", "Exp", "Mul"]
    xv = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as s:
        got = s.run(y, {x: xv})
    np.testing.assert_allclose(got, 2 * np.exp(2 * xv), rtol=1e-6)


def test_equal_matmuls_merge_and_different_attrs_do_not(g):
    a = tf.placeholder(tf.float32, [3, 3])
    same = tf.matmul(a, a) + tf.matmul(a, a)
    diff = tf.matmul(a, a) + tf.matmul(a, a, transpose_b=True)
    assert [o.type for o in _simplified([same], [a]).ops].count("MatMul") == 1
    assert [o.type for o in _simplified([diff], [a]).ops].count("MatMul") == 2
    av = np.arange(9, dtype=np.float32).reshape(3, 3)
    with tf.Session() as s:
        got_same, got_diff = s.run([same, diff], {a: av})
    np.testing.assert_allclose(got_same, 2 * av @ av)
    np.testing.assert_allclose(got_diff, av @ av + av @ av.T)


def test_reads_around_an_assign_are_never_merged(g):
    v = tf.Variable(tf.zeros([3]))
    before = v + 1.0
    with tf.control_dependencies([before]):
        bump = v.assign_add(tf.ones([3]))
    with tf.control_dependencies([bump]):
        after = v + 1.0
    assert [o.name for o in _simplified([before, after]).ops].count(after.op.name) == 1
    with tf.Session() as s:
        s.run(v.initializer)
        for step in range(3):
            b, a = s.run([before, after])
            np.testing.assert_array_equal(b, np.full(3, step + 1.0, np.float32))
            np.testing.assert_array_equal(a, np.full(3, step + 2.0, np.float32))


def test_random_ops_are_never_merged(g):
    r1 = tf.random_uniform([4], seed=7)
    r2 = tf.random_uniform([4], seed=7)
    kept = {o.name for o in _simplified([r1 + r2]).ops}
    assert {r1.op.name, r2.op.name} <= kept


def test_a_random_op_rewired_by_cse_keeps_its_stream(g):
    x = tf.placeholder(tf.float32, [None, 2])
    # Both shape ops merge, so the second random op is compiled as a rewired copy; its stream must
    # still be the original op's: the lazy tier runs the original first, then the copy, and the
    # sequence must go on as on the reference executor instead of starting over.
    r1 = tf.random_uniform(tf.shape(x), seed=1)
    r2 = tf.random_normal(tf.shape(x), seed=2)
    out = x + r1 * r2
    assert [o.type for o in _simplified([out], [x]).ops].count("Shape") == 1
    xv = np.zeros((3, 2), np.float32)
    prev = config.set_compile_mode("lazy")    # run 1 on the reference, runs 2-3 compiled
    try:
        with tf.Session() as s:
            got = [s.run(out, {x: xv}) for _ in range(3)]
    finally:
        config.set_compile_mode(prev)
    prev = config.set_compile_mode("never")
    try:
        with tf.Session() as ref:
            want = [ref.run(out, {x: xv}) for _ in range(3)]
    finally:
        config.set_compile_mode(prev)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_fetched_duplicate_is_still_returned(g):
    x = tf.placeholder(tf.float32, [3])
    a, b = x * 3.0, x * 3.0
    xv = np.array([1, 2, 3], np.float32)
    with tf.Session() as s:
        got_a, got_b, total = s.run([a, b, a + b], {x: xv})
    np.testing.assert_array_equal(got_a, xv * 3)
    np.testing.assert_array_equal(got_b, xv * 3)
    np.testing.assert_array_equal(total, xv * 6)


def test_a_fed_duplicate_keeps_the_fed_value(g):
    x = tf.placeholder(tf.float32, [3])
    a, b = x * 3.0, x * 3.0
    y = tf.exp(a) + b          # b is fed below: its consumers must read the feed, not a
    xv = np.array([1, 2, 3], np.float32)
    fed_b = np.array([10, 20, 30], np.float32)
    with tf.Session() as s:
        got = s.run(y, {x: xv, b: fed_b})
    np.testing.assert_allclose(got, np.exp(3 * xv) + fed_b, rtol=1e-6)


def test_control_dependency_on_a_merged_twin_still_orders_the_write(g):
    x = tf.placeholder(tf.float32, [2])
    v = tf.Variable(tf.zeros([2]))
    first = x * 2.0
    twin = x * 2.0
    with tf.control_dependencies([twin.op]):
        store = v.assign(first + twin)
    with tf.control_dependencies([store]):
        read = tf.identity(v.read_value())
    xv = np.array([1.0, 2.0], np.float32)
    with tf.Session() as s:
        s.run(v.initializer)
        got = s.run(read, {x: xv})
    want = _reference_run(g, read, {x: xv}, init=v.initializer)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, 4 * xv)


def test_pass_through_ops_vanish_but_variable_reads_and_fetches_stay(g):
    x = tf.placeholder(tf.float32, [2, 3])
    v = tf.Variable(np.ones((2, 3), np.float32))
    read = tf.identity(v)                         # a read of the variable: an op that must run
    inner = tf.stop_gradient(tf.reshape(x * 2.0, [2, 3]))
    fetched = tf.identity(inner)
    y = tf.identity(inner) + read
    types = [o.type for o in _simplified([y, fetched], [x]).ops]
    assert "StopGradient" not in types and "Reshape" not in types
    assert types.count("Identity") == 2           # the variable read and the fetched identity
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    with tf.Session() as s:
        s.run(v.initializer)
        got_y, got_f = s.run([y, fetched], {x: xv})
    np.testing.assert_array_equal(got_y, 2 * xv + 1)
    np.testing.assert_array_equal(got_f, 2 * xv)


def test_reads_of_a_variable_merge_only_between_the_same_writes(g):
    v = tf.Variable(2.0)
    a = tf.cast(v, tf.float64) * 3.0              # read 1
    b = tf.cast(v, tf.float64) * 3.0              # read 2: no write in between -> the same value
    with tf.control_dependencies([v.assign_add(1.0)]):
        c = tf.cast(v, tf.float64) * 3.0          # after the write: a different value
    fetches = [a + b, c]
    ops = _simplified(fetches).ops
    assert sum(o.type == "Cast" for o in ops) == 2 and sum(o.type == "Mul" for o in ops) == 2
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        got = [sess.run(fetches) for _ in range(2)]
    assert got == [[12.0, 9.0], [18.0, 12.0]]
    assert list(_reference_run(g, fetches, init=init)) == got[0]
