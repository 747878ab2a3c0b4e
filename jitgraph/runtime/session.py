"""``Session``: runs fetches with feeds, keeping one plan per (fetches, feeds) and the variables.

The seam to the compiler is ``jitgraph.compiler.build_plan``: it returns an object with
``run(state, feed_values) -> list of fetch values``. Everything here is per-call bookkeeping kept
as small as possible: a run whose fetch/feed structure was seen before goes straight to its plan.
"""

import contextlib
import operator
import threading

import numpy as np

from jitgraph import errors
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.kernels import denormals
from jitgraph.runtime.fetches import FetchMapper
from jitgraph.runtime.store import SessionState


class ConfigProto:
    """Session options. ``allow_soft_placement`` and ``log_device_placement`` are accepted;
    device strings are annotations for the local back end."""

    def __init__(self, allow_soft_placement=False, log_device_placement=False, **kwargs):
        self.allow_soft_placement = allow_soft_placement
        self.log_device_placement = log_device_placement
        self.__dict__.update(kwargs)


class _Runner:
    """A prepared run: the feed checks, the plan, and ``build`` (plan outputs -> fetch structure)."""

    __slots__ = ("feed_tensors", "feed_checks", "plan", "build", "fetches")

    def __init__(self, fetches, mapper, feed_tensors, plan):
        self.fetches = fetches          # kept alive: the fast path is keyed by its id()
        self.feed_tensors = feed_tensors
        self.feed_checks = [_feed_check(t) for t in feed_tensors]
        self.plan = plan
        self.build = mapper.build


def _bind_no_feeds(plan, build, state, sess=None, accept_options=False):
    """A run of ``plan`` without feeds as one closure: the session lock, the plan's runner (looked
    up per call: the plan swaps in its compiled runner after the first runs), the fetch structure.
    The lock is taken with bound ``acquire``/``release`` and ``try``/``finally``: about half the
    cost of a ``with`` block here (no ``__enter__``/``__exit__`` lookups, no 3-argument exit call).
    With ``sess`` it is ``make_callable``'s callable: it refuses a closed session and takes no
    arguments (as TF's); with ``accept_options`` it takes (and ignores, like ``run``) ``options``
    and ``run_metadata`` keywords, which costs ~30 ns a call more than no parameters at all.

    The closure is generated from ``_CALL_SOURCE`` so that each variant does only its own work
    (a branch or an identity call per run would cost as much as the saving)."""
    flush, restore = denormals.pair()
    source = _CALL_SOURCE.format(
        params="*, options=None, run_metadata=None" if accept_options else "",
        closed_check="if sess._closed: _callable_error(sess, (), 0)" if sess is not None else "pass",
        result="[0]" if build is _first else "",
        ret={_none: "None", _first: "out"}.get(build, "build(out)"))
    ns = {"plan": plan, "state": state, "build": build, "sess": sess, "acquire": state.lock.acquire,
          "release": state.lock.release, "_callable_error": _callable_error,
          "flush": flush, "restore": restore}
    exec(source, ns)   # noqa: S102 - a fixed template, no user text
    return ns["call"]


_CALL_SOURCE = """
def call({params}):
    {closed_check}
    acquire()
    mode = flush()
    try:
        out = plan.run(state, ()){result}
    finally:
        restore(mode)
        release()
    return {ret}
"""


