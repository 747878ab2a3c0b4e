"""``tf.train``: optimizers, the Saver, device setters."""

from jitgraph.train.device_setter import *  # noqa: F401,F403
from jitgraph.train.optimizers import *  # noqa: F401,F403
from jitgraph.train.saver import *  # noqa: F401,F403
from jitgraph.train.schedules import *  # noqa: F401,F403,E402
from jitgraph.framework.graph_def import write_graph  # noqa: F401,E402
from jitgraph.train.cluster import *  # noqa: F401,F403
from jitgraph.train.server import *  # noqa: F401,F403
from jitgraph.train.hooks import *  # noqa: F401,F403
from jitgraph.train.basic_hooks import *  # noqa: F401,F403
from jitgraph.train.session_manager import *  # noqa: F401,F403
from jitgraph.train.monitored_session import *  # noqa: F401,F403
from jitgraph.train.moving_averages import *  # noqa: F401,F403
from jitgraph.train.coordinator import *  # noqa: F401,F403
from jitgraph.train.queue_runner import *  # noqa: F401,F403
from jitgraph.train.input_producers import *  # noqa: F401,F403
from jitgraph.train.batching import *  # noqa: F401,F403
from jitgraph.train import queue_runner  # noqa: F401,E402  (tf.train.queue_runner.QueueRunner)


def __getattr__(name):
    """``tf.train.SaverDef`` (TensorFlow's proto: ``SaverDef.V2`` selects TF's checkpoint format) and
    the ``Example`` protos (``tf.train.Example``, ``Features``, ``Feature``, ``BytesList``,
    ``FloatList``, ``Int64List``, ``SequenceExample``, ``FeatureList(s)``), made on first use."""
    if name == "SaverDef":
        from jitgraph.framework.tf_protos import protos
        return protos().saver.SaverDef
    from jitgraph.framework.example_protos import NAMES, example_protos
    if name in NAMES:
        return getattr(example_protos(), name)
    raise AttributeError(f"module 'jitgraph.train' has no attribute {name!r}")
