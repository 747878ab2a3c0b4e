"""More of ``tf.math``: the trigonometric/hyperbolic functions and ``erf``/``erfc``/``rint`` as
fusible elementwise ops (defined like ``math_ops.UNARY``), and functions built from existing ops:
``divide_no_nan``, ``multiply_no_nan``, ``reciprocal_no_nan``, ``xlogy``, ``xdivy``, ``softsign``,
``reduce_euclidean_norm``, ``zero_fraction``, ``scalar_mul``, ``polyval``, ``bincount``,
``invert_permutation``, ``is_non_decreasing``, ``is_strictly_increasing``,
``accumulate_n``, ``clip_by_average_norm``.
"""

import math

import numpy as np

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.math_ops import FLOAT, _int_safe, _no_grad, _ufunc_of, _unary_infer, binary, cast, unary, where
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.reduction_ops import add_n, reduce_all, reduce_max, reduce_mean, reduce_sum
from jitgraph.ops.registry import convert_to_tensor, define_op
from jitgraph.ops.slicing_ops import scatter_nd, unsorted_segment_sum

__all__ = ["tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "erf", "erfc", "rint",
           "divide_no_nan", "div_no_nan", "multiply_no_nan", "reciprocal_no_nan", "xlogy", "xdivy", "softsign",
           "reduce_euclidean_norm", "zero_fraction", "scalar_mul", "polyval", "bincount",
           "invert_permutation", "is_non_decreasing", "is_strictly_increasing", "accumulate_n",
           "clip_by_average_norm"]


def _x(op):
    return op.inputs[0]


def _inv_sqrt(t):
    return unary("Rsqrt", t)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

UNARY = [
    # type, numpy reference, numba scalar template, gradient (op, dy) -> [dx]
    ("Tan", np.tan, "np.tan({0})", lambda op, g: [g * (1 + unary("Square", op.outputs[0]))]),
    ("Sinh", np.sinh, "np.sinh({0})", lambda op, g: [g * unary("Cosh", _x(op))]),
    ("Cosh", np.cosh, "np.cosh({0})", lambda op, g: [g * unary("Sinh", _x(op))]),
    ("Asin", np.arcsin, "np.arcsin({0})", lambda op, g: [g * _inv_sqrt(1 - unary("Square", _x(op)))]),
    ("Acos", np.arccos, "np.arccos({0})", lambda op, g: [-g * _inv_sqrt(1 - unary("Square", _x(op)))]),
    ("Atan", np.arctan, "np.arctan({0})", lambda op, g: [g / (1 + unary("Square", _x(op)))]),
    ("Asinh", np.arcsinh, "np.arcsinh({0})", lambda op, g: [g * _inv_sqrt(unary("Square", _x(op)) + 1)]),
    ("Acosh", np.arccosh, "np.arccosh({0})", lambda op, g: [g * _inv_sqrt(unary("Square", _x(op)) - 1)]),
    ("Atanh", np.arctanh, "np.arctanh({0})", lambda op, g: [g / (1 - unary("Square", _x(op)))]),
    ("Erf", np.vectorize(math.erf, otypes=[np.float64]), "math.erf({0})",
     lambda op, g: [g * _TWO_OVER_SQRT_PI * unary("Exp", -unary("Square", _x(op)))]),
    ("Erfc", np.vectorize(math.erfc, otypes=[np.float64]), "math.erfc({0})",
     lambda op, g: [-g * _TWO_OVER_SQRT_PI * unary("Exp", -unary("Square", _x(op)))]),
    ("Rint", np.rint, "np.rint({0})", _no_grad),
]


def _typed(fn):
    """``fn`` with its result in the input's dtype (``np.vectorize`` computes in float64)."""
    def run(x):
        with np.errstate(all="ignore"):
            return np.asarray(fn(x)).astype(x.dtype, copy=False)
    run.ufunc = _ufunc_of(fn)
    return run


for _t, _fn, _tmpl, _grad in UNARY:
    define_op(_t, _unary_infer(_t, FLOAT), _typed(_fn) if isinstance(_fn, np.vectorize) else _int_safe(_fn),
              kind="elementwise", scalar=_tmpl, grad=_grad, extra={"ufunc": _ufunc_of(_fn)})


def _unary_fn(op_type):
    def fn(x, name=None):
        return unary(op_type, x, name or op_type)
    fn.__name__ = op_type.lower()
    fn.__doc__ = f"Elementwise ``{op_type.lower()}`` of a float tensor."
    return fn


tan, sinh, cosh, asin, acos, atan, asinh, acosh, atanh, erf, erfc, rint = (
    _unary_fn(t) for t, *_ in UNARY)


# ---- composites ----------------------------------------------------------------------------------------
def _pair(x, y):
    x = convert_to_tensor(x)
    return x, convert_to_tensor(y, preferred_dtype=x.dtype.base_dtype)


def divide_no_nan(x, y, name=None):
    """``x / y``, and 0 where ``y`` is 0."""
    with op_scope(name or "div_no_nan", [x, y]):
        x, y = _pair(x, y)
        zero = binary("Equal", y, 0)
        return where(zero, binary("Mul", x, 0), binary("RealDiv", x, where(zero, y * 0 + 1, y)))


div_no_nan = divide_no_nan


def multiply_no_nan(x, y, name=None):
    """``x * y``, and 0 where ``y`` is 0 (even if ``x`` is inf or nan)."""
    with op_scope(name or "multiply_no_nan", [x, y]):
        x, y = _pair(x, y)
        return where(binary("Equal", y, 0), binary("Mul", y, 0), binary("Mul", x, y))


