"""``tf.train.export_meta_graph`` / ``import_meta_graph``: a graph as JSON data, never pickle.

Format (``"format": "jitgraph.meta_graph"``, ``"version": 1``)::

    {"graph": {"seed": int|null,
               "ops": [{"name", "type", "inputs": ["op:0"], "control_inputs": ["op"], "device",
                        "attrs": {name: encoded}, "outputs": [{"dtype": "float32", "shape": [2, null]|null}]}]},
     "collections": {key: [{"kind": "variable"|"tensor"|"op"|"value", ...}]},
     "saver_def": {"var_names": {checkpoint name: variable op name}, ...} | null}

Attribute values are encoded by type: JSON scalars as themselves (non-finite floats and big ints
tagged), and ``{"kind": K, ...}`` for ``dtype`` (name), ``shape`` (list or null), ``ndarray``
(dtype, shape, base64 of little-endian bytes; strings as a base64 list), ``bytes``, ``list``,
``tuple``, ``dict``, ``tensor``/``op`` (by name). Anything else cannot be exported (``ValueError``).

Import rebuilds every op through the op registry with its saved name (uniquified if the name is
taken, prefixed by ``import_scope``), re-runs shape inference, refines it with the saved shapes,
recreates the variables of the collections and returns a ``Saver`` for them.
"""

import base64
import json
import math
import os

import numpy as np

from jitgraph import debugging as _debugging  # noqa: F401  (registers CheckNumerics for import)
from jitgraph import dtypes
from jitgraph.framework.graph import GraphKeys, get_default_graph
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor import Operation, Tensor
from jitgraph.ops.registry import get_op_def
from jitgraph.files import atomic_write

FORMAT, VERSION = "jitgraph.meta_graph", 1
_VARIABLE_KEYS = (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES, GraphKeys.LOCAL_VARIABLES,
                  GraphKeys.MODEL_VARIABLES, GraphKeys.MOVING_AVERAGE_VARIABLES, GraphKeys.METRIC_VARIABLES)


# ---- attribute values ------------------------------------------------------------------------------
def _shape_json(shape):
    return None if shape.ndims is None else shape.as_list()


