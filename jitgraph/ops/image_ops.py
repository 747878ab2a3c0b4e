"""Image kernels behind ``tf.image``: ``ResizeBilinear`` and ``ResizeNearestNeighbor`` (with their
gradients), ``AdjustHue`` and ``AdjustSaturation``. The user functions live in ``jitgraph/image``.

Resizing follows TF1's coordinate rules. ``scale = in / out``, or ``(in - 1) / (out - 1)`` with
``align_corners``; output pixel ``i`` samples input position ``i * scale``, or
``(i + 0.5) * scale - 0.5`` with ``half_pixel_centers`` (nearest neighbour: ``(i + 0.5) * scale``,
then floored, or rounded with ``align_corners``). Positions are computed in float32 as TF does, so
the same input pixels are picked. Bilinear output is float32 whatever the input; nearest keeps
the dtype.

Hue and saturation work on the hexcone hue ``h`` in ``[0, 6)`` with each pixel's largest and
smallest channel (HSV's value and ``value * (1 - saturation)``): ``AdjustHue`` turns ``h`` by
``6 * delta``; ``AdjustSaturation`` scales the saturation, clipped to ``[0, 1]``. Neither has a
gradient (nor has it in TF).

``SampleDistortedBoundingBoxV2`` draws random crops (aspect ratio and area in the given ranges,
at random places) until one covers ``min_object_covered`` of some bounding box, as TF's kernel
does; after ``max_attempts`` misses it returns the whole image. Its stream need not match TF's.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.ops.op_util import check_dtype, check_int_tensor, partial_value
from jitgraph.ops.registry import define_op, make_op

__all__ = ["resize_bilinear", "resize_nearest_neighbor"]

_NUMERIC = "int8, uint8, int16, uint16, int32, int64, float16, float32, float64"


# ---- coordinates -----------------------------------------------------------------------------------
def _scale(in_size, out_size, align_corners):
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def _linear_taps(in_size, out_size, align_corners, half_pixel):
    """``(lower, upper, weight of upper)`` input indices for each output index along one axis."""
    scale = _scale(in_size, out_size, align_corners)
    i = np.arange(out_size, dtype=np.float32)
    src = (i + np.float32(0.5)) * scale - np.float32(0.5) if half_pixel else i * scale
    floor = np.floor(src)
    lower = np.maximum(floor, 0).astype(np.intp)
    upper = np.minimum(np.ceil(src), in_size - 1).astype(np.intp)
    return lower, upper, (src - floor).astype(np.float32)


def _nearest_taps(in_size, out_size, align_corners, half_pixel):
    scale = _scale(in_size, out_size, align_corners)
    i = np.arange(out_size, dtype=np.float32)
    src = (i + np.float32(0.5)) * scale if half_pixel else i * scale
    idx = np.floor(src + np.float32(0.5)) if align_corners else np.floor(src)   # C's roundf for src >= 0
    return np.clip(idx.astype(np.intp), 0, in_size - 1)


def _size_of(size):
    h, w = (int(v) for v in np.asarray(size).reshape(-1))
    if h <= 0 or w <= 0:
        raise ValueError(f"output dimensions must be positive, got {h}x{w}")
    return h, w


# ---- shape rule ------------------------------------------------------------------------------------
def _resize_infer(op_type, keep_dtype):
    def infer(ins, a):
        images, size = ins
        check_dtype(images, lambda d: d.is_floating or d.is_integer, op_type, "images", _NUMERIC)
        check_int_tensor(size, op_type, "size")
        if images.shape.ndims not in (None, 4):
            raise ValueError(f"{op_type}: images must be 4-dimensional [batch, height, width, channels], got "
                             f"shape {images.shape}")
        if size.shape.ndims is not None and size.shape.as_list() not in ([2], [None]):
            raise ValueError(f"{op_type}: size must be a 1-D int32 tensor of 2 elements, got shape {size.shape}")
        hw = partial_value(size)
        hw = [None, None] if hw is None else [None if v is None else int(v) for v in hw]
        if any(v is not None and v <= 0 for v in hw):
            raise ValueError(f"{op_type}: output size {hw} must be positive")
        dims = images.shape.as_list() if images.shape.ndims == 4 else [None] * 4
        dt = images.dtype.base_dtype if keep_dtype else dtypes.float32
        return [(dt, [dims[0], hw[0], hw[1], dims[3]])]
    return infer


# ---- ResizeBilinear ----------------------------------------------------------------------------------
def _bilinear(images, size, align_corners, half_pixel_centers):
    h, w = _size_of(size)
    y0, y1, yl = _linear_taps(images.shape[1], h, align_corners, half_pixel_centers)
    x0, x1, xl = _linear_taps(images.shape[2], w, align_corners, half_pixel_centers)
    x = images.astype(np.float32, copy=False)
    rows0, rows1 = x[:, y0], x[:, y1]
    xl = xl[None, None, :, None]
    top = rows0[:, :, x0] + (rows0[:, :, x1] - rows0[:, :, x0]) * xl
    bottom = rows1[:, :, x0] + (rows1[:, :, x1] - rows1[:, :, x0]) * xl
    return top + (bottom - top) * yl[None, :, None, None]


def _bilinear_grad_compute(grads, original_image, align_corners, half_pixel_centers):
    _, ih, iw, _ = original_image.shape
    y0, y1, yl = _linear_taps(ih, grads.shape[1], align_corners, half_pixel_centers)
    x0, x1, xl = _linear_taps(iw, grads.shape[2], align_corners, half_pixel_centers)
    out = np.zeros(original_image.shape, dtype=np.float64)
    g = grads.astype(np.float64)
    for ys, wy in ((y0, 1 - yl), (y1, yl)):
        rows = np.zeros((g.shape[0], ih, g.shape[2], g.shape[3]))
        np.add.at(rows, (slice(None), ys), g * wy[None, :, None, None])
        for xs, wx in ((x0, 1 - xl), (x1, xl)):
            np.add.at(out, (slice(None), slice(None), xs), rows * wx[None, None, :, None])
    return out.astype(original_image.dtype)


define_op("ResizeBilinearGrad", lambda ins, a: [(ins[1].dtype.base_dtype, ins[1].shape)], _bilinear_grad_compute,
          kind="library")
define_op("ResizeBilinear", _resize_infer("ResizeBilinear", False), _bilinear, kind="library",
          grad=lambda op, g: [make_op("ResizeBilinearGrad", [g, op.inputs[0]], dict(op.attrs),
                                      "ResizeBilinearGrad").outputs[0], None])


def _resize_op(op_type, images, size, align_corners, half_pixel_centers, name):
    from jitgraph.ops.op_util import int_tensor
    from jitgraph.ops.registry import convert_to_tensor
    if align_corners and half_pixel_centers:
        raise ValueError(f"{op_type}: if half_pixel_centers is True, align_corners must be False")
    attrs = {"align_corners": bool(align_corners), "half_pixel_centers": bool(half_pixel_centers)}
    return make_op(op_type, [convert_to_tensor(images), int_tensor(size, "size")], attrs, name or op_type).outputs[0]


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Bilinear resize of 4-D ``images`` to ``size = [height, width]``; float32 output."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


# ---- ResizeNearestNeighbor ---------------------------------------------------------------------------
def _nearest(images, size, align_corners, half_pixel_centers):
    h, w = _size_of(size)
    ys = _nearest_taps(images.shape[1], h, align_corners, half_pixel_centers)
    xs = _nearest_taps(images.shape[2], w, align_corners, half_pixel_centers)
    return images[:, ys][:, :, xs]


def _nearest_grad_compute(grads, size, align_corners, half_pixel_centers):
    ih, iw = _size_of(size)
    ys = _nearest_taps(ih, grads.shape[1], align_corners, half_pixel_centers)
    xs = _nearest_taps(iw, grads.shape[2], align_corners, half_pixel_centers)
    rows = np.zeros((grads.shape[0], ih, grads.shape[2], grads.shape[3]), dtype=grads.dtype)
    np.add.at(rows, (slice(None), ys), grads)
    out = np.zeros((grads.shape[0], ih, iw, grads.shape[3]), dtype=grads.dtype)
    np.add.at(out, (slice(None), slice(None), xs), rows)
    return out


def _nearest_grad(op, g):
    from jitgraph.ops.array_ops import shape
    size = shape(op.inputs[0])[1:3]
    return [make_op("ResizeNearestNeighborGrad", [g, size], dict(op.attrs), "ResizeNearestNeighborGrad").outputs[0],
            None]


define_op("ResizeNearestNeighborGrad", _resize_infer("ResizeNearestNeighborGrad", True), _nearest_grad_compute,
          kind="library")
define_op("ResizeNearestNeighbor", _resize_infer("ResizeNearestNeighbor", True), _nearest, kind="library",
          grad=_nearest_grad)


def resize_nearest_neighbor(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Nearest-neighbour resize of 4-D ``images`` to ``size = [height, width]``; keeps the dtype."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers, name)


# ---- AdjustHue, AdjustSaturation ---------------------------------------------------------------------
def _hue_range(rgb):
    """``(hue in [0, 6), smallest channel, largest channel)`` per pixel."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hi, lo = rgb.max(axis=-1), rgb.min(axis=-1)
    chroma = hi - lo
    safe = np.where(chroma > 0, chroma, 1)
    hue = np.where(hi == r, np.mod((g - b) / safe, 6), np.where(hi == g, (b - r) / safe + 2, (r - g) / safe + 4))
    return np.where(chroma > 0, hue, 0).astype(rgb.dtype), lo, hi


