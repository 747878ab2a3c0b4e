"""schedule: step order, kernel operands, buffer policy and in-place decisions.

Before: kernels (fused ops) and the remaining ops, with ``deps`` and symbolic shapes.
After: a ``Schedule`` — an ordered list of steps (a ``KernelStep`` or a single op run by NumPy),
each kernel's operands (inputs, variable buffers, materialized outputs) and how each output
buffer is obtained:
  ``scratch``  allocated once per specialization and reused (static shape, never returned);
  ``reuse``    like scratch for a run-time shape: kept across runs, reallocated when it changes;
  ``pool``     a large fetched output: reused only once the user has dropped it (refcount);
  ``fresh``    ``np.empty`` per run (small fetched outputs, dynamic shapes).
Assigns inside kernels (and NumPy steps whose op says ``in_place``) write the variable's own
buffer in place. A NumPy step that reads a variable which a later such write overwrites gets a
copy (its result might be a view). ``journal`` lists the variables written in place before a
step that can fail: the run saves them first so a failure can restore them. (A training step whose
only failing steps come before its updates saves nothing: the batch-norm CNN P8 copied its 6.5 MB
of dense weights and Adam slots every step because a moving average was updated in the forward
pass.)
"""

from jitgraph.compiler.order import var_accesses
from jitgraph.compiler.shapes import var_shape
from jitgraph.ops.state_ops import initialized_by
from jitgraph.runtime.reference import initialization_reads

POOL_MIN_BYTES = 1 << 20


class NotCompilable(Exception):
    """The plan uses something the compiler does not handle; it runs on the reference executor."""


class ScheduleCycle(RuntimeError):
    """The kernels depend on each other in a cycle (no order of whole kernels exists)."""


CANNOT_FAIL = {"Identity", "NoOp", "Shape", "VariableV2", "Const"}
FREE = {"Const", "VariableV2", "NoOp"}


