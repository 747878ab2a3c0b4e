"""``Env``: what a started pipeline's nodes share while they iterate (one per initialization)."""

import numpy as np

from jitgraph.runtime.store import SessionState


class Env:
    """The values of the captured tensors, the state the traced functions' plans run with (their
    random streams), per-node counters and memos, and what to stop when the iterator goes away."""

    def __init__(self, values, shared=None):
        self.values = values            # id(captured tensor) -> array
        if shared is None:
            shared = {"fn_state": SessionState(), "epochs": {}, "memos": {}, "closers": [],
                      "entropy": np.random.SeedSequence().entropy}
        self._shared = shared
        self.fn_state = shared["fn_state"]
        self.entropy = shared["entropy"]   # seeds the unseeded shuffles of this initialization

    def value(self, tensor):
        return self.values[id(tensor)]

    def child(self, tensors, values):
        """An environment where ``tensors`` (a nested dataset's captures) have ``values``."""
        merged = dict(self.values)
        merged.update(zip(map(id, tensors), values))
        return Env(merged, self._shared)

    def next_epoch(self, node):
        """How many times ``node`` started iterating before (0, 1, 2…): reshuffles differ per epoch."""
        epochs = self._shared["epochs"]
        n = epochs.get(id(node), 0)
        epochs[id(node)] = n + 1
        return n

    def memo(self, node):
        return self._shared["memos"].setdefault(id(node), {})

    def on_close(self, fn):
        self._shared["closers"].append(fn)

    def close(self):
        closers = self._shared["closers"]
        while closers:
            closers.pop()()


def frozen(value):
    """A read-only view of ``value``: elements that are (views of) it may be handed out many times
    (``from_tensors(x).repeat()``), so a fetched one is copied and nobody can change the pipeline."""
    a = np.asarray(value).view()
    a.flags.writeable = False
    return a
