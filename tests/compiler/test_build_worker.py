"""The compile process of background builds (``build_worker.py``): it compiles kernels into the
shared disk cache, reports errors instead of dying, and a build survives its loss."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import build_worker, config, plan as plan_mod
from jitgraph.compiler.disk_cache import has_compiled


@pytest.fixture
def lazy_process(tmp_path, monkeypatch):
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(tmp_path))
    build_worker._client.clear()        # workers for this cache dir
    build_worker._extra.clear()
    prev = config.set_compile_mode("lazy"), config.set_background(True), config.set_build_in("process")
    yield
    config.set_compile_mode(prev[0]), config.set_background(prev[1]), config.set_build_in(prev[2])
    for w in build_worker._client + build_worker._extra:
        if w is not None:
            w.close()
    build_worker._client.clear()
    build_worker._extra.clear()


def _plan_sources(sess):
    plan = next(p for p in sess._plans._plans.values() if p.compiled)
    return next(iter(plan.compiled.values())).sources


def test_background_build_compiles_in_the_worker_then_loads(lazy_process):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None])
        y = tf.exp(x) * 3.0 - tf.sigmoid(x * 0.25)      # a kernel of its own
    xv = np.linspace(-2, 2, 7).astype(np.float32)
    want = np.exp(xv) * 3 - 1 / (1 + np.exp(-xv * 0.25))
    with tf.Session(graph=g) as sess:
        for _ in range(3):
            np.testing.assert_allclose(sess.run(y, {x: xv}), want, rtol=1e-5)
        plan_mod.wait_for_builds()
        w = build_worker.worker()
        assert w is not None and w.alive()
        assert all(has_compiled(src) for src in _plan_sources(sess))   # the worker wrote them
        np.testing.assert_allclose(sess.run(y, {x: xv}), want, rtol=1e-5)
        assert sess.cache_info()["compiles"] == 1


def test_a_build_shares_its_compiles_among_compile_processes(lazy_process, monkeypatch):
    """With ``JITGRAPH_COMPILE_PROCESSES=2`` one build's kernels and library warm-ups go to two
    processes (each gets requests, an op type's warm-ups stay together), everything lands on
    disk, and the compiled plan gives the reference's values."""
    monkeypatch.setenv("JITGRAPH_COMPILE_PROCESSES", "2")
    served = {}
    real_req = build_worker.Worker.request

    def request(self, *msg):
        served.setdefault(id(self), []).append(msg[0] if msg[0] == "kernel" else msg[1])
        return real_req(self, *msg)
    monkeypatch.setattr(build_worker.Worker, "request", request)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 8, 8, 3])
        k = tf.constant(np.linspace(-1, 1, 3 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 3, 4))
        h = tf.nn.relu(tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME")) * 1.5 + 0.25
        y = tf.nn.max_pool(tf.tanh(h) - tf.exp(-h), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        z = tf.reduce_sum(tf.sigmoid(y) * 3.0, axis=[1, 2])
    xv = np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype(np.float32)
    with tf.Session(graph=g) as sess:
        want = sess.run([y, z], {x: xv})                # the reference executor's first run
        for _ in range(2):
            sess.run([y, z], {x: xv})
        plan_mod.wait_for_builds()
        got = sess.run([y, z], {x: xv})
        assert all(has_compiled(src) for src in _plan_sources(sess))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len(served) == 2, served                      # both processes compiled something
    warm_types = {op for ops in served.values() for op in ops if op != "kernel"}
    assert warm_types, served
    for op in warm_types:                                # each op type's warm-ups in one process
        assert sum(op in ops for ops in served.values()) == 1, served


def test_processes_leave_half_the_cpus_to_the_run(monkeypatch):
    monkeypatch.delenv("JITGRAPH_COMPILE_PROCESSES", raising=False)
    for cpus, want in ((1, 1), (2, 1), (4, 2), (8, 4), (64, 4)):
        monkeypatch.setattr(build_worker.os, "sched_getaffinity", lambda pid, n=cpus: set(range(n)))
        assert build_worker.processes() == want
    monkeypatch.setenv("JITGRAPH_COMPILE_PROCESSES", "3")
    assert build_worker.processes() == 3


def test_worker_reports_errors_and_keeps_serving(lazy_process):
    w = build_worker.worker()
    reply = w.request("kernel", "this is not python(", [("<f4", 1)])
    assert reply[0] == "error" and "SyntaxError" in reply[1]
    assert w.request("warm", "NoSuchOp", {}, [])[0] == "error"
    assert w.alive()


def test_a_dead_worker_does_not_break_the_build(lazy_process, monkeypatch):
    w = build_worker.worker()
    w.close()                                          # the process is gone
    with pytest.raises(OSError):
        w.request("kernel", "x = 1", [])

    def dead(self, *msg):
        raise OSError("jitgraph compile process failed: gone")
    monkeypatch.setattr(build_worker.Worker, "request", dead)   # every worker dies on use
    g = tf.Graph()
    with g.as_default():
        v = tf.Variable(1.0)
        step = v.assign(tf.log(v + 1.0) * 2.0 + 0.5)
    with tf.Session(graph=g) as sess:
        sess.run(v.initializer)
        got = [sess.run(step) for _ in range(4)]
        plan_mod.wait_for_builds()
        got += [sess.run(step) for _ in range(2)]
    want, val = [], 1.0
    for _ in range(6):
        val = np.float32(np.log(np.float32(val) + 1) * 2 + 0.5)
        want.append(val)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_library_steps_warmed_once_are_not_sent_again(lazy_process, monkeypatch):
    """A warm request that succeeded is recorded in the cache dir: the next build with the same
    steps sends none, and with every kernel on disk too it does not start the process at all."""
    from jitgraph.compiler import pipeline
    preps, sent = [], []
    real_pre, real_req = pipeline.precompile, build_worker.Worker.request
    monkeypatch.setattr(plan_mod, "precompile", lambda prep: preps.append(prep) or real_pre(prep))
    monkeypatch.setattr(build_worker.Worker, "request", lambda self, *m: sent.append(m[0]) or real_req(self, *m))
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 9, 9, 3])
        k = tf.constant(np.linspace(-1, 1, 3 * 3 * 3 * 5, dtype=np.float32).reshape(3, 3, 3, 5))
        y = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME")) * 1.5 + 0.25,
                           [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    xv = np.random.default_rng(0).standard_normal((2, 9, 9, 3)).astype(np.float32)
    with tf.Session(graph=g) as sess:
        for _ in range(3):
            sess.run(y, {x: xv})
        plan_mod.wait_for_builds()
    assert preps and "warm" in sent
    build_worker._client[0].close()
    build_worker._client.clear()
    sent.clear()
    assert pipeline.precompile(preps[0]) is True
    assert sent == [] and not build_worker._client     # nothing sent, no process started


def test_a_native_loop_compiles_in_the_worker_while_its_calls_run_the_reference(lazy_process):
    """A lazy plan's native loop is compiled for its first call's types by the compile process
    (P9's loops took 12 s, the whole time in one step); until that is done the loop's calls run
    the reference loop, then the loop loads from the disk cache."""
    from jitgraph.compiler.loop_runner import Runner
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.Variable(np.full((3, 3), 0.3, np.float32))
        loop = tf.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))), [0, x])
        h = loop[1]
        dw = tf.gradients(tf.reduce_sum(h), w)[0]
        init = tf.global_variables_initializer()
    xv = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    with tf.Session(graph=g) as sess:
        sess.run(init)
        first = sess.run([h, dw], {x: xv})
        for _ in range(40):
            got = sess.run([h, dw], {x: xv})
            np.testing.assert_allclose(got[0], first[0], rtol=1e-6)
            np.testing.assert_allclose(got[1], first[1], rtol=1e-5, atol=1e-6)
            plan_mod.wait_for_builds()                # the plan's build, then the loops' compiles
            loops = sess.cache_info()["loops"]
            if len(loops) == 2 and all(v["tier"] == "native" for v in loops.values()):
                break
    assert len(loops) == 2 and all(v["tier"] == "native" for v in loops.values()), loops
    for op in g.get_operations():
        if op.type in ("While", "WhileGrad"):
            ran = [r for r in op.get_attr("spec").__dict__.get("native", {}).values()
                   if isinstance(r, Runner) and not r.first]
            assert len(ran) == 1 and ran[0].pending and ran[0].pending.is_set()    # compiled by the worker
    assert all(f.name.startswith("loop-") for f in build_worker._warmed_dir().iterdir())