def _from_hue_range(hue, lo, hi):
    chroma = hi - lo
    mid = chroma * (1 - np.abs(np.mod(hue, 2) - 1))   # the middle channel, above ``lo``
    sector = np.floor(hue).astype(np.intp) % 6
    zero = np.zeros_like(chroma)
    order = np.array([[0, 1, 2], [1, 0, 2], [2, 0, 1], [2, 1, 0], [1, 2, 0], [0, 2, 1]])   # (c, mid, 0) per sector
    parts = np.stack([chroma, mid, zero], axis=-1)
    return np.take_along_axis(parts, order[sector], axis=-1) + lo[..., None]


def _adjust_hue(images, delta):
    hue, lo, hi = _hue_range(images)
    return _from_hue_range(np.mod(hue + np.float32(6) * delta, 6), lo, hi).astype(images.dtype)


def _adjust_saturation(images, scale):
    hue, lo, hi = _hue_range(images)
    sat = np.where(hi > 0, (hi - lo) / np.where(hi > 0, hi, 1), 0)
    sat = np.clip(sat * scale, 0, 1)
    return _from_hue_range(hue, hi - sat * hi, hi).astype(images.dtype)


def _rgb_infer(op_type):
    def infer(ins, a):
        images, factor = ins
        check_dtype(images, lambda d: d.is_floating, op_type, "images", "float16, float32, float64")
        if factor.shape.ndims not in (None, 0):
            raise ValueError(f"{op_type}: the adjustment must be a scalar, got shape {factor.shape}")
        if images.shape.ndims is not None and (images.shape.ndims < 3 or images.shape[-1].value not in (None, 3)):
            raise ValueError(f"{op_type}: images must have at least 3 dimensions with 3 channels (RGB) last, got "
                             f"shape {images.shape}")
        return [(images.dtype.base_dtype, images.shape)]
    return infer


