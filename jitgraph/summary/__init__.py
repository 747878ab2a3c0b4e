"""``tf.summary`` (TF1): summary ops computed inside the plan and ``FileWriter`` event files for
TensorBoard. Needs the extra ``jitgraph[tensorboard]`` (TensorFlow's protos ship with TensorBoard).

    loss_summary = tf.summary.scalar("loss", loss)
    tf.summary.histogram("weights", w)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter("logs/run1", sess.graph)
    writer.add_summary(sess.run(merged), step)
"""

from jitgraph.summary.api import (audio, get_summary_description, histogram, image, merge, merge_all,  # noqa: F401
                                  scalar, tensor_summary, text)
from jitgraph.summary.writer import FileWriter, FileWriterCache  # noqa: F401

_PROTOS = {"Summary": "summary", "SummaryDescription": "summary", "SummaryMetadata": "summary",
           "Event": "event", "SessionLog": "event", "TaggedRunMetadata": "event"}


def __getattr__(name):
    """The proto classes (``tf.summary.Summary``, ``Event`` …), imported on first use."""
    if name in _PROTOS:
        from jitgraph.framework.tf_protos import protos
        return getattr(getattr(protos(), _PROTOS[name]), name)
    raise AttributeError(f"module 'jitgraph.summary' has no attribute {name!r}")
