"""Cells made of cells: ``MultiRNNCell`` (stacked, ``cell_0``, ``cell_1``… scopes),
``DropoutWrapper`` (input/state/output dropout; an LSTM's ``c`` state is never dropped, as TF)
and ``ResidualWrapper`` (output = inputs + cell output)."""

import numbers
import zlib

from jitgraph.control_flow import nest
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.concat_ops import concat
from jitgraph.ops.nn_ops import dropout
from jitgraph.ops.slicing_ops import slice_
from jitgraph.rnn.cells import LSTMStateTuple, RNNCell
from jitgraph.variables.scopes import variable_scope

__all__ = ["MultiRNNCell", "DropoutWrapper", "ResidualWrapper"]


class MultiRNNCell(RNNCell):
    """``cells`` applied in order, each in variable scope ``cell_<i>``; the state is the tuple of
    the cells' states (or their concatenation with ``state_is_tuple=False``)."""

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not nest.is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but received: {cells}.")
        self._cells, self._state_is_tuple = list(cells), state_is_tuple
        if not state_is_tuple and any(nest.is_sequence(c.state_size) for c in self._cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not set. "
                             f"State sizes are: {[c.state_size for c in self._cells]}")

    @property
    def state_size(self):
        if self._state_is_tuple:
            return tuple(c.state_size for c in self._cells)
        return sum(c.state_size for c in self._cells)

    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        if self._state_is_tuple:
            with get_default_graph().name_scope("MultiRNNCellZeroState"):
                return tuple(c.zero_state(batch_size, dtype) for c in self._cells)
        return super().zero_state(batch_size, dtype)

    @property
    def trainable_variables(self):
        return [v for c in self._cells for v in c.trainable_variables]

    weights = variables = trainable_weights = trainable_variables

    def build(self, input_shape):
        pass

    def call(self, inputs, state):
        pos, cur, new_states = 0, inputs, []
        for i, cell in enumerate(self._cells):
            with variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    if not nest.is_sequence(state):
                        raise ValueError(f"Expected state to be a tuple of length {len(self.state_size)}, but "
                                         f"received: {state}")
                    cur_state = state[i]
                else:
                    cur_state = slice_(state, [0, pos], [-1, cell.state_size])
                    pos += cell.state_size
                cur, s = cell(cur, cur_state)
                new_states.append(s)
        return cur, (tuple(new_states) if self._state_is_tuple else concat(new_states, 1))


class _Wrapper(RNNCell):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    state_size = property(lambda self: self.cell.state_size)
    output_size = property(lambda self: self.cell.output_size)

    def zero_state(self, batch_size, dtype):
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    @property
    def trainable_variables(self):
        return self.cell.trainable_variables

    weights = variables = trainable_weights = trainable_variables


def _default_state_filter(substate):
    """Which parts of a state get dropout: all but an ``LSTMStateTuple``'s ``c``."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


class DropoutWrapper(_Wrapper):
    """Dropout on the cell's inputs, outputs and (new) state, with keep probabilities (floats or
    scalar tensors). A probability of exactly 1.0 adds no op."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell)
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper(variational_recurrent=True)")
        for p, what in ((input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                        (output_keep_prob, "output_keep_prob")):
            if isinstance(p, numbers.Real) and not 0 <= p <= 1:
                raise ValueError(f"Parameter {what} must be between 0 and 1. Received {float(p)}")
        self._input_keep_prob, self._output_keep_prob = input_keep_prob, output_keep_prob
        self._state_keep_prob, self._seed = state_keep_prob, seed
        self._state_filter = dropout_state_filter_visitor or _default_state_filter

    @property
    def wrapped_cell(self):
        return self.cell

    def _dropout(self, values, keep, salt, keep_mask=None):
        flat = nest.flatten(values)
        mask = nest.flatten(keep_mask) if keep_mask is not None else [True] * len(flat)
        out = []
        for i, (v, on) in enumerate(zip(flat, mask)):
            seed = None if self._seed is None else zlib.crc32(f"{self._seed}{salt}_{i}".encode()) & 0x7FFFFFFF
            out.append(dropout(v, keep_prob=keep, seed=seed) if on else v)
        return nest.pack_sequence_as(values, out)

    def __call__(self, inputs, state, scope=None):
        def should(p):
            return isinstance(p, Tensor) or p < 1
        if should(self._input_keep_prob):
            inputs = self._dropout(inputs, self._input_keep_prob, "input")
        output, new_state = self.cell(inputs, state, scope=scope)
        if should(self._state_keep_prob):
            mask = _state_mask(new_state, self._state_filter)
            new_state = self._dropout(new_state, self._state_keep_prob, "state", mask)
        if should(self._output_keep_prob):
            output = self._dropout(output, self._output_keep_prob, "output")
        return output, new_state


def _state_mask(state, visitor):
    """Per state leaf: apply dropout? ``visitor(substate)`` answers True (look inside), False, or
    a structure of bools (TF's ``get_traverse_shallow_structure``)."""
    decision = visitor(state)
    if not nest.is_sequence(state):
        return bool(decision)
    if decision is True:
        return nest.pack_sequence_as(state, [m for c in _children(state) for m in
                                             nest.flatten(_state_mask(c, visitor))])
    if decision is False:
        return nest.map_structure(lambda _: False, state)
    return nest.pack_sequence_as(state, [bool(d) for d in nest.flatten(decision)])


def _children(s):
    return [s[k] for k in sorted(s)] if isinstance(s, dict) else list(s)


class ResidualWrapper(_Wrapper):
    """``output = residual_fn(inputs, cell_output)`` (default: their sum)."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell)
        self._residual_fn = residual_fn

    def __call__(self, inputs, state, scope=None):
        output, new_state = self.cell(inputs, state, scope=scope)

        def default(i, o):
            nest.assert_same_structure(i, o)
            return nest.map_structure(lambda a, b: a + b, i, o)
        return (self._residual_fn or default)(inputs, output), new_state
