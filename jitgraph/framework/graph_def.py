"""``GraphDef``: a jitgraph graph as TensorFlow's graph proto, and back.

``as_graph_def`` writes one ``NodeDef`` per op in creation order with TF's op type, inputs
(``name:index``, ``^control``), device and attrs — TF's type attrs (``T`` …) added, jitgraph attrs
that TF takes as inputs written as ``Const`` nodes (``Mean/reduction_indices``), see
``graph_def_forms``. TensorBoard draws it (name scopes collapse into boxes), TensorFlow imports it
(``tests/oracle/record_tb_graph.py`` checks that with TF 2.21).

``import_graph_def`` reads a GraphDef — jitgraph's or TensorFlow's — into the default graph for the
ops jitgraph has: nodes are ordered by their inputs, TF's constant inputs folded back into attrs,
TF-only attrs and ``_``-prefixed ones dropped. An op jitgraph lacks is a ``ValueError`` naming the
node, raised before anything is added.
"""

import os

import numpy as np

from jitgraph.files import atomic_write
from jitgraph.framework import graph_def_forms as forms
from jitgraph.framework.graph import get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.framework.tensor_proto import make_tensor_proto, shape_proto
from jitgraph.framework.tf_protos import protos

TF_PRODUCER = 2474     # the GraphDef version TensorFlow 2.21 writes

__all__ = ["as_graph_def", "import_graph_def", "write_graph"]


# ---- export ------------------------------------------------------------------------------------------
def as_graph_def(graph, from_version=None, add_shapes=False, for_display=False):
    """The graph (ops created at or after ``from_version``) as a ``GraphDef`` proto.

    ``add_shapes`` adds each node's ``_output_shapes`` attr (TensorBoard labels edges with them).
    An attr with no ``AttrValue`` form (a Python object) is a ``ValueError`` naming the op, or with
    ``for_display`` (TensorBoard's graph) written as its ``repr``."""
    gd = protos().graph.GraphDef()
    gd.versions.producer = TF_PRODUCER
    taken = {op.name for op in graph.get_operations()}
    for op in graph.get_operations():
        if from_version is not None and op._id < from_version:
            continue
        for node in _node_defs(op, taken, add_shapes, for_display):
            gd.node.add().CopyFrom(node)
    return gd


def _tensor_ref(t):
    return t.op.name if t.value_index == 0 else f"{t.op.name}:{t.value_index}"


def _node_defs(op, taken, add_shapes, for_display=False):
    """The NodeDefs for ``op``: the constants TF takes as inputs, then the op's own node."""
    where = f"op '{op.name}' ({op.type})"
    tf_type, form = op.type, forms.form_of(op.type)
    attrs = dict(op.attrs)
    inputs = [_tensor_ref(t) for t in op.inputs]
    n_list = len(inputs)
    nodes = []
    if form is not None:
        _resolve_defaults(attrs, form, op.inputs[0].shape.ndims if op.inputs else None)
        implied = dict(form.drop)
        if form.alt and any(v is not None and not _equal(attrs.get(k), v) for k, v in implied.items()):
            tf_type, form = form.alt
            implied = dict(form.drop)
        if any(attrs.get(a) is None for a, *_ in form.attr_inputs) or \
                any(v is not None and not _equal(attrs.get(k), v) for k, v in implied.items()):
            form = None           # not expressible in TF's form: written as jitgraph has it
    if form is not None:
        for tf_attr, fn in form.derived:
            attrs[tf_attr] = fn(attrs)
        for k in implied:
            attrs.pop(k, None)
        if form.swap:
            inputs[0], inputs[1] = inputs[1], inputs[0]
        in_dtypes = [t.dtype.base_dtype for t in op.inputs]
        if form.swap:
            in_dtypes[0], in_dtypes[1] = in_dtypes[1], in_dtypes[0]
        for attr, pos, arg, type_attr, kind in form.attr_inputs:
            value = attrs.pop(attr)
            arr = np.asarray(value) if kind == "scalar" else np.asarray(value, dtype=np.int32)
            rank = op.inputs[0].shape.ndims if op.inputs else None
            name = _reusable_const(op.graph, f"{op.name}/{arg}", arr, kind, rank)
            if name is None:
                name = _fresh(f"{op.name}/{arg}", taken)
                const = protos().node_def.NodeDef(name=name, op="Const", device=op.device)
                const.attr["value"].tensor.CopyFrom(make_tensor_proto(arr))
                const.attr["dtype"].CopyFrom(forms.to_attr_value(_dtype_of(arr), where))
                nodes.append(const)
            else:
                arr = op.graph.get_operation_by_name(name).get_attr("value")
            pos = len(inputs) if pos == -1 else pos
            inputs.insert(pos, name)
            in_dtypes.insert(pos, _dtype_of(arr))
            if type_attr:
                attrs[type_attr] = _dtype_of(arr)
        for jg, tf_name in form.rename:
            attrs[tf_name] = attrs.pop(jg)
        for type_attr, i in form.types:
            attrs[type_attr] = in_dtypes[i]
        if form.n:
            attrs[form.n] = n_list
    node = protos().node_def.NodeDef(name=op.name, op=tf_type, device=op.device)
    node.input.extend(inputs + ["^" + c.name for c in op.control_inputs])
    for k, v in sorted(attrs.items()):
        try:
            node.attr[k].CopyFrom(forms.to_attr_value(v, f"attr '{k}' of {where}"))
        except ValueError:
            if not for_display:
                raise
            node.attr[k].s = repr(v)[:200].encode("utf-8")
    if add_shapes:
        node.attr["_output_shapes"].list.shape.extend(shape_proto(t.shape) for t in op.outputs)
    nodes.append(node)
    return nodes


