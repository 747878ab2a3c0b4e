"""The plan cache of a session, its counters, and ``assert_no_recompile``.

Key: ``(fetch tensors, target ops, feed tensors)`` in call order (graphs are append-only, so a
plan is never invalidated); each ``Plan`` then keys its compiled runners by feed signature.
``Session`` keeps a per-fetch-structure runner in front of this, so a cached ``sess.run`` never
reaches ``get``; hits here count lookups by new fetch structures and ``make_callable``.
"""

import contextlib
import threading
import weakref

from jitgraph.compiler.plan import Plan

_global_lock = threading.Lock()
_global = {"misses": 0, "events": []}
_kernels = weakref.WeakSet()   # every loaded kernel dispatcher: assert_no_recompile counts their specializations


def register_kernel(dispatcher):
    try:
        _kernels.add(dispatcher)
    except TypeError:   # pragma: no cover - not weak-referenceable
        pass


def _specializations():
    """{dispatcher: number of compiled type signatures} over live kernels."""
    out = {}
    for k in list(_kernels):
        out[k] = len(getattr(k, "signatures", ()))
    return out


class Stats:
    """Counters of one session: plans, hits, misses (with reasons), compiles and their time."""

    def __init__(self):
        self.hits = 0
        self.misses = []
        self.compiles = 0
        self.compile_time = 0.0
        self.fallbacks = []

    def miss(self, reason, count=True):
        self.misses.append(reason)
        if count:
            _record(reason)

    def compiled(self, reason, seconds):
        self.compiles += 1
        self.compile_time += seconds
        _record(reason)

    def fallback(self, reason):
        self.fallbacks.append(reason)
        _record(reason)


def _record(reason):
    with _global_lock:
        _global["misses"] += 1
        _global["events"].append(reason)
        del _global["events"][:-100]


class PlanCache:
    """One ``Plan`` per (fetches, targets, feeds) of a session."""

    def __init__(self, session=None):
        self._plans = {}
        self.stats = Stats()
        self._lock = threading.Lock()

    def get(self, fetch_tensors, targets, feed_tensors):
        key = (tuple(fetch_tensors), tuple(targets), tuple(feed_tensors))
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                names = [t.name for t in fetch_tensors] + [o.name for o in targets]
                self.stats.miss(f"new fetch set [{', '.join(names)}] with {len(feed_tensors)} feed(s)")
                plan = self._plans[key] = Plan(self.stats, fetch_tensors, targets, feed_tensors)
            else:
                self.stats.hits += 1
        return plan

    def info(self):
        s = self.stats
        return {"plans": len(self._plans), "hits": s.hits, "misses": len(s.misses),
                "miss_reasons": list(s.misses), "compiles": s.compiles,
                "compile_time_s": s.compile_time, "fallbacks": list(s.fallbacks),
                "compiled_plans": sum(1 for p in self._plans.values() if p.compiled)}


@contextlib.contextmanager
def assert_no_recompile():
    """Fail (``AssertionError``) if any plan is built, compiled or misses its cache inside the block,
    or if a kernel that had already been compiled gets another Numba specialization (a new
    argument type: the plan cache cannot see those). Background builds started before the block
    are waited for first: they are not recompiles of the block."""
    from jitgraph.compiler.plan import wait_for_builds
    wait_for_builds()
    with _global_lock:
        start = _global["misses"]
    spec0 = _specializations()
    yield
    with _global_lock:
        new = _global["misses"] - start
        events = _global["events"][max(0, len(_global["events"]) - new):] if new else []
    if new:
        raise AssertionError(f"{new} plan cache miss(es) inside assert_no_recompile(): " + "; ".join(events))
    grown = [k for k, n in _specializations().items() if 0 < spec0.get(k, 0) < n]
    if grown:
        raise AssertionError(f"{len(grown)} kernel(s) compiled another Numba specialization inside "
                             f"assert_no_recompile(): " + "; ".join(str(k.signatures[-1]) for k in grown))
