"""The TF1 math functions (``tf.add`` …) and Python operators on tensors (``a + b`` …).

Operators name their ops as TF does: ``a + b`` is ``add``, ``tf.add(a, b)`` is ``Add``.
"""

from jitgraph import dtypes
from jitgraph.framework.tensor import Tensor
from jitgraph.ops.math_ops import binary, cast, unary
from jitgraph.ops.registry import convert_binary, convert_to_tensor


def add(x, y, name=None):
    return binary("Add", x, y, name or "Add")


def subtract(x, y, name=None):
    return binary("Sub", x, y, name or "Sub")


def multiply(x, y, name=None):
    return binary("Mul", x, y, name or "Mul")


def _float_for_int(dt):
    return dtypes.float32 if dt in (dtypes.int8, dtypes.int16, dtypes.uint8, dtypes.uint16) else dtypes.float64


def truediv(x, y, name=None):
    """True division; integer operands are cast to float64 (float32 for 8/16-bit ints) first."""
    x, y = convert_binary(x, y, "truediv")
    dt = x.dtype.base_dtype
    if dt.is_integer:
        x, y = cast(x, _float_for_int(dt)), cast(y, _float_for_int(dt))
    return binary("RealDiv", x, y, name or "truediv")


def divide(x, y, name=None):
    return truediv(x, y, name or "truediv")


def div(x, y, name=None):
    """TF1 ``tf.div``: floor division for integers, true division for floats."""
    x, y = convert_binary(x, y, "div")
    if x.dtype.base_dtype.is_integer:
        return binary("FloorDiv", x, y, name or "div")
    return binary("RealDiv", x, y, name or "div")


def floordiv(x, y, name=None):
    x, y = convert_binary(x, y, "floordiv")
    if x.dtype.base_dtype.is_floating:
        return unary("Floor", binary("RealDiv", x, y, "floordiv_div"), name or "floordiv")
    return binary("FloorDiv", x, y, name or "floordiv")


def floor_div(x, y, name=None):
    return binary("FloorDiv", x, y, name or "FloorDiv")


def realdiv(x, y, name=None):
    return binary("RealDiv", x, y, name or "RealDiv")


def truncatediv(x, y, name=None):
    return binary("TruncateDiv", x, y, name or "TruncateDiv")


def truncatemod(x, y, name=None):
    return binary("TruncateMod", x, y, name or "TruncateMod")


def floormod(x, y, name=None):
    return binary("FloorMod", x, y, name or "FloorMod")


mod = floormod


def pow(x, y, name=None):  # noqa: A001
    return binary("Pow", x, y, name or "Pow")


def maximum(x, y, name=None):
    return binary("Maximum", x, y, name or "Maximum")


def minimum(x, y, name=None):
    return binary("Minimum", x, y, name or "Minimum")


def squared_difference(x, y, name=None):
    return binary("SquaredDifference", x, y, name or "SquaredDifference")


def atan2(y, x, name=None):
    return binary("Atan2", y, x, name or "Atan2")


def less(x, y, name=None):
    return binary("Less", x, y, name or "Less")


def less_equal(x, y, name=None):
    return binary("LessEqual", x, y, name or "LessEqual")


def greater(x, y, name=None):
    return binary("Greater", x, y, name or "Greater")


def greater_equal(x, y, name=None):
    return binary("GreaterEqual", x, y, name or "GreaterEqual")


def equal(x, y, name=None):
    return binary("Equal", x, y, name or "Equal")


def not_equal(x, y, name=None):
    return binary("NotEqual", x, y, name or "NotEqual")


def logical_and(x, y, name=None):
    return binary("LogicalAnd", x, y, name or "LogicalAnd")


def logical_or(x, y, name=None):
    return binary("LogicalOr", x, y, name or "LogicalOr")


def logical_xor(x, y, name=None):
    return binary("LogicalXor", x, y, name or "LogicalXor")


def logical_not(x, name=None):
    return unary("LogicalNot", x, name or "LogicalNot")


