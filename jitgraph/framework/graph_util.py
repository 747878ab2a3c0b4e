"""``tf.graph_util``: TF1's GraphDef utilities for shipping a trained model.

The usual TF1 freeze::

    frozen = tf.graph_util.convert_variables_to_constants(sess, sess.graph_def, ["y"])
    tf.io.write_graph(frozen, ".", "frozen.pb", as_text=False)

keeps the nodes ``y`` needs (``extract_sub_graph``) and replaces each variable among them by a
``Const`` node holding the value it has in ``sess``, so the file needs no checkpoint. GraphDefs are
TensorFlow's protos (the ``tensorboard`` extra), as ``tf.Graph.as_graph_def`` writes them; a
frozen jitgraph graph imports into TensorFlow and back (``tf.import_graph_def``).

Each function is one or two passes over the nodes: linear in the GraphDef's size.
"""

from jitgraph import tf_logging
from jitgraph.framework.tensor_proto import dtype_from_enum, make_tensor_proto
from jitgraph.framework.tf_protos import protos

__all__ = ["convert_variables_to_constants", "extract_sub_graph", "remove_training_nodes", "must_run_on_cpu",
           "tensor_shape_from_node_def_name"]

VARIABLE_OPS = ("Variable", "VariableV2", "VarHandleOp")
_SPLICED = ("Identity", "StopGradient")      # remove_training_nodes: pass-throughs joined to their input


def _node_name(ref):
    """``"^a"``, ``"a:1"`` -> ``"a"``."""
    return ref.lstrip("^").split(":")[0]


def _copy_header(src, dst):
    dst.versions.CopyFrom(src.versions)
    dst.library.CopyFrom(src.library)


def extract_sub_graph(graph_def, dest_nodes):
    """The nodes of ``graph_def`` that ``dest_nodes`` (node names) depend on, data or control
    inputs, themselves included, in their original order."""
    if isinstance(dest_nodes, str):
        raise TypeError(f"dest_nodes must be an iterable of strings, but got type {type(dest_nodes)}.")
    by_name = {n.name: n for n in graph_def.node}
    keep, todo = set(), []
    for d in dest_nodes:
        if d not in by_name:
            raise AssertionError(f"{d} is not in graph")
        todo.append(d)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        todo.extend(_node_name(i) for i in by_name[name].input if _node_name(i) in by_name)
    out = protos().graph.GraphDef()
    _copy_header(graph_def, out)
    out.node.extend(n for n in graph_def.node if n.name in keep)
    return out


def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """``extract_sub_graph(input_graph_def, output_node_names)`` with each variable node in it
    (``Variable``, ``VariableV2``, ``VarHandleOp``) replaced by a ``Const`` holding its value in
    ``sess`` — only those named in ``variable_names_whitelist`` when given, none named in
    ``variable_names_blacklist``. Reads of a converted resource variable become ``Identity``."""
    sub = extract_sub_graph(input_graph_def, output_node_names)
    allowed = None if variable_names_whitelist is None else set(variable_names_whitelist)
    denied = set(variable_names_blacklist or ())
    names = [n.name for n in sub.node if n.op in VARIABLE_OPS
             and (allowed is None or n.name in allowed) and n.name not in denied]
    values = dict(zip(names, sess.run([f"{name}:0" for name in names]))) if names else {}
    tf_logging.info("Froze %d variables.", len(values))
    out = protos().graph.GraphDef()
    _copy_header(sub, out)
    for node in sub.node:
        new = out.node.add()
        if node.name in values:
            dtype = node.attr["dtype"]
            new.name, new.op = node.name, "Const"
            new.attr["dtype"].CopyFrom(dtype)
            new.attr["value"].tensor.CopyFrom(make_tensor_proto(values[node.name], dtype_from_enum(dtype.type)))
            if node.device:
                new.device = node.device
        elif node.op == "ReadVariableOp" and _node_name(node.input[0]) in values:
            new.CopyFrom(node)
            new.op = "Identity"
            new.attr.clear()
            new.attr["T"].CopyFrom(node.attr["dtype"])
        else:
            new.CopyFrom(node)
    tf_logging.info("Converted %d variables to const ops.", len(values))
    return out


def remove_training_nodes(input_graph, protected_nodes=None):
    """``input_graph`` without what only training needs: ``CheckNumerics`` nodes are dropped (with
    the edges to them), and ``Identity`` / ``StopGradient`` nodes are joined to their input unless
    protected, a control input of another node, or a node with control inputs of its own."""
    protected = set(protected_nodes or ())
    dropped = {n.name for n in input_graph.node if n.op == "CheckNumerics" and n.name not in protected}
    kept = []
    for node in input_graph.node:
        if node.name in dropped:
            continue
        new = protos().node_def.NodeDef()
        new.CopyFrom(node)
        del new.input[:]
        new.input.extend(i for i in node.input if _node_name(i) not in dropped)
        kept.append(new)
    controls = {_node_name(i) for n in kept for i in n.input if i.startswith("^")}
    spliced = {n.name: n.input[0] for n in kept
               if n.op in _SPLICED and n.name not in protected and n.name not in controls and n.input
               and not any(i.startswith("^") for i in n.input)}

    def target(ref):
        ctrl = ref.startswith("^")
        while _node_name(ref) in spliced:
            ref = spliced[_node_name(ref)]
        return "^" + _node_name(ref) if ctrl else ref
    out = protos().graph.GraphDef()
    for node in kept:
        if node.name in spliced:
            continue
        inputs = [target(i) for i in node.input]
        del node.input[:]
        node.input.extend(inputs)
        out.node.add().CopyFrom(node)
    return out


def must_run_on_cpu(node, pin_variables_on_cpu=False):
    """Whether ``node`` (a NodeDef or an Operation) must run on the CPU: jitgraph runs everything
    there, so always True."""
    return True


def tensor_shape_from_node_def_name(graph, input_name):
    """The static shape of tensor ``input_name`` (``"op"`` or ``"op:i"``) of ``graph``."""
    name = input_name if ":" in input_name else input_name + ":0"
    return graph.get_tensor_by_name(name).get_shape()
