"""Fuzz: random valid and invalid graphs and feeds (hypothesis).

Each example builds a small program of elementwise/broadcast/reduction/reshape/matmul/cast/assign
ops on random placeholders and variables, mirrors it in NumPy (program order: a variable read sees
the assigns created before it), and runs it through ``Session`` and through the reference executor
on an identical, separate variable store. Allowed outcomes: a build error (``ValueError``/
``TypeError``), or a run that either returns the mirror's values (and leaves the mirror's variable
values) or raises an ``OpError``/``ValueError``/``TypeError`` (and leaves every variable as it was).
Session and reference must agree on the outcome. Anything else -- another exception, a crash -- fails.
"""

import collections

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jitgraph as tf
from jitgraph.runtime.reference import ReferencePlan
from jitgraph.runtime.session import check_feed
from jitgraph.runtime.store import SessionState

try:
    from jitgraph.compiler.prune import prune
except ImportError:   # pragma: no cover  (moved by the compiler)
    from jitgraph.compiler.pipeline import prune

try:   # the compiler's mode switch: "eager" compiles a plan on its first run, "never" keeps the reference
    from jitgraph.compiler import config as CONFIG
    CONFIG.set_compile_mode(CONFIG.compile_mode())
except (ImportError, AttributeError):   # pragma: no cover  (before the compiler landed)
    CONFIG = None

ALLOWED = (tf.errors.OpError, ValueError, TypeError)
DTYPES = [tf.float32, tf.float64, tf.int32, tf.int64]
BINARY = {"add": (tf.add, np.add), "sub": (tf.subtract, np.subtract), "mul": (tf.multiply, np.multiply),
          "max": (tf.maximum, np.maximum), "min": (tf.minimum, np.minimum)}
UNARY = {"neg": (tf.negative, np.negative), "abs": (tf.abs, np.abs), "square": (tf.square, np.square)}
REDUCE = {"sum": (tf.reduce_sum, np.sum), "max": (tf.reduce_max, np.max), "min": (tf.reduce_min, np.min)}
BAD = object()   # mirror marker: running this tensor must fail
STATS = collections.Counter()


def _value(draw, dtype, shape):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if dtype.is_floating:
        return rng.uniform(-3, 3, size=shape).astype(dtype.as_np)
    return rng.integers(-5, 6, size=shape).astype(dtype.as_np)


def _np(fn, *args):
    if any(a is BAD for a in args):
        return BAD
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except (ValueError, IndexError, TypeError):
        return BAD


def _build_step(draw, pool, variables):
    """Add one random op to the graph; returns (tensor, mirror value) or None."""
    kind = draw(st.sampled_from(["binary", "binary", "unary", "reduce", "reshape", "matmul", "cast",
                                 "floordiv", "transpose", "assign", "var_read", "twice"]))
    pick = lambda: draw(st.sampled_from(pool))   # noqa: E731
    if kind == "var_read" and variables:
        var, mirror = draw(st.sampled_from(variables))
        return var * 1, mirror[0]
    if kind == "binary":
        (a, av), (b, bv) = pick(), pick()
        name = draw(st.sampled_from(sorted(BINARY)))
        return BINARY[name][0](a, b), _np(lambda x, y: BINARY[name][1](x, y).astype(a.dtype.as_np), av, bv)
    if kind == "twice":   # the same op built twice and not fetched: CSE merges the two
        (a, av), (b, bv) = pick(), pick()
        name = draw(st.sampled_from(sorted(BINARY)))
        fn, ref = BINARY[name][0], BINARY[name][1]
        return tf.subtract(fn(a, b), fn(a, b)), _np(
            lambda x, y: (ref(x, y).astype(a.dtype.as_np) - ref(x, y).astype(a.dtype.as_np)), av, bv)
    if kind == "floordiv":
        (a, av), (b, bv) = pick(), pick()
        out = tf.floordiv(a, b)
        if not a.dtype.is_integer:
            return out, _np(np.floor_divide, av, bv)
        zero = _np(lambda x, y: bool((np.broadcast_to(y, np.broadcast(x, y).shape) == 0).any()), av, bv)
        return out, BAD if zero is BAD or zero else _np(np.floor_divide, av, bv)
    if kind == "unary":
        (a, av), name = pick(), draw(st.sampled_from(sorted(UNARY)))
        return UNARY[name][0](a), _np(lambda x: UNARY[name][1](x).astype(a.dtype.as_np), av)
    if kind == "reduce":
        (a, av), name = pick(), draw(st.sampled_from(sorted(REDUCE)))
        axis = draw(st.one_of(st.none(), st.integers(-4, 3)))
        keep = draw(st.booleans())
        mirror = _np(lambda x: np.asarray(REDUCE[name][1](x, axis=axis, keepdims=keep)).astype(a.dtype.as_np), av)
        if isinstance(mirror, np.ndarray) and mirror.size == 0 or (
                name != "sum" and isinstance(av, np.ndarray) and av.size == 0):
            mirror = BAD
        return REDUCE[name][0](a, axis=axis, keepdims=keep), mirror
    if kind == "reshape":
        a, av = pick()
        n = np.size(av) if av is not BAD else 1
        target = draw(st.sampled_from([[-1], [n], [1, -1], [-1, 1], [n + 1], [2, -1]]))
        return tf.reshape(a, target), _np(lambda x: np.reshape(x, target), av)
    if kind == "transpose":
        a, av = pick()
        return tf.transpose(a), _np(lambda x: np.transpose(x), av)
    if kind == "matmul":
        (a, av), (b, bv) = pick(), pick()
        ok = lambda x, y: np.matmul(x, y) if np.ndim(x) >= 2 and np.ndim(y) >= 2 else BAD  # noqa: E731
        return tf.matmul(a, b), _np(ok, av, bv)
    if kind == "cast":
        (a, av), dt = pick(), draw(st.sampled_from(DTYPES))
        return tf.cast(a, dt), _np(lambda x: x.astype(dt.as_np), av)
    if kind == "assign" and variables:
        (var, mirror), (a, av) = draw(st.sampled_from(variables)), pick()
        add = draw(st.booleans())
        out = var.assign_add(a) if add else var.assign(a)
        if av is BAD or mirror[0] is BAD or np.shape(av) != np.shape(mirror[0]):
            mirror[0] = BAD
        else:
            mirror[0] = (mirror[0] + av if add else av).astype(mirror[0].dtype)
        return out, mirror[0]
    return None


