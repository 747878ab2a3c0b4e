"""A stage as data, and its executor: what a task runs for a worker.

``program_of(stage)`` turns a ``partition.Stage`` into JSON-able data (the meta-graph op format of
``train/meta_graph.py``): one ``Placeholder`` per input, the ``VariableV2`` ops it binds (same
names as in the worker's graph), and copies of its ops with their original names, so errors name
the user's ops. Control inputs from outside the stage are dropped: the worker orders stages.

``StageExecutor(program)`` rebuilds the program as a graph with an ordinary ``Session``, so the
stage runs as one compiled jitgraph plan, and binds the variables by name to a table of buffers
(``run(table, feeds)``): the task's own variables, or the worker's variable store.
"""

import hashlib
import json

from jitgraph.framework.graph import Graph
from jitgraph.ops.state_ops import variable_of
from jitgraph.train.meta_graph import _import_ops, _shape_json, encode_value

FEED_SCOPE = "_jitgraph_stage"


def _entry(op, inputs, control_inputs):
    where = f"attr of op '{op.name}' ({op.type})"
    return {"name": op.name, "type": op.type, "inputs": inputs, "control_inputs": control_inputs, "device": "",
            "attrs": {k: encode_value(v, f"{where} '{k}'") for k, v in sorted(op.attrs.items())},
            "outputs": [{"dtype": t.dtype.name, "shape": _shape_json(t.shape)} for t in op.outputs]}


def program_of(stage):
    """The stage as data; ``(program, key)`` with ``key`` a digest of it (the executor cache key)."""
    members = set(stage.ops)
    feed_name = {}
    entries = []
    for k, (t, _) in enumerate(stage.inputs):
        name = f"{FEED_SCOPE}/feed_{k}"
        feed_name[id(t)] = name + ":0"
        dt = t.dtype.base_dtype
        entries.append({"name": name, "type": "Placeholder", "inputs": [], "control_inputs": [], "device": "",
                        "attrs": {"dtype": encode_value(dt), "shape": encode_value(t.shape)},
                        "outputs": [{"dtype": dt.name, "shape": _shape_json(t.shape)}]})
    entries.extend(_entry(v, [], []) for v in stage.variables)

    def source(t):
        if t.op in members:
            return t.name
        if id(t) in feed_name:
            return feed_name[id(t)]
        return variable_of(t).name + ":0"   # a variable of this stage, by name

    for op in stage.ops:
        entries.append(_entry(op, [source(t) for t in op.inputs],
                              [c.name for c in op.control_inputs if c in members]))
    program = {"ops": entries, "feeds": [feed_name[id(t)] for t, _ in stage.inputs],
               "variables": [v.name for v in stage.variables], "fetches": [t.name for t in stage.outputs],
               "targets": [op.name for op in stage.ops]}
    text = json.dumps(program, sort_keys=True, allow_nan=False)
    return text, hashlib.sha1(text.encode()).hexdigest()


class StageExecutor:
    """A program rebuilt into its own graph and session (compiled like any jitgraph plan)."""

    def __init__(self, program_text):
        from jitgraph.runtime.session import Session
        program = json.loads(program_text)
        graph = Graph()
        with graph.as_default():
            renamed = _import_ops(graph, program["ops"], None, False, {})
        self.variables = [(name, graph.get_operation_by_name(renamed(name))) for name in program["variables"]]
        feeds = [graph.get_tensor_by_name(_renamed_tensor(renamed, n)) for n in program["feeds"]]
        fetches = [graph.get_tensor_by_name(_renamed_tensor(renamed, n)) for n in program["fetches"]]
        targets = [graph.get_operation_by_name(renamed(n)) for n in program["targets"]]
        self.writes = any(op.type.startswith("Assign") for op in targets)
        self.session = Session(graph=graph)
        self._n = len(fetches)
        self._call = self.session.make_callable(fetches + targets, feed_list=feeds)
        self._buffers = self.session._state.store.buffers()

    def run(self, table, feeds):
        """Run with the variables bound to ``table`` (``get(name)`` -> array or None,
        ``put(name, array or None)``); returns the fetched values. Updated buffers are written back
        even when the run fails (the plan has rolled them back to their values before the run)."""
        buffers = self._buffers
        for name, op in self.variables:
            value = table.get(name)
            if value is None:
                buffers.pop(op, None)
            else:
                buffers[op] = value
        try:
            out = self._call(*feeds)
        finally:
            for name, op in self.variables:
                table.put(name, buffers.get(op))
        return out[:self._n]


def _renamed_tensor(renamed, name):
    op_name, _, idx = name.rpartition(":")
    return f"{renamed(op_name)}:{idx}"
