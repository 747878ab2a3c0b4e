"""How each jitgraph op looks as a TensorFlow ``NodeDef``, and attr values as ``AttrValue``s.

Most ops are spelled as in TF already (same type name, inputs and attrs). A ``TFForm`` lists the
differences for the others, used in both directions by ``graph_def``:

``types``        TF's type attrs (``T``, ``Tidx`` …) and the input (in TF's order) whose dtype each is;
``attr_inputs``  jitgraph attrs that TF takes as constant inputs: ``(attr, TF input position, TF input
                 name, TF index-type attr or None, kind)``; ``kind`` says how the constant becomes the
                 attr again (``axes``/``axis`` normalized by the rank of input 0, ``axis1`` by rank + 1,
                 ``ints``, ``int``, ``scalar``);
``drop``         jitgraph attrs TF does not have, with the value TF implies (restored on import);
``rename``       jitgraph attr -> TF attr;  ``n``: TF's attr counting the list inputs;
``swap``         the first two inputs are in the other order in TF;
``alt``          ``(TF type, TFForm)`` used when a dropped attr does not have TF's implied value;
``derived``      TF attrs computed from jitgraph's (``SplitV``'s ``num_split``).

Ops jitgraph has and TF does not (``XentGrad``, ``SumToShape`` …) are written as they are.
"""

import dataclasses

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.framework.tensor_proto import (datatype_enum, dtype_from_enum, make_ndarray, make_tensor_proto,
                                             shape_from_proto, shape_proto)
from jitgraph.framework.tf_protos import protos


@dataclasses.dataclass(frozen=True)
class TFForm:
    types: tuple = (("T", 0),)
    attr_inputs: tuple = ()
    drop: tuple = ()
    rename: tuple = ()
    n: str = None
    swap: bool = False
    alt: tuple = None
    derived: tuple = ()     # (TF attr, function of the jitgraph attrs) written, dropped on import


_PLAIN = TFForm()
_NONE = TFForm(types=())
_REDUCE = TFForm(attr_inputs=(("axis", 1, "reduction_indices", "Tidx", "axes"),))
_BOOL_REDUCE = TFForm(types=(), attr_inputs=(("axis", 1, "reduction_indices", "Tidx", "axes"),))
_ARG = TFForm(attr_inputs=(("axis", 1, "dimension", "Tidx", "axis"),))
_SOFTMAX = TFForm(drop=(("axis", -1),))

