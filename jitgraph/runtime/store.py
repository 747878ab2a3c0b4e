"""Per-session state: one NumPy buffer per variable (absent = uninitialized) and one random stream
per random op."""

import threading

import numpy as np


_ABSENT = object()


class _OldRows:
    """Rows of a buffer as they were before ``update_rows`` (or a kernel, ``wrote_rows``) wrote them,
    in write order."""

    def __init__(self, buffer, rows, old):
        self.buffer, self.saved = buffer, [(rows, old)]

    def restore(self):
        for rows, values in reversed(self.saved):
            self.buffer[rows] = values
        return self.buffer


class VariableStore:
    """Variable buffers of one session, keyed by the ``VariableV2`` op.

    ``set`` records the previous buffer in the open journal so a failed run can be rolled back;
    ``update_rows`` writes rows in place and records their previous values.
    """

    def __init__(self):
        self._values = {}
        self._journal = None

    def is_initialized(self, var):
        return var in self._values

    def get(self, var):
        return self._values[var]

    def shape_of(self, var, default=None):
        v = self._values.get(var)
        if v is not None:
            return v.shape
        shape = var.get_attr("shape")
        return tuple(shape.as_list()) if shape.is_fully_defined() else default

    def set(self, var, value):
        if self._journal is not None and var not in self._journal:
            self._journal[var] = self._values.get(var)
        self._values[var] = value

    def update_rows(self, var, rows, values):
        """``buffer[rows] = values`` in the variable's own buffer; the journal keeps the old rows."""
        buf = self._values[var]
        if self._journal is not None:
            self.wrote_rows(var, rows, buf[rows])
        buf[rows] = values

    def wrote_rows(self, var, rows, old):
        """Record in the open journal that ``rows`` of the variable's buffer are being written in
        place, ``old`` their previous values (``update_rows``, or a kernel that writes them)."""
        if self._journal is None:
            return
        buf = self._values[var]
        entry = self._journal.get(var, _ABSENT)
        if entry is _ABSENT:
            self._journal[var] = _OldRows(buf, rows, old)
        elif isinstance(entry, _OldRows) and entry.buffer is buf:
            entry.saved.append((rows, old))
        # (else the journal holds the whole buffer an earlier ``set`` replaced: rollback restores it)

    def begin(self):
        """Start recording previous buffers (for ``rollback``)."""
        self._journal = {}

    def commit(self):
        self._journal = None

    def rollback(self):
        """Restore every variable written since ``begin``."""
        for var, old in (self._journal or {}).items():
            if isinstance(old, _OldRows):
                self._values[var] = old.restore()
            elif old is None:
                self._values.pop(var, None)
            else:
                self._values[var] = old
        self._journal = None

    def buffers(self):
        return self._values


class SessionState:
    """What a plan needs from its session: the variable store, random streams, a run lock."""

    def __init__(self):
        self.store = VariableStore()
        self._rngs = {}
        self.lock = threading.RLock()
        self.closed = False    # set by Session.close: runs blocked in a queue op are cancelled

    def rng(self, op):
        """The random generator of ``op`` in this session: seeded from the op's (seed, seed2),
        so equal seeds give equal streams in every process; unseeded ops draw fresh entropy."""
        gen = self._rngs.get(op.name)   # by name: the compiler's rewired copy of op shares it
        if gen is None:
            seed, seed2 = op.get_attr("seed"), op.get_attr("seed2")
            if seed == 0 and seed2 == 0:
                gen = np.random.default_rng()
            else:
                gen = np.random.default_rng(np.random.SeedSequence([seed, seed2]))
            self._rngs[op.name] = gen
        return gen
