"""``tf.nn.batch_normalization`` and ``tf.nn.fused_batch_norm``, built from elementwise ops and
reductions (so their gradients are those of the pieces and the compiler fuses them)."""

from jitgraph.api_graph import name_scope
from jitgraph.ops.array_ops import reshape, shape, size
from jitgraph.ops.gradients import stop_gradient
from jitgraph.ops.math_api import rsqrt
from jitgraph.ops.math_ops import cast
from jitgraph.ops.reduction_ops import reduce_mean
from jitgraph.ops.registry import convert_to_tensor

_FORMATS = {4: ("NHWC", "NCHW"), 5: ("NDHWC", "NCDHW")}


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset`` (``offset``/``scale``
    may be None), computed as ``x * inv + (offset - mean * inv)`` with ``inv = scale * rsqrt(...)``."""
    with name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = convert_to_tensor(x)
        inv = rsqrt(convert_to_tensor(variance) + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        shift = offset - mean * inv if offset is not None else -mean * inv
        return x * cast(inv, x.dtype.base_dtype) + cast(shift, x.dtype.base_dtype)


def fused_batch_norm(x, scale, offset, mean=None, variance=None, epsilon=0.001, data_format="NHWC",
                     is_training=True, name=None, exponential_avg_factor=1.0):
    """Batch normalization of a 4-D (or 5-D) ``x`` over every axis but the channel one.

    Returns ``(y, mean, variance)``. Training: ``y`` uses the batch mean and (biased) variance;
    the returned variance is the unbiased ``n/(n-1)`` estimate, and with
    ``exponential_avg_factor`` ``f`` < 1 both returned statistics are ``(1-f)*given + f*batch``.
    Inference: ``mean``/``variance`` are required and returned unchanged. ``epsilon`` is raised
    to at least 1.001e-5, as TF's kernel needs. As TF's fused kernel, gradients flow from ``y``
    only, into ``x``, ``scale`` and ``offset`` (not through the returned statistics nor into the
    given ``mean``/``variance``)."""
    x = convert_to_tensor(x)
    rank = x.shape.ndims
    if rank not in _FORMATS:
        raise ValueError(f"fused_batch_norm: x must be 4-D or 5-D, got shape {x.shape}")
    if data_format not in _FORMATS[rank]:
        raise ValueError(f"fused_batch_norm: data_format must be one of {_FORMATS[rank]} for a {rank}-D x, got "
                         f"{data_format!r}")
    if not is_training and (mean is None or variance is None):
        raise ValueError("fused_batch_norm: mean and variance must be given when is_training=False")
    epsilon = max(float(epsilon), 1.001e-5)
    channel = 1 if data_format.startswith("NC") else rank - 1
    axes = [i for i in range(rank) if i != channel]
    with name_scope(name, "FusedBatchNormV3", [x, scale, offset]):
        scale, offset = convert_to_tensor(scale), convert_to_tensor(offset)
        dt = scale.dtype.base_dtype
        bshape = [1] * rank
        bshape[channel] = -1

        def per_channel(t):
            return reshape(t, bshape)

        xs = cast(x, dt)
        if is_training:
            batch_mean = reduce_mean(xs, axes)
            centred = xs - per_channel(batch_mean)
            batch_var = reduce_mean(centred * centred, axes)
            n = cast(size(x), dt) / cast(shape(x)[channel], dt)
            unbiased = batch_var * (n / _at_least_one(n - 1.0))
            y = batch_normalization(xs, per_channel(batch_mean), per_channel(batch_var), per_channel(offset),
                                    per_channel(scale), epsilon)
            if exponential_avg_factor != 1.0 and mean is not None and variance is not None:
                f = float(exponential_avg_factor)
                batch_mean = (1.0 - f) * convert_to_tensor(mean) + f * batch_mean
                unbiased = (1.0 - f) * convert_to_tensor(variance) + f * unbiased
            return cast(y, x.dtype.base_dtype), stop_gradient(batch_mean), stop_gradient(unbiased)
        mean, variance = stop_gradient(convert_to_tensor(mean)), stop_gradient(convert_to_tensor(variance))
        y = batch_normalization(xs, per_channel(mean), per_channel(variance), per_channel(offset),
                                per_channel(scale), epsilon)
        return cast(y, x.dtype.base_dtype), mean, variance


def _at_least_one(t):
    from jitgraph.ops.math_api import maximum
    return maximum(t, 1.0)


__all__ = ["batch_normalization", "fused_batch_norm"]