FORMS = {
    **{t: _PLAIN for t in (
        "Abs", "Add", "Atan2", "Ceil", "Cos", "Exp", "Expm1", "Floor", "FloorDiv", "FloorMod", "Greater",
        "GreaterEqual", "Identity", "IsFinite", "IsInf", "IsNan", "L2Loss", "Less", "LessEqual", "Log", "Log1p",
        "Maximum", "Minimum", "Mul", "Neg", "Pow", "RealDiv", "Reciprocal", "Relu", "Relu6", "Round", "Rsqrt",
        "Sigmoid", "Sign", "Sin", "Sqrt", "Square", "SquaredDifference", "StopGradient", "Sub", "Tanh",
        "TruncateDiv", "TruncateMod", "Softplus", "Where", "Rank", "BiasAdd", "BiasAddGrad", "Conv2D",
        "Conv2DBackpropFilter", "MaxPool", "MaxPoolGrad", "AvgPool", "Squeeze", "MatMul", "BatchMatMulV2",
        "CheckNumerics", "Shape", "Size", "Unpack", "Assign", "RandomShuffle", "RandomStandardNormal",
        "RandomUniform", "TruncatedNormal", "Multinomial", "Equal", "NotEqual", "MirrorPadGrad")},
    **{t: _NONE for t in ("LogicalAnd", "LogicalOr", "LogicalNot", "NoOp", "Const", "Placeholder",
                          "VariableV2", "Cast", "Range", "AudioSummaryV2")},
    **{t: _REDUCE for t in ("Sum", "Mean", "Max", "Min", "Prod")},
    "All": _BOOL_REDUCE, "Any": _BOOL_REDUCE, "ArgMax": _ARG, "ArgMin": _ARG,
    "AssignAdd": TFForm(drop=(("validate_shape", True),)), "AssignSub": TFForm(drop=(("validate_shape", True),)),
    "PlaceholderWithDefault": TFForm(types=(("dtype", 0),)),
    "IsVariableInitialized": TFForm(types=(("dtype", 0),)),
    "AddN": TFForm(n="N"), "Pack": TFForm(n="N"), "MergeSummary": TFForm(types=(), n="N"),
    "ConcatV2": TFForm(attr_inputs=(("axis", -1, "axis", "Tidx", "axis"),), n="N"),
    "Transpose": TFForm(attr_inputs=(("perm", 1, "perm", "Tperm", "ints"),)),
    "ExpandDims": TFForm(attr_inputs=(("axis", 1, "dim", "Tdim", "axis1"),)),
    "GatherV2": TFForm(types=(("Tparams", 0), ("Tindices", 1)), attr_inputs=(("axis", 2, "axis", "Taxis", "axis"),)),
    "GatherNd": TFForm(types=(("Tparams", 0), ("Tindices", 1))),
    "ScatterNd": TFForm(types=(("T", 1), ("Tindices", 0))),
    "UnsortedSegmentSum": TFForm(types=(("T", 0), ("Tindices", 1), ("Tnumsegments", 2))),
    "Split": TFForm(types=(("T", 1),), attr_inputs=(("axis", 0, "split_dim", None, "axis"),)),
    "SplitV": TFForm(attr_inputs=(("size_splits", 1, "size_splits", "Tlen", "ints"),
                                  ("axis", 2, "split_dim", None, "axis")),
                     derived=(("num_split", lambda a: len(a["size_splits"])),)),
    "Cumsum": TFForm(attr_inputs=(("axis", 1, "axis", "Tidx", "axis"),)),
    "Cumprod": TFForm(attr_inputs=(("axis", 1, "axis", "Tidx", "axis"),)),
    "ReverseV2": TFForm(attr_inputs=(("axis", 1, "axis", "Tidx", "axes"),)),
    "OneHot": TFForm(types=(("T", 2), ("TI", 0)), attr_inputs=(("depth", 1, "depth", None, "int"),
                     ("on_value", 2, "on_value", None, "scalar"), ("off_value", 3, "off_value", None, "scalar")),
                     drop=(("dtype", None),)),
    "Fill": TFForm(types=(("T", 1), ("index_type", 0))),
    "RandomUniformInt": TFForm(rename=(("dtype", "Tout"),)),
    "Softmax": _SOFTMAX, "LogSoftmax": _SOFTMAX,
    "SoftmaxCrossEntropyWithLogits": TFForm(swap=True, drop=(("axis", -1),)),
    "SparseSoftmaxCrossEntropyWithLogits": TFForm(types=(("T", 0), ("Tlabels", 1)), swap=True, drop=(("axis", -1),)),
    "Pad": TFForm(types=(("T", 0), ("Tpaddings", 1)), drop=(("op_type", "Pad"), ("constant_values", 0)),
                  alt=("PadV2", TFForm(types=(("T", 0), ("Tpaddings", 1)), drop=(("op_type", "Pad"),),
                                       attr_inputs=(("constant_values", 2, "constant_values", None, "scalar"),)))),
    "MirrorPad": TFForm(types=(("T", 0), ("Tpaddings", 1)), drop=(("op_type", "MirrorPad"),)),
    "Reshape": TFForm(types=(("T", 0), ("Tshape", 1))), "Tile": TFForm(types=(("T", 0), ("Tmultiples", 1))),
    "BroadcastTo": TFForm(types=(("T", 0), ("Tidx", 1))),
    "StridedSlice": TFForm(types=(("T", 0), ("Index", 1))), "Slice": TFForm(types=(("T", 0), ("Index", 1))),
    "StridedSliceGrad": TFForm(types=(("T", 4), ("Index", 0))),
    "Conv2DBackpropInput": TFForm(types=(("T", 1),)), "AvgPoolGrad": TFForm(types=(("T", 1),)),
    "SelectV2": TFForm(types=(("T", 1),)),
    **{t: TFForm(types=(("T", 1),)) for t in ("ScalarSummary", "HistogramSummary", "ImageSummary",
                                                "TensorSummaryV2")},
}
# TF types jitgraph reads as one of its own (TF's ``AddV2`` is jitgraph's ``Add``).
# Resource variables (``VarHandleOp`` …) are read as jitgraph's reference variables.
ALIASES = {"AddV2": "Add", "Select": "SelectV2", "PadV2": "Pad", "RefIdentity": "Identity", "Snapshot": "Identity",
           "VarHandleOp": "VariableV2", "ReadVariableOp": "Identity", "VarIsInitializedOp": "IsVariableInitialized",
           "AssignVariableOp": "Assign", "AssignAddVariableOp": "AssignAdd", "AssignSubVariableOp": "AssignSub"}
