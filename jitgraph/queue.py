"""``tf.queue``: the TF1 queues under their TF2 names (``tf.queue.FIFOQueue`` is ``tf.FIFOQueue``)."""

from jitgraph.ops.queue_ops import FIFOQueue, PaddingFIFOQueue, QueueBase, RandomShuffleQueue  # noqa: F401
