"""``Plan``: one (fetches, targets, feeds) of a session, holding one compiled runner per feed
signature and the tiering policy.

Feed signature: per feed ``(ndim, size-1 flags)``; a new batch size of the same rank is the same
signature, so it does not recompile. Feeds whose static shape is fully defined are checked by
``Session`` already, so a plan with only such feeds has one signature and, once compiled, its
``run`` attribute *is* the generated runner (no dispatch at all on the hot path).

Tiering (``config.compile_mode()``):
  ``lazy`` (default): the first run of a signature uses the reference executor and is timed
  (``R``). The second run prepares the plan (the passes and the kernel sources: milliseconds,
  no Numba) and estimates its build time ``E`` from the kernels this process has not loaded yet
  (``build_stats``: the measured mean cost of a kernel load from the disk cache for kernels it
  holds, of a compile for the others). If ``E <= max(3 R, 0.1 s)`` it builds right away: the
  reference runs it would take would cost more than waiting (beside a build they run slower
  still, as the build does beside them), or the wait is too short to notice. So does a build
  that only loads from the disk cache (nothing to compile: ``compile_work``) when
  ``E <= min(SYNC_LOAD_S, 50 R)``: a warm start waits for its load instead of stretching it. Otherwise the
  build goes to a background thread and runs keep using the reference executor until the
  compiled runner swaps in; no run waits for Numba. Those reference runs hold the BLAS at one
  thread fewer per compile process (``blas.spare_core``), leaving them their cores: a cold start
  of P1 on two cores ran compiled from 15.7 s instead of 22 s, and its first 100 steps took 17.9 s
  instead of 24.4 s (P8's first 400: 21 s instead of 31 s). ``JITGRAPH_BACKGROUND=0`` builds
  synchronously on the second run instead.
  ``eager``: build on the first run, synchronously (tests and benchmarks).
  ``never``: always the reference executor.
A plan that sees more than ``config.max_signatures()`` signatures stays on the reference executor
(megamorphic). If compilation fails (Numba typing error, unsupported construct) the plan falls
back to the reference for that signature and the reason is recorded in ``cache_info()``.
Compiled and reference runs agree within float tolerance (integers exactly), so the swap is not
visible beyond rounding.

Background builds run one at a time on a daemon thread (``wait_for_builds`` joins them), with
the interpreter's switch interval at ``SWITCH_INTERVAL_S`` meanwhile: loading the kernels retakes
the GIL thousands of times, and beside reference steps each retake waited up to 5 ms. On two
cores a thread was measured against a compile process: Numba's compile releases the GIL for
LLVM's work, and the thread needs no second interpreter (1 s to start, numba imported twice).
"""

import queue
import sys
import threading
import time

from jitgraph.compiler import config
from jitgraph.compiler.pipeline import NotCompilable, build_compiled, precompile, prepare_plan
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
        self._ref_seconds = {}    # signature key -> time of its first (reference) run
        self._building = set()    # signature keys being built in the background
        self._seen_shapes = {}    # signature key -> {tensor name: (shape, dtype)} of its first run
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
                return self._run_reference(None, state, feeds)
            self._specs[None] = fn
            self.run = fn    # the hot path: Session calls the generated runner directly
        return fn(state, feeds)

    def _run_dynamic(self, state, feeds):
        sig = self.signature(feeds)
        fn = self._specs.get(sig)
        if fn is None:
            fn = self._miss(sig, sig, state, feeds)
            if fn is None:
                return self._run_reference(sig, state, feeds)
            self._specs[sig] = fn
        return fn(state, feeds)

    def _run_reference(self, key, state, feeds):
        """A reference run; the first of a signature is timed and records the values' shapes.
        While a background build compiles, the run leaves a core to each of its compile processes
        (``blas.spare_core``)."""
        if key in self._ref_seconds:
            if not _builder.busy():
                return self.reference().run(state, feeds)
            from jitgraph.compiler.build_worker import processes
            from jitgraph.kernels.blas import spare_core
            with spare_core(processes()):
                return self.reference().run(state, feeds)
        seen = self._seen_shapes.setdefault(key, {})
        t0 = time.perf_counter()
        out = self.reference().run(state, feeds, seen)
        self._ref_seconds[key] = time.perf_counter() - t0
        return out

    def _miss(self, key, sig, state, feeds):
        """Decide what a run with a new signature does; returns a runner to keep, or None to run
        the reference this time (see the module doc for the policy)."""
        mode = config.compile_mode()
        what = _describe_sig(self, sig)
        if mode == "never":
            self.stats.miss(f"{what}: compilation disabled (JITGRAPH_COMPILE=never)", count=False)
            return None
        if key in self._building:
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
            prep = prepare_plan(self.fetch_tensors, self.targets, self.feed_tensors, sig, feeds)
            ref_s = self._ref_seconds.get(key, 0.0)
            prep.seen_shapes = self._seen_shapes.get(key, {})
            expected = prep.expected_build_seconds()
            if (mode == "lazy" and config.background() and expected > max(SYNC_RUNS * ref_s, SYNC_BUDGET_S)
                    and not (expected <= min(SYNC_LOAD_S, SYNC_LOAD_RUNS * ref_s) and prep.loads_only())):
                self._building.add(key)
                self.stats.miss(f"{what}: building {prep.new_kernels} new kernel(s) in the background "
                                f"(about {expected:.2f} s; a reference run takes "
                                f"{ref_s * 1e3:.1f} ms); reference executor meanwhile", count=False)
                _builder.submit(lambda: self._build(key, what, prep, t0))
                return None
            return self._build(key, what, prep, t0)
        except NotCompilable as e:
            self.stats.fallback(f"{what}: not compiled ({e}); using the reference executor")
            return self.reference().run
        except Exception as e:   # noqa: BLE001 - correctness never depends on Numba
            if config.strict():
                raise
            self.stats.fallback(f"{what}: compile failed, using the reference executor: {type(e).__name__}: {e}")
            return self.reference().run

    def _build(self, key, what, prep, t0):
        """Build ``prep`` and install its runner for ``key`` (also when called in the background:
        the next run picks it up; a failure installs the reference executor)."""
        background = key in self._building
        try:
            try:
                if background:
                    try:
                        precompile(prep)    # in the compile process: this thread then only loads
                    except OSError:
                        pass                # no compile process: build_compiled compiles here
                compiled = build_compiled(prep)
            except Exception as e:   # noqa: BLE001 - correctness never depends on Numba
                if not background:
                    raise
                self.stats.fallback(f"{what}: compile failed, using the reference executor: "
                                    f"{type(e).__name__}: {e}")
                self._install(key, self.reference().run)
                return None
            self.compiled[key] = compiled
            self.stats.compiled(f"{what}: compiled {compiled.num_kernels} kernel(s)"
                                + (" in the background" if background else ""), time.perf_counter() - t0)
            compiled.namespace["_fallback"] = lambda st, fv, reason: self._guard_fallback(key, what, st, fv, reason)
            if background:
                self._install(key, compiled.run)
            return compiled.run
        finally:
            self._building.discard(key)   # after the install: a run in between must not rebuild

    def _install(self, key, fn):
        self._specs[key] = fn
        if key is None:
            self.run = fn

    def _guard_fallback(self, key, what, state, feeds, reason):
        """A runtime shape check of the compiled runner failed (state is as before the run): this
        signature's assumptions do not hold for these values, so it stops using compiled code and
        this run (and later ones) go to the reference executor, which gives the result or error."""
        self.stats.fallback(f"{what}: runtime shape check failed ({reason}); "
                            "this signature now runs on the reference executor")
        ref = self.reference().run
        self._install(key, ref)
        self.compiled.pop(key, None)
        return ref(state, feeds)


