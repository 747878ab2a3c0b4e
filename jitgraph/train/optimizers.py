"""TF1 optimizers: ``Optimizer`` and ``GradientDescentOptimizer``/``MomentumOptimizer`` here, the
adaptive ones (Adam, RMSProp, Adagrad, Adadelta, FTRL) in ``adaptive.py``; the global step in ``global_step.py``.

Every update is written as elementwise math feeding one assign per variable (and per slot), so
the compiler can fuse a whole update into one in-place loop. Reads follow program order: the
gradient ops (created first) see the old values, and a slot's new value is read through the
assign's result.
"""

from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.tensor import Tensor
from jitgraph.ops import math_ops, state_ops
from jitgraph.ops.control_ops import group
from jitgraph.ops.gradients import gradients
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.train.global_step import *  # noqa: F401,F403
from jitgraph.train.global_step import __all__ as _gs_all

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer", "RMSPropOptimizer",
           "AdagradOptimizer", "AdadeltaOptimizer", "FtrlOptimizer"] + _gs_all


def _vars_of(var_list):
    from jitgraph.variables.initialization import trainable_variables
    return list(trainable_variables()) if var_list is None else list(var_list)


def _op_name(var):
    return var.op.name


class Optimizer:
    """Base class: ``minimize`` = ``compute_gradients`` + ``apply_gradients``.

    Subclasses define ``_create_slots(var_list)``, ``_prepare()`` and ``_apply_dense(grad, var)``
    (returning the update op or tensor, its writes through ``_assign``), and optionally
    ``_finish(update_ops, name)``.

    The gradient of an ``embedding_lookup`` / ``gather`` (TF: ``IndexedSlices``) is applied as TF
    applies it: an optimizer with ``ROW_SPARSE`` (Momentum, RMSProp, Adagrad, Adadelta, FTRL)
    runs its ``_apply_dense`` on the rows looked up (their summed gradient, the rows of the
    variable and slots read through ``_read``, written back in place by ``_assign``), so the
    other rows keep their values and no tensor as large as the table is made; SGD and Adam (whose
    TF sparse updates move every row) apply it as any gradient.
    """

    ROW_SPARSE = False

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots = {}          # slot name -> {var op: slot Variable}
        self._non_slot = {}       # (name, graph) -> Variable

    def get_name(self):
        return self._name

    # ---- the public protocol -----------------------------------------------------------------
    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name=None, grad_loss=None):
        """Add ops that take one step reducing ``loss``; returns the Operation to run (it returns None).

        With ``global_step``, running the step also adds 1 to it."""
        grads_and_vars = self.compute_gradients(loss, var_list, gate_gradients, aggregation_method,
                                                colocate_gradients_with_ops, grad_loss)
        if not [v for g, v in grads_and_vars if g is not None]:
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not "
                             f"support gradients, between variables {[str(v) for _, v in grads_and_vars]} "
                             f"and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """``[(gradient or None, variable)]`` for ``var_list`` (default: the trainable variables, in
        creation order)."""
        if callable(loss):
            loss = loss()
        loss = convert_to_tensor(loss)
        var_list = _vars_of(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss],
                          aggregation_method=aggregation_method,
                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Apply ``[(grad, var)]`` (None gradients and non-float variables are skipped); returns the
        update Operation, which also increments ``global_step`` when given."""
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        pairs = []
        for g, v in grads_and_vars:
            if g is None or not v.dtype.base_dtype.is_floating:
                continue
            g = convert_to_tensor(g)
            if g.dtype.base_dtype != v.dtype.base_dtype:
                raise ValueError(f"Gradient {g} has dtype {g.dtype.base_dtype.name}, variable {v.name} has "
                                 f"{v.dtype.base_dtype.name}")
            pairs.append((g, v))
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: {[str(v) for _, v in grads_and_vars]}.")
        graph = get_default_graph()
        var_list = [v for _, v in pairs]
        with graph.control_dependencies(None):
            self._create_slots(var_list)
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            updates = []
            for g, v in pairs:
                with graph.name_scope("update_" + _op_name(v)):
                    u = self._apply_gradient(g, v)
                updates.append(u.op if isinstance(u, Tensor) else u)
            if global_step is None:
                return self._finish(updates, scope)
            with graph.control_dependencies([self._finish(updates, "update")]):
                return state_ops.assign_add(global_step, 1, name=scope).op

    def _finish(self, update_ops, name):
        return group(*update_ops, name=name)

    _rows = None     # while a gradient of looked-up rows is applied: those rows (``looked_up_rows``)

    def _apply_gradient(self, grad, var):
        """``_apply_dense``, on the looked-up rows only when ``grad`` is a lookup's (``ROW_SPARSE``)."""
        sparse = looked_up_rows(grad) if self.ROW_SPARSE else None
        if sparse is None:
            return self._apply_dense(grad, var)
        self._rows, self._row_writes = sparse[0], []
        try:
            self._apply_dense(sparse[1], var)
            return group(*self._row_writes)
        finally:
            self._rows = self._row_writes = None

    def _read(self, ref):
        """The value of a variable or slot (its looked-up rows, while those are updated)."""
        if self._rows is None:
            return ref._ref()
        from jitgraph.ops.slicing_ops import gather
        return gather(ref._ref(), self._rows)

    def _assign(self, ref, value, name, kind="Assign"):
        """``state_ops.assign`` (``kind`` ``"AssignAdd"`` / ``"AssignSub"``: ``assign_add`` /
        ``assign_sub``) of a variable or slot, returning its new value; while looked-up rows are
        updated, ``value`` holds those rows and only they are written (in place)."""
        if self._rows is None:
            fn = {"Assign": state_ops.assign, "AssignAdd": state_ops.assign_add, "AssignSub": state_ops.assign_sub}[kind]
            return fn(ref, value, use_locking=self._use_locking, name=name)
        from jitgraph.ops.scatter_ops import scatter_rows_update
        if kind != "Assign":
            value = math_ops.binary("Add" if kind == "AssignAdd" else "Sub", self._read(ref), value)
        self._row_writes.append(scatter_rows_update(ref, self._rows, value, name=name).op)
        return value

    # ---- slots -------------------------------------------------------------------------------
    def get_slot_names(self):
        return sorted(self._slots)

    def get_slot(self, var, name):
        """The slot variable ``name`` of ``var`` (e.g. ``"m"`` for Adam), or None."""
        return self._slots.get(name, {}).get(var.op)

    def variables(self):
        """The slot and non-slot variables this optimizer created, in creation order."""
        out = [v for d in self._slots.values() for v in d.values()] + list(self._non_slot.values())
        return sorted(out, key=lambda v: v.op._id)

    def _make_slot(self, var, slot_name, initial, op_name=None):
        """A non-trainable variable ``<var>/<op_name>`` shaped like ``var``, colocated with it."""
        from jitgraph.variables.variables import Variable
        slots = self._slots.setdefault(slot_name, {})
        if var.op in slots:
            return slots[var.op]
        graph = var.graph
        from jitgraph.ops.constant_ops import fill, zeros
        shape, dt = var.shape, var.dtype.base_dtype
        with graph.name_scope(""), graph.device(None), graph.device(var.device):
            value = (lambda: zeros(shape, dt) if initial == 0 else fill(shape.as_list(), math_ops.cast(initial, dt)))
            slot = Variable(value, name=f"{_op_name(var)}/{op_name or self._name}", trainable=False, dtype=dt)
        slots[var.op] = slot
        return slot

    def _make_non_slot(self, name, initial, colocate_with):
        from jitgraph.variables.variables import Variable
        key = (name, colocate_with.graph)
        if key not in self._non_slot:
            graph = colocate_with.graph
            with graph.device(None), graph.device(colocate_with.device):
                self._non_slot[key] = Variable(initial, name=name, trainable=False)   # float32, as TF
        return self._non_slot[key]

    # ---- subclass hooks ----------------------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError

    def _hyper(self, value, name):
        if callable(value):
            value = value()
        return convert_to_tensor(value, name=name)


