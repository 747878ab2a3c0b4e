"""TensorFlow's protocol buffers, as the ``tensorboard`` package ships them (extra ``jitgraph[tensorboard]``).

Summaries, event files, GraphDefs, MetaGraphDefs and TF checkpoints are all protobuf data; jitgraph
reads and writes them through these generated classes and never encodes protobuf by hand.
Importing ``jitgraph`` does not import them: ``protos()`` does on first use, with a clear error
when the extra is missing.
"""

import importlib
import types

_MODULES = ("attr_value", "event", "graph", "meta_graph", "node_def", "saver", "summary", "tensor",
            "tensor_shape", "types", "versions", "config", "variable", "histogram")
_loaded = None


def protos():
    """A namespace of the ``tensorboard.compat.proto.*_pb2`` modules (``protos().summary.Summary``)."""
    global _loaded
    if _loaded is None:
        try:
            mods = {m: importlib.import_module(f"tensorboard.compat.proto.{m}_pb2") for m in _MODULES}
        except ImportError as e:
            raise ImportError("jitgraph needs the 'tensorboard' package for summaries, event files, GraphDefs "
                              "and TensorFlow checkpoints: pip install 'jitgraph[tensorboard]' "
                              f"({e})") from None
        _loaded = types.SimpleNamespace(**mods)
    return _loaded
