"""``tf.contrib.rnn``: the names TF 1.15 kept here for the core RNN cells and functions (the same
objects as ``tf.nn.rnn_cell.*``, ``tf.nn.static_rnn``, ``tf.nn.static_bidirectional_rnn``), and
contrib's own ``stack_bidirectional_rnn`` / ``stack_bidirectional_dynamic_rnn``::

    cell = tf.contrib.rnn.BasicLSTMCell(128)
    outputs, state = tf.contrib.rnn.static_rnn(cell, tf.unstack(x, axis=1), dtype=tf.float32)
"""

from jitgraph.ops.concat_ops import concat
from jitgraph.rnn.cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple, RNNCell
from jitgraph.rnn.dynamic import bidirectional_dynamic_rnn, static_bidirectional_rnn, static_rnn
from jitgraph.rnn.wrappers import DropoutWrapper, MultiRNNCell, ResidualWrapper
from jitgraph.variables.scopes import variable_scope

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "LSTMStateTuple", "MultiRNNCell",
           "DropoutWrapper", "ResidualWrapper", "static_rnn", "static_bidirectional_rnn", "stack_bidirectional_rnn",
           "stack_bidirectional_dynamic_rnn"]


def _check_stack_args(cells_fw, cells_bw, initial_states_fw, initial_states_bw):
    if not cells_fw:
        raise ValueError("Must specify at least one fw cell for BidirectionalRNN.")
    if not cells_bw:
        raise ValueError("Must specify at least one bw cell for BidirectionalRNN.")
    if not isinstance(cells_fw, list):
        raise ValueError("cells_fw must be a list of RNNCells (one per layer).")
    if not isinstance(cells_bw, list):
        raise ValueError("cells_bw must be a list of RNNCells (one per layer).")
    if len(cells_fw) != len(cells_bw):
        raise ValueError(f"Forward and Backward cells must have the same depth: {len(cells_fw)} cells_fw, "
                         f"{len(cells_bw)} cells_bw.")
    for name, states, cells in (("initial_states_fw", initial_states_fw, cells_fw),
                                ("initial_states_bw", initial_states_bw, cells_bw)):
        if states is not None and (not isinstance(states, list) or len(states) != len(cells)):
            raise ValueError(f"{name} must be a list of state tensors (one per layer).")


def _stack(run_layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope):
    """Layer ``i`` (variable scope ``<scope>/cell_<i>``) reads the previous layer's outputs."""
    _check_stack_args(cells_fw, cells_bw, initial_states_fw, initial_states_bw)
    states_fw, states_bw, prev_layer = [], [], inputs
    with variable_scope(scope or "stack_bidirectional_rnn"):
        for i, (cell_fw, cell_bw) in enumerate(zip(cells_fw, cells_bw)):
            state_fw = initial_states_fw[i] if initial_states_fw else None
            state_bw = initial_states_bw[i] if initial_states_bw else None
            with variable_scope(f"cell_{i}") as cell_scope:
                prev_layer, state_fw, state_bw = run_layer(cell_fw, cell_bw, prev_layer, state_fw, state_bw,
                                                           cell_scope)
            states_fw.append(state_fw)
            states_bw.append(state_bw)
    return prev_layer, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None, initial_states_bw=None, dtype=None,
                            sequence_length=None, scope=None):
    """Layers of ``static_bidirectional_rnn`` (one per pair of ``cells_fw[i]``, ``cells_bw[i]``),
    each reading the previous one's concatenated outputs. Returns ``(outputs, states_fw,
    states_bw)``: the last layer's list of outputs and a tuple of final states per direction."""
    def layer(cell_fw, cell_bw, prev, state_fw, state_bw, cell_scope):
        return static_bidirectional_rnn(cell_fw, cell_bw, prev, initial_state_fw=state_fw,
                                        initial_state_bw=state_bw, sequence_length=sequence_length, dtype=dtype,
                                        scope=cell_scope)
    return _stack(layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope)


def stack_bidirectional_dynamic_rnn(cells_fw, cells_bw, inputs, initial_states_fw=None, initial_states_bw=None,
                                    dtype=None, sequence_length=None, parallel_iterations=None, time_major=False,
                                    scope=None, swap_memory=False):
    """Layers of ``bidirectional_dynamic_rnn``, each reading the previous one's outputs
    concatenated on the last axis. Returns ``(outputs, states_fw, states_bw)``: the last layer's
    ``[batch, time, fw_size + bw_size]`` outputs and a tuple of final states per direction."""
    def layer(cell_fw, cell_bw, prev, state_fw, state_bw, cell_scope):
        # TF builds this layer's bidirectional_rnn scope under cell_<i> without passing that scope.
        outputs, (state_fw, state_bw) = bidirectional_dynamic_rnn(
            cell_fw, cell_bw, prev, initial_state_fw=state_fw, initial_state_bw=state_bw,
            sequence_length=sequence_length, parallel_iterations=parallel_iterations, dtype=dtype,
            swap_memory=swap_memory, time_major=time_major)
        return concat(outputs, 2), state_fw, state_bw
    return _stack(layer, cells_fw, cells_bw, inputs, initial_states_fw, initial_states_bw, scope)
