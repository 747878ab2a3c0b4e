"""``tf.nn.dynamic_rnn``, ``tf.nn.bidirectional_dynamic_rnn``, ``tf.nn.static_rnn``,
``tf.nn.static_bidirectional_rnn`` and ``tf.reverse_sequence``, built as TF 1.15 builds them.

``dynamic_rnn`` is one ``while_loop`` over time: the inputs enter through a TensorArray
(unstacked time-major), each step calls the cell and writes its output to an output TensorArray.
With ``sequence_length``, a row past its length gets zeros as output and keeps its state (TF's
``_rnn_step`` with ``skip_conditionals``), and the loop stops at the longest sequence.
"""

import numpy as np

from jitgraph import dtypes
from jitgraph.control_flow import nest
from jitgraph.control_flow.tensor_array import TensorArray
from jitgraph.control_flow.while_op import while_loop
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.array_ops import expand_dims, shape, transpose
from jitgraph.ops.constant_ops import constant, zeros
from jitgraph.ops.control_ops import identity
from jitgraph.ops.math_api import maximum, minimum
from jitgraph.ops.math_ops import cast, where
from jitgraph.ops.reduction_ops import reduce_max
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op
from jitgraph.ops.tile_pad_ops import reverse
from jitgraph.variables.scopes import variable_scope

__all__ = ["dynamic_rnn", "bidirectional_dynamic_rnn", "static_rnn", "static_bidirectional_rnn", "reverse_sequence"]


# ---- ReverseSequence ----------------------------------------------------------------------------
def _reverse_sequence(x, seq_lengths, seq_axis, batch_axis):
    x = np.asarray(x)
    out = x.copy()
    lengths = np.asarray(seq_lengths).reshape(-1)
    if len(lengths) != x.shape[batch_axis]:
        raise ValueError(f"Length of seq_lengths != input.dims({batch_axis}), ({len(lengths)} vs. "
                         f"{x.shape[batch_axis]})")
    for b, n in enumerate(lengths):
        if not 0 <= n <= x.shape[seq_axis]:
            raise ValueError(f"seq_lengths[{b}] = {n} is not in [0, {x.shape[seq_axis]}]")
        src = [slice(None)] * x.ndim
        src[batch_axis], src[seq_axis] = b, slice(n - 1 if n else 0, None, -1) if n else slice(0, 0)
        dst = [slice(None)] * x.ndim
        dst[batch_axis], dst[seq_axis] = b, slice(0, n)
        out[tuple(dst)] = x[tuple(src)] if n else out[tuple(dst)]
    return out


def _reverse_sequence_infer(ins, a):
    x, lengths = ins
    if not lengths.dtype.base_dtype.is_integer:
        raise TypeError(f"seq_lengths must be int32 or int64, got {lengths.dtype.base_dtype.name}")
    r = x.shape.ndims
    if r is not None and not (0 <= a["seq_axis"] < r and 0 <= a["batch_axis"] < r):
        raise ValueError(f"seq_axis {a['seq_axis']} / batch_axis {a['batch_axis']} out of range for rank {r}")
    return [(x.dtype.base_dtype, x.shape)]


define_op("ReverseSequence", _reverse_sequence_infer, _reverse_sequence, kind="layout",
          grad=lambda op, g: [reverse_sequence(g, op.inputs[1], op.get_attr("seq_axis"),
                                               op.get_attr("batch_axis")), None])


def reverse_sequence(input, seq_lengths, seq_axis=None, batch_axis=None, name=None, seq_dim=None, batch_dim=None):
    """Reverse the first ``seq_lengths[b]`` entries along ``seq_axis`` of each batch row ``b``."""
    seq_axis = seq_axis if seq_axis is not None else seq_dim
    batch_axis = batch_axis if batch_axis is not None else (batch_dim if batch_dim is not None else 0)
    x = convert_to_tensor(input)
    r = x.shape.ndims
    sa = seq_axis % r if r else seq_axis
    ba = batch_axis % r if r else batch_axis
    return make_op("ReverseSequence", [x, convert_to_tensor(seq_lengths)], {"seq_axis": sa, "batch_axis": ba},
                   name or "ReverseSequence").outputs[0]


# ---- helpers -------------------------------------------------------------------------------------
def _transpose_batch_time(x):
    s = x.shape
    if s.ndims is not None and s.ndims < 2:
        return x
    perm = [1, 0] + list(range(2, s.ndims))
    return transpose(x, perm)


def _batch_size(flat_input):
    for t in flat_input:
        if t.shape.ndims is None:
            continue
        if t.shape.ndims < 2:
            raise ValueError(f"Input tensor should have rank >= 2. Received input={t} of rank {t.shape.ndims}")
        if t.shape[1].value is not None:
            return t.shape[1].value
    return shape(flat_input[0])[1]


def _state_dtype(dtype, state):
    if dtype is not None:
        return dtypes.as_dtype(dtype)
    flat = [convert_to_tensor(s).dtype.base_dtype for s in nest.flatten(state)]
    if not flat:
        raise ValueError(f"Unable to infer dtype from argument state={state}.")
    if any(d != flat[0] for d in flat):
        raise ValueError(f"Argument state={state} has tensors of different inferred dtypes. Unable to infer a "
                         f"single representative dtype. Dtypes received: {flat}")
    return flat[0]


