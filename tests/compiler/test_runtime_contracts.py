"""Runtime contracts of compiled plans: allocation limits, read-only feeds, the op library's fast path."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.ops.registry import OPS, define_op, make_op


pytestmark = pytest.mark.usefixtures("eager_strict")


@pytest.mark.parametrize("mode", ["eager", "never"])
def test_huge_static_shapes_raise_resource_exhausted(mode, monkeypatch):
    """NumPy steps and kernels check ``runtime.limits`` like the reference, naming the op."""
    config.set_compile_mode(mode)
    monkeypatch.setenv("JITGRAPH_MAX_ALLOC_BYTES", str(1 << 16))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [200, 200])
        v = tf.Variable(np.ones(3, np.float32))
        small = tf.placeholder(tf.float32, [10, 10])
        mm = tf.matmul(x, x, name="big_matmul")            # NumPy step, 160 kB out
        ew = tf.nn.relu(tf.multiply(x, 2.0, name="big_mul"))   # kernel, 160 kB out
        ok = tf.matmul(small, small)                        # under the limit
        feed = {x: np.ones((200, 200), np.float32), small: np.ones((10, 10), np.float32)}
        with tf.Session() as sess:
            sess.run(v.initializer)
            for fetch, name in ((mm, "big_matmul"), (ew, "big_mul")):
                for _ in range(2):   # the compiled plan too (eager compiles on the first run)
                    with pytest.raises(tf.errors.ResourceExhaustedError, match=name):
                        sess.run([fetch, v.assign_add([1., 1., 1.])], feed)
            np.testing.assert_array_equal(sess.run(v), [1., 1., 1.])
            np.testing.assert_array_equal(sess.run(ok, feed), np.full((10, 10), 10., np.float32))
            if mode == "eager":
                assert sess.cache_info()["compiles"] >= 1


def test_dynamic_kernel_output_over_the_limit(monkeypatch):
    monkeypatch.setenv("JITGRAPH_MAX_ALLOC_BYTES", str(1 << 16))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, None])
        y = tf.nn.relu(x) + 1.0
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: np.zeros((4, 4), np.float32)}), np.ones((4, 4)))
            with pytest.raises(tf.errors.ResourceExhaustedError):
                sess.run(y, {x: np.zeros((200, 200), np.float32)})


def test_read_only_feed_makes_no_new_specialization():
    """A read-only feed (a slice of a read-only array, ``np.frombuffer``) used to compile a second
    Numba specialization of the kernel that the plan cache did not count."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.nn.relu(x * 3.0 - 1.0)
        data = np.arange(16, dtype=np.float32).reshape(4, 4)
        with tf.Session() as sess:
            want = sess.run(y, {x: data})
            sess.run(y, {x: data})
            ro = data.copy()
            ro.flags.writeable = False
            buf = np.frombuffer(data.tobytes(), np.float32).reshape(4, 4)
            assert not buf.flags.writeable
            with sess.assert_no_recompile():
                np.testing.assert_array_equal(sess.run(y, {x: ro[1:3]}), want[1:3])
                for fed in (buf, ro):
                    np.testing.assert_array_equal(sess.run(y, {x: fed}), want)
                cb = sess.make_callable(y, [x])
                np.testing.assert_array_equal(cb(buf), want)
            assert sess.cache_info()["compiles"] == 1


def test_assert_no_recompile_sees_numba_specializations():
    from jitgraph.compiler import cache
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        y = x + 1.0
        with tf.Session() as sess:
            sess.run(y, {x: np.zeros(3, np.float32)})
            kernel = sess._plans._plans[next(iter(sess._plans._plans))].compiled[None].namespace["_k0"]
            with pytest.raises(AssertionError, match="specialization"):
                with sess.assert_no_recompile():
                    # (the rank-0 constant operand is passed 1-d: codegen.SCALAR_AS_1D)
                    kernel(np.zeros(3, np.float64), np.zeros(1, np.float32), np.zeros(3, np.float64))
            assert cache


FAST_CALLS = []


def _slow(x, scale):
    return (x * scale).astype(x.dtype)


def _fast(x, scale):
    FAST_CALLS.append(x.shape)
    return np.multiply(x, scale, dtype=x.dtype)


