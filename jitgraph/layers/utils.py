"""Argument handling shared by the layers: int-or-tuple sizes, padding and data-format names,
output lengths, and activations/initializers given by name (as Keras accepts them)."""

from jitgraph.variables import initializers as init_ops


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or an iterable of ``n`` ints → a tuple of ``n`` positive ints."""
    if isinstance(value, int):
        result = (value,) * n
    else:
        try:
            result = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}") from None
        if len(result) != n:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    if any(v < 0 or (v == 0 and not allow_zero) for v in result):
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value} "
                         f"including {{{', '.join(str(v) for v in result if v <= 0)}}} that does not satisfy "
                         f"the requirement `{req}`.")
    return result


def normalize_padding(value, allow_causal=False):
    padding = value.lower() if isinstance(value, str) else value
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {', '.join(repr(a) for a in allowed)}. "
                         f"Received: {value}")
    return padding


def normalize_data_format(value):
    data_format = "channels_last" if value is None else value.lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: {value}")
    return data_format


def tf_data_format(data_format, rank):
    """``channels_last``/``channels_first`` → ``NWC``/``NHWC``/``NDHWC`` (``NCW``… for channels_first)."""
    spatial = {1: "W", 2: "HW", 3: "DHW"}[rank]
    return "NC" + spatial if data_format == "channels_first" else "N" + spatial + "C"


def conv_output_length(length, kernel, padding, stride, dilation=1):
    if length is None:
        return None
    eff = kernel + (kernel - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        out = length
    else:
        out = length - eff + 1
    return (out + stride - 1) // stride


def deconv_output_length(length, kernel, padding, output_padding=None, stride=0, dilation=1):
    """The output length of a transposed convolution (Keras' rule, with optional ``output_padding``)."""
    if length is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        return length * stride + max(kernel - stride, 0) if padding == "valid" else length * stride
    pad = kernel // 2 if padding == "same" else 0
    return (length - 1) * stride + kernel - 2 * pad + output_padding


def _activations():
    from jitgraph import nn
    from jitgraph.ops import math_api
    return {"relu": nn.relu, "relu6": nn.relu6, "sigmoid": math_api.sigmoid, "tanh": math_api.tanh,
            "softmax": nn.softmax, "elu": nn.elu, "selu": nn.selu, "softplus": math_api.softplus,
            "leaky_relu": nn.leaky_relu, "linear": None}


def get_activation(activation):
    """A callable, None, or a Keras activation name (``"relu"``, ``"softmax"``, ``"linear"``…)."""
    if activation is None or callable(activation):
        return activation
    table = _activations()
    if activation not in table:
        raise ValueError(f"Unknown activation function: {activation!r}. Known: {', '.join(sorted(table))}")
    return table[activation]


_INITIALIZERS = {
    "zeros": init_ops.Zeros, "ones": init_ops.Ones, "glorot_uniform": init_ops.GlorotUniform,
    "glorot_normal": init_ops.GlorotNormal, "orthogonal": init_ops.Orthogonal, "identity": init_ops.Identity,
    "random_normal": init_ops.RandomNormal, "random_uniform": lambda: init_ops.RandomUniform(-0.05, 0.05),
    "truncated_normal": init_ops.TruncatedNormal,
    "he_normal": lambda: init_ops.VarianceScaling(2.0, "fan_in", "truncated_normal"),
    "he_uniform": lambda: init_ops.VarianceScaling(2.0, "fan_in", "uniform"),
    "lecun_normal": lambda: init_ops.VarianceScaling(1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": lambda: init_ops.VarianceScaling(1.0, "fan_in", "uniform"),
}


def get_initializer(initializer):
    """An initializer (instance, class or function), None, or a Keras initializer name."""
    if initializer is None or not isinstance(initializer, str):
        return initializer
    if initializer not in _INITIALIZERS:
        raise ValueError(f"Unknown initializer: {initializer!r}. Known: {', '.join(sorted(_INITIALIZERS))}")
    return _INITIALIZERS[initializer]()