class Session:
    """Runs a graph: ``sess.run(fetches, feed_dict)``. Variables live in the session."""

    def __new__(cls, target="", graph=None, config=None):
        if target and cls is Session:   # a tf.train.Server's target: jitgraph.distribute runs it
            from jitgraph.distribute.session import DistributedSession
            cls = DistributedSession
        return super().__new__(cls)

    def __init__(self, target="", graph=None, config=None):
        self._graph = graph if graph is not None else get_default_graph()
        self._config = config
        self._state = SessionState()
        self._closed = False
        self._fast = {}      # id(fetches) -> [fetches, runner without feeds, {feed keys: runner},
        #                       that runner bound (_bind_no_feeds)]
        self._default_ctx = None
        from jitgraph.compiler import PlanCache
        self._plans = PlanCache(self)

    graph = property(lambda self: self._graph)
    sess_str = property(lambda self: "")

    def list_devices(self):
        return [_DeviceAttributes("/job:localhost/replica:0/task:0/device:CPU:0", "CPU")]

    # ---- running ---------------------------------------------------------------------------------
    # Hot path: a run whose fetch object (and feed keys) was seen before costs one dict lookup by
    # id(fetches), the feed checks, the session lock and the plan's generated runner; without feeds
    # it is one call of a closure binding all of that (``_bind_no_feeds``). Runs on one
    # session are serialized by ``SessionState.lock`` (plans reuse scratch buffers and write
    # variables in place); kernels release the GIL, so runs of different sessions overlap.
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluate ``fetches`` (a tensor, op, name, or nested list/tuple/dict of them)."""
        tf = type(fetches)
        entry = self._fast.get(tuple(map(id, fetches)) if tf is list else
                               (tuple(map(id, fetches)),) if tf is tuple else id(fetches))
        # (a namedtuple or a list holding lists never gets an entry, see _fast_key)
        if entry is not None:
            if not feed_dict:
                call = entry[3]
                if call is not None:
                    return call()
            else:
                runner = entry[2].get(tuple(feed_dict))
                if runner is not None:
                    values = [_fast_feed(c, v) for c, v in zip(runner.feed_checks, feed_dict.values())]
                    lock = self._state.lock
                    lock.acquire()
                    mode = denormals.flush()
                    try:
                        out = runner.plan.run(self._state, values)
                    finally:
                        denormals.restore(mode)
                        lock.release()
                    return runner.build(out)
        return self._run_slow(fetches, feed_dict)

    def _run_slow(self, fetches, feed_dict):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        feed_dict = feed_dict or {}
        runner = self._make_runner(fetches, feed_dict)
        key = _fast_key(fetches)
        if key is not None:
            entry = self._fast.get(key)
            if entry is None:
                entry = self._fast[key] = [fetches, None, {}, None]
            if feed_dict:
                entry[2][tuple(feed_dict)] = runner
            else:
                entry[1] = runner
                entry[3] = _bind_no_feeds(runner.plan, runner.build, self._state)
        values = [check_feed(t, d, s, v) for (t, d, s, _), v in zip(runner.feed_checks, feed_dict.values())]
        with self._state.lock:
            mode = denormals.flush()
            try:
                out = runner.plan.run(self._state, values)
            finally:
                denormals.restore(mode)
        return runner.build(out)

    def _make_runner(self, fetches, feed_dict):
        mapper = FetchMapper(self._graph, fetches)
        feed_tensors = []
        for k in feed_dict:
            feed_tensors.append(_feed_tensor(self._graph, k))
        fetch_tensors = [e for e in mapper.elements if isinstance(e, Tensor)]
        targets = [e for e in mapper.elements if isinstance(e, Operation)]
        plan = self._plans.get(fetch_tensors, targets, feed_tensors)
        return _Runner(fetches, _ElementMapper(mapper, mapper.elements, fetches), feed_tensors, plan)

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function running ``fetches`` with positional feeds for ``feed_list``; everything is
        prepared once, so each call only checks feeds and runs the plan. Without feeds the
        function is one closure (``_bind_no_feeds``): no argument packing, no feed list, and the
        common fetch structures (one tensor, one op) returned without a builder call."""
        feed_list = list(feed_list or [])
        runner = self._make_runner(fetches, {k: None for k in feed_list})
        checks, plan, build, state = runner.feed_checks, runner.plan, runner.build, self._state
        acquire, release = state.lock.acquire, state.lock.release
        flush, restore = denormals.pair()
        n = len(checks)
        sess = self

        if not checks:
            return _bind_no_feeds(plan, build, state, sess, accept_options)

        def call(*args, **kwargs):
            if sess._closed or len(args) != n:
                _callable_error(sess, args, n)
            values = [_fast_feed(c, v) for c, v in zip(checks, args)]
            acquire()
            mode = flush()
            try:
                out = plan.run(state, values)
            finally:
                restore(mode)
                release()
            return build(out)
        return call

    # ---- compiled-plan info -------------------------------------------------------------------------
    def cache_info(self):
        """Plan-cache counters: compiles, hits, misses with reasons (see ``jitgraph.compiler``);
        ``kernels``: this process's kernel builds, ``compiled`` by Numba, ``loaded`` from the disk
        cache or ``shared`` (an equal kernel already built for the same types), with the seconds
        compiling and loading took; ``loops``: which while loops run as native code and why others
        run on the reference."""
        info = self._plans.info()
        from jitgraph.compiler import build_stats
        from jitgraph.compiler.loops import report
        info["kernels"] = build_stats.snapshot()
        info["loops"] = report()
        return info

    def explain(self, fetches, feed_dict=None, svg_path=None):
        """The compiled plan of ``run(fetches, feed_dict)`` as text (``print`` it) and, with
        ``svg_path``, a picture (see ``jitgraph.explain``)."""
        from jitgraph.explain import explain
        return explain(fetches, feed_dict, self._graph, svg_path)

    def assert_no_recompile(self):
        """Context manager: ``AssertionError`` if any plan misses the cache or compiles inside it."""
        from jitgraph.compiler import assert_no_recompile
        return assert_no_recompile()

    # ---- lifecycle ----------------------------------------------------------------------------
    def close(self):
        self._closed = True
        self._state.closed = True
        self._fast.clear()

    def __enter__(self):
        if self._default_ctx is None:
            self._default_ctx = self.as_default()
            self._default_ctx.__enter__()
        self._graph_ctx = self._graph.as_default()
        self._graph_ctx.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._graph_ctx.__exit__(exc_type, exc, tb)
        if self._default_ctx is not None:
            self._default_ctx.__exit__(exc_type, exc, tb)
            self._default_ctx = None
        self.close()

    @contextlib.contextmanager
    def as_default(self):
        """Make this the default session for ``Tensor.eval()`` and ``Operation.run()``."""
        _session_stack().append(self)
        try:
            yield self
        finally:
            _session_stack().pop()

    def __del__(self):
        pass