def encode_value(v, where="value"):
    """A JSON-able form of an attribute value (see the module docstring)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int) and not isinstance(v, np.integer):
        return v if abs(v) < 2 ** 53 else {"kind": "int", "value": str(v)}
    if isinstance(v, float):
        return v if math.isfinite(v) else {"kind": "float", "value": repr(v)}
    if isinstance(v, dtypes.DType):
        return {"kind": "dtype", "value": v.name}
    if isinstance(v, TensorShape):
        return {"kind": "shape", "value": _shape_json(v)}
    if isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
        out = {"kind": "ndarray" if isinstance(v, np.ndarray) else "scalar", "shape": list(a.shape)}
        if a.dtype.kind in "SUO":
            items = [x.encode() if isinstance(x, str) else x for x in a.reshape(-1).tolist()]
            if not all(isinstance(x, bytes) for x in items):
                raise ValueError(f"{where}: object array holds non-string elements")
            out.update(dtype="string", items=[base64.b64encode(x).decode("ascii") for x in items])
        else:
            dt = dtypes.as_dtype(a.dtype)   # TypeError for unsupported dtypes
            raw = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
            out.update(dtype=dt.name, data=base64.b64encode(raw).decode("ascii"))
        return out
    if isinstance(v, bytes):
        return {"kind": "bytes", "value": base64.b64encode(v).decode("ascii")}
    if isinstance(v, (list, tuple)):
        return {"kind": "list" if isinstance(v, list) else "tuple",
                "value": [encode_value(x, where) for x in v]}
    if isinstance(v, dict):
        return {"kind": "dict", "value": [[encode_value(k, where), encode_value(x, where)] for k, x in v.items()]}
    if isinstance(v, Tensor):
        return {"kind": "tensor", "value": v.name}
    if isinstance(v, Operation):
        return {"kind": "op", "value": v.name}
    raise ValueError(f"{where}: cannot export a value of type {type(v).__name__} ({v!r:.80})")


def decode_value(e, resolve=None):
    """Inverse of ``encode_value``; ``resolve(kind, name)`` maps tensor/op names to graph elements."""
    if not isinstance(e, dict):
        if isinstance(e, list):
            raise ValueError("malformed meta graph: untagged list")
        return e
    kind, v = e.get("kind"), e.get("value")
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    if kind == "dtype":
        return dtypes.as_dtype(v)
    if kind == "shape":
        return TensorShape(v)
    if kind in ("ndarray", "scalar"):
        shape = tuple(int(d) for d in e["shape"])
        if e["dtype"] == "string":
            arr = np.empty(len(e["items"]), dtype=object)
            arr[:] = [base64.b64decode(x, validate=True) for x in e["items"]]
            arr = arr.reshape(shape)
        else:
            np_dt = dtypes.as_dtype(e["dtype"]).as_np
            arr = np.frombuffer(base64.b64decode(e["data"], validate=True), dtype=np.dtype(np_dt).newbyteorder("<"))
            arr = arr.astype(np_dt).reshape(shape)
        if kind == "scalar":
            return arr[()]
        arr.flags.writeable = False
        return arr
    if kind == "bytes":
        return base64.b64decode(v, validate=True)
    if kind in ("list", "tuple"):
        items = [decode_value(x, resolve) for x in v]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {decode_value(k, resolve): decode_value(x, resolve) for k, x in v}
    if kind in ("tensor", "op"):
        if resolve is None:
            raise ValueError(f"cannot resolve {kind} {v!r} here")
        return resolve(kind, v)
    raise ValueError(f"malformed meta graph: unknown value kind {kind!r}")


# ---- export ---------------------------------------------------------------------------------------
def _variable_entry(var):
    entry = {"kind": "variable", "name": var.op.name, "class": type(var).__name__}
    for key, attr in (("initializer", "initializer"), ("snapshot", "_snapshot"),
                      ("initial_value", "initial_value")):
        el = getattr(var, attr, None)
        if isinstance(el, (Tensor, Operation)):
            entry[key] = el.name
    if isinstance(getattr(var, "trainable", None), bool):
        entry["trainable"] = var.trainable
    return entry


def _collection_entry(item):
    if isinstance(item, Tensor):
        return {"kind": "tensor", "name": item.name}
    if isinstance(item, Operation):
        return {"kind": "op", "name": item.name}
    op = getattr(item, "op", None)
    if isinstance(op, Operation) and op.type == "VariableV2":
        return _variable_entry(item)
    if item is None or isinstance(item, (bool, int, float, str, bytes)):
        return {"kind": "value", "value": encode_value(item)}
    return None   # savers, queue runners, ...: not exportable, skipped as TF does


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None, collection_list=None,
                      as_text=False, graph=None, export_scope=None, clear_devices=False,
                      clear_extraneous_savers=False, strip_default_attrs=False, saver=None, **kwargs):
    """Serialize ``graph`` (default graph) as JSON data and write it to ``filename`` atomically.

    Returns the meta graph as a dict. Raises ``ValueError`` for an op attribute that has no data
    form (e.g. a Python callable). ``format="tensorflow"`` writes and returns TensorFlow's
    ``MetaGraphDef`` instead (see ``tf_meta_graph``)."""
    if kwargs.get("format", "jitgraph") == "tensorflow":
        from jitgraph.train import tf_meta_graph
        return tf_meta_graph.export_meta_graph(filename, graph, collection_list, as_text, clear_devices)
    graph = graph or get_default_graph()
    prefix = export_scope.rstrip("/") + "/" if export_scope else ""

    def strip(name):
        if not prefix:
            return name
        if not name.startswith(prefix):
            raise ValueError(f"'{name}' is outside export_scope '{export_scope}'")
        return name[len(prefix):]

    ops = []
    for op in graph.get_operations():
        if prefix and not op.name.startswith(prefix):
            continue
        where = f"attr of op '{op.name}' ({op.type})"
        ops.append({"name": strip(op.name), "type": op.type,
                    "inputs": [strip(t.name) for t in op.inputs],
                    "control_inputs": [strip(c.name) for c in op.control_inputs],
                    "device": "" if clear_devices else op.device,
                    "attrs": {k: encode_value(v, f"{where} '{k}'") for k, v in sorted(op.attrs.items())},
                    "outputs": [{"dtype": t.dtype.name, "shape": _shape_json(t.shape)} for t in op.outputs]})
    names = {o["name"] for o in ops}
    collections = {}
    for key in (collection_list if collection_list is not None else graph.get_all_collection_keys()):
        entries = []
        for item in graph.get_collection(key):
            e = _collection_entry(item)
            if e is None or (e["kind"] != "value" and e["name"].split(":")[0] not in
                             {prefix + n for n in names} | (names if not prefix else set())):
                continue
            if e["kind"] != "value":
                e["name"] = strip(e["name"])
                for k in ("initializer", "snapshot", "initial_value"):
                    if k in e:
                        e[k] = strip(e[k]) if e[k].startswith(prefix) else e.pop(k)
            entries.append(e)
        if entries:
            collections[key] = entries
    if saver is not None and saver_def is None:
        saver_def = saver.as_saver_def()
        saver_def["var_names"] = {k: strip(v) for k, v in saver_def["var_names"].items()}
    meta = {"format": FORMAT, "version": VERSION, "meta_info_def": dict(meta_info_def or {}),
            "graph": {"seed": graph.seed, "ops": ops}, "collections": collections,
            "saver_def": saver_def if isinstance(saver_def, dict) else None}
    if filename is not None:
        text = json.dumps(meta, indent=1 if as_text else None, allow_nan=False, sort_keys=False)
        directory = os.path.dirname(os.path.abspath(os.fspath(filename)))
        os.makedirs(directory, exist_ok=True)
        atomic_write(os.fspath(filename), [text.encode("utf-8")])
    return meta


# ---- import ---------------------------------------------------------------------------------------
def read_meta_graph_file(filename):
    """Load a meta graph written by ``export_meta_graph`` (JSON only; nothing is unpickled)."""
    from jitgraph import errors
    try:
        with open(filename, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise OSError(f"File {filename} does not exist.") from None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise errors.DataLossError(None, None, f"Cannot parse meta graph {filename}: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise errors.DataLossError(None, None, f"{filename} is not a jitgraph meta graph")
    return meta


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, input_map=None, **kwargs):
    """Rebuild a meta graph (a dict or a file path) into the default graph.

    Returns a ``Saver`` over the imported variables, or None if the meta graph has none.
    TensorFlow's ``MetaGraphDef`` (a proto or a ``.meta`` file TF wrote) is read by ``tf_meta_graph``."""
    from jitgraph import errors
    from jitgraph.train import tf_meta_graph
    tf_meta = _tf_meta_graph(meta_graph_or_file)
    if tf_meta is not None:
        return tf_meta_graph.import_meta_graph(tf_meta, clear_devices, import_scope, input_map)
    meta = meta_graph_or_file if isinstance(meta_graph_or_file, dict) else read_meta_graph_file(meta_graph_or_file)
    graph = get_default_graph()
    try:
        renamed = _import_ops(graph, meta["graph"]["ops"], import_scope, clear_devices, input_map or {})
    except (KeyError, TypeError, LookupError, AttributeError) as e:
        raise errors.DataLossError(None, None, f"malformed meta graph ({type(e).__name__}: {e})") from None
    if meta["graph"].get("seed") is not None and graph.seed is None:
        graph.seed = meta["graph"]["seed"]
    variables = _import_collections(graph, meta.get("collections", {}), renamed)
    saver_def = meta.get("saver_def") or {}
    from jitgraph.train.saver import Saver
    if saver_def.get("var_names"):
        var_list = {k: variables.get(renamed(v)) or graph.get_operation_by_name(renamed(v)).outputs[0]
                    for k, v in saver_def["var_names"].items()}
        return Saver(var_list, max_to_keep=saver_def.get("max_to_keep", 5),
                     keep_checkpoint_every_n_hours=saver_def.get("keep_checkpoint_every_n_hours", 10000.0),
                     allow_empty=saver_def.get("allow_empty", False))
    if variables:
        return Saver(list(variables.values()))
    return None


