"""The reference executor: runs a pruned op list with each op's NumPy implementation.

It is the semantic oracle for the compiler and the fallback for anything it does not lower.

Program order. Ops run in creation order. An op that takes a variable reference as an ordinary
input reads the variable's value when the op runs, so a read sees exactly the assigns to that
variable that were created before it and are part of this run (the rule of TF2's
``tf.function``). ``v.value()`` is the read made when ``v`` was created, so it sees the value at
the start of the run; ``v * 2`` or ``v.read_value()`` read where they were written. A fetched
variable itself (``sess.run([train_op, v])``) is read after the run, so it shows the run's own
updates, as a local TF1 session does.

Failure. Reads of uninitialized variables are found before anything runs
(``FailedPreconditionError`` naming the variable); any other failure rolls every variable back.
"""

import sys

import numpy as np

from jitgraph import errors
from jitgraph.runtime.limits import check_output_sizes, max_alloc_bytes, static_output_bytes
from jitgraph.ops.state_ops import VarRef, initialized_by, variable_of


def initialization_reads(ops, fed):
    """The ``(variable, op)`` pairs, in op order, of the first read of each variable that no earlier
    op of ``ops`` initializes: what ``check_initialized`` tests (a plan works them out once)."""
    initialized, reads, seen = set(), [], set()
    for op in ops:
        d = op.op_def
        for i, t in enumerate(op.inputs):
            if not t.dtype.is_ref_dtype or id(t) in fed:
                continue
            var = variable_of(t)
            if var is None or var in initialized or var in seen:
                continue
            if i not in d.ref_inputs or d.ref_requires_init:
                reads.append((var, op))
                seen.add(var)
        if d.ref_initializes and id(op.inputs[0]) not in fed:
            var = variable_of(op.inputs[0])
            if var is not None:
                initialized.add(var)
    return reads


def check_initialized(ops, fed, store, reads=None):
    """Raise ``FailedPreconditionError`` for the first read of ``ops`` (in order) of a variable that
    is uninitialized when it runs; ``reads``: ``initialization_reads(ops, fed)`` if already known."""
    for var, op in (initialization_reads(ops, fed) if reads is None else reads):
        if not store.is_initialized(var):
            raise errors.FailedPreconditionError(
                None, op, f"Attempting to use uninitialized value {var.name} (read by op "
                          f"'{op.name}' of type {op.type})")


class ReferencePlan:
    """A run of ``ops`` (already pruned and ordered) producing ``fetch_tensors`` from feeds."""

    tier = "reference"

    def __init__(self, ops, fetch_tensors, feed_tensors):
        self.ops = ops
        self.fetch_tensors = list(fetch_tensors)
        self.feed_tensors = list(feed_tensors)
        self._fed = set(map(id, feed_tensors))
        fetch_ids = {}
        for i, t in enumerate(self.fetch_tensors):
            fetch_ids.setdefault(id(t), []).append(i)
        self._fetch_ids = fetch_ids
        self._fetched_vars = [(i, t.op) for i, t in enumerate(self.fetch_tensors)
                              if t.op.type == "VariableV2" and id(t) not in self._fed]
        inits = initialized_by(ops)
        self._must_be_initialized = [v for _, v in self._fetched_vars if v not in inits]
        self._donors, self._dying = _donors(ops, fetch_ids, self._fed)
        self._init_reads = initialization_reads(ops, self._fed)
        # per op, worked out once: output dtypes, and the static output bytes checked against the
        # allocation limit (a run reads the limit once; most ops are far below it)
        self._out_dtypes = {op: [t.dtype.base_dtype.as_np for t in op.outputs] for op in ops}
        self._out_bytes = {op: static_output_bytes([op]) for op in ops if op.op_def.run is None}

    def run(self, state, feed_values, record=None):
        """Run the ops; with ``record`` (a dict), also note ``name -> (shape, dtype, value)`` of every
        array value the run makes or is fed, the value only for small integer arrays (shapes, axes):
        the compiler warms library kernels with them."""
        store = state.store
        check_initialized(self.ops, self._fed, store, self._init_reads)
        for var in self._must_be_initialized:   # a fetched variable no op of this run initializes
            if not store.is_initialized(var):
                raise errors.FailedPreconditionError(None, var, f"Attempting to use uninitialized value {var.name}")
        values = {id(t): v for t, v in zip(self.feed_tensors, feed_values)}
        out = [None] * len(self.fetch_tensors)
        for t in self.feed_tensors:
            for i in self._fetch_ids.get(id(t), ()):
                out[i] = values[id(t)]
        ctx = _Context(state)
        limit = max_alloc_bytes()
        store.begin()
        try:
            with np.errstate(all="ignore"):
                if record is not None:
                    _record(record, self.feed_tensors, feed_values)
                for op in self.ops:
                    results = self._run_op(ctx, op, values, self._donors.get(op), limit)
                    if record is not None:
                        _record(record, op.outputs, results)
                    self._keep(op, results, values, out, store)
                    del results    # no extra reference: a dying temporary may be reused (_donors)
                    for key in self._dying.get(op, ()):    # last use: free it (or the reuse above)
                        values.pop(key, None)
        except BaseException:
            store.rollback()
            raise
        store.commit()
        for i, var in self._fetched_vars:   # the value after the run's updates
            out[i] = store.get(var).copy()
        return [_detach(v, store, feed_values) for v in out]

    def _keep(self, op, results, values, out, store):
        # (a function of its own: no loop variable of the run outlives it to hold a result alive)
        for t, v in zip(op.outputs, results):
            if id(t) in self._fed:
                continue
            values[id(t)] = v
            if op.type == "VariableV2":    # a fetched variable is read after the run (see run)
                continue
            for i in self._fetch_ids.get(id(t), ()):
                out[i] = _snapshot(v, store)

    def _run_op(self, ctx, op, values, donors, limit):
        d = op.op_def
        args = _arguments(op, values, ctx.state.store)
        out_dtypes = self._out_dtypes[op]
        if self._out_bytes.get(op, 0) > limit:
            check_output_sizes(op)
        fn = d.compute
        if donors:
            buf = _free_buffer(args, donors, out_dtypes[0])
            if buf is not None:
                ufunc = d.extra["ufunc"]
                fn = lambda *a, **_: ufunc(*a, out=buf)   # noqa: E731
        return call_op(ctx, op, fn, args, out_dtypes)


