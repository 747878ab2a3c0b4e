"""Functions built from other ops (no OpDef of their own, so their gradients come for free):
``reduce_variance``, ``reduce_std``, ``log_sigmoid``, ``l2_normalize``, ``elu``, ``selu``,
``leaky_relu``, ``moments``."""

from jitgraph.api_graph import name_scope
from jitgraph.ops.math_api import exp, maximum, rsqrt, softplus, sqrt, square
from jitgraph.ops.math_ops import where
from jitgraph.ops.reduction_ops import reduce_mean, reduce_sum
from jitgraph.ops.registry import convert_to_tensor


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance over ``axis``."""
    with name_scope(name, "reduce_variance", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        mean = reduce_mean(x, axis, keepdims=True)
        return reduce_mean(square(x - mean), axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation over ``axis``."""
    with name_scope(name, "reduce_std", [input_tensor]):
        return sqrt(reduce_variance(input_tensor, axis, keepdims))


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """``(mean, variance)`` of ``x`` over ``axes`` (``tf.nn.moments``)."""
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name, "moments", [x]):
        x = convert_to_tensor(x)
        mean = reduce_mean(x, axes, keepdims=True)
        variance = reduce_mean(square(x - mean), axes, keepdims=True)
        if not keep:
            mean, variance = reduce_mean(mean, axes), reduce_mean(variance, axes)
        return mean, variance


def log_sigmoid(x, name=None):
    """``log(sigmoid(x))`` computed stably as ``-softplus(-x)``."""
    with name_scope(name, "LogSigmoid", [x]):
        return -softplus(-convert_to_tensor(x))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(x**2, axis), epsilon))``."""
    axis = dim if axis is None else axis
    with name_scope(name, "l2_normalize", [x]):
        x = convert_to_tensor(x)
        return x * rsqrt(maximum(reduce_sum(square(x), axis, keepdims=True), epsilon))


def elu(features, name=None):
    """``x`` for ``x > 0`` else ``exp(x) - 1``."""
    with name_scope(name, "Elu", [features]):
        x = convert_to_tensor(features)
        return where(x > 0, x, exp(where(x > 0, x * 0, x)) - 1)


def selu(features, name=None):
    """Scaled ELU with TF's constants."""
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    with name_scope(name, "Selu", [features]):
        x = convert_to_tensor(features)
        return scale * where(x > 0, x, alpha * (exp(where(x > 0, x * 0, x)) - 1))


def leaky_relu(features, alpha=0.2, name=None):
    """``max(x, alpha * x)``."""
    with name_scope(name, "LeakyRelu", [features]):
        x = convert_to_tensor(features)
        return maximum(x, alpha * x)
