"""The variable state of a distributed session as ``Saver`` (and anything using ``sess._state``) sees it.

``ClusterState`` has the ``store`` and ``lock`` of a local ``SessionState``. Inside ``with
state.lock:`` the first read of a remote variable pulls **every** remote variable of the graph in
one parallel round (one call per task), so a checkpoint is one snapshot of all shards, taken as
close to one moment as the tasks allow; writes to remote variables are collected and pushed per
task, in parallel, when the outermost ``with`` ends. Local variables go to the local store.
"""


class LocalTable:
    """This worker's variables by name, for stages run here (``StageExecutor.run``)."""

    def __init__(self, graph, store):
        self._graph, self._buffers, self._ops = graph, store.buffers(), {}

    def _op(self, name):
        op = self._ops.get(name)
        if op is None:
            op = self._ops[name] = self._graph.get_operation_by_name(name)
        return op

    def get(self, name):
        return self._buffers.get(self._op(name))

    def put(self, name, value):
        if value is None:
            self._buffers.pop(self._op(name), None)
        else:
            self._buffers[self._op(name)] = value


class _BatchLock:
    """The session's run lock; its outermost release pushes the collected remote writes."""

    def __init__(self, state, local_lock):
        self._state, self._local, self._depth = state, local_lock, 0

    def acquire(self, blocking=True, timeout=-1):
        got = self._local.acquire(blocking, timeout)
        if got:
            self._depth += 1
        return got

    def release(self, flush=True):
        try:
            if self._depth == 1:
                try:
                    if flush:
                        self._state.store.flush()
                finally:
                    self._state.store.reset()
        finally:
            self._depth -= 1
            self._local.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.release(flush=exc_type is None)


class _ClusterStore:
    def __init__(self, sess):
        self._sess = sess
        self._local = sess._local._state.store
        self._snapshot = None
        self._pending = {}

    def _home(self, var):
        return self._sess._placement.home(var)

    def _remote_values(self):
        if self._snapshot is None:
            pulls = {}
            for op in self._sess._graph.get_operations():
                if op.type == "VariableV2":
                    task = self._home(op)
                    if task is not None:
                        pulls.setdefault(task, []).append(op)
            got = self._sess.pull(pulls) if pulls else {}
            self._snapshot = {var: value for task, (_, values, _) in got.items()
                              for var, value in zip(pulls[task], values)}
        return self._snapshot

    def is_initialized(self, var):
        if self._home(var) is None:
            return self._local.is_initialized(var)
        return self._remote_values().get(var) is not None

    def get(self, var):
        if self._home(var) is None:
            return self._local.get(var)
        value = self._remote_values().get(var)
        if value is None:
            raise KeyError(var)
        return value

    def set(self, var, value):
        task = self._home(var)
        if task is None:
            self._local.set(var, value)
            return
        self._pending.setdefault(task, {})[var.name] = value
        if self._sess._state.lock._depth == 0:
            self.flush()
            self.reset()

    def shape_of(self, var, default=None):
        if self._home(var) is None:
            return self._local.shape_of(var, default)
        value = self._remote_values().get(var)
        return default if value is None else value.shape

    def flush(self):
        """Push the collected remote writes: one ``assign_values`` per task, all in parallel."""
        if self._pending:
            tasks = list(self._pending)
            futures = [self._sess.submit(t, "assign_values", [self._pending[t]]) for t in tasks]
            self._pending = {}
            self._sess.wait(futures, tasks)

    def reset(self):
        self._snapshot, self._pending = None, {}


class ClusterState:
    """``store`` + ``lock`` over the local store and the tasks (see the module docstring)."""

    def __init__(self, sess):
        self.store = _ClusterStore(sess)
        self.lock = _BatchLock(self, sess._local._state.lock)

    def rng(self, op):
        return self.store._sess._local._state.rng(op)
