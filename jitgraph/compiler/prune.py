"""prune: the ops a run needs.

Before: the whole graph, the fetched tensors, the target ops, the fed tensors.
After: the ops reachable backwards from fetches and targets through data and control inputs,
cut at fed tensors, in creation order (which is a valid schedule: every edge points backwards).
"""


def prune(fetch_tensors, target_ops, fed_tensors):
    """Return the list of ops to execute, sorted by creation index."""
    fed = set(map(id, fed_tensors))
    needed = {}
    stack = [t.op for t in fetch_tensors if id(t) not in fed] + list(target_ops)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed[op] = True
        for t in op.inputs:
            if id(t) not in fed:
                stack.append(t.op)
        stack.extend(op.control_inputs)
    return sorted(needed, key=lambda op: op._id)