def _size_list(size):
    return [size] if isinstance(size, int) else TensorShape(size).as_list()


def _zero_output(cell, batch_size, dtype):
    def make(size):
        if isinstance(batch_size, int):
            return zeros([batch_size] + _size_list(size), dtype)
        from jitgraph.ops.array_ops import stack
        return zeros(stack([batch_size] + [constant(d) for d in _size_list(size)]), dtype)
    return nest.map_structure(make, cell.output_size)


def _initial_state(cell, batch_size, initial_state, dtype):
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
    return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtypes.as_dtype(dtype))


def _select_rows(done, old, new):
    """``old`` where ``done`` (one bool per batch row), else ``new`` (TF1 ``where`` on rows)."""
    if new.shape.ndims == 0:
        return new
    cond = done
    for _ in range((new.shape.ndims or 2) - 1):
        cond = expand_dims(cond, -1)
    return where(cond, old, new)


def _copy_through(time, sequence_length, zero_output, state, output, new_state):
    done = time >= sequence_length
    out = nest.map_structure(lambda z, o: _select_rows(done, z, o), zero_output, output)
    st = nest.map_structure(lambda s, n: _select_rows(done, s, n), state, new_state)
    return out, st


def _sequence_length(sequence_length):
    if sequence_length is None:
        return None
    sequence_length = cast(sequence_length, dtypes.int32)
    if sequence_length.shape.ndims not in (None, 1):
        raise ValueError(f"Argument sequence_length must be a vector of length batch_size. Received "
                         f"sequence_length={sequence_length} of shape: {sequence_length.shape}")
    return identity(sequence_length, name="sequence_length")


# ---- dynamic_rnn ---------------------------------------------------------------------------------
def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory=False, time_major=False, scope=None):
    """Run ``cell`` over the time axis of ``inputs`` (``[batch, time, ...]``, or ``[time, batch, ...]``
    with ``time_major``) in one while loop: returns ``(outputs, final_state)``. ::

        cell = tf.nn.rnn_cell.BasicLSTMCell(128)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)   # vars rnn/basic_lstm_cell/...
    """
    with variable_scope(scope or "rnn"):
        flat = [convert_to_tensor(t) for t in nest.flatten(inputs)]
        if not time_major:
            flat = [_transpose_batch_time(t) for t in flat]
        sequence_length = _sequence_length(sequence_length)
        batch_size = _batch_size(flat)
        state = _initial_state(cell, batch_size, initial_state, dtype)
        inputs = nest.pack_sequence_as(inputs, flat)
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, parallel_iterations or 32, swap_memory,
                                                 sequence_length, dtype)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def _dynamic_rnn_loop(cell, inputs, state, parallel_iterations, swap_memory, sequence_length, dtype):
    flat = nest.flatten(inputs)
    time_steps = shape(flat[0])[0]
    batch_size = _batch_size(flat)
    got = [t.shape for t in flat]
    for t, s in zip(flat, got):
        if s.ndims is None or s.ndims < 3:
            raise ValueError(f"Shape must be at least rank 3 but is rank {s.ndims} (input {t.name})")
        if not s[2:].is_fully_defined():
            raise ValueError(f"Input size (depth of inputs) must be accessible via shape inference, but saw value "
                             f"None for input={t}.")
    const_time, const_batch = got[0].as_list()[:2]
    for t, s in zip(flat, got):
        if s[0].value != const_time:
            raise ValueError(f"Time steps is not the same for all the elements in the input in a batch. Received "
                             f"time steps={s[0].value} for input={t}.")
        if s[1].value != const_batch:
            raise ValueError(f"Batch_size is not the same for all the elements in the input. Received batch "
                             f"size={s[1].value} for input={t}.")
    state_dtype = _state_dtype(dtype, state)
    zero_output = _zero_output(cell, batch_size, state_dtype)
    if sequence_length is not None:
        max_len = reduce_max(sequence_length)
    else:
        max_len = time_steps
    time = constant(0, dtype=dtypes.int32, name="time")
    out_sizes = nest.flatten(cell.output_size)
    output_ta = tuple(TensorArray(state_dtype, size=time_steps, element_shape=TensorShape([const_batch]).concatenate(
        _size_list(s))) for s in out_sizes)
    input_ta = tuple(TensorArray(t.dtype, size=time_steps, element_shape=t.shape[1:]).unstack(t) for t in flat)

    def time_step(time, output_ta_t, state):
        input_t = [ta.read(time) for ta in input_ta]
        for x, s in zip(input_t, got):
            x.set_shape(s[1:])
        input_t = nest.pack_sequence_as(inputs, input_t)
        output, new_state = cell(input_t, state)
        if sequence_length is not None:
            output, new_state = _copy_through(time, sequence_length, zero_output, state, output, new_state)
        flat_out = nest.flatten(output)
        return time + 1, tuple(ta.write(time, o) for ta, o in zip(output_ta_t, flat_out)), new_state

    bound = minimum(time_steps, maximum(1, max_len))
    _, final_ta, final_state = while_loop(lambda time, *_: time < bound, time_step, (time, output_ta, state),
                                          parallel_iterations=parallel_iterations, maximum_iterations=time_steps,
                                          swap_memory=swap_memory)
    outs = []
    for ta, size in zip(final_ta, out_sizes):
        out = ta.stack()
        out.set_shape(TensorShape([const_time, const_batch]).concatenate(_size_list(size)))
        outs.append(out)
    return nest.pack_sequence_as(cell.output_size, outs), final_state


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None, swap_memory=False,
                              time_major=False, scope=None):
    """A forward and a backward ``dynamic_rnn`` (scopes ``bidirectional_rnn/fw`` and ``…/bw``); the
    backward one reads each sequence reversed (up to its length). Returns
    ``((output_fw, output_bw), (state_fw, state_bw))``."""
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                                              parallel_iterations, swap_memory, time_major, fw_scope)
        time_axis, batch_axis = (0, 1) if time_major else (1, 0)

        def rev(x):
            if sequence_length is not None:
                return reverse_sequence(x, sequence_length, seq_axis=time_axis, batch_axis=batch_axis)
            return reverse(x, axis=[time_axis])

        with variable_scope("bw") as bw_scope:
            inputs_rev = nest.map_structure(rev, inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, inputs_rev, sequence_length, initial_state_bw, dtype,
                                        parallel_iterations, swap_memory, time_major, bw_scope)
    output_bw = nest.map_structure(rev, tmp)
    return (output_fw, output_bw), (state_fw, state_bw)


