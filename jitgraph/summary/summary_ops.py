"""The summary ops: each turns tensors into one serialized ``Summary`` proto (a string scalar).

TF's op types and inputs: ``ScalarSummary(tags, values)``, ``HistogramSummary(tag, values)``,
``ImageSummary(tag, tensor)``, ``AudioSummaryV2(tag, tensor, sample_rate)``,
``TensorSummaryV2(tag, tensor, serialized_summary_metadata)``, ``MergeSummary(*inputs)``. They
run inside the plan like any library op; ``HistogramSummary``'s bucket count is the Numba kernel
``histogram_jit.count`` (``extra["fast"]``), its NumPy ``compute`` the oracle. Run-time checks
raise ``InvalidArgumentError`` with TF's messages.
"""

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.framework.tf_protos import protos
from jitgraph.framework.tensor_proto import make_tensor_proto
from jitgraph.ops.registry import define_op
from jitgraph.summary import buckets, media

REAL = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
IMAGE = {"uint8", "float16", "float32", "float64"}
BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)


def _check_dtype(t, allowed, op_type, arg):
    name = t.dtype.base_dtype.name
    if name not in allowed:
        raise TypeError(f"Value passed to parameter '{arg}' has DataType {name} not in list of allowed "
                        f"values: {', '.join(sorted(allowed))}")


def _string_scalar(op_type, checks=()):
    def infer(ins, attrs):
        for i, allowed, arg in checks:
            _check_dtype(ins[i], allowed, op_type, arg)
        return [(dtypes.string, [])]
    return infer


def _out(summary):
    return np.array(summary.SerializeToString(), dtype=object)


def _shape_str(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _tag(tag):
    if np.ndim(tag) != 0:
        raise errors.InvalidArgumentError(None, None, f"Tags must be a scalar, got shape {_shape_str(np.shape(tag))}")
    t = np.asarray(tag).item()
    return t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)


# ---- scalar ----------------------------------------------------------------------------------------
def _scalar_summary(tags, values):
    tags, values = np.asarray(tags), np.asarray(values)
    if tags.shape != values.shape:
        single = f" (tag '{_tag(tags)}')" if tags.ndim == 0 else ""
        raise errors.InvalidArgumentError(None, None, f"tags and values are not the same shape: "
                                                      f"{_shape_str(tags.shape)} != {_shape_str(values.shape)}{single}")
    s = protos().summary.Summary()
    for tag, v in zip(tags.reshape(-1), values.reshape(-1)):
        s.value.add(tag=_tag(np.asarray(tag)), simple_value=float(np.float32(v)))
    return _out(s)


define_op("ScalarSummary", _string_scalar("ScalarSummary", [(1, REAL, "values")]), _scalar_summary, kind="library")


# ---- histogram -------------------------------------------------------------------------------------
def _histogram_with(count):
    def compute(tag, values):
        name = _tag(tag)
        try:
            counted = count(values)
        except ValueError:
            raise errors.InvalidArgumentError(None, None, f"Nan in summary histogram for: {name}") from None
        s = protos().summary.Summary()
        s.value.add(tag=name, histo=buckets.histogram_proto(counted))
        return _out(s)
    return compute


define_op("HistogramSummary", _string_scalar("HistogramSummary", [(1, REAL, "values")]),
          _histogram_with(buckets.count_reference), kind="library",
          extra={"fast": _histogram_with(buckets.count_fast)})


# ---- image -----------------------------------------------------------------------------------------
def _image_summary(tag, tensor, max_images=3, bad_color=BAD_COLOR):
    base = _tag(tag)
    if tensor.ndim != 4 or tensor.shape[3] not in (1, 3, 4):
        raise errors.InvalidArgumentError(None, None, f"Tensor must be 4-D with last dim 1, 3, or 4, not "
                                                      f"{_shape_str(tensor.shape)}")
    if len(bad_color) < tensor.shape[3]:
        raise errors.InvalidArgumentError(None, None, f"bad_color must have at least {tensor.shape[3]} elements")
    s = protos().summary.Summary()
    for i in range(min(max_images, tensor.shape[0])):
        pixels = media.normalize_image(tensor[i], bad_color)
        h, w, depth = pixels.shape
        image = protos().summary.Summary.Image(height=h, width=w, colorspace=depth,
                                                encoded_image_string=media.encode_png(pixels))
        s.value.add(tag=f"{base}/image/{i}" if max_images > 1 else f"{base}/image", image=image)
    return _out(s)


