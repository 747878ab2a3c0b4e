"""``Scaffold``, ``SessionManager`` and the session creators behind ``MonitoredSession``.

The chief prepares a session: restore the latest checkpoint of ``checkpoint_dir`` if there is one,
else run the init op; then the local init op; then check that the model is ready. Other workers
wait until the model is ready (``ready_op`` reports no uninitialized variable), then run their
local init op.

One difference from TF, for clusters: a chief whose session is distributed and finds the model
already ready (its parameter servers kept running while the chief restarted) attaches to it
instead of rolling every shard back to the last checkpoint, so a chief crash loses nothing.
Workers poll readiness every second (TF's ``recovery_wait_secs`` default of 30 s is kept for
``SessionManager`` itself).
"""

import logging
import time

import numpy as np

from jitgraph import errors
from jitgraph.framework.graph import GraphKeys, get_default_graph

__all__ = ["Scaffold", "SessionManager", "SessionCreator", "ChiefSessionCreator", "WorkerSessionCreator"]

logger = logging.getLogger("jitgraph")
_POLL_SECS = 1.0


class Scaffold:
    """The pieces a training session needs, taken from the graph's collections (or made) by
    ``finalize()``: ``init_op``, ``ready_op``, ``ready_for_local_init_op``, ``local_init_op``,
    ``summary_op`` (None: jitgraph has no summaries), ``saver``; plus ``init_feed_dict``,
    ``init_fn(scaffold, session)``, ``local_init_feed_dict``. ``finalize()`` also finalizes the graph."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None, ready_for_local_init_op=None,
                 local_init_op=None, summary_op=None, saver=None, copy_from_scaffold=None, local_init_feed_dict=None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            c = copy_from_scaffold

            def pick(a, b):
                return a if a is not None else b
            init_op, init_feed_dict = pick(init_op, c.init_op), pick(init_feed_dict, c.init_feed_dict)
            init_fn, ready_op = pick(init_fn, c._user_init_fn), pick(ready_op, c.ready_op)
            ready_for_local_init_op = pick(ready_for_local_init_op, c.ready_for_local_init_op)
            local_init_op, summary_op = pick(local_init_op, c.local_init_op), pick(summary_op, c.summary_op)
            local_init_feed_dict, saver = pick(local_init_feed_dict, c.local_init_feed_dict), pick(saver, c.saver)
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op, self._init_feed_dict, self._ready_op = init_op, init_feed_dict, ready_op
        self._ready_for_local_init_op, self._local_init_op = ready_for_local_init_op, local_init_op
        self._local_init_feed_dict, self._summary_op, self._saver = local_init_feed_dict, summary_op, saver

    init_fn = property(lambda self: self._init_fn)
    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    local_init_op = property(lambda self: self._local_init_op)
    local_init_feed_dict = property(lambda self: self._local_init_feed_dict)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)

    def finalize(self):
        """Create the missing pieces and finalize the default graph; returns self."""
        from jitgraph.ops.control_ops import group
        from jitgraph.variables import initialization as init
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP,
                                                    lambda: group(init.global_variables_initializer()))
        if self._ready_op is None:
            self._ready_op = Scaffold.get_or_default("ready_op", GraphKeys.READY_OP,
                                                     init.report_uninitialized_variables)
        if self._ready_for_local_init_op is None:
            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", GraphKeys.READY_FOR_LOCAL_INIT_OP,
                lambda: init.report_uninitialized_variables(init.global_variables()))
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", GraphKeys.LOCAL_INIT_OP,
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", GraphKeys.SUMMARY_OP, lambda: None)
        if self._saver is None:
            self._saver = _saver_or_default()
        self._saver.build()
        get_default_graph().finalize()
        return self

    @staticmethod
    def get_or_default(arg_name, collection_key, default_constructor):
        """The single item of ``collection_key``, or ``default_constructor()`` (added to it)."""
        graph = get_default_graph()
        elements = graph.get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError(f"More than one item in the collection \"{collection_key}\". Please indicate "
                                   f"which one to use by passing it to the tf.Scaffold constructor as: "
                                   f"tf.Scaffold({arg_name}=item to use)")
            return elements[0]
        op = default_constructor()
        if op is not None:
            graph.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        """``group(local_variables_initializer())``."""
        from jitgraph.ops.control_ops import group
        from jitgraph.variables.initialization import local_variables_initializer
        return group(local_variables_initializer())


def _saver_or_default():
    from jitgraph.train.saver import Saver
    graph = get_default_graph()
    savers = graph.get_collection(GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. Please indicate which one "
                               f"to use by passing it to the constructor.")
        return savers[0]
    saver = Saver(sharded=True, allow_empty=True)
    graph.add_to_collection(GraphKeys.SAVERS, saver)
    return saver


def _ready(op, sess):
    """``(ready, message)`` from a ready op (an empty list of uninitialized variable names)."""
    if op is None:
        return True, None
    try:
        names = sess.run(op)
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            raise
        return False, str(e)
    names = np.asarray(names)
    if names.size == 0 or names.dtype == np.int32:
        return True, None
    return False, "Variables not initialized: " + ", ".join(n.decode() if isinstance(n, bytes) else str(n)
                                                          for n in names.ravel())


class SessionManager:
    """Creates sessions that are initialized (chief: ``prepare_session``) or waits for them to be
    (other workers: ``wait_for_session``); see the module docstring."""

    def __init__(self, local_init_op=None, ready_op=None, ready_for_local_init_op=None, graph=None,
                 recovery_wait_secs=30, local_init_run_options=None, local_init_feed_dict=None):
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError(f"If you pass a ready_for_local_init_op you must also pass a local_init_op , "
                             f"ready_for_local_init_op [{ready_for_local_init_op}]")
        self._local_init_op, self._ready_op = local_init_op, ready_op
        self._ready_for_local_init_op, self._graph = ready_for_local_init_op, graph or get_default_graph()
        self._recovery_wait_secs, self._local_init_feed_dict = recovery_wait_secs, local_init_feed_dict

    def _session(self, master, config):
        from jitgraph.runtime.session import Session
        return Session(master, graph=self._graph, config=config)

    def _restore_checkpoint(self, master, saver=None, checkpoint_dir=None, checkpoint_filename_with_path=None,
                            wait_for_checkpoint=False, max_wait_secs=7200, config=None):
        from jitgraph.train.saver import get_checkpoint_state
        sess = self._session(master, config)
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and checkpoint_filename_with_path.")
        if not saver or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        if checkpoint_filename_with_path:
            saver.restore(sess, checkpoint_filename_with_path)
            return sess, True
        waited = 0
        ckpt = get_checkpoint_state(checkpoint_dir)
        while not ckpt or not ckpt.model_checkpoint_path:
            if not (wait_for_checkpoint and waited < max_wait_secs):
                return sess, False
            time.sleep(self._recovery_wait_secs)
            waited += self._recovery_wait_secs
            ckpt = get_checkpoint_state(checkpoint_dir)
        saver.restore(sess, ckpt.model_checkpoint_path)
        saver.recover_last_checkpoints(list(ckpt.all_model_checkpoint_paths))
        logger.info("Restored model from %s", ckpt.model_checkpoint_path)
        return sess, True

    def prepare_session(self, master, init_op=None, saver=None, checkpoint_dir=None,
                        checkpoint_filename_with_path=None, wait_for_checkpoint=False, max_wait_secs=7200,
                        config=None, init_feed_dict=None, init_fn=None):
        """A session restored from the latest checkpoint, else initialized with ``init_op`` /
        ``init_fn``; then the local init op. ``RuntimeError`` if the model is still not ready."""
        if master and self._cluster_ready(master, config):
            sess = self._session(master, config)
            logger.info("The cluster's variables are initialized: attaching to them.")
        else:
            sess, restored = self._restore_checkpoint(master, saver, checkpoint_dir, checkpoint_filename_with_path,
                                                      wait_for_checkpoint, max_wait_secs, config)
            if not restored:
                if init_op is None and not init_fn and self._local_init_op is None:
                    raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op was given")
                if init_op is not None:
                    sess.run(init_op, feed_dict=init_feed_dict)
                if init_fn:
                    init_fn(sess)
        ok, msg = self._try_run_local_init_op(sess)
        if not ok:
            raise RuntimeError(f"Init operations did not make model ready for local_init.  Init op: "
                               f"{_name(init_op)}, init fn: {init_fn}, error: {msg}")
        ready, msg = _ready(self._ready_op, sess)
        if not ready:
            raise RuntimeError(f"Init operations did not make model ready.  Init op: {_name(init_op)}, init fn: "
                               f"{init_fn}, local_init_op: {self._local_init_op}, error: {msg}")
        return sess

    def _cluster_ready(self, master, config):
        sess = self._session(master, config)
        try:
            op = self._ready_for_local_init_op if self._ready_for_local_init_op is not None else self._ready_op
            return _ready(op, sess)[0]
        finally:
            sess.close()

    def recover_session(self, master, saver=None, checkpoint_dir=None, checkpoint_filename_with_path=None,
                        wait_for_checkpoint=False, max_wait_secs=7200, config=None):
        """``(session, restored)``: a session restored from a checkpoint if one makes it ready."""
        sess, restored = self._restore_checkpoint(master, saver, checkpoint_dir, checkpoint_filename_with_path,
                                                  wait_for_checkpoint, max_wait_secs, config)
        ok, _ = self._try_run_local_init_op(sess)
        if not restored or not ok:
            return sess, False
        return sess, _ready(self._ready_op, sess)[0]

    def wait_for_session(self, master, config=None, max_wait_secs=float("Inf")):
        """A session on a model someone else initializes; ``DeadlineExceededError`` after
        ``max_wait_secs``."""
        max_wait_secs = float("Inf") if max_wait_secs is None else max_wait_secs
        deadline = time.monotonic() + max_wait_secs
        while True:
            sess = self._session(master, config)
            ok, msg = self._try_run_local_init_op(sess)
            if ok:
                ready, msg = _ready(self._ready_op, sess)
                if ready:
                    return sess
            sess.close()
            if deadline - time.monotonic() - self._recovery_wait_secs < 0:
                raise errors.DeadlineExceededError(None, None,
                                                   f"Session was not ready after waiting {max_wait_secs:g} secs.")
            logger.info("Waiting for model to be ready.  Ready: %s", msg)
            time.sleep(self._recovery_wait_secs)

    def _try_run_local_init_op(self, sess):
        if self._local_init_op is None:
            return True, None
        ready, msg = _ready(self._ready_for_local_init_op, sess)
        if not ready:
            return False, msg
        sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict)
        return True, None


def _name(op):
    return getattr(op, "name", op)


class SessionCreator:
    """A factory of sessions: ``create_session()``."""

    def create_session(self):
        raise NotImplementedError(f"create_session is not implemented for {self}.")


class ChiefSessionCreator(SessionCreator):
    """Creates the chief's session (restore or initialize; see the module docstring)."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config
        self._checkpoint_dir, self._checkpoint_path = checkpoint_dir, checkpoint_filename_with_path
        self._manager = None

    def _session_manager(self):
        if self._manager is None:
            s = self._scaffold
            self._manager = SessionManager(local_init_op=s.local_init_op, local_init_feed_dict=s.local_init_feed_dict,
                                           ready_op=s.ready_op, ready_for_local_init_op=s.ready_for_local_init_op,
                                           graph=get_default_graph(), recovery_wait_secs=_POLL_SECS)
        return self._manager

    def create_session(self):
        self._scaffold.finalize()
        s = self._scaffold
        return self._session_manager().prepare_session(
            self._master, saver=s.saver, checkpoint_dir=self._checkpoint_dir,
            checkpoint_filename_with_path=self._checkpoint_path, config=self._config, init_op=s.init_op,
            init_feed_dict=s.init_feed_dict, init_fn=s.init_fn)


class WorkerSessionCreator(ChiefSessionCreator):
    """Creates a non-chief worker's session: waits (up to ``max_wait_secs``) for the chief."""

    def __init__(self, scaffold=None, master="", config=None, max_wait_secs=30 * 60):
        super().__init__(scaffold, master, config)
        self._max_wait_secs = max_wait_secs

    def create_session(self):
        self._scaffold.finalize()
        return self._session_manager().wait_for_session(self._master, config=self._config,
                                                        max_wait_secs=self._max_wait_secs)