# ---- static_rnn ----------------------------------------------------------------------------------
def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """``cell`` unrolled over the list ``inputs`` (one ``[batch, ...]`` tensor per step): returns
    ``(outputs, final_state)``; with ``sequence_length`` as ``dynamic_rnn``."""
    if not nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    outputs = []
    with variable_scope(scope or "rnn") as varscope:
        first = inputs[0]
        while nest.is_sequence(first):
            first = first[0]
        first = convert_to_tensor(first)
        if first.shape.ndims is not None and first.shape.ndims >= 2 and first.shape[1:].is_fully_defined() is False:
            raise ValueError("Input size (dimension 1 of inputs) must be accessible via shape inference, but saw "
                             "value None.")
        batch_size = first.shape[0].value if first.shape.ndims else None
        batch_size = batch_size if batch_size is not None else shape(first)[0]
        state = _initial_state(cell, batch_size, initial_state, dtype)
        sequence_length = _sequence_length(sequence_length)
        if sequence_length is not None:
            zero_output = _zero_output(cell, batch_size, _state_dtype(dtype, state))
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            output, new_state = cell(input_, state)
            if sequence_length is not None:
                output, new_state = _copy_through(constant(time, dtypes.int32), sequence_length, zero_output, state,
                                                  output, new_state)
            state = new_state
            outputs.append(output)
        return outputs, state


def _assert_like_rnncell(name, cell):
    missing = [a for a in ("output_size", "state_size", "zero_state") if not hasattr(cell, a)]
    if missing or not callable(cell):
        raise TypeError(f"The argument {name!r} ({cell!r}) is not an RNNCell: it lacks "
                        f"{', '.join(missing) or '__call__'}.")


def _reverse_seq(input_seq, lengths):
    """The list ``input_seq`` reversed in time: whole, or each row up to its length."""
    if lengths is None:
        return list(reversed(input_seq))
    from jitgraph.ops.concat_ops import stack, unstack
    flat_steps = [nest.flatten(x) for x in input_seq]
    flat_results = [[] for _ in input_seq]
    for sequence in zip(*flat_steps):
        step_shape = sequence[0].shape
        for x in sequence[1:]:
            step_shape = step_shape.merge_with(x.shape)
        reversed_steps = unstack(reverse_sequence(stack(sequence), lengths, seq_axis=0, batch_axis=1))
        for r, flat in zip(reversed_steps, flat_results):
            r.set_shape(step_shape)
            flat.append(r)
    return [nest.pack_sequence_as(x, flat) for x, flat in zip(input_seq, flat_results)]


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None, dtype=None,
                             sequence_length=None, scope=None):
    """A forward and a backward ``static_rnn`` over the list ``inputs`` (scopes
    ``bidirectional_rnn/fw`` and ``…/bw``; the backward one reads each sequence reversed up to its
    length). Returns ``(outputs, state_fw, state_bw)``: ``outputs`` a list of
    ``[batch, fw_size + bw_size]`` (the two directions concatenated per step)."""
    from jitgraph.ops.concat_ops import concat
    _assert_like_rnncell("cell_fw", cell_fw)
    _assert_like_rnncell("cell_bw", cell_bw)
    if not nest.is_sequence(inputs):
        raise TypeError("inputs must be a sequence")
    if not inputs:
        raise ValueError("inputs must not be empty")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                             scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    flat = [concat([fw, bw], 1) for fw, bw in zip(nest.flatten(output_fw), nest.flatten(output_bw))]
    return nest.pack_sequence_as(output_fw, flat), state_fw, state_bw
