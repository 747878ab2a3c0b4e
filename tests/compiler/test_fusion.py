"""Fusion shapes and in-place state: what becomes one kernel, and compiled == reference."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


pytestmark = pytest.mark.usefixtures("eager_strict")


def _compiled(sess, fetches, feeds=None):
    """Run once and return the plan's ``Compiled`` for the (only) signature."""
    sess.run(fetches, feeds)
    from jitgraph.runtime.session import _fast_key
    entry = sess._fast[_fast_key(fetches)]
    runner = entry[2][tuple(feeds)] if feeds else entry[1]
    return next(iter(runner.plan.compiled.values()))


def _reference(fetches, feeds, graph, init=None, runs=1):
    """The reference executor's values of the last of ``runs`` runs (after ``init``)."""
    with tf.Session(graph=graph) as ref:
        prev = config.set_compile_mode("never")
        try:
            if init is not None:
                ref.run(init)
            for _ in range(runs - 1):
                ref.run(fetches, feeds)
            return ref.run(fetches, feeds)
        finally:
            config.set_compile_mode(prev)


def test_twenty_op_elementwise_chain_is_one_kernel():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = x
        for i in range(20):
            y = (y * 1.01 + 0.5) if i % 2 else tf.maximum(y, -1.0)
        with tf.Session() as sess:
            xv = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
            c = _compiled(sess, y, {x: xv})
            assert c.num_kernels == 1
            np.testing.assert_allclose(sess.run(y, {x: xv}), _reference(y, {x: xv}, g), rtol=1e-5)


def test_w1_graph_is_one_kernel():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [64])
        w = tf.Variable(np.linspace(-1, 1, 64).astype(np.float32))
        b = tf.Variable(np.full(64, 0.25, np.float32))
        y = tf.nn.relu(x * w + b) * 0.5 + tf.tanh(x)
        init = tf.global_variables_initializer()
        xv = np.linspace(-3, 3, 64).astype(np.float32)
        with tf.Session() as sess:
            sess.run(init)
            c = _compiled(sess, y, {x: xv})
            assert c.num_kernels == 1 and len(c.steps) == 1
            np.testing.assert_allclose(sess.run(y, {x: xv}), _reference(y, {x: xv}, g, init), rtol=1e-5, atol=1e-6)


def test_reduction_fuses_with_its_producers_and_assign_is_in_place():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4))
        gr = tf.Variable(np.ones((3, 4), np.float32))
        s = tf.reduce_sum(v * v + 1.0)
        rows = tf.reduce_max(v - 2.0, axis=1)
        upd = v.assign_add(0.5 * gr)
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            c = _compiled(sess, [s, rows])
            assert c.num_kernels == 1
            got = sess.run([s, rows])
            want = _reference([s, rows], None, g, init)
            np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
            np.testing.assert_array_equal(got[1], want[1])
            buf = sess._state.store.get(v.op if hasattr(v, "op") else v)
            c = _compiled(sess, upd.op)
            assert c.num_kernels == 1
            sess.run(upd.op)
            assert sess._state.store.get(v.op) is buf        # written in place
            np.testing.assert_array_equal(buf, np.arange(12, dtype=np.float32).reshape(3, 4) + 1.0)


def test_fetched_values_never_alias_variable_buffers():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.zeros(8, np.float32))
        inc = v.assign_add(np.ones(8, np.float32))
        with tf.Session() as sess:
            sess.run(v.initializer)
            a = sess.run(inc)
            b = sess.run(inc)
            r = sess.run(v)
            sess.run(inc)
            np.testing.assert_array_equal(a, 1.0)
            np.testing.assert_array_equal(b, 2.0)
            np.testing.assert_array_equal(r, 2.0)


def test_program_order_reads_around_in_place_writes():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.array([1.0, 2.0], np.float32))
        before = v * 10.0                 # read created before the assign: sees the old value
        up = v.assign(v * 3.0)
        after = tf.identity(up) + 0.0     # read after: sees the new value
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            got = sess.run([before, after])
        want = _reference([before, after], None, g, init)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], [10.0, 20.0])
        np.testing.assert_array_equal(got[1], [3.0, 6.0])


def test_failing_run_leaves_variables_as_they_were():
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(np.array([5, 6], np.int32))
        d = tf.placeholder(tf.int32, [2])
        up = v.assign_add(np.array([1, 1], np.int32))
        with tf.control_dependencies([up]):
            bad = tf.floordiv(tf.identity(v), d)     # NumPy step after the in-place write
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(bad, {d: np.array([1, 0], np.int32)})
            np.testing.assert_array_equal(sess.run(v), [5, 6])
            np.testing.assert_array_equal(sess.run(bad, {d: np.array([2, 1], np.int32)}), [3, 7])


