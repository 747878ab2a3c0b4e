"""Gradient rules of the array, slicing, reduction and linalg ops against central finite
differences in float64 (rows not already in ``test_gradients_check.py``), plus the rule that every
op type of those modules declares a gradient (``None`` results for non-differentiable ones)."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.ops import array_ops, concat_ops, linalg_ops, random_ops, reduction_ops, slicing_ops, tile_pad_ops
from jitgraph.ops.registry import OPS
from op_library_checks import evaluate, gradient_error


def _any(shape, rng):
    return rng.standard_normal(shape)


def _pos(shape, rng):
    return rng.uniform(0.5, 2.0, shape)


def _distinct(shape, rng):   # well separated: max/min/clip kinks are far from every probe
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2 + 0.5) * 0.3


def _with_zero(shape, rng):
    v = rng.uniform(0.5, 2.0, shape)
    v.flat[1] = 0.0
    return v


ROWS = [
    ("split_partial", lambda x: tf.split(x, [1, 2], axis=1)[1] * 2.0 + tf.split(x, 3, axis=1)[0], [((2, 3), _any)]),
    ("unstack_stack_axis1", lambda x: tf.stack(tf.unstack(x, axis=1)[::-1], axis=1), [((2, 3), _any)]),
    ("concat_uneven", lambda x, y: tf.concat([x, y, x], 0), [((2, 3), _any), ((1, 3), _any)]),
    ("transpose_default", lambda x: tf.transpose(x) * tf.constant(np.arange(24.0).reshape(4, 3, 2)),
     [((2, 3, 4), _any)]),
    ("broadcast_to", lambda x: tf.broadcast_to(x, [4, 2, 3]), [((2, 1), _any)]),
    ("reverse", lambda x: tf.reverse(x, [1]) * tf.constant(np.array([[1.0, 2.0, 3.0]])), [((2, 3), _any)]),
    ("pad_reflect", lambda x: tf.pad(x, [[1, 2], [2, 1]], "REFLECT"), [((3, 4), _any)]),
    ("pad_symmetric", lambda x: tf.pad(x, [[2, 0], [1, 3]], "SYMMETRIC"), [((3, 3), _any)]),
    ("slice", lambda x: tf.slice(x, [1, 0], [2, -1]), [((3, 4), _any)]),
    ("strided_newaxis_shrink", lambda x: x[::-1, None, 1] * 3.0, [((3, 4), _any)]),
    ("strided_ellipsis", lambda x: x[..., 1:3], [((2, 2, 4), _any)]),
    ("gather_axis1_dupes", lambda x: tf.gather(x, [0, 2, 0], axis=1), [((2, 3, 2), _any)]),
    ("gather_nd", lambda x: tf.gather_nd(x, [[0, 1], [1, 0], [0, 1]]), [((2, 2, 3), _any)]),
    ("scatter_nd", lambda u: tf.scatter_nd([[1], [0], [1]], u, [3, 2]), [((3, 2), _any)]),
    ("segment_sum", lambda x: tf.unsorted_segment_sum(x, [2, 0, 2], 3), [((3, 2), _any)]),
    ("boolean_mask", lambda x: tf.boolean_mask(x, [True, False, True]), [((3, 2), _any)]),
    ("reduce_min_mean", lambda x: tf.reduce_min(x, 1) + tf.reduce_mean(x, [0, 2])[1], [((2, 3, 2), _distinct)]),
    ("reduce_all_axes", lambda x: tf.reduce_sum(x) * tf.reduce_mean(x, keepdims=True), [((2, 3), _any)]),
    ("reduce_prod_zero", lambda x: tf.reduce_prod(x, 1), [((2, 3), _with_zero)]),
    ("reduce_prod_all", lambda x: tf.reduce_prod(x), [((2, 2), _pos)]),
    ("cumsum", lambda x: tf.cumsum(x, 1, exclusive=True, reverse=True) + tf.cumsum(x, 0), [((2, 3), _any)]),
    ("cumprod", lambda x: tf.cumprod(x, 1) + tf.cumprod(x, 0, reverse=True), [((2, 3), _pos)]),
    ("add_n", lambda x, y: tf.add_n([x, y, x]), [((2, 3), _any), ((2, 3), _any)]),
    ("logsumexp", lambda x: tf.reduce_logsumexp(x, 1), [((3, 4), _any)]),
    ("norms", lambda x: tf.norm(x) + tf.norm(x, 1, axis=0)[1] + tf.norm(x, np.inf), [((2, 3), _distinct)]),
    ("clip_by_value", lambda x: tf.clip_by_value(x, -0.5, 0.5), [((3, 4), _distinct)]),
    ("clip_by_norm", lambda x: tf.clip_by_norm(x, 1.0), [((2, 3), _pos)]),
    ("tensordot", lambda x, y: tf.tensordot(x, y, [[0, 2], [1, 0]]), [((2, 3, 2), _any), ((2, 2, 2), _any)]),
    ("batch_matmul_bcast", lambda x, y: tf.matmul(x, y), [((2, 1, 2, 3), _any), ((3, 3, 2), _any)]),
    ("batch_matmul_adj", lambda x, y: tf.matmul(x, y, adjoint_a=True, adjoint_b=True), [((2, 3, 2), _any),
                                                                                      ((2, 2, 3), _any)]),
]


@pytest.mark.parametrize("builder,specs", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_gradient_matches_finite_differences(builder, specs):
    rng = np.random.default_rng(len(specs))
    values = [sample(shape, rng) for shape, sample in specs]
    assert gradient_error(builder, values) < 1e-6


def test_unbroadcast_with_unknown_dims_sums_the_broadcast_axes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, [None, 1])
        y = tf.broadcast_to(x, tf.stack([3, tf.shape(x)[0], 4]))
        g = tf.gradients(y, x, grad_ys=tf.ones_like(y))[0]
        out = evaluate(g, {x: np.ones((2, 1))})
    np.testing.assert_array_equal(out, np.full((2, 1), 12.0))


MODULES = (array_ops, concat_ops, tile_pad_ops, slicing_ops, reduction_ops, linalg_ops, random_ops)


def test_every_op_type_of_the_library_declares_a_gradient_rule():
    """``tf.gradients`` raises LookupError for an op without a rule: every op type these modules
    define has one (non-differentiable ones return None for their inputs)."""
    mine = [t for t, d in OPS.items() if getattr(d.infer, "__module__", None) in {m.__name__ for m in MODULES}
            or getattr(getattr(d, "run", None), "__module__", None) in {m.__name__ for m in MODULES}]
    assert len(mine) > 40
    missing = sorted(t for t in mine if OPS[t].grad is None and not t.endswith("Grad"))
    assert missing == []


def test_cumprod_gradient_is_zero_where_the_input_is_zero_as_in_tf():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 3.0, 3.0], [0.0, -2.0, 5.0]], tf.float64)
        y = tf.cumprod(x, 1, exclusive=True)
        g = tf.gradients(y, x, grad_ys=tf.constant(np.arange(1.0, 7.0).reshape(2, 3)))[0]
        out = evaluate(g)
    np.testing.assert_array_equal(out, [[11.0, 3.0, 0.0], [0.0, 0.0, 0.0]])   # TF 2.21's values