TF_ONLY_ATTRS = {"Cast": {"Truncate"}, "MatMul": {"grad_a", "grad_b"}, "BatchMatMulV2": {"grad_x", "grad_y"},
                 "Equal": {"incompatible_shape_error"}, "NotEqual": {"incompatible_shape_error"},
                 "Conv2D": {"explicit_paddings"}, "MaxPool": {"explicit_paddings"}, "GatherV2": {"batch_dims"},
                 "GatherNd": {"bad_indices_policy"}, "ScatterNd": {"bad_indices_policy"},
                 "Conv2DBackpropInput": {"explicit_paddings"}, "Conv2DBackpropFilter": {"explicit_paddings"},
                 "MaxPoolGrad": {"explicit_paddings"}, "VarHandleOp": {"allowed_devices", "debug_name"},
                 **{t: {"dtype"} for t in ("ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp",
                                           "AssignSubVariableOp")}}

_NHWC = {"data_format": "NHWC"}
_SEEDS = {"seed": 0, "seed2": 0}
# TF's attr defaults a NodeDef may leave out (TF's importer fills them in from its OpDefs).
TF_DEFAULTS = {
    "Placeholder": {"shape": TensorShape(None)}, "VariableV2": {"container": "", "shared_name": ""},
    "MatMul": {"transpose_a": False, "transpose_b": False}, "BatchMatMulV2": {"adj_x": False, "adj_y": False},
    **{t: {"keep_dims": False} for t in ("Sum", "Mean", "Max", "Min", "Prod", "All", "Any")},
    "Assign": {"validate_shape": True, "use_locking": True}, "AssignAdd": {"use_locking": False},
    "AssignSub": {"use_locking": False},
    "Conv2D": {**_NHWC, "dilations": (1, 1, 1, 1), "use_cudnn_on_gpu": True},
    "Conv2DBackpropInput": {**_NHWC, "dilations": (1, 1, 1, 1), "use_cudnn_on_gpu": True},
    "Conv2DBackpropFilter": {**_NHWC, "dilations": (1, 1, 1, 1), "use_cudnn_on_gpu": True},
    **{t: dict(_NHWC) for t in ("MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad", "BiasAdd", "BiasAddGrad")},
    "Squeeze": {"squeeze_dims": ()}, "Cumsum": {"exclusive": False, "reverse": False},
    "Cumprod": {"exclusive": False, "reverse": False}, "Pack": {"axis": 0}, "Unpack": {"axis": 0},
    **{t: {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0, "shrink_axis_mask": 0}
       for t in ("StridedSlice", "StridedSliceGrad")},
    **{t: dict(_SEEDS) for t in ("RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomShuffle",
                                 "RandomUniformInt")},
    "Multinomial": {**_SEEDS, "output_dtype": dtypes.int64},
    "ArgMax": {"output_type": dtypes.int64}, "ArgMin": {"output_type": dtypes.int64},
    "Shape": {"out_type": dtypes.int32}, "Size": {"out_type": dtypes.int32}, "OneHot": {"axis": -1},
    "Range": {"Tidx": dtypes.int32},
}


