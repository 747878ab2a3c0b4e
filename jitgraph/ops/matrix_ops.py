"""Diagonals, bands and small matrix helpers of ``tf``/``tf.linalg``, built from existing ops (so
they have gradients): ``matrix_diag``, ``matrix_diag_part``, ``matrix_set_diag``,
``matrix_band_part``, ``trace``, ``diag``/``diag_part`` (any rank), ``cross``, ``matvec``,
``adjoint``. Matrices are the last two axes; leading axes are batch axes."""

from jitgraph import dtypes
from jitgraph.ops import array_ops
from jitgraph.ops.einsum_ops import einsum
from jitgraph.ops.linalg_ops import matmul, matrix_transpose
from jitgraph.ops.math_ops import binary, cast
from jitgraph.ops.op_util import op_scope
from jitgraph.ops.reduction_ops import reduce_prod, reduce_sum
from jitgraph.ops.registry import convert_to_tensor

__all__ = ["matrix_diag", "matrix_diag_part", "matrix_set_diag", "matrix_band_part", "trace", "diag", "diag_part",
           "cross", "matvec", "adjoint"]


def _eye_like(n, dtype):
    """An ``n x n`` identity (``n`` an int or a scalar int tensor)."""
    r = array_ops.range(n)
    return cast(binary("Equal", array_ops.expand_dims(r, 1), array_ops.expand_dims(r, 0)), dtype)


def matrix_diag(diagonal, name=None):
    """Matrices with ``diagonal`` (``[..., n]``) on their diagonal and zeros elsewhere."""
    with op_scope(name or "matrix_diag", [diagonal]):
        d = convert_to_tensor(diagonal)
        n = d.shape[-1].value if d.shape.ndims else None
        n = n if n is not None else array_ops.shape(d)[-1]
        return binary("Mul", array_ops.expand_dims(d, -1), _eye_like(n, d.dtype.base_dtype))


def matrix_diag_part(input, name=None):
    """The main diagonals ``[..., min(m, n)]`` of ``[..., m, n]`` matrices."""
    with op_scope(name or "matrix_diag_part", [input]):
        x = convert_to_tensor(input)
        if x.shape.ndims is None or x.shape.ndims < 2:
            raise ValueError(f"matrix_diag_part: input must have known rank >= 2, got shape {x.shape}")
        m, n = x.shape[-2].value, x.shape[-1].value
        if m is not None and n is not None and m != n:
            k = min(m, n)
            x = x[..., :k, :k]
        return einsum("...ii->...i", x)


def matrix_set_diag(input, diagonal, name=None):
    """``input`` with its main diagonals replaced by ``diagonal`` (square matrices)."""
    with op_scope(name or "matrix_set_diag", [input, diagonal]):
        x = convert_to_tensor(input)
        d = convert_to_tensor(diagonal, preferred_dtype=x.dtype.base_dtype)
        eye = _eye_like(array_ops.shape(x)[-1], x.dtype.base_dtype)
        return binary("Mul", x, 1 - eye) + matrix_diag(d)


def matrix_band_part(input, num_lower, num_upper, name=None):
    """``input`` with entries outside the band zeroed: keep ``(i, j)`` where ``i - j <= num_lower``
    and ``j - i <= num_upper`` (a negative count keeps the whole triangle)."""
    with op_scope(name or "band_part", [input]):
        x = convert_to_tensor(input)
        shape = array_ops.shape(x)
        rows = array_ops.expand_dims(array_ops.range(shape[-2]), 1)
        cols = array_ops.expand_dims(array_ops.range(shape[-1]), 0)
        keep = None
        for bound, diff in ((num_lower, rows - cols), (num_upper, cols - rows)):
            b = cast(convert_to_tensor(bound), dtypes.int32)
            ok = binary("LogicalOr", binary("Less", b, 0), binary("LessEqual", diff, b))
            keep = ok if keep is None else binary("LogicalAnd", keep, ok)
        return binary("Mul", x, cast(keep, x.dtype.base_dtype))


def trace(x, name=None):
    """The sum of the main diagonal of each matrix (``[...]``)."""
    with op_scope(name or "Trace", [x]):
        return reduce_sum(matrix_diag_part(x), -1)


def diag(diagonal, name=None):
    """``out[i1..ik, i1..ik] = diagonal[i1..ik]``: a tensor of twice the rank, zero elsewhere."""
    with op_scope(name or "Diag", [diagonal]):
        d = convert_to_tensor(diagonal)
        flat = matrix_diag(array_ops.reshape(d, [-1]))
        shape = array_ops.shape(d)
        out = array_ops.reshape(flat, array_ops.concat([shape, shape], 0))
        if d.shape.ndims is not None:
            out.set_shape(d.shape.concatenate(d.shape))
        return out


def diag_part(input, name=None):
    """The inverse of ``diag``: ``out[i1..ik] = input[i1..ik, i1..ik]`` for a tensor of rank 2k."""
    with op_scope(name or "DiagPart", [input]):
        x = convert_to_tensor(input)
        r = x.shape.ndims
        if r is None or r % 2:
            raise ValueError(f"diag_part: input must have a known, even rank, got shape {x.shape}")
        half = x.shape[:r // 2]
        if not half.is_compatible_with(x.shape[r // 2:]):
            raise ValueError(f"diag_part: the two halves of shape {x.shape} differ")
        shape = array_ops.shape(x)[:r // 2]
        side = reduce_prod(shape)
        flat = array_ops.reshape(x, array_ops.stack([side, side]))
        out = array_ops.reshape(einsum("ii->i", flat), shape)
        out.set_shape(half)
        return out


def cross(a, b, name=None):
    """The cross product of 3-vectors along the last axis."""
    with op_scope(name or "Cross", [a, b]):
        a, b = convert_to_tensor(a), convert_to_tensor(b)
        for t in (a, b):
            if t.shape.ndims is not None and t.shape[-1].value not in (None, 3):
                raise ValueError(f"cross: the last dimension must be 3, got shape {t.shape}")
        a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
        b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
        return array_ops.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def matvec(a, b, transpose_a=False, adjoint_a=False, name=None):
    """``a @ b`` for matrices ``a`` ``[..., m, n]`` and vectors ``b`` ``[..., n]``."""
    with op_scope(name or "MatVec", [a, b]):
        b = array_ops.expand_dims(convert_to_tensor(b), -1)
        return array_ops.squeeze(matmul(a, b, transpose_a=transpose_a or adjoint_a), axis=[-1])


def adjoint(matrix, name=None):
    """The transposed matrices (jitgraph has no complex numbers)."""
    return matrix_transpose(matrix, name=name or "adjoint")
