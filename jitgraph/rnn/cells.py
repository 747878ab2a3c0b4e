"""``tf.nn.rnn_cell``: ``BasicRNNCell``, ``GRUCell``, ``BasicLSTMCell``, ``LSTMCell`` and
``LSTMStateTuple`` with TF 1.15's math and variable names.

A cell's variables live in a variable scope opened on its first call: ``name`` if given, else
its class name in snake case made unique in the enclosing variable scope (``basic_lstm_cell``,
``basic_lstm_cell_1``…), so
``dynamic_rnn(BasicLSTMCell(n), …)`` creates ``rnn/basic_lstm_cell/kernel`` and ``…/bias`` as
TF does. Later calls reuse them.
"""

import collections
import re

from jitgraph import dtypes
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops import math_api
from jitgraph.ops.array_ops import shape
from jitgraph.ops.clip_ops import clip_by_value
from jitgraph.ops.concat_ops import concat, split
from jitgraph.ops.constant_ops import constant, zeros
from jitgraph.ops.linalg_ops import matmul
from jitgraph.ops.nn_conv import bias_add
from jitgraph.ops.registry import convert_to_tensor
from jitgraph.ops.slicing_ops import slice_
from jitgraph.variables.initializers import constant_initializer, zeros_initializer
from jitgraph.variables.scopes import get_variable, variable_scope

__all__ = ["RNNCell", "BasicRNNCell", "GRUCell", "BasicLSTMCell", "LSTMCell", "LSTMStateTuple"]

def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