class InteractiveSession(Session):
    """A session that installs itself as the default session when created."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        _session_stack().append(self)

    def close(self):
        super().close()
        stack = _session_stack()
        if self in stack:
            stack.remove(self)


class _ElementMapper:
    """Maps the plan's outputs (fetched tensors only) back to the fetch structure; the common
    shapes (one tensor, one op, a flat list/tuple of tensors) get a C-level or trivial builder."""

    __slots__ = ("build",)

    def __init__(self, mapper, elements, fetches=None):
        tensor_pos = []
        j = 0
        for e in elements:
            tensor_pos.append(j if isinstance(e, Tensor) else None)
            j += isinstance(e, Tensor)
        all_tensors = all(p is not None for p in tensor_pos)
        single = not isinstance(fetches, (list, tuple, dict)) and len(elements) == 1
        if single and all_tensors:
            self.build = _first
        elif single:
            self.build = _none
        elif all_tensors and type(fetches) in (list, tuple) and len(fetches) == len(elements) \
                and not any(isinstance(f, (list, tuple, dict)) for f in fetches):
            self.build = _same if type(fetches) is list else tuple
        elif all_tensors:
            self.build = mapper.build
        else:
            self.build = lambda out: mapper.build([None if p is None else out[p] for p in tensor_pos])


def _none(out):
    return None


_first = operator.itemgetter(0)


def _same(out):
    return out


class _DeviceAttributes:
    def __init__(self, name, device_type):
        self.name, self.device_type, self.memory_limit_bytes = name, device_type, 0


def _fast_key(fetches):
    """The identity key under which ``run`` finds this fetch structure again, or None.

    Only immutable structures qualify: a graph element (or name), or a list/tuple of graph
    elements, keyed by the ids of the objects (kept alive by the entry, so ids stay unique). A
    tuple's key wraps the ids once more, so a tuple and a list of the same tensors (which come back
    as a tuple and a list) never share an entry.
    """
    if isinstance(fetches, (list, tuple)):
        if all(isinstance(f, (Tensor, Operation)) for f in fetches) and not hasattr(fetches, "_fields"):
            ids = tuple(map(id, fetches))
            return ids if type(fetches) is list else (ids,)
        return None
    if isinstance(fetches, (Tensor, Operation, str)) or hasattr(fetches, "_as_graph_element"):
        return id(fetches)
    return None


def _callable_error(sess, args, n):
    if sess._closed:
        raise RuntimeError("Attempted to use a closed Session.")
    raise TypeError(f"Expected {n} feed values, got {len(args)}")


def _feed_check(t):
    shape = t.shape
    dims = tuple(shape.as_list()) if shape.ndims is not None else None
    return (t, t.dtype.base_dtype.as_np, shape, dims)


def _fast_feed(check, value):
    """``check_feed`` for the common case (a C-contiguous array of the right dtype and shape)."""
    t, np_dtype, shape, dims = check
    if type(value) is np.ndarray and value.dtype == np_dtype and value.flags.c_contiguous:
        vs = value.shape
        if dims is None:
            return value
        if len(vs) == len(dims):
            for d, s in zip(dims, vs):
                if d is not None and d != s:
                    break
            else:
                return value
    return check_feed(t, np_dtype, shape, value)


def _feed_tensor(graph, key):
    if isinstance(key, Operation):
        raise TypeError(f"Cannot interpret feed_dict key as Tensor: {key!r} is an Operation")
    if hasattr(key, "_as_graph_element") and not isinstance(key, Tensor):
        key = key._as_graph_element()
    if not isinstance(key, (Tensor, str)):
        raise TypeError(f"Cannot interpret feed_dict key as Tensor: {key!r} of type {type(key).__name__}")
    try:
        t = graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
    except (KeyError, ValueError) as e:
        raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
    return t


class FeedError(ValueError, errors.InvalidArgumentError):
    """A fed value does not fit its tensor: both TF's ``ValueError`` and ``InvalidArgumentError``."""

    def __init__(self, op, message):
        ValueError.__init__(self, message)
        self.node_def, self.op, self.message = None, op, message