def _tf_meta_graph(meta_graph_or_file):
    """The TF ``MetaGraphDef`` given (as a proto or a file that is not jitgraph's JSON), else None."""
    from jitgraph.train import tf_meta_graph
    if isinstance(meta_graph_or_file, dict):
        return None
    if not isinstance(meta_graph_or_file, (str, bytes, os.PathLike)):
        return meta_graph_or_file if type(meta_graph_or_file).__name__ == "MetaGraphDef" else None
    try:
        with open(meta_graph_or_file, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise OSError(f"File {meta_graph_or_file} does not exist.") from None
    return tf_meta_graph.read_meta_graph(data) if tf_meta_graph.is_tf_meta_graph(data) else None


def _import_ops(graph, op_entries, import_scope, clear_devices, input_map):
    prefix = import_scope.rstrip("/") + "/" if import_scope else ""
    mapping = {}

    def renamed(name):
        return mapping.get(name, prefix + name)

    def resolve(kind, name):
        if kind == "tensor":
            if name in input_map:
                return input_map[name]
            op_name, _, idx = name.rpartition(":")
            return graph.get_operation_by_name(renamed(op_name)).outputs[int(idx)]
        return graph.get_operation_by_name(renamed(name))

    saved_stack, graph._name_stack = graph._name_stack, ""
    try:
        for e in op_entries:
            op_def = get_op_def(e["type"])
            inputs = [resolve("tensor", n) for n in e["inputs"]]
            control = [resolve("op", n) for n in e["control_inputs"]]
            attrs = {k: decode_value(v, resolve) for k, v in e["attrs"].items()}
            specs = op_def.infer(inputs, attrs)
            name = prefix + e["name"]
            if name in graph._ops_by_name:     # taken in this graph: uniquify, as TF's import does
                name = graph.unique_name(name)
            _mark_used(graph, name)
            op = Operation(graph, name, op_def, inputs, control, attrs,
                           [(dt, TensorShape(sh)) for dt, sh in specs])
            for t, saved in zip(op.outputs, e.get("outputs", [])):
                t.set_shape(TensorShape(saved["shape"]))
            op._set_device("" if clear_devices else e.get("device", ""))
            graph._add_op(op)
            mapping[e["name"]] = name
    finally:
        graph._name_stack = saved_stack
    return renamed


def _mark_used(graph, name):
    parts = name.split("/")
    for i in range(1, len(parts) + 1):
        graph._names_in_use.setdefault("/".join(parts[:i]).lower(), 1)


def _import_collections(graph, collections, renamed):
    """Re-add collection items; returns ``{variable op name: Variable}`` of the recreated variables."""
    variables = {}
    for key, entries in collections.items():
        for e in entries:
            kind = e.get("kind")
            if kind == "value":
                graph.add_to_collection(key, decode_value(e["value"]))
            elif kind == "tensor":
                graph.add_to_collection(key, graph.get_tensor_by_name(_rename_tensor(renamed, e["name"])))
            elif kind == "op":
                graph.add_to_collection(key, graph.get_operation_by_name(renamed(e["name"])))
            elif kind == "variable":
                name = renamed(e["name"])
                if name not in variables:
                    variables[name] = _make_variable(graph, e, renamed)
                graph.add_to_collection(key, variables[name])
    return variables


def _rename_tensor(renamed, tensor_name):
    op_name, _, idx = tensor_name.rpartition(":")
    return f"{renamed(op_name)}:{idx}"


def _make_variable(graph, e, renamed):
    """A Variable object over the imported ops (``jitgraph.variables`` if it can, else a stand-in)."""
    op = graph.get_operation_by_name(renamed(e["name"]))
    parts = {"op": op, "trainable": e.get("trainable", True)}
    for k in ("initializer", "snapshot", "initial_value"):
        if k in e:
            n = renamed(e[k]) if k == "initializer" else _rename_tensor(renamed, e[k])
            parts[k] = graph.as_graph_element(n)
    from_ops = _variable_factory()
    return from_ops(**parts)


def _variable_factory():
    """Build a real ``Variable`` around the imported ops without running its constructor."""
    from jitgraph.variables import variables as vmod
    return lambda **parts: _variable_from_ops(vmod, **parts)


def _variable_from_ops(vmod, op, initializer=None, snapshot=None, initial_value=None, trainable=True):
    """A ``jitgraph.variables.Variable`` over existing ops (what TF's ``Variable(variable_def=)`` does)."""
    from jitgraph.ops.control_ops import identity
    v = vmod.Variable.__new__(vmod.Variable)
    v._variable = op.outputs[0]
    v._trainable, v._constraint, v._caching_device = trainable, None, None
    v._initializer_op = initializer
    v._guarded_initial_value = initializer.inputs[1] if initializer is not None else None
    v._initial_value = initial_value if initial_value is not None else v._guarded_initial_value
    if snapshot is None:
        with op.graph.as_default(), op.graph.name_scope(op.name + "/"):
            snapshot = identity(v._variable, name="read")
    v._snapshot = snapshot
    op.graph._attachment(vmod._BY_OP, dict)[op] = v
    return v
