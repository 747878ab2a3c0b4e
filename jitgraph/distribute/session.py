"""``DistributedSession``: ``tf.Session(server.target)`` on a worker of a cluster.

A run is split once per (fetches, feeds) structure (``partition.split_run``) and then executes:

1. pull: one ``read`` per task holding variables the local part reads, all tasks in parallel;
   the values are copied into this session's variable store (the local mirror);
2. the local part, fused by an ordinary jitgraph ``Session`` on the same graph;
3. the stages, submitted in order without waiting: a stage on a task is an actor call whose
   arguments are the futures of the stages it needs, so a two-shard update with a global step on
   one shard costs the worker one wait, not two; a stage on this worker (rare: a local variable
   updated after a remote one) waits for its inputs and runs here;
4. one wait for every stage's results, then the fetch structure is rebuilt.

A run that reads a variable of a task that was restarted empty raises ``AbortedError``
(``MonitoredSession`` then recreates the session; its chief restores the checkpoint). A task that
is gone raises ``UnavailableError``.

``Saver`` works unchanged through ``_state`` (``ClusterState`` in ``cluster_state.py``): a save
pulls every task's variables in one parallel round; a restore pushes each task's values at once.
"""

import threading

import numpy as np

from jitgraph import errors
from jitgraph.distribute.cluster_state import ClusterState, LocalTable
from jitgraph.distribute.partition import WORKER, split_run
from jitgraph.distribute.placement import Placement
from jitgraph.distribute.stage_program import StageExecutor, program_of
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.runtime.fetches import FetchMapper
from jitgraph.runtime.session import Session, _feed_tensor, check_feed

CONNECT_TIMEOUT_SECS = 120.0


class DistributedSession(Session):
    """A session whose variables live on the tasks their devices name (see the module docstring)."""

    def __init__(self, target="", graph=None, config=None):
        from jitgraph.train.server import server_for_target
        self._server = server_for_target(target)
        self._target = target
        self._graph = graph if graph is not None else get_default_graph()
        self._config = config
        self._closed = False
        self._default_ctx = None
        self._local = Session(graph=self._graph, config=config)
        self._placement = Placement(self._server.cluster, self._server.job_name, self._server.task_index,
                                    bool(getattr(config, "allow_soft_placement", False)))
        self._backend = self._server.backend
        self._handles = {}
        self._runs = {}
        self._worker_stages = {}
        self._lock = threading.Lock()
        self._state = ClusterState(self)

    sess_str = property(lambda self: self._target)

    def list_devices(self):
        return self._local.list_devices()

    def cache_info(self):
        return self._local.cache_info()

    # ---- running ---------------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """As ``Session.run``; variables on tasks are read and updated there."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        feed_dict = feed_dict or {}
        key = (_structure_key(fetches), tuple(k if isinstance(k, str) else id(k) for k in feed_dict))
        prepared = self._runs.get(key)
        if prepared is None:
            prepared = self._prepare(fetches, feed_dict)
            with self._lock:
                self._runs[key] = prepared
        return prepared(feed_dict)

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        feed_list = list(feed_list or [])

        def call(*args, **kwargs):
            if len(args) != len(feed_list):
                raise TypeError(f"Expected {len(feed_list)} feed values, got {len(args)}")
            return self.run(fetches, dict(zip(feed_list, args)))
        return call

    def _prepare(self, fetches, feed_dict):
        mapper = FetchMapper(self._graph, fetches)
        feed_tensors = [_feed_tensor(self._graph, k) for k in feed_dict]
        fetch_tensors = [e for e in mapper.elements if isinstance(e, Tensor)]
        targets = [e for e in mapper.elements if isinstance(e, Operation)]
        split = split_run(fetch_tensors, targets, feed_tensors, self._placement.home)
        if not split.remote:
            local = self._local
            return lambda feed_dict: local.run(fetches, feed_dict)
        return _RemoteRun(self, (fetches, list(feed_dict)), mapper, feed_tensors, split)

    # ---- tasks -----------------------------------------------------------------------------------
    def handle(self, task):
        """The back-end handle of ``task`` (waits for it to be served)."""
        h = self._handles.get(task)
        if h is None:
            h = self._handles[task] = self._backend.connect(self._server.namespace, task, CONNECT_TIMEOUT_SECS)
        return h

    def submit(self, task, method, args, num_returns=1):
        return self._backend.submit(self.handle(task), method, args, num_returns)

    def wait(self, futures, tasks):
        """The values of ``futures``; ``tasks[i]`` (or None) names the task for error messages."""
        try:
            return self._backend.wait(futures, [f"/job:{t[0]}/task:{t[1]}" if t else "a task" for t in tasks])
        except errors.UnavailableError:
            self._handles.clear()   # a new actor may come up under the same name
            raise

    def pull(self, pulls, presence=None):
        """``{task: [var ops]}`` (values) and ``{task: [var ops]}`` (existence only) ->
        ``{task: (blank, [value or None], [exists])}``, one call per task, all in parallel."""
        presence = presence or {}
        tasks = list(dict.fromkeys([*pulls, *presence]))
        futures = [self.submit(t, "read", [[v.name for v in pulls.get(t, ())], [v.name for v in presence.get(t, ())]])
                   for t in tasks]
        return dict(zip(tasks, self.wait(futures, tasks)))

    def worker_stage(self, program, key):
        """The executor of a stage that runs on this worker (after remote updates)."""
        executor = self._worker_stages.get(key)
        if executor is None:
            executor = self._worker_stages[key] = StageExecutor(program)
        return executor

    # ---- lifecycle ------------------------------------------------------------------------------
    def close(self):
        self._closed = True
        self._local.close()
        self._runs.clear()


