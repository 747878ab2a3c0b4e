"""``tf.train``: optimizers, the Saver, device setters."""

from jitgraph.train.device_setter import *  # noqa: F401,F403
from jitgraph.train.optimizers import *  # noqa: F401,F403
from jitgraph.train.saver import *  # noqa: F401,F403
from jitgraph.framework.graph_def import write_graph  # noqa: F401,E402