def _record(record, tensors, arrays):
    for t, v in zip(tensors, arrays):
        if isinstance(v, np.ndarray):
            small_int = v.dtype.kind in "iu" and v.size <= 8     # a shape or axis: keep the value
            record[t.name] = (v.shape, v.dtype, v.copy() if small_int else None)


def _arguments(op, values, store):
    ref_inputs = op.op_def.ref_inputs
    return [store.get(v.var) if isinstance(v, VarRef) and i not in ref_inputs else v
            for i, v in enumerate(values[id(t)] for t in op.inputs)]


def _donors(ops, fetch_ids, fed):
    """``({op: input positions whose value may become op's output buffer}, {op: ids of the values
    it uses last})``. A donor: the op is a ufunc, the input its producer's fresh ufunc result (not
    fed, not fetched) and this op its last use. Writing there (``out=``) instead of new memory
    spares a first run its page faults: W1's chain on 10M floats took 0.54 s in a fresh process
    (0.12 s once memory is warm); with reuse 0.29 s."""
    last_use, owned = {}, set()
    for op in ops:
        for t in op.inputs:
            last_use[id(t)] = op
        if op.op_def.extra.get("ufunc") is not None and op.op_def.run is None:
            owned.update(id(t) for t in op.outputs if id(t) not in fed and id(t) not in fetch_ids)
    donors, dying = {}, {}
    for op in ops:
        dying[op] = list({id(t) for t in op.inputs if last_use[id(t)] is op})
        if op.op_def.extra.get("ufunc") is None or op.op_def.run is not None or len(op.outputs) != 1:
            continue
        slots = [i for i, t in enumerate(op.inputs) if id(t) in owned and last_use[id(t)] is op]
        if slots:
            donors[op] = slots
    return donors, dying


def _free_buffer(args, slots, dtype):
    """An input array (of ``slots``) that can hold the result: right shape and dtype, C order,
    writeable, and referenced by nobody else (no view of it is alive: a view holds a reference)."""
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    except ValueError:
        return None
    for i in slots:
        a = args[i]
        if (type(a) is np.ndarray and a.shape == shape and a.dtype == dtype and a.flags.writeable
                and a.flags.c_contiguous and a.base is None
                # references: the values dict, each place in args, ``a``, getrefcount's argument
                and sys.getrefcount(a) <= 3 + sum(x is a for x in args)):
            return a
    return None


def call_op(ctx, op, fn, args, out_dtypes):
    """Run one op — its stateful ``run`` if it has one, else ``fn(*args, **attrs)`` — translating
    failures into TF's error classes named after the op, and outputs into arrays of ``out_dtypes``.
    Shared by this executor and the compiled plans' NumPy steps."""
    d = op.op_def
    try:
        if d.run is not None:   # (a stateful op's extra["fast"], e.g. a compiled loop, takes run's arguments)
            result = (d.run if fn is None or fn is d.compute else fn)(ctx, op, args)
        elif fn is None:
            raise errors.UnimplementedError(None, op, f"Op type {op.type} has no reference implementation")
        else:
            result = fn(*args, **op.attrs)
    except errors.OpError as e:
        if e.op is None:
            e.op = op
            e.message = f"{e.message} (op '{op.name}' of type {op.type})"
            e.args = (e.message,)
        raise
    except MemoryError as e:
        raise errors.ResourceExhaustedError(None, op, f"OOM when computing '{op.name}' ({op.type}): {e}") from None
    except (ValueError, TypeError, IndexError, ArithmeticError) as e:
        raise errors.InvalidArgumentError(None, op, f"{op.type} op '{op.name}' failed: {e}") from None
    if not isinstance(result, (tuple, list)):
        result = (result,)
    return [r if isinstance(r, VarRef) or (type(r) is np.ndarray and r.dtype == dt) else np.asarray(r, dtype=dt)
            for r, dt in zip(result, out_dtypes)]


class _Context:
    """What stateful op implementations see: the store and the session's random streams."""

    __slots__ = ("state", "store", "_undo")

    def __init__(self, state):
        self.state = state
        self.store = state.store
        self._undo = None

    def rng(self, op):
        return self.state.rng(op)

    def on_retry(self, undo):
        """Call ``undo()`` if this attempt of the run is abandoned to be redone: a compiled runner's
        shape check failed after NumPy steps ran, and the reference executor runs it again. (A
        step that consumes input, as an iterator's ``get_next``, puts the element back.)"""
        if self._undo is None:
            self._undo = []
        self._undo.append(undo)

    def abandon(self):
        for undo in reversed(self._undo or ()):
            undo()
        self._undo = None


def _snapshot(v, store):
    if isinstance(v, VarRef):
        return store.get(v.var).copy()
    return v


def _detach(v, store, feeds=()):
    """Fetched arrays must never alias a variable buffer, a graph constant or the caller's feed."""
    if isinstance(v, np.ndarray):
        if (not v.flags.writeable or not v.flags.owndata or any(v is f for f in feeds)
                or any(v is b for b in store.buffers().values())):
            v = v.copy()
        if v.ndim == 0:
            return v[()]
    return v