def form_of(op_type):
    return FORMS.get(op_type)


def import_form(tf_type):
    """``(jitgraph op type, TFForm)`` for a NodeDef's op type."""
    if tf_type == "PadV2":
        return "Pad", FORMS["Pad"].alt[1]
    jg = ALIASES.get(tf_type, tf_type)
    return jg, FORMS.get(jg)


# ---- attr values ---------------------------------------------------------------------------------------
def to_attr_value(v, where):
    """An ``AttrValue`` for a jitgraph attr (None -> an empty AttrValue)."""
    A = protos().attr_value.AttrValue
    if v is None:
        return A()
    if isinstance(v, (bool, np.bool_)):
        return A(b=bool(v))
    if isinstance(v, dtypes.DType):
        return A(type=datatype_enum(v))
    if isinstance(v, TensorShape):
        return A(shape=shape_proto(v))
    if isinstance(v, (np.ndarray, np.generic)):
        return A(tensor=make_tensor_proto(v))
    if isinstance(v, (int, np.integer)):
        return A(i=int(v))
    if isinstance(v, float):
        return A(f=v)
    if isinstance(v, str):
        return A(s=v.encode("utf-8"))
    if isinstance(v, bytes):
        return A(s=v)
    if isinstance(v, (list, tuple)):
        items = list(v)
        lst = A.ListValue()
        if all(isinstance(x, (bool, np.bool_)) for x in items) and items:
            lst.b.extend(bool(x) for x in items)
        elif all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in items):
            lst.i.extend(int(x) for x in items)
        elif all(isinstance(x, (float, int)) for x in items):
            lst.f.extend(float(x) for x in items)
        elif all(isinstance(x, (str, bytes)) for x in items):
            lst.s.extend(x.encode("utf-8") if isinstance(x, str) else x for x in items)
        elif all(isinstance(x, dtypes.DType) for x in items):
            lst.type.extend(datatype_enum(x) for x in items)
        elif all(isinstance(x, TensorShape) for x in items):
            lst.shape.extend(shape_proto(x) for x in items)
        else:
            raise ValueError(f"{where}: cannot write list attr {v!r} in a GraphDef")
        return A(list=lst)
    raise ValueError(f"{where}: cannot write a {type(v).__name__} attr in a GraphDef ({v!r:.60})")


def _s(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b


def from_attr_value(a, where):
    """The jitgraph form of an ``AttrValue`` (lists become tuples, strings ``str`` when UTF-8)."""
    kind = a.WhichOneof("value")
    if kind is None:
        return None
    if kind == "type":
        return dtype_from_enum(a.type, where)
    if kind == "shape":
        return shape_from_proto(a.shape)
    if kind == "tensor":
        arr = make_ndarray(a.tensor, where)
        arr.flags.writeable = False
        return arr
    if kind == "s":
        return _s(a.s)
    if kind in ("b", "i", "f"):
        return getattr(a, kind)
    if kind == "list":
        lst = a.list
        for field, conv in (("i", int), ("f", float), ("b", bool), ("s", _s),
                            ("type", lambda x: dtype_from_enum(x, where)), ("shape", shape_from_proto)):
            if len(getattr(lst, field)):
                return tuple(conv(x) for x in getattr(lst, field))
        return ()
    raise ValueError(f"{where}: attr of kind '{kind}' is not supported by jitgraph")


def attr_from_constant(value, kind, rank, where):
    """A TF constant input (``attr_inputs``) as the jitgraph attr it stands for."""
    arr = np.asarray(value)
    if kind == "scalar":
        return arr.reshape(())[()]
    if kind in ("int", "axis", "axis1"):
        v = int(arr.reshape(()))
        limit = None if rank is None else rank + (kind == "axis1")
        if kind != "int" and v < 0 and limit is not None:
            v += limit
        return v
    vals = tuple(int(x) for x in arr.reshape(-1))
    if kind == "axes" and rank is not None:
        vals = tuple(x + rank if x < 0 else x for x in vals)
    return vals
