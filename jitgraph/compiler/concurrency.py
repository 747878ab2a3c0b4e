"""Side steps in the runner: which library steps run on the chunk worker beside the plan's other
steps, and where the plan waits for them (``kernels/side_steps.py`` runs them).

A NumPy step may go to the side when its op says its fast kernel is pure and uses only the chunk
workers (``extra["side_thread"]``: the convs), it writes no variable, and some other step with
work in it (a library op or a kernel) would run before the first step that needs it. It joins
before the first step whose generated lines name one of its outputs (a consumer, a guard or a
shape expression reading its shape) and before the first step that writes a variable or has
state (an update must not change a buffer the side step still reads); at the latest at the end
of the run's steps. Side steps queue for the one worker; a thread joining one runs those still
queued itself (a layer's input and filter gradients: the worker takes the first, the plan's thread
the second). At run time a side step whose operands hold fewer than ``MIN_ELEMENTS``
elements runs in place (``spawn``): handing it over costs more than it saves.

Linear in the runner's text: one scan of each step's lines for names, one pass to place joins.
"""

import re

from jitgraph.compiler.order import var_accesses
from jitgraph.compiler.schedule import KernelStep
from jitgraph.kernels import side_steps

# Operands (inputs and outputs) of fewer elements than this run in place: a hand-off to the worker
# and back costs 0.02-0.05 ms on a 2-core VM, a tenth of a 16 x 14x14x16 -> 32 conv (50K elements
# in, 100K out, 0.3 ms).
MIN_ELEMENTS = 1 << 15

_NAME = re.compile(r"[A-Za-z_]\w*")


def _candidate(step, si, lines):
    """The index of the call line of a NumPy step that may run on the side, else None."""
    if isinstance(step, KernelStep):
        return None
    d = step.op_def
    if not (d.extra or {}).get("side_thread") or d.run is not None or d.stateful:
        return None
    if _writes_vars(step) or any(t.dtype.is_ref_dtype for t in step.outputs):
        return None
    call = f"r = _np{si}(ctx, ["
    for i, ln in enumerate(lines):
        if ln.startswith(call):
            return i
    return None


def _writes_vars(op):
    return any(w for _, w in var_accesses(op))


def _barrier(step):
    """Does the step write a variable or keep state (a side step must be done before it)?"""
    if isinstance(step, KernelStep):
        return bool(step.writes)
    return step.op_def.run is not None or step.op_def.stateful or _writes_vars(step)


def _has_work(step):
    return isinstance(step, KernelStep) or step.op_def.kind == "library"


def interleave(steps, parts, ns, output_names):
    """The runner's body from each step's lines ``parts``, with side steps spawned and joined;
    ``output_names(step)`` gives the runner names of a NumPy step's outputs."""
    n = len(steps)
    calls = {si: _candidate(s, si, parts[si]) for si, s in enumerate(steps)}
    calls = {si: c for si, c in calls.items() if c is not None}
    if not calls:
        return [ln for p in parts for ln in p]
    produced = {}                     # runner name -> candidate step producing it
    for si in calls:
        for nm in output_names(steps[si]):
            produced[nm] = si
    join_at = {si: n for si in calls}
    work_after = [0] * (n + 1)        # steps with work in them at index >= k
    barrier_after = [n] * (n + 1)     # the first barrier at index >= k
    for k in range(n - 1, -1, -1):
        work_after[k] = work_after[k + 1] + _has_work(steps[k])
        barrier_after[k] = k if _barrier(steps[k]) else barrier_after[k + 1]
    for k, part in enumerate(parts):
        for nm in {m for ln in part for m in _NAME.findall(ln)}:
            si = produced.get(nm)
            if si is not None and si < k and join_at[si] > k:
                join_at[si] = k
    side = {}
    for si in calls:
        q = min(join_at[si], barrier_after[si + 1])
        if work_after[si + 1] - work_after[q] > 0:
            side[si] = q
    if not side:
        return [ln for p in parts for ln in p]
    ns["_spawn"], ns["_join"], ns["_drain"] = side_steps.spawn_sized, side_steps.join, side_steps.drain
    body = ["sp = []"]
    joins = {}
    for si, q in side.items():
        joins.setdefault(q, []).append(si)
    for k in range(n + 1):            # (k == n: the joins after the last step)
        for si in joins.get(k, ()):
            body.append(f"r = _join(h{si}, sp)")
            body.extend(parts[si][calls[si] + 1:])
        part = parts[k] if k < n else []
        if k in side:
            c = calls[k]
            body.extend(part[:c])
            body.append(part[c].replace(f"r = _np{k}(ctx, ", f"h{k} = _spawn(sp, {MIN_ELEMENTS}, _np{k}, ctx, ", 1))
        else:
            body.extend(part)
    return body
