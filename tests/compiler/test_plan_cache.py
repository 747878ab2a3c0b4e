"""Plan cache, tiering, make_callable, disk cache across processes, golden kernel source."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import assert_no_recompile, config

GOLDEN = pathlib.Path(__file__).parent.parent / "golden"


@pytest.fixture
def mode():
    prev = config.compile_mode()
    yield config.set_compile_mode
    config.set_compile_mode(prev)


def _counter_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.Variable(0.0, name="counter")
        inc = c.assign_add(1.0)
    return g, c, inc


def test_lazy_tier_runs_reference_first_then_compiles_once(mode):
    mode("lazy")
    prev = config.set_background(False)
    try:
        g, c, inc = _counter_graph()
        with tf.Session(graph=g) as sess:
            sess.run(c.initializer)
            sess.run(inc.op)
            assert sess.cache_info()["compiles"] == 0
            assert any("lazy tier" in r for r in sess.cache_info()["miss_reasons"])
            sess.run(inc.op)
            assert sess.cache_info()["compiles"] == 1
            with assert_no_recompile():
                for _ in range(50):
                    sess.run(inc.op)
            assert sess.run(c) == 52.0
    finally:
        config.set_background(prev)


def test_lazy_tier_builds_in_the_background_and_runs_on_meanwhile(mode, tmp_path, monkeypatch):
    from jitgraph.compiler import build_stats, plan as plan_mod
    from jitgraph.kernels import blas
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(tmp_path))   # cold: a compile, worth a background build
    mode("lazy")
    g = tf.Graph()
    with g.as_default():
        c = tf.Variable(0.0, name="counter")
        inc = c.assign_add(tf.tanh(c) * 0.0 + 1.0)   # a kernel no other test compiled
    gate = __import__("threading").Event()
    plan_mod._builder.submit(gate.wait)               # hold the builder: the build must queue
    try:
        with tf.Session(graph=g) as sess:
            sess.run(c.initializer)
            spared = []
            spare_core = blas.spare_core
            monkeypatch.setattr(blas, "spare_core", lambda *a: (spared.append(1), spare_core(*a))[1])
            values = [sess.run(inc) for _ in range(5)]  # 1 reference run, then building, still running
            assert values == [1.0, 2.0, 3.0, 4.0, 5.0]
            assert len(spared) == 4                     # the runs beside the build leave it a core
            assert sess.cache_info()["compiles"] == 0
            assert any("in the background" in r for r in sess.cache_info()["miss_reasons"])
            gate.set()
            plan_mod.wait_for_builds()
            assert sess.cache_info()["compiles"] == 1
            assert [sess.run(inc) for _ in range(3)] == [6.0, 7.0, 8.0]   # compiled now, same counts
            plan = next(p for p in sess._plans._plans.values() if p.compiled)
            assert plan.run is next(iter(plan.compiled.values())).run     # swapped in: the hot path
            kernels = sess.cache_info()["kernels"]
            assert kernels == build_stats.snapshot() and kernels["compiled"] + kernels["loaded"] >= 1
    finally:
        gate.set()


def test_never_mode_does_not_compile(mode):
    mode("never")
    g, c, inc = _counter_graph()
    with tf.Session(graph=g) as sess:
        sess.run(c.initializer)
        for _ in range(3):
            sess.run(inc)
        assert sess.cache_info()["compiles"] == 0 and sess.run(c) == 3.0


def test_make_callable_is_prebound_and_counts_no_misses(mode):
    mode("eager")
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None])
        v = tf.Variable(np.zeros(3, np.float32))
        y = x * 2.0 + 1.0
        step = v.assign_add(tf.ones([3]))
        with tf.Session() as sess:
            sess.run(v.initializer)
            f = sess.make_callable(y, [x])
            s = sess.make_callable(step.op)
            f(np.ones(4, np.float32))
            s()
            with assert_no_recompile():
                for n in (2, 5, 9):
                    np.testing.assert_array_equal(f(np.arange(n, dtype=np.float32)), np.arange(n) * 2.0 + 1.0)
                assert s() is None
            np.testing.assert_array_equal(sess.run(v), 2.0)
            with pytest.raises(TypeError):
                f()


def test_assert_no_recompile_fails_on_a_new_plan(mode):
    mode("eager")
    g, c, inc = _counter_graph()
    with tf.Session(graph=g) as sess:
        sess.run(c.initializer)
        with pytest.raises(AssertionError, match="new fetch set"):
            with assert_no_recompile():
                sess.run(inc)


def test_compile_failure_falls_back_to_reference_with_a_reason(mode, monkeypatch):
    mode("eager")
    from jitgraph.compiler import plan as plan_mod

    def boom(*a, **k):
        raise RuntimeError("numba said no")
    monkeypatch.setattr(plan_mod, "build_compiled", boom)
    prev = config.set_strict(False)
    try:
        g, c, inc = _counter_graph()
        with tf.Session(graph=g) as sess:
            sess.run(c.initializer)
            assert sess.run(inc) == 1.0 and sess.run(inc) == 2.0
            assert any("numba said no" in r for r in sess.cache_info()["fallbacks"])
    finally:
        config.set_strict(prev)


_CHILD = r"""
import numpy as np, jitgraph as tf
from jitgraph.compiler import config, disk_cache
config.set_compile_mode("eager")
g = tf.Graph()
with g.as_default():
    x = tf.placeholder(tf.float32, [None])
    y = tf.nn.relu(x * 3.0 - 1.0) + tf.tanh(x)
    with tf.Session() as sess:
        out = sess.run(y, {x: np.array([0.0, 1.0, -2.0], np.float32)})