class _RemoteRun:
    """One prepared run structure with remote work (see the module docstring's steps)."""

    def __init__(self, sess, keep, mapper, feed_tensors, split):
        self.sess, self.keep = sess, keep   # keeps the objects whose ids make the cache key alive
        self.mapper, self.split = mapper, split
        self.feed_checks = [(t, t.dtype.base_dtype.as_np, t.shape) for t in feed_tensors]
        pre = split.pre_fetches + split.pre_targets
        self.pre_call = sess._local.make_callable(pre, feed_list=feed_tensors) if pre else None
        self.programs = [program_of(st) for st in split.stages]
        self.tensor_positions = [i for i, e in enumerate(mapper.elements) if isinstance(e, Tensor)]
        self.local_table = LocalTable(sess._graph, sess._local._state.store)

    def __call__(self, feed_dict):
        sess, split = self.sess, self.split
        feeds = [check_feed(t, dt, shape, v) for (t, dt, shape), v in zip(self.feed_checks, feed_dict.values())]
        pulled = sess.pull(split.pulls, split.presence) if split.pulls or split.presence else {}
        store = sess._local._state.store
        with sess._local._state.lock:
            for task, (_, values, exists) in pulled.items():
                for var, value in zip(split.pulls.get(task, ()), values):
                    _mirror(store, var, value)
                for var, present in zip(split.presence.get(task, ()), exists):
                    _mark(store, var, present)
            try:
                pre_out = self.pre_call(*feeds) if self.pre_call else []
            except errors.FailedPreconditionError as e:
                blank = [t for t, (b, _, _) in pulled.items() if b]
                if blank:
                    raise errors.AbortedError(
                        None, e.op, f"Parameter server /job:{blank[0][0]}/task:{blank[0][1]} was restarted and has "
                                    f"lost its variables; the session must be recreated ({e})") from None
                raise
        results, waits, wait_tasks = [], [], []

        def value_of(source):
            kind = source[0]
            if kind == "feed":
                return feeds[source[1]]
            if kind == "pre":
                return pre_out[source[1]]
            return results[source[1]][source[2]]

        for st, (program, key) in zip(split.stages, self.programs):
            args = [value_of(src) for _, src in st.inputs]
            tokens = [results[a][-1] for a in sorted(st.after)]
            if st.location == WORKER:
                ready = _resolve(sess, args + tokens)
                out = sess.worker_stage(program, key).run(self.local_table, ready[:len(args)])
                results.append([*out, True])
                continue
            fs = sess.submit(st.location, "run_stage", [key, program, len(args), *args, *tokens],
                             num_returns=len(st.outputs) + 1)
            fs = fs if isinstance(fs, list) else [fs]
            results.append(fs)
            waits.extend(fs)
            wait_tasks.extend([st.location] * len(fs))
        if waits:
            got = iter(sess.wait(waits, wait_tasks))
            for st, fs in zip(split.stages, results):
                if st.location != WORKER:
                    fs[:] = [next(got) for _ in fs]
        values = [None] * len(self.mapper.elements)
        for pos, source in zip(self.tensor_positions, split.fetch_sources):
            values[pos] = value_of(source)
        return self.mapper.build(values)


def _resolve(sess, values):
    """Wait for the futures among ``values`` (inputs of a stage on this worker)."""
    pending = [i for i, v in enumerate(values) if sess._backend.is_future(v)]
    if pending:
        got = sess.wait([values[i] for i in pending], [None] * len(pending))
        values = list(values)
        for i, v in zip(pending, got):
            values[i] = v
    return values


def _mirror(store, var, value):
    """Put a pulled value into the local store: into the existing writable buffer when it fits
    (no allocation), else as a writable copy (pulled arrays may be read-only views)."""
    buffers = store.buffers()
    if value is None:
        buffers.pop(var, None)
        return
    buf = buffers.get(var)
    if buf is not None and getattr(buf, "shape", None) == value.shape and buf.dtype == value.dtype \
            and buf.flags.writeable:
        buf[...] = value
    else:
        buffers[var] = np.array(value, copy=True, order="C")


def _mark(store, var, present):
    """Mirror only whether a variable exists (for ``IsVariableInitialized``): a placeholder stands
    in for an absent local copy; any run that reads the value pulls it first."""
    buffers = store.buffers()
    if not present:
        buffers.pop(var, None)
    elif var not in buffers:
        buffers[var] = np.empty(0, var.get_attr("dtype").as_np)


def _structure_key(fetches):
    """A hashable key of a fetch structure from the identities of its leaves (kept alive by the
    cached run) and the shape of its containers; recomputed per run, so mutated lists are fine."""
    if isinstance(fetches, (list, tuple)) and not isinstance(fetches, str):
        return (type(fetches), tuple(_structure_key(f) for f in fetches))
    if isinstance(fetches, dict):
        return (type(fetches), tuple((k if isinstance(k, (str, int)) else id(k), _structure_key(v))
                                     for k, v in fetches.items()))
    return fetches if isinstance(fetches, str) else id(fetches)
