"""The standard hooks: ``StopAtStepHook``, ``CheckpointSaverHook``, ``StepCounterHook``,
``LoggingTensorHook``, ``NanTensorHook``, ``GlobalStepWaiterHook``, ``FinalOpsHook``, ``FeedFnHook``.

They log through the ``jitgraph`` logger (``logging.getLogger("jitgraph")``) at INFO, with TF's
messages. Step-based hooks fetch ``hooks.global_step_read()`` with each run.
"""

import logging
import os
import time

import numpy as np

from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.train.hooks import (NeverTriggerTimer, SecondOrStepTimer, SessionRunArgs, SessionRunHook,
                                  global_step_read)

__all__ = ["StopAtStepHook", "CheckpointSaverHook", "CheckpointSaverListener", "StepCounterHook",
           "LoggingTensorHook", "NanTensorHook", "NanLossDuringTrainingError", "GlobalStepWaiterHook",
           "FinalOpsHook", "FeedFnHook"]

logger = logging.getLogger("jitgraph")


def _step_read(hook_name):
    read = global_step_read()
    if read is None:
        raise RuntimeError(f"Global step should be created to use {hook_name}.")
    return read


class StopAtStepHook(SessionRunHook):
    """Request a stop when the global step reaches ``last_step``, or ``num_steps`` steps after the
    global step seen when the session was created (exactly one of them)."""

    def __init__(self, num_steps=None, last_step=None):
        if num_steps is None and last_step is None:
            raise ValueError("One of num_steps or last_step must be specified.")
        if num_steps is not None and last_step is not None:
            raise ValueError("Only one of num_steps or last_step can be specified.")
        self._num_steps, self._last_step = num_steps, last_step

    def begin(self):
        self._step = _step_read("StopAtStepHook")

    def after_create_session(self, session, coord):
        if self._last_step is None:
            self._last_step = int(session.run(self._step)) + self._num_steps

    def before_run(self, run_context):
        return SessionRunArgs(self._step)

    def after_run(self, run_context, run_values):
        if run_values.results + 1 >= self._last_step:   # the fetched step may predate this run's update
            if run_context.session.run(self._step) >= self._last_step:
                run_context.request_stop()


class CheckpointSaverListener:
    """Called around each save of a ``CheckpointSaverHook``; ``after_save`` returning True stops."""

    def begin(self):
        pass

    def before_save(self, session, global_step_value):
        pass

    def after_save(self, session, global_step_value):
        pass

    def end(self, session, global_step_value):
        pass