def _unary_fn(op_type, default_name=None):
    def fn(x, name=None):
        return unary(op_type, x, name or default_name or op_type)
    fn.__name__ = (default_name or op_type).lower()
    fn.__doc__ = f"Elementwise ``{op_type}``."
    return fn


negative = _unary_fn("Neg")
abs = _unary_fn("Abs")  # noqa: A001
sign = _unary_fn("Sign")
square = _unary_fn("Square")
exp = _unary_fn("Exp")
log = _unary_fn("Log")
log1p = _unary_fn("Log1p")
expm1 = _unary_fn("Expm1")
sqrt = _unary_fn("Sqrt")
rsqrt = _unary_fn("Rsqrt")
reciprocal = _unary_fn("Reciprocal")
tanh = _unary_fn("Tanh")
sigmoid = _unary_fn("Sigmoid")
sin = _unary_fn("Sin")
cos = _unary_fn("Cos")
floor = _unary_fn("Floor")
ceil = _unary_fn("Ceil")
round = _unary_fn("Round")  # noqa: A001
relu = _unary_fn("Relu")
relu6 = _unary_fn("Relu6")
softplus = _unary_fn("Softplus")
is_nan = _unary_fn("IsNan")
is_inf = _unary_fn("IsInf")
is_finite = _unary_fn("IsFinite")


# ---- Python operators ------------------------------------------------------------------------------
def _binop(fn, name, reflected=False):
    def op(self, other):
        try:
            return fn(other, self, name=name) if reflected else fn(self, other, name=name)
        except TypeError:
            if not isinstance(other, (Tensor, int, float, bool, list, tuple)) and not hasattr(other, "__array__") \
                    and not hasattr(other, "_as_graph_element"):
                return NotImplemented
            raise
    return op


def _matmul(a, b, name=None):
    from jitgraph.ops.linalg_ops import matmul
    return matmul(a, b, name=name)


def _getitem(self, key):
    from jitgraph.ops.array_ops import strided_slice_from_key
    return strided_slice_from_key(self, key)


OPERATORS = {
    "__add__": _binop(add, "add"), "__radd__": _binop(add, "add", True),
    "__sub__": _binop(subtract, "sub"), "__rsub__": _binop(subtract, "sub", True),
    "__mul__": _binop(multiply, "mul"), "__rmul__": _binop(multiply, "mul", True),
    "__truediv__": _binop(truediv, "truediv"), "__rtruediv__": _binop(truediv, "truediv", True),
    "__floordiv__": _binop(floordiv, "floordiv"), "__rfloordiv__": _binop(floordiv, "floordiv", True),
    "__mod__": _binop(floormod, "mod"), "__rmod__": _binop(floormod, "mod", True),
    "__pow__": _binop(pow, "pow"), "__rpow__": _binop(pow, "pow", True),
    "__matmul__": _binop(_matmul, "matmul"), "__rmatmul__": _binop(_matmul, "matmul", True),
    "__lt__": _binop(less, "Less"), "__le__": _binop(less_equal, "LessEqual"),
    "__gt__": _binop(greater, "Greater"), "__ge__": _binop(greater_equal, "GreaterEqual"),
    "__and__": _binop(logical_and, "LogicalAnd"), "__rand__": _binop(logical_and, "LogicalAnd", True),
    "__or__": _binop(logical_or, "LogicalOr"), "__ror__": _binop(logical_or, "LogicalOr", True),
    "__xor__": _binop(logical_xor, "LogicalXor"), "__rxor__": _binop(logical_xor, "LogicalXor", True),
    "__neg__": lambda self: negative(self, name="Neg"),
    "__abs__": lambda self: abs(self, name="Abs"),
    "__invert__": lambda self: logical_not(self, name="LogicalNot"),
    "__getitem__": _getitem,
}


def install_operators(cls):
    """Give ``cls`` (Tensor, Variable) TF's Python operators."""
    for k, fn in OPERATORS.items():
        setattr(cls, k, fn)


install_operators(Tensor)
_ = convert_to_tensor