define_op("AdjustHue", _rgb_infer("AdjustHue"), _adjust_hue, kind="library")
define_op("AdjustSaturation", _rgb_infer("AdjustSaturation"), _adjust_saturation, kind="library")


# ---- SampleDistortedBoundingBoxV2 --------------------------------------------------------------------
def _random_crop_box(gen, height, width, area_range, aspect):
    """A crop ``(y, x, h, w)`` of about the aspect ratio ``aspect`` whose area is within
    ``area_range`` (fractions of the image), or None if none fits."""
    lo, hi = area_range[0] * height * width, area_range[1] * height * width
    h = int(np.rint(np.sqrt(lo / aspect)))
    h_max = int(np.rint(np.sqrt(hi / aspect)))
    if int(np.rint(h_max * aspect)) > width:
        h_max = int((width + 0.5 - 1e-7) / aspect)
    h_max = min(h_max, height)
    h = min(h, h_max)
    if h < h_max:
        h += int(gen.integers(0, h_max - h + 1))
    w = int(np.rint(h * aspect))
    if w * h < lo:
        h += 1
        w = int(np.rint(h * aspect))
    if w * h > hi:
        h -= 1
        w = int(np.rint(h * aspect))
    if not lo <= w * h <= hi or not 0 < w <= width or not 0 < h <= height:
        return None
    return int(gen.integers(0, height - h + 1)), int(gen.integers(0, width - w + 1)), h, w