class CheckpointSaverHook(SessionRunHook):
    """Save a checkpoint (``<checkpoint_dir>/model.ckpt-<step>``) when the session is created,
    every ``save_secs`` seconds or ``save_steps`` global steps (exactly one), and at the end.

    In a cluster the chief's saver reads every parameter-server shard in one parallel round, so
    one checkpoint holds all shards, named by one global step."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, saver=None, checkpoint_basename="model.ckpt",
                 scaffold=None, listeners=None, save_graph_def=True):
        if saver is not None and scaffold is not None:
            raise ValueError("You cannot provide both saver and scaffold.")
        self._saver, self._scaffold = saver, scaffold
        self._checkpoint_dir = checkpoint_dir
        self._save_path = os.path.join(checkpoint_dir, checkpoint_basename)
        self._timer = SecondOrStepTimer(every_secs=save_secs, every_steps=save_steps)
        self._listeners = list(listeners or [])
        self._save_graph_def = save_graph_def

    def begin(self):
        self._step = _step_read("CheckpointSaverHook")
        for listener in self._listeners:
            listener.begin()

    def after_create_session(self, session, coord):
        step = int(session.run(self._step))
        self._save(session, step)   # the state at the step the session starts from
        self._timer.update_last_triggered_step(step)

    def before_run(self, run_context):
        return SessionRunArgs(self._step)

    def after_run(self, run_context, run_values):
        if self._timer.should_trigger_for_step(run_values.results + 1):
            step = int(run_context.session.run(self._step))
            if self._timer.should_trigger_for_step(step):
                self._timer.update_last_triggered_step(step)
                if self._save(run_context.session, step):
                    run_context.request_stop()

    def end(self, session):
        step = int(session.run(self._step))
        if step != self._timer.last_triggered_step():
            self._save(session, step)
        for listener in self._listeners:
            listener.end(session, step)

    def _save(self, session, step):
        for listener in self._listeners:
            listener.before_save(session, step)
        logger.info("Saving checkpoints for %d into %s.", step, self._save_path)
        self._get_saver().save(session, self._save_path, global_step=step, write_meta_graph=self._save_graph_def)
        return any([listener.after_save(session, step) for listener in self._listeners])

    def _get_saver(self):
        if self._saver is not None:
            return self._saver
        if self._scaffold is not None:
            return self._scaffold.saver
        savers = get_default_graph().get_collection(GraphKeys.SAVERS)
        if not savers:
            raise RuntimeError(f"No items in collection {GraphKeys.SAVERS}. Please add a saver to the collection "
                               f"or provide a saver or scaffold.")
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. Please indicate which one "
                               f"to use by passing it to the constructor.")
        self._saver = savers[0]
        return self._saver


class StepCounterHook(SessionRunHook):
    """Log ``global_step/sec: <rate>`` every ``every_n_steps`` steps or ``every_n_secs`` seconds."""

    def __init__(self, every_n_steps=100, every_n_secs=None, output_dir=None, summary_writer=None):
        if (every_n_steps is None) == (every_n_secs is None):
            raise ValueError("exactly one of every_n_steps and every_n_secs should be provided.")
        self._timer = SecondOrStepTimer(every_steps=every_n_steps, every_secs=every_n_secs)
        self._output_dir, self._summary_writer = output_dir, summary_writer
        self.rates = []   # (global step, steps/sec) of each logged rate

    def begin(self):
        from jitgraph.train.global_step import get_global_step
        self._step = _step_read("StepCounterHook")
        self._tag = get_global_step().op.name + "/sec"

    def before_run(self, run_context):
        return SessionRunArgs(self._step)

    def after_run(self, run_context, run_values):
        if self._timer.should_trigger_for_step(run_values.results + 1):
            step = int(run_context.session.run(self._step))
            if self._timer.should_trigger_for_step(step):
                secs, steps = self._timer.update_last_triggered_step(step)
                if secs:
                    self.rates.append((step, steps / secs))
                    logger.info("%s: %g", self._tag, steps / secs)


class LoggingTensorHook(SessionRunHook):
    """Log tensors (a list of tensors/names, or a dict tag -> tensor) every ``every_n_iter`` runs
    or ``every_n_secs`` seconds, and/or at the end: ``loss = 0.25, step = 7 (0.031 sec)``."""

    def __init__(self, tensors, every_n_iter=None, every_n_secs=None, at_end=False, formatter=None):
        only_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("either at_end and/or exactly one of every_n_iter and every_n_secs must be provided.")
        if every_n_iter is not None and every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        if isinstance(tensors, dict):
            self._order = sorted(tensors)
        else:
            self._order = list(tensors)
            tensors = {t: t for t in tensors}
        self._tensors, self._formatter, self._at_end = tensors, formatter, at_end
        self._timer = NeverTriggerTimer() if only_at_end else SecondOrStepTimer(every_secs=every_n_secs,
                                                                                 every_steps=every_n_iter)

    def begin(self):
        self._timer.reset()
        self._iter = 0
        graph = get_default_graph()
        self._current = {tag: _as_graph_element(graph, t) for tag, t in self._tensors.items()}

    def before_run(self, run_context):
        self._trigger = self._timer.should_trigger_for_step(self._iter)
        return SessionRunArgs(self._current) if self._trigger else None

    def after_run(self, run_context, run_values):
        if self._trigger:
            self._log(run_values.results)
        self._iter += 1

    def end(self, session):
        if self._at_end:
            self._log(session.run(self._current))

    def _log(self, values):
        secs, _ = self._timer.update_last_triggered_step(self._iter)
        if self._formatter:
            logger.info(self._formatter(values))
            return
        with np.printoptions(suppress=True):
            text = ", ".join("%s = %s" % (tag, values[tag]) for tag in self._order)   # str(), as TF
        if secs is not None:
            logger.info("%s (%.3f sec)", text, secs)
        else:
            logger.info("%s", text)


def _as_graph_element(graph, obj):
    if not isinstance(obj, str):
        if getattr(obj, "graph", None) is not graph:
            raise ValueError(f"Passed {obj} should have graph attribute that is equal to current graph {graph}.")
        return obj
    if ":" in obj:
        return graph.as_graph_element(obj)
    element = graph.as_graph_element(obj + ":0")
    try:
        graph.as_graph_element(obj + ":1")
    except (KeyError, ValueError):
        return element
    raise ValueError(f"Name {obj} is ambiguous, as this `Operation` has multiple outputs (at least 2).")


class NanLossDuringTrainingError(RuntimeError):
    def __str__(self):
        return "NaN loss during training."


class NanTensorHook(SessionRunHook):
    """Raise ``NanLossDuringTrainingError`` (or, with ``fail_on_nan_loss=False``, log and request a
    stop) when ``loss_tensor`` is NaN after a run."""

    def __init__(self, loss_tensor, fail_on_nan_loss=True):
        self._loss, self._fail = loss_tensor, fail_on_nan_loss

    def before_run(self, run_context):
        return SessionRunArgs(self._loss)

    def after_run(self, run_context, run_values):
        if np.isnan(run_values.results):
            if self._fail:
                logger.error("Model diverged with loss = NaN.")
                raise NanLossDuringTrainingError
            logger.warning("Model diverged with loss = NaN.")
            run_context.request_stop()


class GlobalStepWaiterHook(SessionRunHook):
    """Hold this worker's first run until the global step reaches ``wait_until_step`` (stagger
    workers so the chief's early steps settle the model first)."""

    def __init__(self, wait_until_step):
        self._wait_until = wait_until_step

    def begin(self):
        self._started = False
        self._step = _step_read("_GlobalStepWaiterHook")

    def before_run(self, run_context):
        if self._started:
            return None
        if self._wait_until > 0:
            logger.info("Waiting for global step %d before starting training.", self._wait_until)
            while run_context.session.run(self._step) < self._wait_until:
                time.sleep(0.5)
        self._started = True
        return None


class FinalOpsHook(SessionRunHook):
    """Run ``final_ops`` at the end; their values are in ``final_ops_values``."""

    def __init__(self, final_ops, final_ops_feed_dict=None):
        self._final_ops, self._feed, self._values = final_ops, final_ops_feed_dict, None

    final_ops_values = property(lambda self: self._values)

    def end(self, session):
        if self._final_ops is not None:
            self._values = session.run(self._final_ops, feed_dict=self._feed)


class FeedFnHook(SessionRunHook):
    """Feed ``feed_fn()`` (a feed dict) into every run."""

    def __init__(self, feed_fn):
        self.feed_fn = feed_fn

    def before_run(self, run_context):
        return SessionRunArgs(fetches=None, feed_dict=self.feed_fn())