def test_uninitialized_read_raises_before_any_write():
    g = tf.Graph()
    with g.as_default():
        a = tf.Variable(np.zeros(3, np.float32), name="a")
        b = tf.Variable(np.zeros(3, np.float32), name="b")
        up = a.assign_add(np.ones(3, np.float32))
        both = tf.group(up, b.assign_add(np.ones(3, np.float32)))
        with tf.Session() as sess:
            sess.run(a.initializer)
            with pytest.raises(tf.errors.FailedPreconditionError, match="b"):
                sess.run(both)
            np.testing.assert_array_equal(sess.run(a), 0.0)


def test_new_batch_size_does_not_recompile_and_broadcasting_is_correct():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        r = tf.placeholder(tf.float32, [None, 1])
        y = tf.reduce_sum(tf.tanh(x * r) - 1.0, axis=1)
        with tf.Session() as sess:
            feeds = lambda n: {x: np.full((n, 4), 0.5, np.float32), r: np.arange(n, dtype=np.float32)[:, None]}  # noqa: E731
            sess.run(y, feeds(3))
            want = {n: _reference(y, feeds(n), g) for n in (2, 7, 100)}
            with _no_recompile():     # same rank, no new size-1 dims: same signature
                got = {n: sess.run(y, feeds(n)) for n in (2, 7, 100)}
            for n in want:
                np.testing.assert_allclose(got[n], want[n], rtol=1e-5, atol=1e-6)
            with pytest.raises(AssertionError, match="plan cache miss"):
                with _no_recompile():
                    sess.run(tf.reduce_sum(y), feeds(2))


def _no_recompile():
    from jitgraph.compiler import assert_no_recompile
    return assert_no_recompile()


def test_variance_reads_x_once():
    g = tf.Graph()
    with g.as_default():
        xv = np.random.default_rng(1).normal(5.0, 2.0, size=(50, 8)).astype(np.float32)
        x = tf.Variable(xv)
        m = tf.reduce_mean(x)
        s = tf.reduce_sum((x - m) ** 2)
        with tf.Session() as sess:
            sess.run(x.initializer)
            c = _compiled(sess, [s, m])
            assert c.num_kernels == 1
            got = sess.run([s, m])
            want = _reference([s, m], None, g, x.initializer)
            np.testing.assert_allclose(got, want, rtol=1e-5)


def test_kernels_that_would_reach_each_other_are_not_formed():
    """Each sum shares a variable with the other variable's update, so horizontal merging alone
    would weld ``sum(a)`` into b's kernel and ``sum(b)`` into a's: two kernels that each need the
    other's result. Fusion falls back to vertical merges and the plan still compiles (strict mode
    raises otherwise)."""
    from jitgraph.compiler import fuse
    g = tf.Graph()
    with g.as_default():
        a = tf.Variable(np.ones(100, np.float32), name="a")
        b = tf.Variable(np.full(100, 2.0, np.float32), name="b")
        sa, sb = tf.reduce_sum(a), tf.reduce_sum(b)
        fetches = [tf.assign(a, a * 0.5 + sb), tf.assign(b, b * 0.5 + sa)]
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            sess.run(init)
            c = _compiled(sess, fetches)
            got = sess.run(fetches)
            assert c.num_kernels >= 2
        want = _reference(fetches, None, g, init, runs=2)
        for x, y in zip(got, want):
            np.testing.assert_allclose(x, y, rtol=1e-6)
        # the check itself: the horizontal grouping is cyclic, the vertical one is not
        from jitgraph.compiler.order import order
        from jitgraph.compiler.prune import prune
        from jitgraph.compiler.shapes import infer
        ops = prune([t for t in fetches], [], [])
        deps = order(ops)
        shapes, _ = infer(ops, [], (), lambda t: t.name, {})
        horizontal = fuse._fuse(ops, deps, shapes, set())[1]
        vertical = fuse._fuse(ops, deps, shapes, None)[1]
        assert not fuse._acyclic(ops, deps, horizontal) and fuse._acyclic(ops, deps, vertical)


