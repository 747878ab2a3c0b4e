"""TensorFlow's ``MetaGraphDef`` (``.meta`` files), next to jitgraph's own JSON meta graphs.

Export writes the ``GraphDef`` (``graph_def``), the collections — variables as ``VariableDef``
bytes, tensors and ops as ``node_list`` names, Python numbers and strings as value lists — and no
``saver_def``: TensorFlow's ``import_meta_graph`` then builds its own ``Saver`` over the variables,
whose checkpoint keys are the variables' names, as jitgraph's (``tests/oracle/record_tb_checkpoint.py``
restores jitgraph's files with TF 2.21).

Import reads a ``.meta`` written by TensorFlow (binary or text) or by ``export_meta_graph`` here:
the saver's own subgraph (``SaveV2``/``RestoreV2`` under the scope of ``saver_def``) is left out —
jitgraph saves and restores with its ``Saver``, which reads TF checkpoints — the rest goes through
``import_graph_def`` (so an op jitgraph lacks is a ``ValueError`` naming the node), collections are
rebuilt (``VariableDef``s become ``Variable`` objects) and a ``Saver`` over the variables returned.
"""

import os

from jitgraph.files import atomic_write
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.graph_def import as_graph_def, import_graph_def
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.framework.tf_protos import protos

VARIABLE_KEYS = {GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES, GraphKeys.LOCAL_VARIABLES,
                 GraphKeys.MODEL_VARIABLES, GraphKeys.MOVING_AVERAGE_VARIABLES, GraphKeys.METRIC_VARIABLES,
                 GraphKeys.GLOBAL_STEP}
SAVER_OPS = {"SaveV2", "RestoreV2", "SaveSlices", "RestoreSlice", "Restore", "MergeV2Checkpoints",
             "ShardedFilename", "ShardedFilespec", "StringJoin"}


def is_tf_meta_graph(data):
    """True unless ``data`` (file bytes) is jitgraph's JSON meta graph."""
    head = data.lstrip()[:1]
    return bool(head) and head != b"{"


# ---- export ------------------------------------------------------------------------------------------
def _variable_def(var):
    vd = protos().variable.VariableDef(variable_name=var.op.outputs[0].name,
                                       trainable=bool(getattr(var, "trainable", True)))
    init = getattr(var, "initializer", None)
    if isinstance(init, Operation):
        vd.initializer_name = init.name
    snap = getattr(var, "_snapshot", None)
    if isinstance(snap, Tensor):
        vd.snapshot_name = snap.name
    iv = getattr(var, "initial_value", None)
    if isinstance(iv, Tensor):
        vd.initial_value_name = iv.name
    return vd


def _is_variable(item):
    op = getattr(item, "op", None)
    return not isinstance(item, (Tensor, Operation)) and isinstance(op, Operation) and op.type == "VariableV2"


def _collection_def(items):
    cd = protos().meta_graph.CollectionDef()
    if all(_is_variable(x) for x in items):
        cd.bytes_list.value.extend(_variable_def(x).SerializeToString() for x in items)
    elif all(isinstance(x, (Tensor, Operation)) for x in items):
        cd.node_list.value.extend(x.name for x in items)
    elif all(isinstance(x, int) and not isinstance(x, bool) for x in items):
        cd.int64_list.value.extend(items)
    elif all(isinstance(x, float) for x in items):
        cd.float_list.value.extend(items)
    elif all(isinstance(x, (str, bytes)) for x in items):
        cd.bytes_list.value.extend(x.encode("utf-8") if isinstance(x, str) else x for x in items)
    else:
        return None          # savers, queue runners, mixed lists: skipped, as TF skips what it can't write
    return cd


