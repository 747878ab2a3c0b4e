"""``tf.image`` geometry: flips, crops and pads, built from ``reverse``, ``slice``, ``pad`` and
``where`` (so they have gradients). Images are ``[height, width, channels]`` or batches
``[batch, height, width, channels]``; a check that can be done on static shapes is a
``ValueError`` when the graph is built, as in TF."""

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.math_ops import binary, cast, where
from jitgraph.ops.op_util import dim_of, int_vector, op_scope, static_ints
from jitgraph.ops.random_ops import random_uniform
from jitgraph.ops.registry import constant_value, convert_to_tensor

__all__ = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down", "transpose_image",
           "random_crop", "central_crop", "crop_to_bounding_box", "pad_to_bounding_box",
           "resize_image_with_crop_or_pad", "rot90", "sample_distorted_bounding_box"]


def image_rank(image, fn, ranks=(3, 4)):
    r = image.shape.ndims
    if r is None:
        raise ValueError(f"{fn}: 'image' must have a known rank ({' or '.join(map(str, ranks))})")
    if r not in ranks:
        raise ValueError(f"{fn}: 'image' must have either {' or '.join(map(str, ranks))} dimensions, got shape "
                         f"{image.shape}")
    return r


def _flip(image, axis, fn, name):
    with op_scope(name or fn, [image]):
        x = convert_to_tensor(image, name="image")
        return array_ops.reverse(x, [axis + image_rank(x, fn) - 3])


def flip_left_right(image, name=None):
    """Mirror ``image`` horizontally (the width axis)."""
    return _flip(image, 1, "flip_left_right", name)


def flip_up_down(image, name=None):
    """Mirror ``image`` vertically (the height axis)."""
    return _flip(image, 0, "flip_up_down", name)


def _random_flip(image, axis, seed, fn):
    with op_scope(fn, [image]):
        x = convert_to_tensor(image, name="image")
        r = image_rank(x, fn)
        flipped = array_ops.reverse(x, [axis + r - 3])
        if r == 3:   # one coin for the image
            return where(binary("Less", random_uniform([], 0, 1.0, seed=seed), 0.5), flipped, x)
        coins = random_uniform(int_vector([dim_of(x, 0)]), 0, 1.0, seed=seed)   # one coin per image of the batch
        return where(array_ops.reshape(binary("GreaterEqual", coins, 0.5), [-1, 1, 1, 1]), flipped, x)


def random_flip_left_right(image, seed=None):
    """Mirror ``image`` horizontally with probability 1/2 (each image of a batch on its own)."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """Mirror ``image`` vertically with probability 1/2 (each image of a batch on its own)."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


def transpose_image(image, name=None):
    """Swap the height and width axes."""
    with op_scope(name or "transpose", [image]):
        x = convert_to_tensor(image, name="image")
        return array_ops.transpose(x, [1, 0, 2] if image_rank(x, "transpose") == 3 else [0, 2, 1, 3])


def rot90(image, k=1, name=None):
    """Rotate ``image`` counter-clockwise by ``k`` quarter turns (``k`` a Python int)."""
    with op_scope(name or "rot90", [image]):
        x = convert_to_tensor(image, name="image")
        h = image_rank(x, "rot90") - 3
        for _ in range(int(k) % 4):
            x = array_ops.reverse(transpose_image(x), [h])
        return x


def random_crop(value, size, seed=None, name=None):
    """A window of shape ``size`` at a random place in ``value`` (any rank); needs
    ``value.shape >= size`` in every dimension."""
    with op_scope(name or "random_crop", [value]) as scope:
        x = convert_to_tensor(value, name="value")
        size = convert_to_tensor(size, dtypes.int32, name="size")
        want, have = static_ints(size), x.shape
        if want is not None and have.ndims is not None:
            if len(want) != have.ndims:
                raise ValueError(f"random_crop: size {want} must name every one of the {have.ndims} dimensions")
            for d, s in zip(have.as_list(), want):
                if d is not None and s > d:
                    raise ValueError(f"random_crop: need value.shape >= size, got {have} and {want}")
        shape = array_ops.shape(x)
        limit = binary("Maximum", shape - size + 1, 1)
        offset = binary("FloorMod", random_uniform(array_ops.shape(shape), dtype=dtypes.int32, maxval=dtypes.int32.max,
                                                   seed=seed), limit)
        return array_ops.slice(x, offset, size, name=scope)


