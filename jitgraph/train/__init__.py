"""``tf.train``: optimizers, the Saver, device setters."""

from jitgraph.train.device_setter import *  # noqa: F401,F403
from jitgraph.train.optimizers import *  # noqa: F401,F403
from jitgraph.train.saver import *  # noqa: F401,F403
from jitgraph.train.cluster import *  # noqa: F401,F403
from jitgraph.train.server import *  # noqa: F401,F403
from jitgraph.train.hooks import *  # noqa: F401,F403
from jitgraph.train.basic_hooks import *  # noqa: F401,F403
from jitgraph.train.session_manager import *  # noqa: F401,F403
from jitgraph.train.monitored_session import *  # noqa: F401,F403
