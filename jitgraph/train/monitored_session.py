"""``MonitoredTrainingSession``, ``MonitoredSession``, ``SingularMonitoredSession``.

    with tf.train.MonitoredTrainingSession(master=server.target, is_chief=task_index == 0,
                                           checkpoint_dir=ckpt_dir,
                                           hooks=[tf.train.StopAtStepHook(last_step=1000)]) as sess:
        while not sess.should_stop():
            sess.run(train_op)

Creating one: ``hook.begin()`` for every hook, the scaffold finalizes the graph, the session is
created (chief: restore the latest checkpoint or initialize; other workers: wait for the chief),
``hook.after_create_session``. Each ``run``: ``before_run`` of every hook, one ``Session.run`` with
the hooks' fetches and feeds merged in, ``after_run``. Closing: ``hook.end(session)`` (unless
the loop ended with an error), then the session closes; ``OutOfRangeError`` and
``StopIteration`` leaving the ``with`` block count as a normal end.

Recovery (``MonitoredSession``, not ``SingularMonitoredSession``): a run that raises
``AbortedError`` or ``UnavailableError`` (a parameter server restarted or went away) closes the
session, creates a new one the same way (the chief restores the latest checkpoint on every
shard; other workers wait for it) and runs again. Without Ray (``master=''``) this is an ordinary
local session with hooks.
"""

import logging
import os

from jitgraph import errors
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.train.coordinator import Coordinator
from jitgraph.train.hooks import SessionRunArgs, SessionRunContext, SessionRunValues
from jitgraph.train.session_manager import ChiefSessionCreator, Scaffold, WorkerSessionCreator

__all__ = ["MonitoredTrainingSession", "MonitoredSession", "SingularMonitoredSession", "Coordinator"]

logger = logging.getLogger("jitgraph")
_PREEMPTION_ERRORS = (errors.AbortedError, errors.UnavailableError)
USE_DEFAULT = object()


class _MonitoredSession:
    def __init__(self, session_creator, hooks, should_recover, stop_grace_period_secs=120):
        self._graph_was_finalized = get_default_graph().finalized
        self._hooks = list(hooks or [])
        for h in self._hooks:
            h.begin()
        self._creator = session_creator or ChiefSessionCreator()
        self._should_recover = should_recover
        self._tf_session, self._coord, self._stop = None, None, False
        self._stop_grace_period_secs = stop_grace_period_secs
        self._create()

    def _create(self):
        while True:
            try:
                self._tf_session = self._creator.create_session()
                break
            except _PREEMPTION_ERRORS as e:
                if not self._should_recover:
                    raise
                logger.info("An error was raised while a session was being created (a worker or parameter "
                            "server may have been preempted); creating a new session. Error: %s", e)
        self._coord = Coordinator(clean_stop_exception_types=[])   # (TF's: hooks see every error)
        graph = self._tf_session.graph
        if graph.get_collection(GraphKeys.QUEUE_RUNNERS):
            from jitgraph.train.queue_runner import start_queue_runners
            start_queue_runners(sess=self._tf_session, coord=self._coord)
        for h in self._hooks:
            h.after_create_session(self._tf_session, self._coord)

    @property
    def graph(self):
        return None if self._tf_session is None else self._tf_session.graph

    def should_stop(self):
        """True once a hook requested a stop, or after ``close``."""
        if self._tf_session is None:
            return True
        return self._stop or self._coord.should_stop()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """``Session.run`` with the hooks; recovers from preemption errors (see the module docstring)."""
        while True:
            try:
                return self._hooked_run(fetches, feed_dict)
            except _PREEMPTION_ERRORS as e:
                if not self._should_recover:
                    raise
                logger.info("An error was raised (a worker or parameter server may have been preempted); the "
                            "session will be closed and a new one created. Error: %s", e)
                self._close_session()
                self._create()

    def _hooked_run(self, fetches, feed_dict):
        if self._tf_session is None:
            raise RuntimeError("Session is already closed.")
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        context = SessionRunContext(SessionRunArgs(fetches, feed_dict), self._tf_session)
        actual = {"caller": fetches}
        hook_feeds = {}
        for h in self._hooks:
            request = h.before_run(context)
            if request is None:
                continue
            if request.fetches is not None:
                actual[h] = request.fetches
            if request.feed_dict:
                _check_disjoint(hook_feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                hook_feeds.update(request.feed_dict)
        if hook_feeds and feed_dict:
            _check_disjoint(feed_dict, hook_feeds, "Same tensor is fed by a SessionRunHook and user.")
        feeds = {**hook_feeds, **(feed_dict or {})} if hook_feeds else feed_dict
        outputs = self._tf_session.run(actual, feed_dict=feeds)
        for h in self._hooks:
            h.after_run(context, SessionRunValues(results=outputs.get(h), options=None, run_metadata=None))
        self._stop = self._stop or context.stop_requested
        return outputs["caller"]

    def run_step_fn(self, step_fn):
        """Call ``step_fn(step_context)``: ``step_context.session`` is the raw session,
        ``run_with_hooks(...)`` runs like ``self.run``, ``request_stop()`` raises ``StopIteration``."""
        import inspect
        params = [p for p in inspect.signature(step_fn).parameters]
        if params not in (["step_context"], ["self", "step_context"]):
            raise ValueError(f"`step_fn` may either have one `step_context` argument, or `self` and "
                             f"`step_context` arguments if it's an instance method. Got {tuple(params)} instead.")
        return step_fn(_StepContext(self._tf_session, self.run))   # StopIteration ends a ``with`` block

    def close(self):
        self._close_internal()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type in (errors.OutOfRangeError, StopIteration):
            exc_type = None
        self._close_internal(exc_type)
        return exc_type is None

    def _close_internal(self, exception_type=None):
        try:
            if not exception_type and self._tf_session is not None:
                for h in self._hooks:
                    h.end(self._tf_session)
        finally:
            try:
                if self._tf_session is None:
                    raise RuntimeError("Session is already closed.")
                self._close_session()
            finally:
                if not self._graph_was_finalized:
                    get_default_graph()._finalized = False   # as TF's _unsafe_unfinalize

    def _close_session(self):
        sess, self._tf_session = self._tf_session, None
        try:
            if self._coord is not None:   # queue runner threads close their queues and end
                self._coord.request_stop()
                self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs, ignore_live_threads=True)
        finally:
            self._close_raw(sess)

    @staticmethod
    def _close_raw(sess):
        try:
            sess.close()
        except _PREEMPTION_ERRORS as e:
            logger.error("An error occurred when attempting to close the session: %s", e)

    def _tf_sess(self):
        return self._tf_session