def check_feed(t, np_dtype, shape, value):
    """Convert a fed value to the tensor's dtype and check its static shape."""
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
                        f"Python scalars, strings, lists, numpy ndarrays, or TensorHandles. (fed {t.name})")
    if type(value) is np.ndarray and value.dtype == np_dtype and value.flags.c_contiguous:
        arr = value
    else:
        try:
            if np_dtype == object:
                arr = np.asarray(value, dtype=object)
            else:
                if isinstance(value, (str, bytes)) or (isinstance(value, np.ndarray) and value.dtype.kind in "SUO"):
                    raise ValueError(f"could not convert {value!r} to {np_dtype}")
                arr = np.asarray(value, dtype=np_dtype, order="C")  # ascontiguousarray makes 0-d 1-d
        except (ValueError, TypeError, OverflowError) as e:
            raise FeedError(t.op, f"Cannot feed value {value!r} for Tensor '{t.name}' of dtype "
                                  f"{t.dtype.base_dtype.name}: {e}") from None
    if not shape.is_compatible_with(arr.shape):
        raise FeedError(t.op, f"Cannot feed value of shape {arr.shape} for Tensor '{t.name}', which has shape "
                              f"'{_shape_repr(shape)}'")
    return arr


def _shape_repr(shape):
    if shape.ndims is None:
        return "<unknown>"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape.as_list()) + ("," if shape.ndims == 1 else "") + ")"


_local = threading.local()


def _session_stack():
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def _clear_default_session_stack():
    _session_stack().clear()


def get_default_session():
    """The innermost session entered with ``with sess:`` / ``sess.as_default()``, or None."""
    stack = _session_stack()
    return stack[-1] if stack else None


def _session_for(session, graph):
    session = session or get_default_session()
    if session is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. Use "
                         "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph is different "
                         "from the session's graph.")
    return session


TensorShape = TensorShape