class KernelStep:
    """One fused kernel with its operands in canonical order: ``ins`` then ``vars`` then ``outs``."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.ops = kernel.ops
        self.space = kernel.space
        self.ins = []        # tensors read from outside the kernel
        self.vars = []       # variable ops whose buffers the kernel reads or writes
        self.writes = []     # variable ops written (subset of vars)
        self.outs = []       # (tensor, kind) materialized: kind 'value' or 'snapshot' (assign fetch)
        self.guards = []     # (a, b) dim sources that must be equal at run time (see _kernel_checks)
        self.dims = {}       # canonical symbol -> dim source (an operand's runtime dim)
        self.out_shapes = {}  # materialized value tensor -> tuple of dim sources
        self.parts = []      # a multi_apply group's members, each a KernelStep with its own operands


class Schedule:
    def __init__(self):
        self.steps = []
        self.buffers = {}     # tensor -> 'scratch' | 'pool' | 'fresh'
        self.copy_reads = set()   # (step index, var) NumPy steps that need a copy of the buffer
        self.journal = []     # variables saved before the run and restored if it fails
        self.must_init = []   # (var, op) checked in order before anything runs
        self.var_fetch_end = []     # VariableV2 ref tensors fetched (value after the run's updates)
        self.inits_in_run = set()   # variables some op of this run initializes


def schedule(ops, deps, kernels, kernel_of, shapes, guards, fetch_tensors, feed_tensors=()):
    """Order kernels and steps topologically (ties by creation order) and decide buffers."""
    index = {op: i for i, op in enumerate(ops)}
    fetched = set(fetch_tensors)
    kstep = {k: KernelStep(k) for k in kernels}
    groups, seen = [], set()
    # a group is ready when every dep outside it is done; emit in creation order of first member
    group_of = {op: (kstep[kernel_of[op]] if op in kernel_of else op) for op in ops}
    members = {}
    for op in ops:
        members.setdefault(group_of[op], []).append(op)
    pending = sorted(members, key=lambda g: index[members[g][0]])
    done = set()
    while pending:
        for g in pending:
            if all(d in done or group_of[d] is g for m in members[g] for d in deps[m]):
                break
        else:  # pragma: no cover - convex fusion makes this impossible
            raise ScheduleCycle("schedule: cyclic kernel graph")
        pending.remove(g)
        done.update(members[g])
        if isinstance(g, KernelStep) or g.type not in FREE:
            groups.append(g)
        seen.add(g)
    sched = Schedule()
    sched.steps = groups
    sched.fetched = fetched
    consumers = {}
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    fed = set(feed_tensors)
    for step in groups:
        if isinstance(step, KernelStep):
            _operands(step, consumers, fetched)
            _kernel_checks(step, shapes, fed)
            for part in getattr(step.kernel, "parts", ()):   # a multi_apply group: its members' operands
                part = KernelStep(part)
                _operands(part, consumers, fetched)
                step.parts.append(part)
            for t, kind in step.outs:
                sched.buffers[t] = _buffer_kind(t, shapes.get(t), t in fetched or kind == "snapshot")
    _in_place_hazards(sched, groups)
    sched.must_init = initialization_reads(ops, ())  # what the reference's check_initialized tests
    sched.always_init = {v for v, _ in sched.must_init}
    feed_only = lambda d: not isinstance(d, str) or d.startswith("f")  # noqa: E731
    sched.feed_guards = [g for g in guards if feed_only(g[1]) and feed_only(g[2])]
    sched.var_fetch_end = [t for t in fetch_tensors if t.op.type == "VariableV2" and t.op in index]
    sched.inits_in_run = initialized_by(ops)
    return sched


def _operands(step, consumers, fetched):
    inside = set(step.ops)
    for op in step.ops:
        for var, is_write in var_accesses(op):
            if var not in step.vars:
                step.vars.append(var)
            if is_write and var not in step.writes:
                step.writes.append(var)
        for t in op.inputs:
            if t.dtype.is_ref_dtype or t.op in inside or t in step.ins:
                continue
            step.ins.append(t)
        for t in op.outputs:
            if t.dtype.is_ref_dtype:
                if t in fetched:
                    step.outs.append((t, "snapshot"))
                continue
            used_outside = t in fetched or any(c not in inside for c in consumers.get(t, ()))
            if used_outside or op.op_def.kind == "reduction":
                step.outs.append((t, "value"))


def _kernel_checks(step, shapes, fed):
    """What a kernel assumes about its operands' runtime shapes, as checks the runner makes first.

    Symbolic shapes are canonical: dims that some broadcast equated share one name, which may be
    the dim of a tensor computed *later* in the run, so such a name is never evaluated at run time.
    Instead every kernel reads its dims from its own operands: a dim source is an ``int`` or
    ``(tensor, axis)`` (``tensor.shape[axis]``). For each operand dim whose static shape is
    unknown, a check: equal to the int its canonical shape claims (1 included: a broadcast dim),
    or to the first operand dim of the same canonical symbol. ``step.dims`` then gives the
    iteration space and the shapes of the buffers the runner allocates (``step.out_shapes``).
    A failed check means a shape assumption of this specialization does not hold (a NumPy step
    made a dim 1, or the shapes are incompatible): the run goes to the reference executor.
    """
    dims, checks = {}, []
    for t in step.ins:
        s = shapes.get(t)
        if s is None:
            raise NotCompilable(f"unknown shape of kernel operand {t.name}")
        static = t.shape.as_list() if t.shape.ndims == len(s) else [None] * len(s)
        for j, c in enumerate(s):
            src = static[j] if static[j] is not None else (t, j)
            if isinstance(c, int):
                if src != c and not (t in fed and c == 1):   # the signature fixes a fed 1
                    checks.append((src, c))
            elif c not in dims:
                dims[c] = src
            elif dims[c] != src:
                checks.append((dims[c], src))
    step.guards = checks
    step.dims = dims
    for t, kind in step.outs:
        if kind != "value":
            continue
        s = shapes.get(t)
        if s is None or any(isinstance(c, str) and c not in dims for c in s):
            raise NotCompilable(f"kernel output {t.name} has a dim no operand gives")
        step.out_shapes[t] = tuple(c if isinstance(c, int) else dims[c] for c in s)


def _buffer_kind(t, shape, returned):
    static = shape is not None and all(isinstance(d, int) for d in shape)
    if not returned:
        return "scratch" if static else "reuse"
    if static:
        n = t.dtype.base_dtype.as_np.itemsize
        for d in shape:
            n *= d
        if n >= POOL_MIN_BYTES:
            return "pool"
    return "fresh"


def _in_place_hazards(sched, steps):
    """Copies for NumPy reads of later-overwritten variables; the variables the run's journal
    saves: those a kernel writes before the last step that can fail. (A side step can fail only
    there or earlier: it joins before any step that writes a variable, ``concurrency``.) Linear
    in the steps."""
    written_later = {}
    for i in range(len(steps) - 1, -1, -1):
        step = steps[i]
        if isinstance(step, KernelStep):
            for v in step.writes:
                written_later[v] = True
        else:
            for var, is_write in var_accesses(step):
                if not is_write and var in written_later:
                    sched.copy_reads.add((i, var))
            if step.op_def.extra.get("in_place"):   # a NumPy step writing rows of the buffer itself
                written_later.update((var, True) for var, is_write in var_accesses(step) if is_write)
    last_fail = -1
    for i, step in enumerate(steps):
        if _can_fail(step):
            last_fail = i
    journal = {}                         # (a dict: first-write order, for a stable runner text)
    for step in steps[:max(last_fail, 0)]:
        if isinstance(step, KernelStep):
            journal.update(dict.fromkeys(step.writes))
    sched.journal = list(journal)


def _can_fail(step):
    """Can the step raise half-way through a run? A kernel: when a guard checks its shapes or it
    allocates an output of run-time shape (the allocation limit); its static outputs' limit check
    runs before every step (``runner``). A NumPy step: unless its op cannot fail."""
    if isinstance(step, KernelStep):
        return bool(step.guards) or any(not isinstance(d, int) for s in step.out_shapes.values() for d in s)
    return step.type not in CANNOT_FAIL


def var_static(var):
    return var_shape(var), var.get_attr("dtype").as_np
