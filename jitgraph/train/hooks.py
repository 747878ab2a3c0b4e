"""The ``SessionRunHook`` protocol of ``MonitoredSession`` (TF1's ``session_run_hook``), the step
timer the standard hooks share, and the global-step read they fetch.

A hook's life in a ``MonitoredSession``::

    begin()                                   # once, before the graph is finalized: add ops here
    after_create_session(session, coord)      # after init/restore, each time a session is created
    before_run(run_context) -> SessionRunArgs # extra fetches/feeds merged into the next run
    after_run(run_context, run_values)        # run_values.results = what before_run asked for
    end(session)                              # at close, unless the loop ended with an error

``run_context.request_stop()`` ends the loop: ``should_stop()`` becomes True after this run.
"""

import collections
import time

from jitgraph.framework.graph import get_default_graph

__all__ = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues", "SecondOrStepTimer"]

GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"


class SessionRunHook:
    """Base class of hooks; every method is optional (see the module docstring)."""

    def begin(self):
        pass

    def after_create_session(self, session, coord):
        pass

    def before_run(self, run_context):
        return None

    def after_run(self, run_context, run_values):
        pass

    def end(self, session):
        pass


class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """What a hook adds to the next run: ``fetches`` (any fetch structure), ``feed_dict``."""

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """The run being made: ``original_args`` (the caller's ``SessionRunArgs``), ``session`` (the
    underlying session, for extra runs) and ``request_stop()``."""

    def __init__(self, original_args, session):
        self._original_args, self._session, self._stop_requested = original_args, session, False

    original_args = property(lambda self: self._original_args)
    session = property(lambda self: self._session)
    stop_requested = property(lambda self: self._stop_requested)

    def request_stop(self):
        """Make ``should_stop()`` True once this run is over."""
        self._stop_requested = True


class SessionRunValues(collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])):
    """What ``after_run`` gets: ``results`` has the structure of the hook's ``SessionRunArgs.fetches``."""


class SecondOrStepTimer:
    """Triggers every ``every_secs`` seconds or every ``every_steps`` steps (exactly one of them)."""

    def __init__(self, every_secs=None, every_steps=None):
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")
        self._every_secs, self._every_steps = every_secs, every_steps
        self.reset()

    def reset(self):
        self._last_step, self._last_time = None, None

    def should_trigger_for_step(self, step):
        """True the first time, then once the interval has passed since the last trigger."""
        if self._last_step is None:
            return True
        if self._last_step == step:
            return False
        if self._every_secs is not None and time.time() >= self._last_time + self._every_secs:
            return True
        return self._every_steps is not None and step >= self._last_step + self._every_steps

    def update_last_triggered_step(self, step):
        """Record a trigger at ``step``; returns ``(elapsed secs, elapsed steps)`` since the last
        one (None, None the first time)."""
        now = time.time()
        elapsed = (None, None) if self._last_time is None else (now - self._last_time, step - self._last_step)
        self._last_time, self._last_step = now, step
        return elapsed

    def last_triggered_step(self):
        return self._last_step


class NeverTriggerTimer:
    """A timer that never triggers (``LoggingTensorHook(at_end=True)`` alone)."""

    def reset(self):
        pass

    def should_trigger_for_step(self, step):
        return False

    def update_last_triggered_step(self, step):
        return (None, None)

    def last_triggered_step(self):
        return None


def global_step_read(graph=None):
    """A tensor reading the global step as a plain value (``global_step/add:0``), made once per graph:
    the read hooks fetch. It does not fail before initialization (it gives the initial value then).
    None if the graph has no global step."""
    from jitgraph.ops.state_ops import initialized_value
    from jitgraph.train.global_step import get_global_step
    graph = graph or get_default_graph()
    cached = graph.get_collection(GLOBAL_STEP_READ_KEY)
    if cached:
        return cached[0]
    step = get_global_step(graph)
    if step is None:
        return None
    with graph.as_default(), graph.name_scope(""), graph.name_scope(step.op.name + "/"):
        if getattr(step, "initial_value", None) is not None:
            value = initialized_value(step._ref(), step.initial_value)
        else:
            value = step
        read = value + 0
    graph.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    return read
