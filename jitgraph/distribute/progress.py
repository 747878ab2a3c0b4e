"""Progress reports from a launched trainer to ``python -m jitgraph.distribute``.

The launcher gives each process a file (``JITGRAPH_PROGRESS_FILE``); ``MonitoredTrainingSession``
then adds ``ProgressHook``, which rewrites it (atomically, at most once a second) with the number
of runs this process made and the last global step it saw. The launcher prints them.
"""

import json
import os
import time

from jitgraph.train.hooks import SessionRunArgs, SessionRunHook, global_step_read

INTERVAL_SECS = 1.0


def write_progress(path, **fields):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(fields, f)
    os.replace(tmp, path)


def read_progress(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class ProgressHook(SessionRunHook):
    """Counts runs and records the global step (when the graph has one) into ``path``."""

    def __init__(self, path):
        self._path, self._runs, self._last = path, 0, 0.0
        self._step, self._global_step = None, None

    def begin(self):
        self._step = global_step_read()

    def before_run(self, run_context):
        return SessionRunArgs(self._step) if self._step is not None else None

    def after_run(self, run_context, run_values):
        self._runs += 1
        if run_values.results is not None:
            self._global_step = int(run_values.results)
        now = time.monotonic()
        if now - self._last >= INTERVAL_SECS:
            self._last = now
            self._write("running")

    def end(self, session):
        self._write("done")

    def _write(self, state):
        try:
            write_progress(self._path, runs=self._runs, global_step=self._global_step, state=state, time=time.time())
        except OSError:
            pass