class RNNCell:
    """Base class: ``output, new_state = cell(inputs, state)``; subclasses define ``state_size``,
    ``output_size``, ``build(input_shape)`` and ``call(inputs, state)``."""

    def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, **kwargs):
        self._base_name = name or _snake(type(self).__name__)
        self._reuse, self._trainable = _reuse, trainable
        self._dtype = dtypes.as_dtype(dtype) if dtype is not None else None
        self._scope = None
        self.built = False
        self._weights = []

    @property
    def state_size(self):
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self):
        raise NotImplementedError("Abstract method")

    @property
    def name(self):
        return self._base_name

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, inputs, state, scope=None):
        """Run the cell on ``inputs`` ``[batch, input_size]`` and ``state``: ``(output, new_state)``."""
        if self._scope is None:
            if scope is not None:
                with variable_scope(scope, reuse=self._reuse) as s:
                    self._scope = s
            else:
                with variable_scope(None, default_name=self._base_name) as s:
                    self._scope = s
        with variable_scope(self._scope, reuse=True if (self.built or self._reuse) else None,
                            auxiliary_name_scope=False), get_default_graph().name_scope(self._base_name):
            inputs = convert_to_tensor(inputs)
            if self._dtype is None:
                self._dtype = inputs.dtype.base_dtype
            if not self.built:
                self.build(inputs.shape)
                self.built = True
            return self.call(inputs, state)

    def build(self, input_shape):
        pass

    def add_weight(self, name, shape, initializer=None):
        v = get_variable(name, shape, dtype=self._dtype, initializer=initializer, trainable=self._trainable)
        self._weights.append(v)
        return v

    @property
    def trainable_variables(self):
        return list(self._weights) if self._trainable else []

    weights = variables = trainable_weights = trainable_variables

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if inputs is not None:
            inputs = convert_to_tensor(inputs)
            batch_size = inputs.shape[0].value if inputs.shape.ndims else None
            batch_size = batch_size if batch_size is not None else shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError(f"batch_size and dtype cannot be None while constructing initial state: "
                             f"batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size, dtype):
        """Zeros shaped like the state for ``batch_size`` rows (nested like ``state_size``)."""
        from jitgraph.control_flow import nest
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return nest.map_structure(lambda s: _zeros(batch_size, s, dtype), self.state_size)


def _zeros(batch_size, size, dtype):
    size = TensorShape(size).as_list() if not isinstance(size, int) else [size]
    if isinstance(batch_size, int):
        return zeros([batch_size] + size, dtype)
    from jitgraph.ops.array_ops import stack
    return zeros(stack([convert_to_tensor(batch_size)] + [constant(d) for d in size]), dtype)


def _check_dtypes(*tensors):
    from jitgraph.control_flow import nest
    for t in nest.flatten(tensors):
        if not convert_to_tensor(t).dtype.base_dtype.is_floating:
            raise ValueError(f"RNN cell only supports floating point inputs, but received dtype: {t.dtype}")


def _input_depth(input_shape):
    depth = input_shape[-1].value if input_shape.ndims else None
    if depth is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, received shape: {input_shape}")
    return depth


def _activation(activation):
    if activation is None:
        return math_api.tanh
    if isinstance(activation, str):
        return getattr(math_api, activation)
    return activation


class BasicRNNCell(RNNCell):
    """``output = new_state = act(W [x, h] + b)``."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units, self._activation = num_units, _activation(activation)

    state_size = output_size = property(lambda self: self._num_units)

    def build(self, input_shape):
        depth = _input_depth(input_shape)
        self._kernel = self.add_weight("kernel", [depth + self._num_units, self._num_units])
        self._bias = self.add_weight("bias", [self._num_units], zeros_initializer())

    def call(self, inputs, state):
        _check_dtypes(inputs, state)
        out = self._activation(bias_add(matmul(concat([inputs, state], 1), self._kernel), self._bias))
        return out, out


class GRUCell(RNNCell):
    """Gated recurrent unit: ``gates/{kernel,bias}`` (bias initialized to 1) and
    ``candidate/{kernel,bias}``."""

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units, self._activation = num_units, _activation(activation)
        self._kernel_initializer, self._bias_initializer = kernel_initializer, bias_initializer

    state_size = output_size = property(lambda self: self._num_units)

    def build(self, input_shape):
        depth, n = _input_depth(input_shape), self._num_units
        self._gate_kernel = self.add_weight("gates/kernel", [depth + n, 2 * n], self._kernel_initializer)
        self._gate_bias = self.add_weight("gates/bias", [2 * n], self._bias_initializer or constant_initializer(1.0))
        self._candidate_kernel = self.add_weight("candidate/kernel", [depth + n, n], self._kernel_initializer)
        self._candidate_bias = self.add_weight("candidate/bias", [n], self._bias_initializer or zeros_initializer())

    def call(self, inputs, state):
        _check_dtypes(inputs, state)
        value = math_api.sigmoid(bias_add(matmul(concat([inputs, state], 1), self._gate_kernel), self._gate_bias))
        r, u = split(value, 2, axis=1)
        c = self._activation(bias_add(matmul(concat([inputs, r * state], 1), self._candidate_kernel),
                                      self._candidate_bias))
        new_h = u * state + (1 - u) * c
        return new_h, new_h


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """The state of an LSTM cell: ``(c, h)``, the cell state and the output."""

    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent dtypes for internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


class BasicLSTMCell(RNNCell):
    """LSTM without peepholes or projection; ``forget_bias`` is added to the forget gate."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        self._num_units, self._forget_bias = num_units, forget_bias
        self._state_is_tuple, self._activation = state_is_tuple, _activation(activation)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def build(self, input_shape):
        depth, n = _input_depth(input_shape), self._num_units
        self._kernel = self.add_weight("kernel", [depth + n, 4 * n])
        self._bias = self.add_weight("bias", [4 * n], zeros_initializer())

    def call(self, inputs, state):
        _check_dtypes(inputs, state)
        c, h = state if self._state_is_tuple else split(state, 2, axis=1)
        gates = bias_add(matmul(concat([inputs, h], 1), self._kernel), self._bias)
        i, j, f, o = split(gates, 4, axis=1)
        sig, act = math_api.sigmoid, self._activation
        new_c = c * sig(f + constant(self._forget_bias, dtype=f.dtype)) + sig(i) * act(j)
        new_h = act(new_c) * sig(o)
        return new_h, (LSTMStateTuple(new_c, new_h) if self._state_is_tuple else concat([new_c, new_h], 1))


class LSTMCell(RNNCell):
    """LSTM with optional peepholes (``w_f_diag``, ``w_i_diag``, ``w_o_diag``), cell clipping and an
    output projection (``projection/kernel``, optionally clipped)."""

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias=1.0, state_is_tuple=True,
                 activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("partitioned LSTMCell variables (num_unit_shards/num_proj_shards)")
        self._num_units, self._use_peepholes, self._cell_clip = num_units, use_peepholes, cell_clip
        self._initializer, self._num_proj, self._proj_clip = initializer, num_proj, proj_clip
        self._forget_bias, self._state_is_tuple = forget_bias, state_is_tuple
        self._activation = _activation(activation)
        m = num_proj or num_units
        self._state_size = LSTMStateTuple(num_units, m) if state_is_tuple else num_units + m
        self._output_size = m

    state_size = property(lambda self: self._state_size)
    output_size = property(lambda self: self._output_size)

    def build(self, input_shape):
        depth, n = _input_depth(input_shape), self._num_units
        h_depth = self._num_proj or n
        init = self._initializer
        self._kernel = self.add_weight("kernel", [depth + h_depth, 4 * n], init)
        self._bias = self.add_weight("bias", [4 * n], zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag = self.add_weight("w_f_diag", [n], init)
            self._w_i_diag = self.add_weight("w_i_diag", [n], init)
            self._w_o_diag = self.add_weight("w_o_diag", [n], init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_weight("projection/kernel", [n, self._num_proj], init)

    def call(self, inputs, state):
        _check_dtypes(inputs, state)
        n, m = self._num_units, self._num_proj or self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev, m_prev = slice_(state, [0, 0], [-1, n]), slice_(state, [0, n], [-1, m])
        _input_depth(inputs.shape)
        lstm = bias_add(matmul(concat([inputs, m_prev], 1), self._kernel), self._bias)
        i, j, f, o = split(lstm, 4, axis=1)
        sig, act = math_api.sigmoid, self._activation
        if self._use_peepholes:
            c = (sig(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sig(i + self._w_i_diag * c_prev) * act(j))
        else:
            c = sig(f + self._forget_bias) * c_prev + sig(i) * act(j)
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        out = sig(o + self._w_o_diag * c) * act(c) if self._use_peepholes else sig(o) * act(c)
        if self._num_proj is not None:
            out = matmul(out, self._proj_kernel)
            if self._proj_clip is not None:
                out = clip_by_value(out, -self._proj_clip, self._proj_clip)
        return out, (LSTMStateTuple(c, out) if self._state_is_tuple else concat([c, out], 1))