def export_meta_graph(filename=None, graph=None, collection_list=None, as_text=False, clear_devices=False):
    """The graph (default graph) as a TF ``MetaGraphDef``, also written to ``filename`` if given."""
    from google.protobuf import text_format
    import jitgraph
    graph = graph or get_default_graph()
    meta = protos().meta_graph.MetaGraphDef()
    meta.meta_info_def.meta_graph_version = f"jitgraph {jitgraph.__version__}"
    meta.graph_def.CopyFrom(as_graph_def(graph))
    if clear_devices:
        for node in meta.graph_def.node:
            node.device = ""
    for key in (collection_list if collection_list is not None else graph.get_all_collection_keys()):
        items = graph.get_collection(key)
        cd = _collection_def(items) if items else None
        if cd is not None:
            meta.collection_def[key].CopyFrom(cd)
    if filename is not None:
        directory = os.path.dirname(os.path.abspath(os.fspath(filename)))
        os.makedirs(directory, exist_ok=True)
        data = (text_format.MessageToString(meta).encode("utf-8") if as_text
                else meta.SerializeToString(deterministic=True))
        atomic_write(os.fspath(filename), [data])
    return meta


# ---- import ------------------------------------------------------------------------------------------
def read_meta_graph(data):
    """A ``MetaGraphDef`` from the bytes of a binary or text ``.meta`` file."""
    from google.protobuf import message, text_format
    from jitgraph import errors
    meta = protos().meta_graph.MetaGraphDef()
    try:
        meta.ParseFromString(data)
        return meta
    except message.DecodeError:
        pass
    try:
        return text_format.Parse(data.decode("utf-8"), protos().meta_graph.MetaGraphDef())
    except (UnicodeDecodeError, text_format.ParseError) as e:
        raise errors.DataLossError(None, None, f"Cannot parse the TensorFlow meta graph: {e}") from None


def _saver_scope(meta):
    name = meta.saver_def.filename_tensor_name if meta.HasField("saver_def") else ""
    return name.rsplit("/", 1)[0] + "/" if "/" in name else None


def import_meta_graph(meta, clear_devices=False, import_scope=None, input_map=None):
    """Rebuild a TF ``MetaGraphDef`` in the default graph; returns a ``Saver`` over its variables
    (or None without variables)."""
    graph = get_default_graph()
    gd = protos().graph.GraphDef()
    gd.CopyFrom(meta.graph_def)
    scope = _saver_scope(meta)
    kept = [n for n in gd.node if n.op not in SAVER_OPS and not (scope and n.name.startswith(scope))]
    del gd.node[:]
    gd.node.extend(kept)
    if clear_devices:
        for node in gd.node:
            node.device = ""
    prefix = import_scope.rstrip("/") + "/" if import_scope else ""
    import_graph_def(gd, input_map=input_map, name=prefix)
    variables = {}
    for key, cd in meta.collection_def.items():
        for item in _collection_items(graph, key, cd, prefix, variables):
            graph.add_to_collection(key, item)
    from jitgraph.train.saver import Saver
    imported = {id(v) for v in variables.values()}
    global_vars = [v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES) if id(v) in imported]
    return Saver(global_vars) if global_vars else None


def _collection_items(graph, key, cd, prefix, variables):
    kind = cd.WhichOneof("kind")
    if kind == "node_list":
        return [graph.as_graph_element(prefix + n) for n in cd.node_list.value]
    if kind == "int64_list":
        return list(cd.int64_list.value)
    if kind == "float_list":
        return list(cd.float_list.value)
    if kind == "bytes_list":
        values = list(cd.bytes_list.value)
        if key in VARIABLE_KEYS:
            return [_variable(graph, protos().variable.VariableDef.FromString(v), prefix, variables) for v in values]
        return values
    return []


def _variable(graph, vd, prefix, variables):
    """A ``Variable`` over the imported ops named by a ``VariableDef`` (one object per variable)."""
    from jitgraph.train.meta_graph import _variable_from_ops
    from jitgraph.variables import variables as vmod
    op = graph.get_operation_by_name(prefix + vd.variable_name.split(":")[0])
    if op in variables:
        return variables[op]
    byop = op.graph._attachment(vmod._BY_OP, dict)
    if op in byop:
        variables[op] = byop[op]
        return byop[op]

    def element(name):
        return graph.as_graph_element(prefix + name) if name else None
    variables[op] = _variable_from_ops(vmod, op, initializer=element(vd.initializer_name),
                                       snapshot=element(vd.snapshot_name),
                                       initial_value=element(vd.initial_value_name), trainable=vd.trainable)
    return variables[op]
