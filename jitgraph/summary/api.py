"""``tf.summary``'s graph functions (TF1): each adds one summary op and puts it in collections.

The tag and the op name come from TF's ``summary_scope``: the name (illegal characters replaced by
``_``) opens a name scope, made unique as any scope is; the tag is that scope (``loss``,
``train/loss``, ``loss_1``), prefixed by ``family`` when one is given (``family/family/loss``'s
scope is ``family/loss``). The op gets the scope's name; its tag constant is ``<scope>/tags`` or
``<scope>/tag``. Each summary goes into ``collections`` (default ``[GraphKeys.SUMMARIES]``).
"""

import contextlib
import logging
import re

from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph, graph_of
from jitgraph.framework.tf_protos import protos
from jitgraph.ops.constant_ops import constant
from jitgraph.ops.registry import convert_to_tensor, make_op
from jitgraph.summary import summary_ops  # noqa: F401  (registers the ops)

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge", "merge_all",
           "get_summary_description"]

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def clean_tag(name):
    """Replace characters TF does not allow in tags by ``_`` and drop leading slashes."""
    if name is not None:
        new = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
        if new != name:
            logging.getLogger("jitgraph").info("Summary name %s is illegal; using %s instead.", name, new)
        name = new
    return name


@contextlib.contextmanager
def summary_scope(name, family=None, default_name=None, values=None):
    """Yield ``(tag, scope)`` for a summary op (see the module docstring)."""
    name, family = clean_tag(name), clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    graph = graph_of(list(values)) if values else get_default_graph()
    with graph.as_default(), graph.name_scope(base or default_name) as scope:
        tag = scope.rstrip("/")
        yield (tag if family is None else f"{family}/{tag}"), scope


def _collect(op, collections):
    for key in (collections if collections is not None else [GraphKeys.SUMMARIES]):
        op.graph.add_to_collection(key, op)


def _summary(op_type, tag_name, tag, scope, inputs, attrs, collections):
    tag_t = constant(tag, name=tag_name)
    out = make_op(op_type, [tag_t] + inputs, attrs, scope).outputs[0]
    _collect(out, collections)
    return out


def scalar(name, tensor, collections=None, family=None):
    """A summary of one real number (its ``simple_value``, as float32).

    Returns a string scalar tensor: a serialized ``Summary`` proto with one value tagged ``name``.
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        return _summary("ScalarSummary", "tags", tag, scope, [convert_to_tensor(tensor)], {}, collections)


def histogram(name, values, collections=None, family=None):
    """A histogram of ``values`` over TensorFlow's default buckets (NaN/Inf fail the run)."""
    with summary_scope(name, family, values=[values]) as (tag, scope):
        return _summary("HistogramSummary", "tag", tag, scope, [convert_to_tensor(values)], {}, collections)


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """Up to ``max_outputs`` PNG images of a [batch, height, width, 1|3|4] tensor, tagged
    ``name/image/i`` (``name/image`` when ``max_outputs`` is 1). Float images are rescaled per image."""
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        attrs = {"max_images": int(max_outputs), "bad_color": summary_ops.BAD_COLOR}
        return _summary("ImageSummary", "tag", tag, scope, [convert_to_tensor(tensor)], attrs, collections)


def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None):
    """Up to ``max_outputs`` WAV clips of a float32 [batch, frames(, channels)] tensor in [-1, 1]."""
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        rate = convert_to_tensor(sample_rate, dtype=dtypes.float32, name="sample_rate")
        tensor = convert_to_tensor(tensor, preferred_dtype=dtypes.float32)
        return _summary("AudioSummaryV2", "tag", tag, scope, [tensor, rate], {"max_outputs": int(max_outputs)},
                        collections)


def tensor_summary(name, tensor, summary_description=None, collections=None, summary_metadata=None,
                   family=None, display_name=None):
    """A summary holding the whole ``tensor`` as a ``TensorProto`` plus ``SummaryMetadata``."""
    if summary_metadata is None:
        summary_metadata = protos().summary.SummaryMetadata()
    if summary_description is not None:
        summary_metadata.summary_description = summary_description
    if display_name is not None:
        summary_metadata.display_name = display_name
    serialized = summary_metadata.SerializeToString()
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        meta = constant(serialized, name="serialized_summary_metadata")
        return _summary("TensorSummaryV2", "tag", tag, scope, [convert_to_tensor(tensor), meta], {}, collections)


def text(name, tensor, collections=None):
    """A string tensor for TensorBoard's Text tab (``tensor_summary`` with the ``text`` plugin)."""
    tensor = convert_to_tensor(tensor)
    if tensor.dtype.base_dtype != dtypes.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got {tensor.dtype.name}")
    meta = protos().summary.SummaryMetadata(
        plugin_data=protos().summary.SummaryMetadata.PluginData(plugin_name="text"))
    return tensor_summary(name, tensor, summary_metadata=meta, collections=collections)


def merge(inputs, collections=None, name=None):
    """One ``Summary`` holding the values of all ``inputs`` (duplicate tags fail the run)."""
    inputs = [convert_to_tensor(t) for t in inputs]
    graph = graph_of(inputs)
    with graph.as_default(), graph.name_scope(name or "Merge"):
        out = make_op("MergeSummary", inputs, {}, name or "MergeSummary").outputs[0]
    for key in collections or []:
        graph.add_to_collection(key, out)
    return out


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """``merge`` of the collection ``key`` (filtered by ``scope``), or None if it is empty."""
    summary_ops_ = get_default_graph().get_collection(key, scope)
    if not summary_ops_:
        return None
    return merge(summary_ops_, name=name)


def get_summary_description(node_def):
    """The ``SummaryDescription`` stored in a ``TensorSummary`` node's ``description`` attr."""
    if node_def.op != "TensorSummary":
        raise ValueError(f"Can't get_summary_description on {node_def.op}")
    description = protos().summary.SummaryDescription()
    description.ParseFromString(node_def.attr["description"].s)
    return description

