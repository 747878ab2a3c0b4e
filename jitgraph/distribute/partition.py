"""partition: split one run of a worker's graph into pulls, a local part, and stages on tasks.

Before: the fetches, targets and feeds of a ``Session.run`` on a worker, and where each variable
lives (``Placement.home``). After: a ``Split``:

- ``pulls``: per task, the variables its local part reads (one batched read per task, all tasks in
  parallel, before the local part runs; their values mirror into the worker's variable store);
  ``presence``: variables it only checks for initialization (the same call says which exist);
- the local part (``pre_fetches``/``pre_targets``): every op that is not downstream of an update of
  a remote variable, run fused by the worker's ordinary session;
- ``stages``: groups of ops run as one compiled plan at one location (a task, or this worker again
  after remote updates), in dependency order. Stage ``j`` takes feeds from the user's feeds, the
  local part's outputs or earlier stages' outputs, and waits for the stages in ``after``.

Rules, in one pass each over the pruned ops (linear in their number and their edges):
1. an op that writes a remote variable runs on the variable's task; everything downstream of
   such a write (data, control, or program order on a variable: ``compiler.order``) is "late";
2. an early op that is pure and cheap (not a matmul-like library op), reads a variable of task
   ``t`` that nothing else on the worker reads (or consumes such an op), and whose every consumer
   runs on ``t``, moves to ``t`` (e.g. Adam's ``m * beta1``): the worker neither pulls the slot nor
   sends it back. A variable the worker reads anyway (a weight in the backward pass) is pulled,
   and the gradient math that reads it stays on the worker;
3. a late op reading a remote variable runs on that variable's task; a late op touching a local
   variable or drawing random numbers runs on the worker; other late ops go where they can start
   earliest; a late ``NoOp`` runs nowhere and only orders what follows it;
4. stage numbers: an op's stage is at least each dependency's stage, plus one when the dependency
   is at another location. The local part is stage 0.
"""

from jitgraph.compiler.order import order, var_accesses
from jitgraph.compiler.prune import prune
from jitgraph.ops.state_ops import variable_of

WORKER = "worker"   # this process
_SYNC = "sync"      # a late NoOp: orders, runs nowhere


class Stage:
    """Ops run as one plan at ``location`` (a task ``(job, index)`` or ``WORKER``).

    ``inputs``: ``[(tensor, source)]`` with source ``("feed", i)``, ``("pre", i)`` or
    ``("stage", j, k)``; ``variables``: the variable ops the plan binds by name; ``outputs``: the
    tensors other stages or the user fetch; ``after``: stage indices that must finish first."""

    __slots__ = ("index", "location", "number", "ops", "inputs", "variables", "outputs", "after")

    def __init__(self, index, location, number, ops):
        self.index, self.location, self.number, self.ops = index, location, number, ops
        self.inputs, self.variables, self.outputs, self.after = [], [], [], set()

    def __repr__(self):
        return (f"Stage({self.index}, {self.location}, #{self.number}, ops={[op.name for op in self.ops]}, "
                f"after={sorted(self.after)})")


class Split:
    """See the module docstring. ``fetch_sources[i]`` says where fetch tensor ``i`` comes from."""

    __slots__ = ("pulls", "presence", "pre_fetches", "pre_targets", "stages", "fetch_sources", "remote")

    def __init__(self):
        self.pulls, self.presence, self.pre_fetches, self.pre_targets = {}, {}, [], []
        self.stages, self.fetch_sources, self.remote = [], [], False


def _is_var(op):
    return op.type == "VariableV2"


def _pure(op):
    return op.op_def.kind != "random" and op.type != "Placeholder" and not any(w for _, w in var_accesses(op))