def _run_reference(graph, state, fetches, feeds):
    feed_tensors = list(feeds)
    plan = ReferencePlan(prune(fetches, [], feed_tensors), fetches, feed_tensors)
    values = [check_feed(t, t.dtype.base_dtype.as_np, t.shape, feeds[t]) for t in feed_tensors]
    with state.lock:
        return plan.run(state, values)


def _outcome(fn):
    try:
        return "ok", fn()
    except ALLOWED as e:
        return "error", e


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(got, want)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def _fuzz_case(data):
    draw = data.draw
    STATS["cases"] += 1
    if CONFIG is not None:   # about one case in four runs compiled code (compiling costs ~0.5 s)
        compiled = draw(st.integers(0, 3)) == 0
        CONFIG.set_compile_mode("eager" if compiled else "never")
        STATS["compiled cases"] += compiled
    g = tf.Graph()
    with g.as_default():
        pool, feeds, feed_ok, variables = [], {}, True, []
        for i in range(draw(st.integers(1, 3))):
            dt = draw(st.sampled_from(DTYPES))
            shape = draw(st.lists(st.integers(1, 3), max_size=3))
            static = draw(st.sampled_from(["exact", "none_dims", "unknown"]))
            ph_shape = {"exact": shape, "none_dims": [None] * len(shape), "unknown": None}[static]
            ph = tf.placeholder(dt, ph_shape, name=f"in{i}")
            value = _value(draw, dt, shape)
            fault = draw(st.sampled_from(["none"] * 8 + ["shape", "string", "missing"]))
            if fault == "shape" and static != "unknown":
                value, feed_ok = np.zeros(shape + [2], dt.as_np), False
            elif fault == "string":
                value, feed_ok = np.array(["x"] * max(1, len(shape))), False
            if fault != "missing":
                feeds[ph] = value
            else:
                feed_ok = False
            pool.append((ph, value))
        for i in range(draw(st.integers(0, 2))):
            dt = draw(st.sampled_from([tf.float32, tf.int32]))
            init = _value(draw, dt, draw(st.lists(st.integers(1, 3), max_size=2)))
            variables.append((tf.Variable(init, name=f"var{i}"), [init]))
        initial = [m[0] for _, m in variables]
        for _ in range(draw(st.integers(1, 6))):
            try:
                step = _build_step(draw, pool, variables)
            except (ValueError, TypeError):
                STATS["build errors"] += 1
                continue
            if step is not None:
                pool.append(step)
        fetches = [t for t, _ in pool]
        expect_error = not feed_ok or any(v is BAD for _, v in pool)
        sess = tf.Session()
        ref_state = SessionState()
        sess.run([v.initializer for v, _ in variables])
        for (v, _), init in zip(variables, initial):
            ref_state.store.set(v.op, np.array(init))
        got = _outcome(lambda: sess.run(fetches, feeds))
        ref = _outcome(lambda: _run_reference(g, ref_state, fetches, feeds))
        assert got[0] == ref[0], (got, ref)
        var_values = [sess.run(v) for v, _ in variables]
        if got[0] == "error":
            STATS["run errors"] += 1
            assert type(got[1]) is type(ref[1]), (got, ref)
            for value, init in zip(var_values, initial):   # a failed run changes no variable
                _same(value, init)
            return
        assert not expect_error, f"expected an error, got {got[1]}"
        STATS["value checks"] += 1
        for value, (_, want), r in zip(got[1], pool, ref[1]):
            _same(value, want)
            _same(r, want)
        for value, (_, mirror) in zip(var_values, variables):
            _same(value, mirror[0])
        sess.close()


def test_fuzz_random_graphs_never_crash():
    STATS.clear()
    prev = CONFIG.compile_mode() if CONFIG is not None else None
    try:
        _fuzz_case()
    finally:
        if CONFIG is not None:
            CONFIG.set_compile_mode(prev)
    print(f"\nfuzz: {dict(STATS)}, crashes: 0")
    assert STATS["cases"] >= 150 and STATS["value checks"] > 20 and STATS["run errors"] > 10