def _resolve_defaults(attrs, form, rank):
    """Spell out what a None axes/perm attr means (all axes; reversed axes) when the rank is known."""
    for attr, _, _, _, kind in form.attr_inputs:
        if attrs.get(attr, 0) is None and rank is not None:
            if kind == "axes":
                attrs[attr] = tuple(range(rank))
            elif attr == "perm":
                attrs[attr] = tuple(range(rank - 1, -1, -1))


def _reusable_const(graph, name, arr, kind, rank):
    """``name`` if the graph has a Const of that name meaning the same attr value (an imported TF
    graph keeps its ``Mean/reduction_indices``, perhaps as ``-1``), else None."""
    op = graph._ops_by_name.get(name)
    if op is None or op.type != "Const":
        return None
    value = op.get_attr("value")
    if value.dtype != arr.dtype and (kind == "scalar" or value.dtype.kind not in "iu"):
        return None
    try:
        same = forms.attr_from_constant(value, kind, rank, name) == forms.attr_from_constant(arr, kind, rank, name)
    except (TypeError, ValueError):
        return None
    return name if np.all(same) else None


def _dtype_of(arr):
    from jitgraph import dtypes
    return dtypes.as_dtype(arr.dtype)


def _equal(a, b):
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return False


def _fresh(name, taken):
    base, i = name, 0
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Write a graph (or ``GraphDef``) to ``logdir/name`` as text or binary proto; returns the path."""
    from google.protobuf import text_format
    gd = graph_or_graph_def
    if not isinstance(gd, protos().graph.GraphDef):
        gd = as_graph_def(gd)
    logdir = os.fspath(logdir)
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = text_format.MessageToString(gd).encode("utf-8") if as_text else gd.SerializeToString(deterministic=True)
    atomic_write(path, [data])
    return path


# ---- import ------------------------------------------------------------------------------------------
def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None):
    """Add the nodes of ``graph_def`` (a ``GraphDef`` proto or its bytes) to the default graph.

    Args:
      input_map: ``{tensor name in graph_def: Tensor}`` — those tensors are used instead of the
        imported ones (``"^name"`` keys replace control inputs by an ``Operation``).
      return_elements: names (``"op"`` or ``"op:0"``) of imported elements to return.
      name: prefix for the imported names (default ``"import"``; ``""`` for none).

    Returns the ``return_elements`` as ``Operation``/``Tensor`` objects, or None.
    """
    from jitgraph.ops.registry import OPS
    if isinstance(graph_def, (bytes, bytearray)):
        graph_def = protos().graph.GraphDef.FromString(bytes(graph_def))
    if not isinstance(graph_def, protos().graph.GraphDef):
        raise TypeError(f"graph_def must be a GraphDef proto, got {type(graph_def).__name__}")
    graph = get_default_graph()
    input_map = {_canonical(k): v for k, v in (input_map or {}).items()}
    for k, v in input_map.items():
        if not isinstance(v, (Tensor, Operation)):
            raise TypeError(f"input_map values must be Tensors or Operations, got {v!r} for '{k}'")
    nodes = _topological(graph_def.node)
    for node in nodes:
        jg_type, _ = forms.import_form(node.op)
        if jg_type not in OPS:
            raise ValueError(f"import_graph_def: node '{node.name}' has op type '{node.op}', which jitgraph does "
                             f"not implement")
    if name is None:
        name = "import"
    with graph.name_scope(name or None) as scope:
        prefix = scope
    created = {}
    saved, graph._name_stack = graph._name_stack, ""
    try:
        for node in nodes:
            created[node.name] = _import_node(graph, node, prefix, created, input_map)
    finally:
        graph._name_stack = saved
    if return_elements is None:
        return None
    return [_element(graph, created, r) for r in return_elements]


def _canonical(name):
    name = name.name if isinstance(name, (Tensor, Operation)) else name
    return name if name.startswith("^") or ":" in name else name + ":0"


def _split_input(ref):
    if ref.startswith("^"):
        return ref[1:], None
    op_name, _, idx = ref.partition(":")
    return op_name, int(idx) if idx else 0


def _topological(nodes):
    """Nodes ordered so inputs come first (ties in file order); ``ValueError`` on a cycle or a
    missing input."""
    by_name = {n.name: n for n in nodes}
    pending = {n.name: 0 for n in nodes}
    users = {n.name: [] for n in nodes}
    for n in nodes:
        for ref in n.input:
            src, _ = _split_input(ref)
            if src not in by_name:
                raise ValueError(f"import_graph_def: node '{n.name}' has an input '{ref}' that is not in the graph_def")
            pending[n.name] += 1
            users[src].append(n.name)
    order, ready = [], [n.name for n in nodes if pending[n.name] == 0]
    position = {n.name: i for i, n in enumerate(nodes)}
    import heapq
    heap = [(position[n], n) for n in ready]
    heapq.heapify(heap)
    while heap:
        _, n = heapq.heappop(heap)
        order.append(by_name[n])
        for u in users[n]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(heap, (position[u], u))
    if len(order) != len(nodes):
        stuck = sorted(n for n, c in pending.items() if c > 0)[:5]
        raise ValueError(f"import_graph_def: the graph_def has a cycle (jitgraph has no control flow): {stuck}")
    return order


def _import_node(graph, node, prefix, created, input_map):
    from jitgraph.ops.registry import get_op_def
    where = f"node '{node.name}' ({node.op})"
    jg_type, form = forms.import_form(node.op)
    op_def = get_op_def(jg_type)
    data, control = [], []
    for ref in node.input:
        src, idx = _split_input(ref)
        mapped = input_map.get(ref if idx is None else f"{src}:{idx}")
        if idx is None:
            control.append(mapped if mapped is not None else created[src])
        else:
            data.append(mapped if mapped is not None else created[src].outputs[idx])
    attrs = {k: forms.from_attr_value(v, f"attr '{k}' of {where}") for k, v in node.attr.items()
             if not k.startswith("_") and k not in forms.TF_ONLY_ATTRS.get(jg_type, ())
             and k not in forms.TF_ONLY_ATTRS.get(node.op, ())}
    if form is not None:
        for attr, pos, arg, type_attr, kind in sorted(form.attr_inputs, key=lambda a: -_pos(a[1], data)):
            pos = _pos(pos, data)
            t = data.pop(pos)
            value = _constant(t)
            if value is None:
                raise ValueError(f"import_graph_def: input '{arg}' of {where} must be a constant for jitgraph")
            rank = data[0].shape.ndims if data else None
            attrs[attr] = forms.attr_from_constant(value, kind, rank, where)
            attrs.pop(type_attr, None)
        for type_attr, _ in list(form.types) + list(form.derived):
            attrs.pop(type_attr, None)
        if form.n:
            attrs.pop(form.n, None)
        for jg, tf_name in form.rename:
            attrs[jg] = attrs.pop(tf_name)
        for k, v in form.drop:
            attrs.setdefault(k, v)
        if form.swap:
            data[0], data[1] = data[1], data[0]
    for k, v in forms.TF_DEFAULTS.get(jg_type, {}).items():
        attrs.setdefault(k, v)
    if jg_type == "OneHot":
        from jitgraph import dtypes
        attrs["dtype"] = dtypes.as_dtype(np.asarray(attrs["on_value"]).dtype)
    try:
        specs = op_def.infer(data, attrs)
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"import_graph_def: cannot import {where}: {type(e).__name__}: {e}") from None
    op_name = prefix + node.name
    if op_name in graph._ops_by_name:
        op_name = graph.unique_name(op_name)
    _mark_used(graph, op_name)
    op = Operation(graph, op_name, op_def, data, control, attrs, [(dt, TensorShape(sh)) for dt, sh in specs])
    op._set_device(node.device)
    graph._add_op(op)
    return op


def _pos(pos, data):
    return len(data) - 1 if pos == -1 else pos


def _constant(t):
    from jitgraph.ops.registry import constant_value
    return constant_value(t)


def _mark_used(graph, name):
    parts = name.split("/")
    for i in range(1, len(parts) + 1):
        graph._names_in_use.setdefault("/".join(parts[:i]).lower(), 1)


def _element(graph, created, ref):
    src, idx = _split_input(ref)
    if src not in created:
        raise ValueError(f"Requested return_element '{ref}' not found in graph_def.")
    op = created[src]
    return op if idx is None or ":" not in ref else op.outputs[idx]
