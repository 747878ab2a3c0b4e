"""The compiler: (graph, fetches, targets, feeds) → a ``Plan`` with ``run(state, feed_values)``.

``build_plan`` is the entry point the ``Session`` calls through its ``PlanCache``.
"""

from jitgraph.compiler.prune import prune
from jitgraph.runtime.reference import ReferencePlan


def build_plan(fetch_tensors, targets, feed_tensors):
    """Prune and order the graph for one run signature and return an executable plan."""
    ops = prune(fetch_tensors, targets, feed_tensors)
    return ReferencePlan(ops, fetch_tensors, feed_tensors)


class PlanCache:
    """One plan per (fetches, targets, feeds) of a session."""

    def __init__(self, session):
        self._plans = {}
        self._misses = []
        self._hits = 0

    def get(self, fetch_tensors, targets, feed_tensors):
        key = (tuple(fetch_tensors), tuple(targets), tuple(feed_tensors))
        plan = self._plans.get(key)
        if plan is None:
            self._misses.append("new fetch/feed set")
            plan = self._plans[key] = build_plan(fetch_tensors, targets, feed_tensors)
        else:
            self._hits += 1
        return plan

    def info(self):
        return {"plans": len(self._plans), "hits": self._hits, "misses": len(self._misses),
                "miss_reasons": list(self._misses)}
