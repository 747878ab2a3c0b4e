"""Tapes: the values a loop or cond records for its gradient, passed as one ``variant`` output.

``tf.gradients`` of a ``While``/``If`` appends the forward tensors its gradient ops read to the
op's ``recorded`` list (TF1 pushes them on stacks inside the forward loop); each run then
records them: a ``CondTape`` holds the taken branch and its values, a ``LoopTape`` holds, per
recorded tensor, its value in every iteration (a Python list, or a dense ``[n, ...]`` array when a
compiled loop stacked it).
"""

import numpy as np


def box(obj):
    """A 0-d object array holding ``obj``: how ``variant`` values travel between ops."""
    a = np.empty((), dtype=object)
    a[()] = obj
    return a


def unbox(a):
    return a[()] if isinstance(a, np.ndarray) else a


class CondTape:
    __slots__ = ("branch", "values")

    def __init__(self, branch, values):
        self.branch, self.values = branch, values


class LoopTape:
    """``n`` iterations; ``stacks[j]``: the values of recorded tensor j, one per iteration."""

    __slots__ = ("n", "stacks")

    def __init__(self, n, stacks):
        self.n, self.stacks = n, stacks

    def value(self, j, k):
        return self.stacks[j][k]

    def dense(self, j):
        """Stack j as one array ``[n, ...]`` (the compiled backward loop reads rows of it)."""
        s = self.stacks[j]
        if isinstance(s, np.ndarray) and s.dtype != object:
            return s[:self.n]
        return np.stack([np.asarray(v) for v in s[:self.n]]) if self.n else None
