"""The public names of the variables area, star-imported into ``jitgraph``."""

from jitgraph.variables import initializers_namespace as initializers
from jitgraph.variables.initialization import *  # noqa: F401,F403
from jitgraph.variables.initialization import __all__ as _init_all
from jitgraph.variables.initializers import *  # noqa: F401,F403
from jitgraph.variables.initializers import __all__ as _initializers_all
from jitgraph.variables.scopes import *  # noqa: F401,F403
from jitgraph.variables.scopes import __all__ as _scopes_all
from jitgraph.variables.variables import Variable, VariableV1  # noqa: F401

__all__ = ["Variable", "VariableV1", "initializers"] + _scopes_all + _init_all + _initializers_all
_ = initializers