def _batched(image, fn):
    """``(image as 4-D, whether it was 3-D)``."""
    x = convert_to_tensor(image, name="image")
    if image_rank(x, fn) == 3:
        return array_ops.expand_dims(x, 0), True
    return x, False


def _unbatched(x, single):
    return array_ops.squeeze(x, axis=[0]) if single else x


def _static(v):
    if hasattr(v, "op"):
        c = constant_value(v)
        return None if c is None else int(c)
    return int(v)


def central_crop(image, central_fraction):
    """The central ``central_fraction`` (in ``(0, 1]``) of the height and width of ``image``."""
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError("central_fraction must be within (0, 1]")
    with op_scope("central_crop", [image]):
        x, single = _batched(image, "central_crop")
        if central_fraction == 1.0:
            return _unbatched(x, single)
        h, w = x.shape[1].value, x.shape[2].value
        if h is not None and w is not None:
            top, left = int((h - h * central_fraction) / 2), int((w - w * central_fraction) / 2)
            out = array_ops.slice(x, [0, top, left, 0], [-1, h - 2 * top, w - 2 * left, -1])
        else:
            hw = cast(array_ops.shape(x)[1:3], dtypes.float64)
            start = cast((hw - hw * central_fraction) / 2, dtypes.int32)
            size = array_ops.shape(x)[1:3] - 2 * start
            out = array_ops.slice(x, array_ops.concat([[0], start, [0]], 0), array_ops.concat([[-1], size, [-1]], 0))
        return _unbatched(out, single)


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The ``target_height x target_width`` window of ``image`` whose top-left corner is at
    ``(offset_height, offset_width)``."""
    with op_scope("crop_to_bounding_box", [image]):
        x, single = _batched(image, "crop_to_bounding_box")
        oh, ow, th, tw = (_static(v) for v in (offset_height, offset_width, target_height, target_width))
        h, w = x.shape[1].value, x.shape[2].value
        for v, msg in ((ow, "offset_width must be >= 0."), (oh, "offset_height must be >= 0.")):
            if v is not None and v < 0:
                raise ValueError(msg)
        for v, msg in ((tw, "target_width must be > 0."), (th, "target_height must be > 0.")):
            if v is not None and v <= 0:
                raise ValueError(msg)
        if None not in (w, tw, ow) and w < tw + ow:
            raise ValueError("width must be >= target + offset.")
        if None not in (h, th, oh) and h < th + oh:
            raise ValueError("height must be >= target + offset.")
        out = array_ops.slice(x, int_vector([0, _v(offset_height), _v(offset_width), 0]),
                              int_vector([-1, _v(target_height), _v(target_width), -1]))
        return _unbatched(out, single)


def _v(v):
    """An int or a scalar int32 tensor (what ``int_vector`` takes)."""
    if hasattr(v, "op"):
        t = convert_to_tensor(v)
        return t if t.dtype.base_dtype == dtypes.int32 else cast(t, dtypes.int32)
    return int(v)


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """``image`` placed at ``(offset_height, offset_width)`` on a zero canvas of
    ``target_height x target_width``."""
    with op_scope("pad_to_bounding_box", [image]):
        x, single = _batched(image, "pad_to_bounding_box")
        oh, ow, th, tw = (_static(v) for v in (offset_height, offset_width, target_height, target_width))
        h, w = x.shape[1].value, x.shape[2].value
        for v, msg in ((oh, "offset_height must be >= 0"), (ow, "offset_width must be >= 0")):
            if v is not None and v < 0:
                raise ValueError(msg)
        if None not in (w, tw, ow) and tw - ow - w < 0:
            raise ValueError("width must be <= target - offset")
        if None not in (h, th, oh) and th - oh - h < 0:
            raise ValueError("height must be <= target - offset")
        after_h = _v(target_height) - _v(offset_height) - dim_of(x, 1)
        after_w = _v(target_width) - _v(offset_width) - dim_of(x, 2)
        rows = [0, 0, _v(offset_height), after_h, _v(offset_width), after_w, 0, 0]
        if all(isinstance(v, int) for v in rows):   # static: the padded shape is known
            pads = [rows[i:i + 2] for i in range(0, 8, 2)]
        else:
            pads = array_ops.reshape(int_vector(rows), [4, 2])
        out = array_ops.pad(x, pads)
        out.set_shape([x.shape[0].value, th, tw, x.shape[3].value])
        return _unbatched(out, single)


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """Crop ``image`` centrally or pad it evenly with zeros to ``target_height x target_width``."""
    with op_scope("resize_image_with_crop_or_pad", [image]):
        x = convert_to_tensor(image, name="image")
        image_rank(x, "resize_image_with_crop_or_pad")
        th, tw = _static(target_height), _static(target_width)
        if th is not None and th <= 0:
            raise ValueError("target_height must be > 0.")
        if tw is not None and tw <= 0:
            raise ValueError("target_width must be > 0.")
        r = x.shape.ndims
        h, w = dim_of(x, r - 3), dim_of(x, r - 2)
        th, tw = _v(target_height), _v(target_width)
        dh, dw = th - h, tw - w
        cropped = crop_to_bounding_box(x, _at_least_0(-dh // 2), _at_least_0(-dw // 2), _smaller(th, h),
                                       _smaller(tw, w))
        return pad_to_bounding_box(cropped, _at_least_0(dh // 2), _at_least_0(dw // 2), th, tw)


def _at_least_0(v):
    return max(v, 0) if isinstance(v, int) else binary("Maximum", v, 0)


def _smaller(a, b):
    return min(a, b) if isinstance(a, int) and isinstance(b, int) else binary("Minimum", a, b)


def sample_distorted_bounding_box(image_size, bounding_boxes, seed=None, seed2=None, min_object_covered=0.1,
                                  aspect_ratio_range=None, area_range=None, max_attempts=None,
                                  use_image_if_no_bounding_boxes=None, name=None):
    """A random crop for data augmentation: ``(begin, size, bbox)`` to pass to ``tf.slice(image,
    begin, size)`` (and ``bbox`` ``[1, 1, 4]`` to draw it). The crop has an aspect ratio in
    ``aspect_ratio_range`` (default ``(0.75, 1.33)``), an area in ``area_range`` (default
    ``(0.05, 1)``) of the image, and covers at least ``min_object_covered`` of one of
    ``bounding_boxes`` (``[batch, N, 4]`` relative ``ymin, xmin, ymax, xmax``)."""
    from jitgraph.api_graph import get_seed
    from jitgraph.ops.registry import make_op
    s1, s2 = get_seed(seed) if seed2 is None else (seed, seed2)
    attrs = {"seed": s1 or 0, "seed2": s2 or 0,
             "aspect_ratio_range": tuple(float(v) for v in (aspect_ratio_range or (0.75, 1.33))),
             "area_range": tuple(float(v) for v in (area_range or (0.05, 1.0))),
             "max_attempts": int(max_attempts or 100),
             "use_image_if_no_bounding_boxes": bool(use_image_if_no_bounding_boxes)}
    for key in ("aspect_ratio_range", "area_range"):
        if len(attrs[key]) != 2 or attrs[key][0] > attrs[key][1] or attrs[key][0] <= 0:
            raise ValueError(f"{key} must be two positive increasing numbers, got {attrs[key]}")
    ts = [convert_to_tensor(image_size), convert_to_tensor(bounding_boxes, dtypes.float32),
          convert_to_tensor(min_object_covered, dtypes.float32)]
    op = make_op("SampleDistortedBoundingBoxV2", ts, attrs, name or "SampleDistortedBoundingBoxV2")
    return tuple(op.outputs)