def _describe_sig(plan, sig):
    names = [t.name for t in plan.fetch_tensors] + [o.name for o in plan.targets]
    feeds = ", ".join(f"{t.name}:rank{s[0]}" + ("" if not any(s[1]) else f",ones{s[1]}")
                      for t, s in zip(plan.feed_tensors, sig))
    return f"fetch [{', '.join(names)}]" + (f" feeds ({feeds})" if feeds else "")


#: A build expected to take less than this runs inside the run that asked for it (a stall this
#: short is not worth a thread competing for the GIL).
SYNC_BUDGET_S = 0.1
#: ... and so does one expected to take less than this many reference runs: those runs would be
#: slower still beside the build, which the GIL slows in turn (P1's CNN with a warm kernel cache:
#: a 0.62 s build against 0.54 s reference runs took 3.2 s in the background, ~1 s in the run).
SYNC_RUNS = 3
#: A build that only loads from the disk cache, expected to take at most this long and at most
#: ``SYNC_LOAD_RUNS`` reference runs, runs in the run that asks for it. The load takes the GIL
#: thousands of times, so beside reference steps it stretches, and they slow down: a warm start
#: of P8 reached its tenth step after 1.1-1.8 s with the load in the background, 0.9-1.0 s with
#: it in the run (200 steps 3.2-3.7 s against 2.9-3.0). A graph whose reference run is quick
#: loads in the background still: the 100-op chain of C2 waited 0.37 s in its second run for
#: a load that its reference runs, 3 ms each, hardly miss.
SYNC_LOAD_S = 2.0
SYNC_LOAD_RUNS = 50


#: The interpreter's switch interval while a background build runs. Loading kernels takes and
#: releases the GIL thousands of times (every call into LLVM releases it); each time the thread
#: running reference steps kept it for up to the default 5 ms.
SWITCH_INTERVAL_S = 0.0005


class _Builder:
    """One daemon thread running background builds in submission order."""

    def __init__(self):
        self._queue = queue.Queue()
        self._thread = None
        self._lock = threading.Lock()

    def submit(self, job):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="jitgraph-builder", daemon=True)
                self._thread.start()
        self._queue.put(job)

    def _work(self):
        while True:
            job = self._queue.get()
            before = sys.getswitchinterval()
            sys.setswitchinterval(min(before, SWITCH_INTERVAL_S))
            try:
                job()
            finally:
                sys.setswitchinterval(before)
                self._queue.task_done()

    def join(self):
        self._queue.join()

    def busy(self):
        """Is a build queued or running?"""
        return self._queue.unfinished_tasks > 0


_builder = _Builder()


def wait_for_builds():
    """Block until every background build of this process has finished (tests, benchmarks)."""
    _builder.join()