def _covers(crop, boxes, height, width, min_covered):
    """Does ``crop`` hold at least ``min_covered`` of the area of one of ``boxes`` (relative coords)?"""
    y, x, h, w = crop
    for ymin, xmin, ymax, xmax in boxes:
        by0, bx0, by1, bx1 = ymin * height, xmin * width, ymax * height, xmax * width
        area = (by1 - by0) * (bx1 - bx0)
        if area <= 0:
            continue
        inter = max(0.0, min(y + h, by1) - max(y, by0)) * max(0.0, min(x + w, bx1) - max(x, bx0))
        if inter / area >= min_covered:
            return True
    return False


def _distorted_box_run(ctx, op, ins):
    size, boxes, min_covered = ins
    a = op.attrs
    height, width = int(size[0]), int(size[1])
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        if not a["use_image_if_no_bounding_boxes"]:
            raise errors.InvalidArgumentError(None, op, "No bounding boxes provided as input. One must enable "
                                                        "use_image_if_no_bounding_boxes if you wish to not provide "
                                                        "any bounding boxes.")
        boxes = np.array([[0.0, 0.0, 1.0, 1.0]])
    gen = ctx.rng(op)
    crop = (0, 0, height, width)   # the whole image when no attempt succeeds
    for _ in range(a["max_attempts"]):
        aspect = gen.uniform(*a["aspect_ratio_range"])
        c = _random_crop_box(gen, height, width, a["area_range"], aspect)
        if c is not None and _covers(c, boxes, height, width, float(min_covered)):
            crop = c
            break
    y, x, h, w = crop
    box = np.array([[[y / height, x / width, (y + h) / height, (x + w) / width]]], np.float32)
    return [np.array([y, x, 0], size.dtype), np.array([h, w, -1], size.dtype), box]


def _distorted_box_infer(ins, a):
    size, boxes, covered = ins
    check_int_tensor(size, "SampleDistortedBoundingBoxV2", "image_size")
    check_dtype(boxes, lambda d: d == dtypes.float32, "SampleDistortedBoundingBoxV2", "bounding_boxes", "float32")
    if size.shape.ndims not in (None, 1) or (size.shape.ndims == 1 and size.shape[0].value not in (None, 3)):
        raise ValueError(f"image_size must be 1-dimensional with 3 elements, got shape {size.shape}")
    if boxes.shape.ndims not in (None, 3) or (boxes.shape.ndims == 3 and boxes.shape[-1].value not in (None, 4)):
        raise ValueError(f"bounding_boxes must be [batch, N, 4], got shape {boxes.shape}")
    dt = size.dtype.base_dtype
    return [(dt, [3]), (dt, [3]), (dtypes.float32, [1, 1, 4])]


define_op("SampleDistortedBoundingBoxV2", _distorted_box_infer, kind="random", stateful=True,
          run=_distorted_box_run, grad=lambda op, *g: [None, None, None])
