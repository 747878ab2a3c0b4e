"""The deterministic ``tf.image`` cases of ``record_image.py`` (TensorFlow) and
``tests/image`` (jitgraph), written once: each returns ``{key: tensor}`` built with ``tf``."""


def geometry_ops(tf, t, b):
    """Flips, crops and pads of an image ``t`` [h, w, 3] and a batch ``b`` [n, h, w, 1]."""
    return {"lr": tf.image.flip_left_right(t), "ud": tf.image.flip_up_down(t),
            "lr_batch": tf.image.flip_left_right(b), "central_half": tf.image.central_crop(t, 0.5),
            "central_third": tf.image.central_crop(b, 0.33), "crop": tf.image.crop_to_bounding_box(t, 1, 2, 3, 4),
            "crop_batch": tf.image.crop_to_bounding_box(b, 0, 1, 2, 5),
            "pad": tf.image.pad_to_bounding_box(t, 1, 2, 8, 10),
            "pad_batch": tf.image.pad_to_bounding_box(b, 2, 0, 6, 6),
            "crop_or_pad_a": tf.image.resize_image_with_crop_or_pad(t, 3, 10),
            "crop_or_pad_b": tf.image.resize_image_with_crop_or_pad(t, 8, 4),
            "crop_or_pad_batch": tf.image.resize_image_with_crop_or_pad(b, 3, 9),
            "transpose": tf.image.transpose_image(t), "rot90": tf.image.rot90(t, 3)}


def colour_ops(tf, t, f, f64):
    """Colour adjustments of a uint8 image ``t``, its float32 copy ``f`` and float64 copy ``f64``."""
    return {"brightness": tf.image.adjust_brightness(t, 0.2), "brightness_f": tf.image.adjust_brightness(f, -0.3),
            "contrast": tf.image.adjust_contrast(t, 1.7), "contrast_f": tf.image.adjust_contrast(f, 0.4),
            "saturation": tf.image.adjust_saturation(t, 0.4), "saturation_up": tf.image.adjust_saturation(f, 2.5),
            "hue": tf.image.adjust_hue(t, 0.3), "hue_neg": tf.image.adjust_hue(f, -0.45),
            "gamma": tf.image.adjust_gamma(f, 2.0, 0.8), "gamma_u8": tf.image.adjust_gamma(t, 0.5),
            "standard": tf.image.per_image_standardization(t),
            "standard_f64": tf.image.per_image_standardization(f64),
            "gray": tf.image.rgb_to_grayscale(t), "gray_f": tf.image.rgb_to_grayscale(f),
            "rgb": tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(t))}