if "TestScaleWithFastPath" not in OPS:
    define_op("TestScaleWithFastPath", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], _slow,
              kind="library", extra={"fast": _fast})
    define_op("TestScaleNoFastPath", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], _slow,
              kind="library")


@pytest.mark.parametrize("mode", ["eager", "never"])
def test_numpy_steps_use_the_library_fast_path(mode):
    """Compiled NumPy steps call ``op_def.extra['fast']`` when the op library provides it; the
    reference executor keeps the plain ``compute`` (the oracle)."""
    config.set_compile_mode(mode)
    FAST_CALLS.clear()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        a = make_op("TestScaleWithFastPath", [x], {"scale": 2.5}).outputs[0]
        b = make_op("TestScaleNoFastPath", [x], {"scale": 2.5}).outputs[0]
        out = tf.nn.relu(a) + b
        data = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
        with tf.Session() as sess:
            got = sess.run([a, out], {x: data})
    np.testing.assert_allclose(got[0], data * 2.5)
    np.testing.assert_allclose(got[1], np.maximum(data * 2.5, 0) + data * 2.5)
    assert FAST_CALLS == ([(2, 3)] if mode == "eager" else [])


def _biggest_plan(sess):
    comps = [c for p in sess._plans._plans.values() for c in p.compiled.values()]
    return max(comps, key=lambda c: c.num_kernels)


