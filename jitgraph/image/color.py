"""``tf.image`` pixel values: ``convert_image_dtype``, brightness, contrast, saturation and hue
(fixed and random), ``per_image_standardization``, grayscale conversions.

Integer images hold values in ``[0, dtype.max]``, float images in ``[0, 1]``; the adjustments
work in float32 and convert back to the image's dtype, saturating, as TF does."""

import numpy as np

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.math_ops import binary, cast, unary
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.random_ops import random_uniform
from jitgraph.ops.reduction_ops import reduce_mean, reduce_prod, reduce_sum
from jitgraph.ops.registry import convert_to_tensor, make_op

__all__ = ["convert_image_dtype", "saturate_cast", "adjust_brightness", "adjust_contrast", "adjust_saturation",
           "adjust_hue", "adjust_gamma", "random_brightness", "random_contrast", "random_saturation", "random_hue",
           "per_image_standardization", "rgb_to_grayscale", "grayscale_to_rgb"]


def saturate_cast(value, dtype, name=None):
    """``value`` clipped to the range of ``dtype``, then cast to it."""
    with op_scope(name or "saturate_cast", [value]):
        x, dtype = convert_to_tensor(value, name="value"), dtypes.as_dtype(dtype)
        src = x.dtype.base_dtype
        if src.min < dtype.min:
            x = binary("Maximum", x, convert_to_tensor(np.asarray(dtype.min).astype(src.as_np)))
        if src.max > dtype.max:
            x = binary("Minimum", x, convert_to_tensor(np.asarray(dtype.max).astype(src.as_np)))
        return cast(x, dtype)


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """``image`` in ``dtype``, rescaled between the ranges ``[0, 1]`` (floats) and
    ``[0, dtype.max]`` (integers); ``saturate`` clips values that would overflow."""
    x, dtype = convert_to_tensor(image, name="image"), dtypes.as_dtype(dtype)
    src = x.dtype.base_dtype
    for d, what in ((dtype, "dtype"), (src, "image dtype")):
        if not (d.is_floating or d.is_integer):
            raise AttributeError(f"{what} must be either floating point or integer, got {d.name}")
    if src == dtype:
        from jitgraph.ops.control_ops import identity
        return identity(x, name=name)
    to = (lambda v: saturate_cast(v, dtype)) if saturate else (lambda v: cast(v, dtype))
    with op_scope(name or "convert_image", [x]):
        if src.is_integer and dtype.is_integer:
            if src.max > dtype.max:   # divide first: the top input value lands below dtype.max + 1
                return to(binary("FloorDiv", x, (src.max + 1) // (dtype.max + 1)))
            return binary("Mul", to(x), (dtype.max + 1) // (src.max + 1))
        if src.is_floating and dtype.is_floating:
            return cast(x, dtype)
        if src.is_integer:
            return binary("Mul", cast(x, dtype), 1.0 / src.max)
        return to(binary("Mul", x, dtype.max + 0.5))   # + 0.5: values near 1 must not truncate below the top


def _in_float(image, fn, name, adjust):
    """Run ``adjust`` on ``image`` as float32 (half and single precision as they are)."""
    with op_scope(name or fn, [image]):
        x = convert_to_tensor(image, name="image")
        orig = x.dtype.base_dtype
        flt = x if orig in (dtypes.float16, dtypes.float32) else convert_image_dtype(x, dtypes.float32)
        return convert_image_dtype(adjust(flt), orig, saturate=True)


def adjust_brightness(image, delta):
    """Add ``delta`` to every value (in the float scale ``[0, 1]``)."""
    return _in_float(image, "adjust_brightness", None, lambda x: x + cast(convert_to_tensor(delta), x.dtype))


def adjust_contrast(images, contrast_factor):
    """Move each channel of each image away from (or towards) its mean: ``(x - mean) * factor + mean``."""
    def adjust(x):
        mean = reduce_mean(x, [-3, -2], keepdims=True)
        return (x - mean) * cast(convert_to_tensor(contrast_factor), x.dtype) + mean
    return _in_float(images, "adjust_contrast", None, adjust)


def _rgb(x, fn):
    if x.shape.ndims is not None and (x.shape.ndims < 3 or x.shape[-1].value not in (None, 3)):
        raise ValueError(f"{fn}: images must be RGB (last dimension 3, rank >= 3), got shape {x.shape}")
    return x


def adjust_saturation(image, saturation_factor, name=None):
    """Multiply the HSV saturation of an RGB image by ``saturation_factor`` (clipped to ``[0, 1]``)."""
    return _in_float(image, "adjust_saturation", name, lambda x: make_op(
        "AdjustSaturation", [_rgb(x, "adjust_saturation"), cast(convert_to_tensor(saturation_factor), x.dtype)], {},
        "AdjustSaturation").outputs[0])


def adjust_hue(image, delta, name=None):
    """Turn the hue of an RGB image by ``delta`` (a fraction of the colour circle, in ``[-1, 1]``)."""
    return _in_float(image, "adjust_hue", name, lambda x: make_op(
        "AdjustHue", [_rgb(x, "adjust_hue"), cast(convert_to_tensor(delta), x.dtype)], {}, "AdjustHue").outputs[0])


def adjust_gamma(image, gamma=1, gain=1):
    """``gain * image ** gamma`` (in the float scale); ``gamma`` must be non-negative."""
    if isinstance(gamma, (int, float)) and gamma < 0:
        raise ValueError("Gamma should be a non-negative real number.")
    return _in_float(image, "adjust_gamma", None, lambda x: binary("Pow", x, cast(convert_to_tensor(gamma), x.dtype))
                     * cast(convert_to_tensor(gain), x.dtype))


def _factor_range(lower, upper):
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")


def random_brightness(image, max_delta, seed=None):
    """``adjust_brightness`` by a delta drawn uniformly from ``[-max_delta, max_delta)``."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, random_uniform([], -max_delta, max_delta, seed=seed))


def random_contrast(image, lower, upper, seed=None):
    """``adjust_contrast`` by a factor drawn uniformly from ``[lower, upper)``."""
    _factor_range(lower, upper)
    return adjust_contrast(image, random_uniform([], lower, upper, seed=seed))


def random_saturation(image, lower, upper, seed=None):
    """``adjust_saturation`` by a factor drawn uniformly from ``[lower, upper)``."""
    _factor_range(lower, upper)
    return adjust_saturation(image, random_uniform([], lower, upper, seed=seed))


def random_hue(image, max_delta, seed=None):
    """``adjust_hue`` by a delta drawn uniformly from ``[-max_delta, max_delta)``, ``max_delta <= 0.5``."""
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, random_uniform([], -max_delta, max_delta, seed=seed))


def per_image_standardization(image):
    """Each image scaled to mean 0 and variance 1 over its pixels and channels (the standard
    deviation is held at least ``1 / sqrt(pixels * channels)``); float32 for every input dtype."""
    with op_scope("per_image_standardization", [image]) as scope:
        x = convert_to_tensor(image, name="image")
        if x.shape.ndims is not None and x.shape.ndims < 3:
            raise ValueError(f"per_image_standardization: 'image' must be at least three-dimensional, got {x.shape}")
        x = cast(x, dtypes.float32)   # TF 2's rule: float32 out, whatever the input
        dt = x.dtype.base_dtype
        count = reduce_prod(array_ops.shape(x)[-3:])
        mean = reduce_mean(x, [-1, -2, -3], keepdims=True)
        std = unary("Sqrt", reduce_mean(unary("Square", x - mean), [-1, -2, -3], keepdims=True))
        floor = unary("Rsqrt", cast(count, dt))
        return binary("RealDiv", x - mean, binary("Maximum", std, floor), name=scope)


def rgb_to_grayscale(images, name=None):
    """The luma ``0.2989 R + 0.5870 G + 0.1140 B`` of RGB images, with one channel."""
    with op_scope(name or "rgb_to_grayscale", [images]):
        x = convert_to_tensor(images, name="images")
        orig = x.dtype.base_dtype
        flt = convert_image_dtype(_rgb(x, "rgb_to_grayscale"), dtypes.float32)
        gray = reduce_sum(flt * np.array([0.2989, 0.5870, 0.1140], np.float32), -1, keepdims=True)
        return convert_image_dtype(gray, orig)


def grayscale_to_rgb(images, name=None):
    """One-channel images repeated into three channels."""
    with op_scope(name or "grayscale_to_rgb", [images]):
        x = convert_to_tensor(images, name="images")
        if x.shape.ndims is not None and (x.shape.ndims < 2 or x.shape[-1].value not in (None, 1)):
            raise ValueError(f"grayscale_to_rgb: the last dimension of images must be 1, got shape {x.shape}")
        return array_ops.concat([x, x, x], -1)