define_op("ImageSummary", _string_scalar("ImageSummary", [(1, IMAGE, "tensor")]), _image_summary, kind="library")


# ---- audio -----------------------------------------------------------------------------------------
def _audio_summary(tag, tensor, sample_rate, max_outputs=3):
    base = _tag(tag)
    if tensor.ndim not in (2, 3):
        raise errors.InvalidArgumentError(None, None, f"Tensor must be 3-D or 2-D, got: {_shape_str(tensor.shape)}")
    if np.ndim(sample_rate) != 0:
        raise errors.InvalidArgumentError(None, None, f"sample_rate must be scalar, but got: "
                                                      f"{_shape_str(np.shape(sample_rate))}")
    rate = float(sample_rate)
    if not rate > 0:
        raise errors.InvalidArgumentError(None, None, "sample_rate must be > 0")
    frames = tensor.reshape(tensor.shape[0], tensor.shape[1], -1) if tensor.ndim == 3 else tensor[:, :, None]
    s = protos().summary.Summary()
    for i in range(min(max_outputs, tensor.shape[0])):
        audio = protos().summary.Summary.Audio(sample_rate=rate, num_channels=frames.shape[2],
                                                length_frames=frames.shape[1], content_type="audio/wav",
                                                encoded_audio_string=media.encode_wav(frames[i], rate))
        s.value.add(tag=f"{base}/audio/{i}" if max_outputs > 1 else f"{base}/audio", audio=audio)
    return _out(s)


define_op("AudioSummaryV2",
          _string_scalar("AudioSummaryV2", [(1, {"float32"}, "tensor"), (2, {"float32"}, "sample_rate")]),
          _audio_summary, kind="library")


# ---- tensor (and text) -----------------------------------------------------------------------------
def _tensor_summary(tag, tensor, serialized_summary_metadata):
    s = protos().summary.Summary()
    v = s.value.add(tag=_tag(tag))
    meta = np.asarray(serialized_summary_metadata).item()
    try:
        v.metadata.ParseFromString(meta)
    except Exception:   # noqa: BLE001 - protobuf's DecodeError
        raise errors.InvalidArgumentError(None, None, "Could not parse serialized_summary_metadata") from None
    tensor = np.asarray(tensor)
    v.tensor.CopyFrom(make_tensor_proto(tensor, content=tensor.dtype != object))
    return _out(s)


define_op("TensorSummaryV2", _string_scalar("TensorSummaryV2"), _tensor_summary, kind="library")


# ---- merge -----------------------------------------------------------------------------------------
def _merge_summary(*inputs):
    merged, tags = protos().summary.Summary(), set()
    for serialized in (x for a in inputs for x in np.asarray(a, dtype=object).reshape(-1)):
        part = protos().summary.Summary()
        try:
            part.ParseFromString(serialized)
        except Exception:   # noqa: BLE001 - protobuf's DecodeError
            raise errors.InvalidArgumentError(None, None, "Could not parse one of the summary inputs") from None
        for value in part.value:
            if value.tag and value.tag in tags:
                raise errors.InvalidArgumentError(None, None, f"Duplicate tag {value.tag} found in summary inputs ")
            tags.add(value.tag)
            merged.value.add().CopyFrom(value)
    return _out(merged)


def _merge_infer(ins, attrs):
    for i, t in enumerate(ins):
        if t.dtype.base_dtype != dtypes.string:
            raise TypeError(f"MergeSummary: input {i} ({t.name}) must be a string tensor, got {t.dtype.name}")
    return [(dtypes.string, [])]


define_op("MergeSummary", _merge_infer, _merge_summary, kind="library")