class _StepContext:
    def __init__(self, session, run_with_hooks):
        self.session, self.run_with_hooks = session, run_with_hooks

    def request_stop(self):
        raise StopIteration("step_fn has requested the iterations to stop.")


def _check_disjoint(a, b, message):
    both = set(a) & set(b)
    if both:
        raise RuntimeError(f"{message} Conflict(s): {list(both)}")


class MonitoredSession(_MonitoredSession):
    """A session with initialization (``session_creator``, default ``ChiefSessionCreator()``),
    hooks and recovery from ``AbortedError``/``UnavailableError``. Not a ``tf.Session``: it can't
    be a default session or be passed to ``Saver.save``."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs=120):
        super().__init__(session_creator, hooks, should_recover=True, stop_grace_period_secs=stop_grace_period_secs)


class SingularMonitoredSession(_MonitoredSession):
    """A chief ``MonitoredSession`` without recovery, whose ``raw_session()`` is reachable."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config, checkpoint_dir=checkpoint_dir,
                                      checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, should_recover=False, stop_grace_period_secs=stop_grace_period_secs)

    def raw_session(self):
        return self._tf_session


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None, hooks=None,  # noqa: N802
                             chief_only_hooks=None, save_checkpoint_secs=USE_DEFAULT,
                             save_summaries_steps=USE_DEFAULT, save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100, max_wait_secs=7200,
                             save_checkpoint_steps=USE_DEFAULT, summary_dir=None, save_graph_def=True):
    """A ``MonitoredSession`` for training (see the module docstring).

    The chief restores/initializes and, with ``checkpoint_dir``, saves checkpoints every
    ``save_checkpoint_secs`` (default 600) or ``save_checkpoint_steps`` and logs the step rate
    every ``log_step_count_steps``; ``chief_only_hooks`` run only there. Other workers wait up to
    ``max_wait_secs`` for the chief. ``save_summaries_*``/``summary_dir`` are accepted; jitgraph
    writes no summaries."""
    if save_checkpoint_steps is USE_DEFAULT and save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_steps, save_checkpoint_secs = None, 600
    elif save_checkpoint_secs is USE_DEFAULT:
        save_checkpoint_secs = None
    elif save_checkpoint_steps is USE_DEFAULT:
        save_checkpoint_steps = None
    scaffold = scaffold or Scaffold()
    if not is_chief:
        creator = WorkerSessionCreator(scaffold=scaffold, master=master, config=config, max_wait_secs=max_wait_secs)
        return MonitoredSession(creator, hooks=list(hooks or []) + _progress_hooks(),
                                stop_grace_period_secs=stop_grace_period_secs)
    from jitgraph.train.basic_hooks import CheckpointSaverHook, StepCounterHook
    all_hooks = list(chief_only_hooks or [])
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir, master=master, config=config)
    if (summary_dir or checkpoint_dir) and log_step_count_steps and log_step_count_steps > 0:
        all_hooks.append(StepCounterHook(output_dir=summary_dir or checkpoint_dir, every_n_steps=log_step_count_steps))
    if checkpoint_dir and ((save_checkpoint_secs and save_checkpoint_secs > 0)
                           or (save_checkpoint_steps and save_checkpoint_steps > 0)):
        all_hooks.append(CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                             save_secs=save_checkpoint_secs, scaffold=scaffold,
                                             save_graph_def=save_graph_def))
    all_hooks.extend(hooks or [])
    return MonitoredSession(creator, hooks=all_hooks + _progress_hooks(), stop_grace_period_secs=stop_grace_period_secs)


def _progress_hooks():
    """The launcher's progress reporter, when this process was started by it."""
    path = os.environ.get("JITGRAPH_PROGRESS_FILE")
    if not path:
        return []
    from jitgraph.distribute.progress import ProgressHook
    return [ProgressHook(path)]