st = disk_cache.cache_stats()
print(st["numba_cache_hits"], st["numba_cache_misses"], float(out.sum()))
"""


def test_a_new_process_loads_kernels_from_disk(tmp_path):
    env = dict(os.environ, JITGRAPH_CACHE_DIR=str(tmp_path), JITGRAPH_CACHE="1")
    runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    first, second = (r.stdout.split() for r in runs)
    assert first[1] != "0" and second == [second[0], "0", first[2]]   # 2nd process: no compile
    assert int(second[0]) >= 1


def _kernel_sources():
    """Generated kernels of a few reference graphs (W1, W2, W3 shapes)."""
    prev = config.set_compile_mode("eager")
    try:
        out = {}
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [None])
            w = tf.Variable(np.ones(4, np.float32))
            b = tf.Variable(np.zeros(4, np.float32))
            y = tf.nn.relu(x * w + b) * 0.5 + tf.tanh(x)
            v = tf.Variable(np.ones(4, np.float32))
            s = tf.reduce_sum(tf.square(v - tf.reduce_mean(v)))
            gr = tf.Variable(np.ones(4, np.float32))
            upd = v.assign_add(0.1 * gr)
            init = tf.global_variables_initializer()
            with tf.Session() as sess:
                sess.run(init)
                for name, fetch, feeds in (("w1", y, {x: np.ones(4, np.float32)}), ("w2", s, None),
                                           ("w3", upd.op, None)):
                    sess.run(fetch, feeds)
                    plan = [p for p in sess._plans._plans.values() if fetch in p.fetch_tensors + p.targets][0]
                    out[name] = "\n# ----\n".join(next(iter(plan.compiled.values())).sources)
        return out
    finally:
        config.set_compile_mode(prev)


def test_golden_kernel_source():
    """Codegen changes show up in review: regenerate with JITGRAPH_UPDATE_GOLDEN=1."""
    for name, src in _kernel_sources().items():
        path = GOLDEN / f"{name}_kernels.py.txt"
        if os.environ.get("JITGRAPH_UPDATE_GOLDEN") or not path.exists():
            GOLDEN.mkdir(exist_ok=True)
            path.write_text(src)
        assert src == path.read_text(), f"generated source for {name} changed; see {path}"


@pytest.mark.parametrize("runs, ref_s, loads_only, background", [
    (2.0, 0.1, False, False), (4.0, 0.1, False, True), (4.0, 0.1, True, False), (19.0, 0.1, True, False),
    (21.0, 0.1, True, True), (45.0, 0.01, True, False), (55.0, 0.01, True, True)])
def test_lazy_tier_builds_in_the_run_under_three_reference_runs(mode, monkeypatch, runs, ref_s, loads_only, background):
    """A build expected to take ``runs`` reference runs of ``ref_s``: under ``plan.SYNC_RUNS`` (3)
    the second run builds it, above it the build goes to the background (beyond 0.1 s, the flat
    budget), unless it only loads from the disk cache within ``plan.SYNC_LOAD_S`` (2 s) and
    ``plan.SYNC_LOAD_RUNS`` (50) reference runs."""
    from jitgraph.compiler import pipeline, plan as plan_mod
    mode("lazy")
    g, c, inc = _counter_graph()
    real_miss = plan_mod.Plan._miss

    def miss(self, key, sig, state, feeds):
        if key in self._ref_seconds:
            self._ref_seconds[key] = ref_s             # as if the first (reference) run took ref_s
        return real_miss(self, key, sig, state, feeds)
    monkeypatch.setattr(plan_mod.Plan, "_miss", miss)
    monkeypatch.setattr(pipeline.Prepared, "expected_build_seconds", lambda prep: runs * ref_s)
    monkeypatch.setattr(pipeline.Prepared, "loads_only", lambda prep: loads_only)
    gate = __import__("threading").Event()
    plan_mod._builder.submit(gate.wait)               # hold the builder: a background build must queue
    try:
        with tf.Session(graph=g) as sess:
            sess.run(c.initializer)
            sess.run(inc.op)
            sess.run(inc.op)
            assert (sess.cache_info()["compiles"] == 0) == background
            assert any("in the background" in r for r in sess.cache_info()["miss_reasons"]) == background
            gate.set()
            plan_mod.wait_for_builds()
            assert sess.cache_info()["compiles"] == 1 and sess.run(c) == 2.0
    finally:
        gate.set()


def test_a_first_build_counts_numbas_start_up(monkeypatch):
    """A process's first kernel build pays for Numba's start (import and CPU-target registries,
    ~0.6 s): ``expected_build_seconds`` adds ``NUMBA_FIRST_USE_S`` until Numba has started, so a
    warm-cache start of a graph with quick reference runs loads in the background instead of
    stalling its second run."""
    from jitgraph.compiler import build_stats, disk_cache, pipeline
    prep = pipeline.Prepared(sources={"k1": ("source one", None), "k2": ("source two", None)})
    monkeypatch.setattr(disk_cache, "is_loaded", lambda src: False)
    monkeypatch.setattr(disk_cache, "has_compiled", lambda src: True)
    load = build_stats.mean_seconds("loaded")
    monkeypatch.setattr(pipeline, "numba_started", lambda: False)
    assert prep.expected_build_seconds() == pytest.approx(2 * load + pipeline.NUMBA_FIRST_USE_S)
    monkeypatch.setattr(pipeline, "numba_started", lambda: True)
    assert prep.expected_build_seconds() == pytest.approx(2 * load)


def test_background_builds_run_with_a_short_switch_interval():
    """Loading kernels releases and retakes the GIL thousands of times; beside a thread running
    reference steps each retake waited up to the default 5 ms (a warm C2 CNN start swapped in after
    2.5 s or never in 100 runs, 0.8 s with the short interval)."""
    import sys
    from jitgraph.compiler import plan as plan_mod
    before = sys.getswitchinterval()
    seen = []
    plan_mod._builder.submit(lambda: seen.append(sys.getswitchinterval()))
    plan_mod.wait_for_builds()
    assert seen == [min(before, plan_mod.SWITCH_INTERVAL_S)] and sys.getswitchinterval() == before
    assert not plan_mod._builder.busy()


def test_a_build_loads_only_when_its_kernels_are_on_disk(mode, tmp_path, monkeypatch):
    """``compile_work``: a first process compiles a new kernel, a second finds it on disk."""
    from jitgraph.compiler import pipeline
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(tmp_path))
    g = tf.Graph()
    with g.as_default():
        c = tf.Variable(1.0, name="counter")
        inc = c.assign(tf.sinh(c) * 0.5 + 0.25)       # a kernel no other test compiled
    prep = pipeline.prepare_plan([inc], [], [], ())
    assert not prep.loads_only() and pipeline.compile_work(prep)[0]
    mode("eager")
    with tf.Session(graph=g) as sess:
        sess.run(c.initializer)
        sess.run(inc)
    prep = pipeline.prepare_plan([inc], [], [], ())
    assert prep.loads_only()
    from jitgraph.compiler import disk_cache
    monkeypatch.setattr(disk_cache, "_memo", {})       # as a new process: not loaded, but on disk
    assert not any(disk_cache.is_loaded(src) for src, _ in prep.sources.values()) and prep.loads_only()
