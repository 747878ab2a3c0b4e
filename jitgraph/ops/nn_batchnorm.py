"""``tf.nn.batch_normalization``, ``fused_batch_norm``, ``batch_norm_with_global_normalization`` and
the moment helpers ``sufficient_statistics``, ``normalize_moments``, ``weighted_moments``, built
from elementwise ops and reductions (so their gradients are those of the pieces and the compiler
fuses them)."""

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


def batch_norm_with_global_normalization(t=None, m=None, v=None, beta=None, gamma=None, variance_epsilon=None,
                                        scale_after_normalization=None, name=None, input=None, mean=None,
                                        variance=None):
    """TF's older batch norm: ``batch_normalization`` with ``gamma`` applied only if
    ``scale_after_normalization``."""
    t = input if t is None else t
    m = mean if m is None else m
    v = variance if v is None else v
    return batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon,
                               name or "batchnorm")


def _keep(keep_dims, keepdims):
    return bool(keepdims if keepdims is not None else keep_dims)


def sufficient_statistics(x, axes, shift=None, keep_dims=None, name=None, keepdims=None):
    """``(count, sum(x - shift), sum((x - shift)**2), shift)`` over ``axes`` (``shift`` may be None)."""
    from jitgraph.ops.math_api import square
    from jitgraph.ops.reduction_ops import reduce_prod, reduce_sum
    keep = _keep(keep_dims, keepdims)
    with name_scope(name, "sufficient_statistics", [x, shift]):
        x = convert_to_tensor(x)
        dims = x.shape.as_list() if x.shape.ndims is not None else None
        if dims is not None and all(dims[a] is not None for a in axes):
            n = 1
            for a in axes:
                n *= dims[a]
            counts = convert_to_tensor(float(n), x.dtype.base_dtype, name="count")
        else:
            counts = cast(reduce_prod(_gather_dims(shape(x), axes)), x.dtype.base_dtype, name="count")
        y = x if shift is None else x - shift
        return counts, reduce_sum(y, axes, keepdims=keep, name="mean_ss"), \
            reduce_sum(square(y), axes, keepdims=keep, name="var_ss"), shift


def _gather_dims(dims, axes):
    from jitgraph.ops.slicing_ops import gather
    return gather(dims, list(axes))


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """``(mean, variance)`` from ``sufficient_statistics``' outputs."""
    from jitgraph.ops.math_api import reciprocal, square
    with name_scope(name, "normalize", [counts, mean_ss, variance_ss, shift]):
        divisor = reciprocal(convert_to_tensor(counts), name="divisor")
        shifted_mean = mean_ss * divisor
        mean = shifted_mean if shift is None else shifted_mean + shift
        return mean, variance_ss * divisor - square(shifted_mean)


def weighted_moments(x, axes, frequency_weights, name=None, keep_dims=None, keepdims=None):
    """Mean and variance of ``x`` over ``axes`` with each element counted ``frequency_weights``
    (broadcast against ``x``) times."""
    from jitgraph.ops.array_ops import squeeze
    from jitgraph.ops.math_api import reciprocal, squared_difference
    from jitgraph.ops.reduction_ops import reduce_sum
    from jitgraph.ops.tile_pad_ops import broadcast_to
    from jitgraph.ops.op_util import shape_tensor
    keep = _keep(keep_dims, keepdims)
    with name_scope(name, "weighted_moments", [x, frequency_weights, axes]):
        x = convert_to_tensor(x)
        w = cast(convert_to_tensor(frequency_weights), x.dtype.base_dtype)
        total = reduce_sum(w * x, axes, keepdims=True)
        divisor = reciprocal(reduce_sum(broadcast_to(w, shape_tensor(x)), axes, keepdims=True))
        mean = total * divisor
        variance = reduce_sum(w * squared_difference(x, mean), axes, keepdims=True) * divisor
        if not keep:
            mean, variance = squeeze(mean, axes), squeeze(variance, axes)
        return mean, variance


def _at_least_one(t):
    from jitgraph.ops.math_api import maximum
    return maximum(t, 1.0)


__all__ = ["batch_normalization", "fused_batch_norm", "batch_norm_with_global_normalization", "sufficient_statistics",
           "normalize_moments", "weighted_moments"]
