"""Functions of a pipeline (``map``, ``filter``, ``flat_map``…) traced once into a private graph.

``TracedFunction`` calls the user's function once, with placeholders standing for the element's
components, in a ``FunctionGraph``: a graph of its own, so the user's graph gains no ops. A tensor
of an enclosing graph used inside is *captured* (``make_op`` routes every input through
``FunctionGraph.capture``): a constant is copied in, anything else becomes a placeholder fed with
the outer tensor's value, which the iterator's initializer evaluates — TF's rule for datasets, so
a captured variable is read when the iterator starts, not at each element. Running the function
on an element is running a jitgraph plan of that graph (compiled like any plan) with the
element's components and the captured values as feeds.
"""

import threading

import numpy as np

from jitgraph.compiler import build_plan
from jitgraph.data import structure
from jitgraph.framework.graph import Graph, get_default_graph
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.constant_ops import placeholder
from jitgraph.ops.registry import convert_to_tensor, make_op


class FunctionGraph(Graph):
    """The graph a dataset function is traced into; it captures tensors of enclosing graphs
    (``building_function``: ``graph_of`` and ``make_op`` route every op's inputs through here)."""

    building_function = True

    def __init__(self, outer, name):
        super().__init__()
        self.outer = outer
        self.name = name
        self.seed = outer.seed
        self.captures = []      # (outer tensor, placeholder of this graph fed with its value)
        self._captured = {}     # id(outer tensor) -> tensor of this graph

    def graph_for(self, values):
        """The graph ops on ``values`` go to while this function is traced: this one."""
        return self

    def capture_all(self, inputs):
        return [self.capture(t) for t in inputs]

    def capture(self, t):
        """``t`` as a tensor of this graph (itself if it already is one)."""
        if not isinstance(t, Tensor) or t.graph is self:
            return t
        inner = self._captured.get(id(t))
        if inner is None:
            with self.as_default():
                if t.op.type == "Const":   # by value: keeps its static value for shape inference
                    inner = make_op("Const", [], t.op.attrs, "captured").outputs[0]
                else:
                    inner = placeholder(t.dtype.base_dtype, t.shape, name="captured")
                    self.captures.append((t, inner))
            self._captured[id(t)] = (t, inner)   # keeps ``t`` alive: its id stays unique
            return inner
        return inner[1]


def should_unpack(element):
    """TF calls ``fn(*element)`` for a plain tuple element, ``fn(element)`` otherwise."""
    return type(element) is tuple


class TracedFunction:
    """A user function traced for elements of ``spec``; ``outputs`` is set by ``finish``."""

    def __init__(self, fn, spec, what):
        self.what = what
        self.graph = fg = FunctionGraph(get_default_graph(), what)
        with fg.as_default():
            self.args = [placeholder(d, s, name=f"args_{i}") for i, (d, s) in enumerate(zip(spec.dtypes, spec.shapes))]
            element = structure.pack(spec.structure, self.args)
            self.result = fn(*element) if should_unpack(element) else fn(element)
        self._plan = None
        self._lock = threading.Lock()

    def finish(self, tensors):
        """Fix the tensors a call returns (flat); captures found while converting are included."""
        from jitgraph.sparse import SparseTensor
        if any(isinstance(t, SparseTensor) for t in tensors):
            raise TypeError(f"{self.what}: the function returned a tf.SparseTensor (a VarLenFeature?); jitgraph's "
                            "dataset elements hold dense tensors only: convert it inside the function with "
                            "tf.sparse.to_dense(...)")
        with self.graph.as_default():
            self.outputs = [self.graph.capture(t) if isinstance(t, Tensor) else convert_to_tensor(t) for t in tensors]
        self.captures = [outer for outer, _ in self.graph.captures]
        return self.outputs

    def normalize_result(self):
        """The result as a structure of tensors of the function graph (a top-level list is a tuple,
        as TF makes it; Python values and arrays become constants)."""
        out = self.result
        if isinstance(out, list):
            out = tuple(out)
        flat = structure.flatten(out)
        return structure.pack(out, self.finish(flat))

    def __call__(self, state, element, capture_values):
        """The outputs (flat list of arrays) for one element (flat arrays) and the captured values."""
        feeds = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in element]
        with self._lock:   # a plan reuses scratch buffers: one call at a time
            if self._plan is None:
                inner = [p for _, p in self.graph.captures]
                self._plan = build_plan(self.outputs, [], self.args + inner)
            out = self._plan.run(state, feeds + list(capture_values))
        return [np.asarray(v) for v in out]   # a fetched scalar comes back as a NumPy scalar