def test_a_cyclic_horizontal_merge_is_undone_alone():
    """The two updates that sum each other's variable (above) beside an Adam-like update of ``w``
    whose ``m``, ``v`` and ``w`` assigns join by horizontal merges (they share ``m``, ``v`` and the
    gradient): only the merges that built the cycle's kernels are undone, ``w``'s update stays one
    kernel (it was two when a cycle anywhere dropped every horizontal merge)."""
    from jitgraph.compiler import fuse
    from jitgraph.compiler.order import order
    from jitgraph.compiler.prune import prune
    from jitgraph.compiler.shapes import infer
    g = tf.Graph()
    with g.as_default():
        a = tf.Variable(np.ones(100, np.float32), name="a")
        b = tf.Variable(np.full(100, 2.0, np.float32), name="b")
        w = tf.Variable(np.linspace(-1, 1, 64, dtype=np.float32), name="w")
        m, v = tf.Variable(np.zeros(64, np.float32), name="m"), tf.Variable(np.zeros(64, np.float32), name="v")
        sa, sb = tf.reduce_sum(a), tf.reduce_sum(b)
        fetches = [tf.assign(a, a * 0.5 + sb), tf.assign(b, b * 0.5 + sa)]
        grad = tf.sin(w) * 0.5
        m_t = tf.assign(m, m * 0.9 + grad * 0.1)
        v_t = tf.assign(v, v * 0.99 + grad * grad * 0.01)
        fetches.append(tf.assign_sub(w, 0.01 * m_t / (tf.sqrt(v_t) + 1e-8)))
        init = tf.global_variables_initializer()
    ops = prune(fetches, [], [])
    deps = order(ops)
    shapes, _ = infer(ops, [], (), lambda t: t.name, {})
    assert not fuse._acyclic(ops, deps, fuse._fuse(ops, deps, shapes, set())[1])
    kernels, kernel_of = fuse.fuse(ops, deps, shapes)
    assert fuse._acyclic(ops, deps, kernel_of)
    writes = [op for op in ops if op.type.startswith("Assign") and op.inputs[0].op in (w.op, m.op, v.op)]
    assert len(writes) == 3 and len({id(kernel_of[op]) for op in writes}) == 1
    vertical = fuse._fuse(ops, deps, shapes, None)[1]
    assert len({id(vertical[op]) for op in writes}) == 2
    with g.as_default():
        with tf.Session() as sess:
            sess.run(init)
            got = [sess.run(fetches) for _ in range(3)][-1]
    want = _reference(fetches, None, g, init, runs=3)
    for x, y in zip(got, want):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_a_cycle_left_after_vertical_fusion_splits_only_its_own_kernels():
    """A VAE's reparameterization: ``z_std``'s kernel and the noise ``random_normal(shape(z_std))``
    scaled in ``z_mean``'s kernel, which ``z_std``'s kernel reads back: two kernels that reach each
    other through the Shape and the random op. Only kernels of that cycle are split; the RMSProp
    update of each weight stays one kernel (it was one per op when every kernel was split)."""
    from jitgraph.compiler import fuse
    from jitgraph.compiler.order import order
    from jitgraph.compiler.prune import prune
    from jitgraph.compiler.shapes import infer
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(3)
        x = tf.placeholder(tf.float32, [None, 6])
        w_mean = tf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2), name="w_mean")
        w_std = tf.Variable(np.linspace(1, -1, 12, dtype=np.float32).reshape(6, 2), name="w_std")
        b_mean, b_std = tf.Variable(np.zeros(2, np.float32)), tf.Variable(np.full(2, 0.5, np.float32))
        z_mean, z_std = tf.matmul(x, w_mean) + b_mean, tf.matmul(x, w_std) + b_std
        z = z_mean + tf.exp(z_std / 2) * tf.random_normal(tf.shape(z_std), dtype=tf.float32, mean=0., stddev=1.0)
        decoded = tf.nn.sigmoid(tf.matmul(z, tf.constant(np.ones((2, 6), np.float32))))
        kl = -0.5 * tf.reduce_sum(1 + z_std - tf.square(z_mean) - tf.exp(z_std), 1)
        loss = tf.reduce_mean(-tf.reduce_sum(x * tf.log(1e-10 + decoded), 1) + kl)
        train = tf.train.RMSPropOptimizer(0.01).minimize(loss)
        init = tf.global_variables_initializer()
    ops = prune([loss], [train], [x])
    deps = order(ops)
    shapes, _ = infer(ops, [x], ((2, (False, False)),), lambda t: t.name, {})
    assert not fuse._acyclic(ops, deps, fuse._fuse(ops, deps, shapes, None)[1])
    kernels, kernel_of = fuse.fuse(ops, deps, shapes)
    assert fuse._acyclic(ops, deps, kernel_of)
    for w in (w_mean, w_std):     # ms, mom and the weight: one kernel, not six
        writes = [op for op in ops if op.type.startswith("Assign") and op.inputs[0].op.name.startswith(w.op.name)]
        assert len(writes) == 3 and len({id(kernel_of[op]) for op in writes}) == 1
    feed = {x: np.linspace(-2, 2, 24, dtype=np.float32).reshape(4, 6)}
    with g.as_default():
        with tf.Session() as sess:
            sess.run(init)
            got = [sess.run([loss, train], feed)[0] for _ in range(3)] + sess.run([w_mean, w_std])
        with tf.Session() as ref:
            prev = config.set_compile_mode("never")
            try:
                ref.run(init)
                want = [ref.run([loss, train], feed)[0] for _ in range(3)] + ref.run([w_mean, w_std])
            finally:
                config.set_compile_mode(prev)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_bias_add_grad_fuses_into_the_gradient_kernel(g, data_format):
    """BiasAddGrad is a reduction over all but the channel axis: it joins the kernel that
    computes the gradient instead of reading it again as a NumPy step."""
    from jitgraph.compiler.schedule import KernelStep
    x = tf.placeholder(tf.float32, [None, 3, 5, 4])
    b = tf.Variable(np.linspace(-1, 1, 3 if data_format == "NCHW" else 4, dtype=np.float32))
    y = tf.nn.bias_add(tf.tanh(x) * 2.0, b, data_format=data_format)
    db = tf.gradients(tf.reduce_sum(tf.sin(y)), b)[0]
    xv = np.random.default_rng(5).standard_normal((6, 3, 5, 4)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(b.initializer)
        comp = _compiled(sess, db, {x: xv})
        got = sess.run(db, {x: xv})
    kernels = [s for s in comp.steps if isinstance(s, KernelStep)]
    assert any("BiasAddGrad" in [o.type for o in s.ops] for s in kernels)
    assert "BiasAddGrad" not in [s.type for s in comp.steps if not isinstance(s, KernelStep)]
    np.testing.assert_allclose(got, _reference(db, {x: xv}, g, b.initializer), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype, reduce, axis, keepdims", [
    ("float32", "reduce_sum", 2, False),
    ("float32", "reduce_mean", [1, 2], True),
    ("float32", "reduce_max", -1, False),
    ("float64", "reduce_sum", -1, True),
    ("int32", "reduce_sum", 2, False),
    ("int32", "reduce_max", -1, True),
    ("int32", "reduce_prod", [1, 2], False),
])
def test_inner_dim_reduction_sums_in_a_scalar(dtype, reduce, axis, keepdims):
    """A reduction over the inner dims of its kernel accumulates in a scalar per outer iteration
    (vectorized by LLVM), with the elementwise ops around it in the same loop; same values."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(dtype, [None, 5, 33])
        if dtype == "int32":
            y = x * 3 + 1
        else:
            y = tf.nn.softplus(x) * 2.0 - tf.log1p(tf.exp(-tf.abs(x)))
        r = getattr(tf, reduce)(y, axis=axis, keepdims=keepdims)
        rng = np.random.default_rng(1)
        xv = (rng.normal(size=(4, 5, 33)) * 8).astype(dtype)
        with tf.Session() as sess:
            c = _compiled(sess, [y, r], {x: xv})
            assert c.num_kernels == 1
            assert "acc0 = " in "".join(c.sources)
            got = sess.run([y, r], {x: xv})
            want = _reference([y, r], {x: xv}, g)
            tol = dict(rtol=2e-6) if dtype == "float32" else dict(rtol=1e-12)
            for a, b in zip(got, want):
                assert a.shape == b.shape and a.dtype == b.dtype
                if dtype == "int32":
                    np.testing.assert_array_equal(a, b)
                else:
                    np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("fn, dtype, fused", [
    ("log1p", "float32", True), ("log1p", "float64", True), ("softplus", "float32", True),
    ("softplus", "float64", True), ("expm1", "float32", True), ("expm1", "float64", False),
])
def test_log1p_softplus_expm1_fuse_where_a_helper_exists(fn, dtype, fused):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(dtype, [None])
        op = tf.nn.softplus if fn == "softplus" else getattr(tf, fn)
        y = op(x * 0.5) * 3.0
        xv = np.concatenate([np.linspace(-30, 30, 61), [-0.9999, 1e-9, -1e-12, 0.0]]).astype(dtype)
        with tf.Session() as sess:
            c = _compiled(sess, y, {x: xv})
            assert (c.num_kernels == 1 and len(c.steps) == 1) == fused
            np.testing.assert_allclose(sess.run(y, {x: xv}), _reference(y, {x: xv}, g),
                                       rtol=4e-7 if dtype == "float32" else 1e-15)