def split_run(fetch_tensors, targets, feed_tensors, home):
    """Split a run (see the module docstring). ``home(var_op)`` is a task or None (local)."""
    ops = prune(fetch_tensors, targets, feed_tensors)
    deps = order(ops)
    deps = {op: [d for d in ds if not _is_var(d)] for op, ds in deps.items() if not _is_var(op)}
    writes, late = {}, set()
    for op in deps:
        tasks = {home(v) for v, w in var_accesses(op) if w} - {None}
        if tasks:
            writes[op] = tasks.pop()
            late.add(op)
        elif any(d in late for d in deps[op]):
            late.add(op)
    moved = _moved_ops(ops, deps, writes, late, home, {t.op for t in fetch_tensors} | set(targets))
    loc, num = _locate(deps, writes, moved, late, home)
    return _assemble(ops, deps, loc, num, fetch_tensors, targets, feed_tensors, home)


def _moved_ops(ops, deps, writes, late, home, wanted):
    """Rule 2: early pure ops whose every consumer is on one task ``t`` and that read ``t``'s
    update-only variables (directly or through another moved op) -> ``{op: t}``."""
    users = {}
    for op, ds in deps.items():
        for d in ds:
            users.setdefault(d, []).append(op)
    closed = {}
    for op in reversed(ops):
        if op not in deps or op in late or op in wanted or not _pure(op) or op.type == "NoOp":
            continue
        tasks = {writes[u] if u in writes else closed.get(u) for u in users.get(op, ())}
        if len(tasks) == 1 and None not in tasks:
            closed[op] = tasks.pop()
    readers = {}
    for op in deps:
        if op not in late:
            for v, _ in var_accesses(op):
                readers.setdefault(v, []).append(op)
    update_only = {v for v, rs in readers.items() if home(v) is not None and all(closed.get(r) == home(v) for r in rs)}
    moved = {}
    for op in ops:
        t = closed.get(op)
        if t is None or op.op_def.kind == "library":   # never matmuls & co: a task must not become a worker
            continue
        read = {v for v, _ in var_accesses(op)}
        if read <= update_only and {home(v) for v in read} <= {t} and \
                (read or any(moved.get(d) == t for d in deps[op])):
            moved[op] = t
    return moved


def _locate(deps, writes, moved, late, home):
    """Rules 1, 3, 4: ``loc[op]`` and ``num[op]`` (stage number); late NoOps get ``_SYNC`` and, in
    ``num``, the latest stage per location among what they wait for."""
    loc, num = {}, {}

    def after(location, d):
        if loc[d] is _SYNC:
            return max((n + (where != location) for where, n in num[d].items()), default=0)
        return num[d] + (loc[d] != location)

    for op, ds in deps.items():
        if op in writes:
            where = writes[op]
        elif op in moved:
            where = moved[op]
        elif op not in late:
            where = WORKER
        elif op.type == "NoOp" and not op.outputs:
            merged = {}
            for d in ds:
                for w, n in (num[d].items() if loc[d] is _SYNC else [(loc[d], num[d])]):
                    merged[w] = max(merged.get(w, 0), n)
            loc[op], num[op] = _SYNC, merged
            continue
        else:
            where = _late_location(op, ds, loc, num, home, after)
        loc[op] = where
        num[op] = max([0 if where == WORKER else 1] + [after(where, d) for d in ds])
    return loc, num


def _late_location(op, ds, loc, num, home, after):
    accesses = var_accesses(op)
    homes = {home(v) for v, _ in accesses}
    if op.op_def.kind == "random" or None in homes:
        return WORKER
    if len(homes) > 1:
        from jitgraph import errors
        raise errors.UnimplementedError(
            None, op, f"{op.type} op '{op.name}' reads variables of tasks {sorted(homes)} after one of them is "
                      f"updated in the same run; the distributed session runs such a read on one task. Read them "
                      f"in separate runs, or place the variables on one task")
    if homes:
        return homes.pop()
    candidates = set()
    for d in ds:
        candidates.update(num[d] if loc[d] is _SYNC else [loc[d]])
    candidates.add(WORKER)
    return min(candidates, key=lambda w: (max([0] + [after(w, d) for d in ds]), w == WORKER, str(w)))