def looked_up_rows(grad):
    """For the gradient of ``gather(var, ids)`` along axis 0 (``embedding_lookup``'s), or a sum of
    such gradients (``var`` looked up more than once), ``(rows, summed)``: the distinct ids and
    the sum of each one's gradient rows (TF's ``IndexedSlices`` deduplicated); else None."""
    from jitgraph import dtypes
    from jitgraph.ops.array_ops import concat, size
    from jitgraph.ops.slicing_ops import ROW_GRADIENTS, unsorted_segment_sum
    from jitgraph.ops.sort_ops import unique
    leaves, todo = [], [grad.op]
    while todo:                       # the gradients' own sum: a chain of Adds, one per lookup
        op = todo.pop()
        if op in ROW_GRADIENTS:
            leaves.append(op)
        elif op.type == "Add" and len(leaves) + len(todo) < 64:
            todo.extend(t.op for t in op.inputs)
        else:
            return None
    leaves.reverse()
    data = [op.inputs[0] for op in leaves]
    ids = [op.inputs[1] for op in leaves]
    if len(leaves) > 1:
        if len({t.dtype.base_dtype for t in ids}) > 1:
            ids = [math_ops.cast(t, dtypes.int64) for t in ids]
        data, ids = [concat(data, 0)], [concat(ids, 0)]
    rows, slot = unique(ids[0])
    return rows, unsorted_segment_sum(data[0], slot, size(rows))


def hyper(t, var):
    """A hyperparameter tensor in ``var``'s dtype."""
    return math_ops.cast(t, var.dtype.base_dtype)


class GradientDescentOptimizer(Optimizer):
    """``var -= learning_rate * grad``."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._lr = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return state_ops.assign_sub(var, math_ops.binary("Mul", hyper(self._lr, var), grad, "mul"),
                                    use_locking=self._use_locking, name="ApplyGradientDescent")


class MomentumOptimizer(Optimizer):
    """``accum = momentum * accum + grad; var -= lr * accum`` (Nesterov: ``var -= lr * (grad +
    momentum * accum)``). Slot ``"momentum"``, named ``<var>/Momentum``."""

    ROW_SPARSE = True

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate, self._momentum, self._use_nesterov = learning_rate, momentum, use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._make_slot(v, "momentum", 0)

    def _prepare(self):
        self._lr = self._hyper(self._learning_rate, "learning_rate")
        self._mom = self._hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        b = math_ops.binary
        accum = self.get_slot(var, "momentum")
        lr, mom = hyper(self._lr, var), hyper(self._mom, var)
        new_accum = self._assign(accum, b("Add", b("Mul", self._read(accum), mom), grad), name="accum")
        step = b("Add", grad, b("Mul", mom, new_accum)) if self._use_nesterov else new_accum
        return self._assign(var, b("Mul", lr, step), "ApplyMomentum", "AssignSub")


from jitgraph.train.adaptive import (AdadeltaOptimizer, AdagradOptimizer, AdamOptimizer,  # noqa: E402,F401
                                     FtrlOptimizer, RMSPropOptimizer)

_ = GraphKeys
