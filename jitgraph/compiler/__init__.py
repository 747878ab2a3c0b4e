"""The compiler: (fetches, targets, feeds) → a ``Plan`` whose ``run(state, feed_values)`` executes
fused Numba kernels (see ``pipeline.py`` for the passes, ``plan.py`` for tiering and signatures,
``cache.py`` for the plan cache and ``config.py`` for the knobs).

Importing this package does not import Numba; it is imported when a plan is first compiled.
"""

from jitgraph.compiler import config
from jitgraph.compiler.cache_trust import guard_numba_cache_dir
from jitgraph.compiler.cache import PlanCache, assert_no_recompile
from jitgraph.compiler.plan import Plan, wait_for_builds


guard_numba_cache_dir()   # before anything imports numba: it reads NUMBA_CACHE_DIR once


def build_plan(fetch_tensors, targets, feed_tensors):
    """A tiered plan for one run signature (compiled per the ``config`` policy)."""
    from jitgraph.compiler.cache import Stats
    return Plan(Stats(), fetch_tensors, targets, feed_tensors)


__all__ = ["PlanCache", "Plan", "assert_no_recompile", "build_plan", "config", "wait_for_builds"]