def test_conv_plans_run_owned_and_matmul_plans_do_not():
    """A step with a conv (chunk workers) runs inside ``owned`` and its large MatMul in blocks, with
    the reference's values; a step of matmuls alone keeps OpenBLAS's own threads."""
    rng = np.random.default_rng(1)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [8, 12, 12, 3])
        w = tf.Variable(rng.standard_normal((3, 3, 3, 16)).astype(np.float32) * 0.2)
        d = tf.Variable(rng.standard_normal((12 * 12 * 16, 512)).astype(np.float32) * 0.02)
        h = tf.reshape(tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")), [8, -1])
        loss = tf.reduce_sum(tf.square(tf.matmul(h, d)))
        train = tf.train.GradientDescentOptimizer(1e-4).minimize(loss)
        mlp = tf.matmul(tf.reshape(x, [8, -1]), tf.ones([432, 64]))
        xv = rng.standard_normal((8, 12, 12, 3)).astype(np.float32)
        seen = []
        from jitgraph.kernels import blas
        orig = blas.owned

        def spy():
            seen.append(1)
            return orig()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            ref_loss = sess.run(loss, {x: xv})
            sess.run(train, {x: xv})
            compiled = _biggest_plan(sess)
            assert compiled.namespace["_owns_threads"] and compiled.run.__wrapped__
            blas.owned = spy
            try:
                sess.run(train, {x: xv})
            finally:
                blas.owned = orig
            assert seen                                          # the run entered owned
            sess.run(mlp, {x: xv})
            plain = [c for p in sess._plans._plans.values() for c in p.compiled.values()
                     if c.namespace.get("_owns_threads") is False]
            assert plain and not hasattr(plain[0].run, "__wrapped__")
            assert np.isfinite(ref_loss) and sess.run(loss, {x: xv}) < ref_loss


@pytest.mark.parametrize("numba_first, layer, want", [
    (True, "workqueue", "passive"),     # set after Numba read its config: Numba still uses OpenMP
    (False, "workqueue", None),         # Numba will read it: no OpenMP pool to keep from spinning
    (False, None, "passive"),
])
def test_openmp_pool_is_kept_from_spinning(numba_first, layer, want):
    """``config.ensure_threading`` asks OpenMP not to spin whenever Numba's layer can be OpenMP,
    judged by what Numba read at its import when it is imported (a fresh process each)."""
    import os
    import subprocess
    import sys
    code = ("import os\n" + ("import numba\n" if numba_first else "")
            + (f"os.environ['NUMBA_THREADING_LAYER'] = '{layer}'\n" if layer else "")
            + "from jitgraph.compiler import config\nconfig.ensure_threading()\n"
              "print(os.environ.get('OMP_WAIT_POLICY'))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(want)


def test_a_variable_that_changed_shape_runs_on_the_reference():
    """Kernels loop over a variable's declared shape.  After an ``Assign`` with
    ``validate_shape=False`` gave it another shape (in another run), a compiled plan reading it
    hands the run to the reference executor; a plan holding such an assign is never compiled.
    Compiled code read three elements of a five-element value, or read and wrote three elements
    of a one-element buffer (beyond its end)."""
    with tf.Graph().as_default():
        v = tf.Variable([1.0, 2.0, 3.0])
        doubled = v.read_value() * 2.0
        grow = tf.assign(v, [1.0, 2.0, 3.0, 4.0, 5.0], validate_shape=False)
        with tf.control_dependencies([grow]):
            grown = v.read_value() * 2.0
        shrink = tf.assign(v, [7.0], validate_shape=False)
        with tf.control_dependencies([shrink]):
            shrunk = v.read_value() + 1.0
        add = tf.assign_add(v, tf.ones([3]))
        with tf.Session() as sess:
            sess.run(v.initializer)
            np.testing.assert_array_equal(sess.run(doubled), [2, 4, 6])
            np.testing.assert_array_equal(sess.run(grown), [2, 4, 6, 8, 10])
            np.testing.assert_array_equal(sess.run(doubled), [2, 4, 6, 8, 10])
            np.testing.assert_array_equal(sess.run(shrunk), [8])
            with pytest.raises(tf.errors.InvalidArgumentError, match="AssignAdd"):
                sess.run(add)
            np.testing.assert_array_equal(sess.run(v), [7])


def test_the_journal_saves_only_variables_written_before_a_step_that_can_fail():
    """A moving average updated in the forward pass, then a check (a step that can fail) and a
    matmul, then the weights' update: the run saves the moving average before it starts, not the
    weights, and a run that fails at the check leaves both as they were."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        w = tf.Variable(np.ones((4, 3), np.float32), name="w")
        avg = tf.Variable(0.0, name="avg")
        update_avg = tf.assign_sub(avg, 0.5 * (avg - tf.reduce_mean(x)))
        with tf.control_dependencies([update_avg]):
            checked = tf.debugging.check_numerics(x, "x has a NaN")
        loss = tf.reduce_sum(tf.square(tf.matmul(checked, w)))
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
        good = np.ones((2, 4), np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {x: good})
            plans = [c for p in sess._plans._plans.values() for c in (p.compiled or {}).values()]
            src = max(plans, key=lambda c: len(c.steps)).runner_source       # the training step's
            saved = [ln.split("=")[0].strip() for ln in src.splitlines() if ln.strip().startswith("sv")]
            assert saved == [f"sv{avg.op._id}"]
            before = sess.run([w, avg])
            bad = good.copy()
            bad[1, 2] = np.nan
            with pytest.raises(tf.errors.InvalidArgumentError, match="NaN"):
                sess.run(train, {x: bad})
            after = sess.run([w, avg])
            np.testing.assert_array_equal(after[0], before[0])
            assert after[1] == before[1]
            sess.run(train, {x: good})
            assert not np.array_equal(sess.run(w), before[0])


def test_a_kernel_over_the_allocation_limit_fails_before_any_step(monkeypatch):
    """A kernel's static allocation check runs before the run's first step: a variable updated
    after the last step that can fail (so the journal does not save it) is never half-updated."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        v = tf.Variable(0.0, name="v")
        w = tf.Variable(np.ones((4, 3), np.float32), name="w")
        first = tf.assign_add(v, 1.0)
        with tf.control_dependencies([first]):
            y = tf.matmul(x, w)                                  # a NumPy step: it can fail
        with tf.control_dependencies([y]):
            late = tf.assign_add(w, tf.ones((4, 3)))             # written after it
        p = tf.placeholder(tf.float32, [200, 200])
        with tf.control_dependencies([late]):
            big = tf.multiply(p, v, name="big_product")          # a kernel, 160 kB out
        feed = {x: np.ones((2, 4), np.float32), p: np.ones((200, 200), np.float32)}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run([y, big], feed)
            monkeypatch.setenv("JITGRAPH_MAX_ALLOC_BYTES", str(1 << 16))
            with pytest.raises(tf.errors.ResourceExhaustedError, match="big_product"):
                sess.run([y, big], feed)
            monkeypatch.delenv("JITGRAPH_MAX_ALLOC_BYTES")
            assert sess.run(v) == 1.0
            np.testing.assert_array_equal(sess.run(w), np.full((4, 3), 2.0, np.float32))
            assert sess.cache_info()["compiles"] >= 1
