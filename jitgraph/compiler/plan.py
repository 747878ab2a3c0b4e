"""``Plan``: one (fetches, targets, feeds) of a session, holding one compiled runner per feed
signature and the tiering policy.

Feed signature: per feed ``(ndim, size-1 flags)``; a new batch size of the same rank is the same
signature, so it does not recompile. Feeds whose static shape is fully defined are checked by
``Session`` already, so a plan with only such feeds has one signature and, once compiled, its
``run`` attribute *is* the generated runner (no dispatch at all on the hot path).

Tiering (``config.compile_mode()``): ``lazy`` runs the reference executor on the first run of a
signature and compiles on the second; ``eager`` compiles on the first; ``never`` does not compile.
A plan that sees more than ``config.max_signatures()`` signatures stays on the reference executor
(megamorphic). If compilation fails (Numba typing error, unsupported construct) the plan falls
back to the reference for that signature and the reason is recorded in ``cache_info()``.
"""

import time

from jitgraph.compiler import config
from jitgraph.compiler.pipeline import NotCompilable, compile_plan
from jitgraph.compiler.prune import prune
from jitgraph.runtime.reference import ReferencePlan


def static_signature(t):
    s = t.shape
    if s.ndims is None or not s.is_fully_defined():
        return None
    return (s.ndims, tuple(d == 1 for d in s.as_list()))


class Plan:
    """A tiered, per-signature compiled plan; ``run(state, feed_values)`` -> list of fetch values."""

    def __init__(self, stats, fetch_tensors, targets, feed_tensors):
        self.fetch_tensors, self.targets, self.feed_tensors = list(fetch_tensors), list(targets), list(feed_tensors)
        self.stats = stats
        self._reference = None
        self._specs = {}          # signature -> run function
        self._first_seen = set()
        self.compiled = {}        # signature -> Compiled (for tests / debugging)
        static = [static_signature(t) for t in self.feed_tensors]
        self._dynamic = [i for i, s in enumerate(static) if s is None]
        self._static = static
        self.run = self._run_static if not self._dynamic else self._run_dynamic

    @property
    def tier(self):
        return "compiled" if self.compiled else "reference"

    def reference(self):
        if self._reference is None:
            ops = prune(self.fetch_tensors, self.targets, self.feed_tensors)
            self._reference = ReferencePlan(ops, self.fetch_tensors, self.feed_tensors)
        return self._reference

    def signature(self, feeds):
        sig = list(self._static)
        for i in self._dynamic:
            a = feeds[i]
            sig[i] = (a.ndim, tuple(d == 1 for d in a.shape))
        return tuple(sig)

    def _run_static(self, state, feeds):
        fn = self._specs.get(None)
        if fn is None:
            fn = self._miss(None, tuple(self._static), state, feeds)
            if fn is None:
                return self.reference().run(state, feeds)
            self._specs[None] = fn
            self.run = fn    # the hot path: Session calls the generated runner directly
        return fn(state, feeds)

    def _run_dynamic(self, state, feeds):
        sig = self.signature(feeds)
        fn = self._specs.get(sig)
        if fn is None:
            fn = self._miss(sig, sig, state, feeds)
            if fn is None:
                return self.reference().run(state, feeds)
            self._specs[sig] = fn
        return fn(state, feeds)

    def _miss(self, key, sig, state, feeds):
        """Decide what a run with a new signature does; returns a runner to keep, or None to run
        the reference this time."""
        mode = config.compile_mode()
        what = _describe_sig(self, sig)
        if mode == "never":
            self.stats.miss(f"{what}: compilation disabled (JITGRAPH_COMPILE=never)", count=False)
            return None
        if len(self._specs) >= config.max_signatures():
            self.stats.miss(f"{what}: megamorphic (> {config.max_signatures()} signatures), reference executor")
            ref = self.reference().run
            return ref
        if mode == "lazy" and key not in self._first_seen:
            self._first_seen.add(key)
            self.stats.miss(f"{what}: first run on the reference executor (lazy tier)")
            return None
        t0 = time.perf_counter()
        try:
            compiled = compile_plan(self.fetch_tensors, self.targets, self.feed_tensors, sig, feeds)
        except NotCompilable as e:
            self.stats.fallback(f"{what}: not compiled ({e}); using the reference executor")
            return self.reference().run
        except Exception as e:   # noqa: BLE001 - correctness never depends on Numba
            if config.strict():
                raise
            self.stats.fallback(f"{what}: compile failed, using the reference executor: {type(e).__name__}: {e}")
            return self.reference().run
        self.compiled[key] = compiled
        self.stats.compiled(f"{what}: compiled {compiled.num_kernels} kernel(s)", time.perf_counter() - t0)
        compiled.namespace["_fallback"] = lambda st, fv, reason: self._guard_fallback(key, what, st, fv, reason)
        return compiled.run

    def _guard_fallback(self, key, what, state, feeds, reason):
        """A runtime shape check of the compiled runner failed (state is as before the run): this
        signature's assumptions do not hold for these values, so it stops using compiled code and
        this run (and later ones) go to the reference executor, which gives the result or error."""
        self.stats.fallback(f"{what}: runtime shape check failed ({reason}); "
                            "this signature now runs on the reference executor")
        ref = self.reference().run
        self._specs[key] = ref
        self.compiled.pop(key, None)
        if key is None:
            self.run = ref
        return ref(state, feeds)


def _describe_sig(plan, sig):
    names = [t.name for t in plan.fetch_tensors] + [o.name for o in plan.targets]
    feeds = ", ".join(f"{t.name}:rank{s[0]}" + ("" if not any(s[1]) else f",ones{s[1]}")
                      for t, s in zip(plan.feed_tensors, sig))
    return f"fetch [{', '.join(names)}]" + (f" feeds ({feeds})" if feeds else "")