def _assemble(ops, deps, loc, num, fetch_tensors, targets, feed_tensors, home):
    split = Split()
    fed = {id(t): i for i, t in enumerate(feed_tensors)}
    pre = {op for op in deps if loc[op] == WORKER and num[op] == 0}
    groups = {}
    for op in ops:
        where = loc.get(op)
        if where is not None and where is not _SYNC and op not in pre:
            groups.setdefault((num[op], where != WORKER, str(where)), []).append(op)
    stage_of = {}
    for key in sorted(groups):
        members = groups[key]
        st = Stage(len(split.stages), loc[members[0]], key[0], members)
        split.stages.append(st)
        for op in members:
            stage_of[op] = st
    pre_index, pre_targets = {}, {}

    def from_pre(t):
        if id(t) not in pre_index:
            pre_index[id(t)] = len(split.pre_fetches)
            split.pre_fetches.append(t)
        return ("pre", pre_index[id(t)])

    def from_stage(t):
        st = stage_of[t.op]
        if t not in st.outputs:
            st.outputs.append(t)
        return ("stage", st.index, st.outputs.index(t))

    sync_after = {}
    for op in ops:   # late NoOps: which stages they stand for; their local dependencies must run
        if loc.get(op) is _SYNC:
            s = set()
            for d in deps[op]:
                if d in sync_after:
                    s |= sync_after[d]
                elif d in pre:
                    pre_targets[d] = True
                else:
                    s.add(stage_of[d].index)
            sync_after[op] = s
    for st in split.stages:
        members = set(st.ops)
        seen_inputs, variables = {}, {}
        for op in st.ops:
            for t in op.inputs:
                if t.op in members or id(t) in seen_inputs:
                    continue
                var = variable_of(t) if t.dtype.is_ref_dtype else None
                if id(t) in fed:
                    source = ("feed", fed[id(t)])
                elif var is not None and (home(var) or WORKER) == st.location:
                    variables[var] = True    # bound by name: reads see the variable when the op runs
                    continue
                elif t.op in pre or _is_var(t.op):
                    source = from_pre(t)
                else:
                    source = from_stage(t)
                seen_inputs[id(t)] = True
                st.inputs.append((t, source))
            for d in deps[op]:
                if d in members:
                    continue
                if d in sync_after:
                    st.after |= sync_after[d]
                elif d in pre:
                    pre_targets[d] = True
                else:
                    st.after.add(stage_of[d].index)
        st.variables = sorted(variables, key=lambda v: v._id)
        st.after.discard(st.index)
    for t in fetch_tensors:
        if id(t) in fed:
            split.fetch_sources.append(("feed", fed[id(t)]))
        elif t.op in pre or _is_var(t.op):
            split.fetch_sources.append(from_pre(t))
        else:
            split.fetch_sources.append(from_stage(t))
    for op in targets:
        if op in pre:
            pre_targets[op] = True
    split.pre_targets = sorted(pre_targets, key=lambda op: op._id)
    pulls, presence = {}, {}
    pre_ops = [op for op in ops if op in pre] + [t.op for t in split.pre_fetches if _is_var(t.op)]
    for op in pre_ops:   # IsVariableInitialized only needs to know whether a value exists
        accessed = [(op, True)] if _is_var(op) else [(v, op.type != "IsVariableInitialized")
                                                      for v, _ in var_accesses(op)]
        for v, full in accessed:
            task = home(v)
            if task is not None:
                (pulls if full else presence).setdefault(task, {})[v] = True
    split.pulls = {task: sorted(vs, key=lambda v: v._id) for task, vs in pulls.items()}
    split.presence = {task: sorted((v for v in vs if v not in pulls.get(task, {})), key=lambda v: v._id)
                      for task, vs in presence.items()}
    split.remote = bool(split.pulls or split.presence or split.stages)
    return split
