"""``FuncGraph``: the private graph a loop body, loop condition or cond branch is traced into.

A body is traced once, when ``tf.while_loop``/``tf.cond`` is called: its loop variables enter as
``_Arg`` placeholders; a tensor of an enclosing graph that the body uses becomes a *capture* (one
more ``_Arg`` here, one more input of the outer ``While``/``If`` op); a variable reference is not
captured but used directly, so the body reads the variable each time it runs and its assigns write
the variable itself. A variable created inside a body lives in the outermost graph (TF's
``init_scope``). Names, collections, variable scopes and the graph seed are the outer graph's, so
``rnn/while/basic_lstm_cell/MatMul`` and ``rnn/basic_lstm_cell/kernel`` come out as TF names them.
"""

import contextlib

from jitgraph.framework.graph import Graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.ops.registry import define_op, make_op


def _arg_run(ctx, op, inputs):
    raise RuntimeError(f"the body argument '{op.name}' was evaluated without a value (a jitgraph bug)")


define_op("_Arg", kind="source", stateful=True, run=_arg_run,
          infer=lambda ins, a: [(a["dtype"], a["shape"])])


class FuncGraph(Graph):
    """A body being traced (see the module docstring). ``inputs`` are the argument placeholders,
    ``captures`` maps each captured outer tensor to its placeholder here."""

    building_function = True

    def __init__(self, outer, name_stack):
        super().__init__()
        self.outer = outer
        self.root = outer.root if isinstance(outer, FuncGraph) else outer
        self._collections = self.root._collections
        self._attachments = self.root._attachments
        self._name_stack = name_stack
        self.inputs = []
        self.captures = {}          # tensor of ``outer`` -> its placeholder here (insertion ordered)
        self._by_origin = {}        # captured tensor (of any enclosing graph) -> its placeholder here
        self.ref_captures = {}      # outer ref tensor -> True: variables used directly (ordered)
        self.outer_controls = []    # outer ops that ops here depend on by control edges

    # ---- shared with the outer graph -----------------------------------------------------------
    @property
    def seed(self):
        return self.root.seed

    @seed.setter
    def seed(self, value):
        self.root.seed = value

    def unique_name(self, name, mark_as_used=True):
        """Unique among the outermost graph's names, under this body's name scope."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        saved, self.root._name_stack = self.root._name_stack, ""
        try:
            return self.root.unique_name(name, mark_as_used)
        finally:
            self.root._name_stack = saved

    def _check_not_finalized(self):
        super()._check_not_finalized()
        self.root._check_not_finalized()

    def is_ancestor(self, graph):
        g = self.outer
        while True:
            if g is graph:
                return True
            if not isinstance(g, FuncGraph):
                return False
            g = g.outer

    @contextlib.contextmanager
    def init_scope(self):
        """Build in the outermost graph under this body's current name scope (variables)."""
        root = self.root
        saved, root._name_stack = root._name_stack, self._name_stack
        try:
            with root.as_default():
                yield root
        finally:
            root._name_stack = saved

    # ---- captures ------------------------------------------------------------------------------
    def graph_for(self, values):
        """This graph, if every graph element in ``values`` is from it or an enclosing graph."""
        for v in values:
            g = v.graph if isinstance(v, (Tensor, Operation)) else getattr(v, "graph", None)
            if isinstance(g, Graph) and g is not self and not self.is_ancestor(g):
                raise ValueError(f"{v!r} must be from the same graph as the loop or cond body being built "
                                 f"(graphs are {g!r} and {self!r}).")
        return self

    def capture_all(self, inputs):
        return [self.capture(t) for t in inputs]

    def capture(self, t):
        """``t`` as a tensor usable here: itself, a variable reference as is, or a placeholder."""
        if t.graph is self:
            return t
        if not self.is_ancestor(t.graph):
            raise ValueError(f"Tensor {t.name} is from a graph that does not enclose the body being built.")
        if t.dtype.is_ref_dtype:
            g = self
            while g is not t.graph:
                g.ref_captures.setdefault(t, True)
                g = g.outer
            return t
        inner = self._by_origin.get(t)
        if inner is None:
            src = t if t.graph is self.outer else self.outer.capture(t)
            name = t.op.name.rsplit("/", 1)[-1]
            inner = make_op("_Arg", [], {"dtype": t.dtype.base_dtype, "shape": t.shape}, name, graph=self).outputs[0]
            self.captures[src] = inner
            self._by_origin[t] = inner
        return inner

    def add_input(self, dtype, shape, name):
        t = make_op("_Arg", [], {"dtype": dtype, "shape": TensorShape(shape)}, name, graph=self).outputs[0]
        self.inputs.append(t)
        return t

    # ---- control edges to outer ops ------------------------------------------------------------
    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        el = obj._as_graph_element() if hasattr(obj, "_as_graph_element") and not isinstance(
            obj, (Tensor, Operation)) else obj
        if isinstance(el, (Tensor, Operation)) and self.is_ancestor(el.graph):
            return el
        return super().as_graph_element(obj, allow_tensor, allow_operation)

    def _add_op(self, op):
        outer = [c for c in op._control_inputs if c.graph is not self]
        if outer:
            op._control_inputs = tuple(c for c in op._control_inputs if c.graph is self)
            for c in outer:
                if c not in self.outer_controls:
                    self.outer_controls.append(c)
        super()._add_op(op)