def reciprocal_no_nan(x, name=None):
    """``1 / x``, and 0 where ``x`` is 0."""
    x = convert_to_tensor(x)
    return divide_no_nan(convert_to_tensor(1, x.dtype.base_dtype), x, name=name or "reciprocal_no_nan")


def xlogy(x, y, name=None):
    """``x * log(y)``, and 0 where ``x`` is 0."""
    with op_scope(name or "xlogy", [x, y]):
        x, y = _pair(x, y)
        zero = binary("Equal", x, 0)
        return where(zero, binary("Mul", x, 0), binary("Mul", x, unary("Log", where(zero, y * 0 + 1, y))))


def xdivy(x, y, name=None):
    """``x / y``, and 0 where ``x`` is 0."""
    with op_scope(name or "xdivy", [x, y]):
        x, y = _pair(x, y)
        zero = binary("Equal", x, 0)
        return where(zero, binary("Mul", x, 0), binary("RealDiv", x, where(zero, y * 0 + 1, y)))


def softsign(features, name=None):
    """``x / (1 + |x|)``."""
    with op_scope(name or "Softsign", [features]):
        x = convert_to_tensor(features)
        return binary("RealDiv", x, 1 + unary("Abs", x))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """``sqrt(sum(x ** 2))`` over ``axis``."""
    with op_scope(name or "EuclideanNorm", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        return unary("Sqrt", reduce_sum(unary("Square", x), axis, keepdims=keepdims))


def zero_fraction(value, name=None):
    """The fraction of the entries of ``value`` that are zero (float32)."""
    with op_scope(name or "zero_fraction", [value]):
        x = convert_to_tensor(value)
        return reduce_mean(cast(binary("Equal", x, 0), dtypes.float32))


def scalar_mul(scalar, x, name=None):
    """``scalar * x`` for a scalar ``scalar``."""
    with op_scope(name or "scalar_mul", [x]):
        x = convert_to_tensor(x)
        s = convert_to_tensor(scalar, preferred_dtype=x.dtype.base_dtype)
        if s.shape.ndims not in (None, 0):
            raise ValueError(f"Only scalar multiply works, got shape {s.shape}")
        return binary("Mul", s, x)


def polyval(coeffs, x, name=None):
    """``coeffs[0] * x ** (n-1) + ... + coeffs[n-1]`` (Horner's rule)."""
    with op_scope(name or "polyval", [x]):
        x = convert_to_tensor(x)
        if not coeffs:
            return x * 0
        out = convert_to_tensor(coeffs[0], preferred_dtype=x.dtype.base_dtype)
        for c in coeffs[1:]:
            out = out * x + c
        return out


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None):
    """How often each value ``0..max(arr)`` occurs in the non-negative int tensor ``arr`` (the
    sum of ``weights`` there, if given); at least ``minlength`` and at most ``maxlength`` bins."""
    with op_scope(name or "bincount", [arr]):
        arr = convert_to_tensor(arr)
        flat = array_ops.reshape(arr, [-1])
        size = binary("Maximum", reduce_max(flat) + 1, 0) if flat.shape[0].value != 0 else 0
        if minlength is not None:
            size = binary("Maximum", size, minlength)
        if maxlength is not None:
            size = binary("Minimum", size, maxlength)
            keep = binary("Less", flat, maxlength)
        w = (cast(flat * 0 + 1, dtype) if weights is None else array_ops.reshape(convert_to_tensor(weights), [-1]))
        if maxlength is not None:
            w = where(keep, w, w * 0)
            flat = where(keep, flat, flat * 0)
        return unsorted_segment_sum(w, flat, size)


def invert_permutation(x, name=None):
    """``y[x[i]] = i`` for a permutation ``x`` of ``0..n-1``."""
    with op_scope(name or "InvertPermutation", [x]):
        x = convert_to_tensor(x)
        n = array_ops.size(x, out_type=x.dtype.base_dtype)
        return scatter_nd(array_ops.expand_dims(x, 1), array_ops.range(0, n, dtype=x.dtype.base_dtype),
                          array_ops.expand_dims(n, 0))


def _monotone(x, op_type, name):
    with op_scope(name, [x]):
        flat = array_ops.reshape(convert_to_tensor(x), [-1])
        return reduce_all(binary(op_type, flat[:-1], flat[1:]))


def is_non_decreasing(x, name=None):
    """Are the entries of ``x`` (in row-major order) non-decreasing?"""
    return _monotone(x, "LessEqual", name or "is_non_decreasing")


def is_strictly_increasing(x, name=None):
    """Are the entries of ``x`` (in row-major order) strictly increasing?"""
    return _monotone(x, "Less", name or "is_strictly_increasing")


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    """The sum of the tensors ``inputs`` (as ``add_n``)."""
    return add_n(inputs, name=name)


def clip_by_average_norm(t, clip_norm, name=None):
    """``t`` scaled so that its L2 norm divided by its number of entries is at most ``clip_norm``."""
    with op_scope(name or "clip_by_average_norm", [t]):
        t = convert_to_tensor(t)
        n = cast(array_ops.size(t), t.dtype.base_dtype)
        avg = binary("RealDiv", unary("Sqrt", reduce_sum(unary("Square", t))), n)
        return binary("RealDiv", binary("Mul", t, clip_norm), binary("Maximum", avg, clip_norm))
