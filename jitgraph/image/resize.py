"""``tf.image.resize_images`` / ``tf.image.resize`` (TF1's: no half-pixel centers unless asked
through ``resize_bilinear``), with TF1's ``ResizeMethod`` numbering; the kernels live in
``jitgraph/ops/image_ops.py``."""

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.image_ops import resize_bilinear, resize_nearest_neighbor
from jitgraph.ops.math_ops import binary, cast, unary
from jitgraph.ops.op_util import op_scope, partial_value
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["ResizeMethod", "resize_images", "resize", "resize_bilinear", "resize_nearest_neighbor"]


class ResizeMethod:
    """TF1's resize methods (``tf.compat.v1.image.ResizeMethod``)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_NAMES = {"bilinear": ResizeMethod.BILINEAR, "nearest": ResizeMethod.NEAREST_NEIGHBOR,
          "bicubic": ResizeMethod.BICUBIC, "area": ResizeMethod.AREA}


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False, preserve_aspect_ratio=False,
                  name=None):
    """``images`` (``[h, w, c]`` or ``[batch, h, w, c]``) resized to ``size = [new_height,
    new_width]``. Bilinear output is float32; nearest neighbour keeps the dtype; an image already
    of that size is returned as it is. ``preserve_aspect_ratio`` fits the image inside ``size``.
    Only the bilinear and nearest-neighbour methods are implemented."""
    method = _NAMES.get(method, method)
    if method not in (ResizeMethod.BILINEAR, ResizeMethod.NEAREST_NEIGHBOR):
        raise ValueError(f"Resize method is not implemented in jitgraph: {method} (bilinear and nearest neighbour "
                         f"are)")
    with op_scope(name or "resize_images", [images]):
        x = convert_to_tensor(images, name="images")
        if x.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        if x.shape.ndims not in (3, 4):
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        single = x.shape.ndims == 3
        if single:
            x = array_ops.expand_dims(x, 0)
        try:
            size = convert_to_tensor(size, dtypes.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if not size.shape.is_compatible_with([2]):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        if preserve_aspect_ratio:
            hw = cast(array_ops.shape(x)[1:3], dtypes.float32)
            scale = binary("Minimum", cast(size[0], dtypes.float32) / hw[0], cast(size[1], dtypes.float32) / hw[1])
            size = cast(unary("Round", scale * hw), dtypes.int32)
        new = partial_value(size)
        new = [None, None] if new is None else [None if v is None else int(v) for v in new]
        if new == x.shape.as_list()[1:3] and None not in new:
            return array_ops.squeeze(x, axis=[0]) if single else x
        resize = resize_bilinear if method == ResizeMethod.BILINEAR else resize_nearest_neighbor
        out = resize(x, size, align_corners=align_corners)
        return array_ops.squeeze(out, axis=[0]) if single else out


resize = resize_images
