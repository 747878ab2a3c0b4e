"""Array ops (``jitgraph/ops/array_ops.py``): values against NumPy, static shapes, TF's op names,
and build-time errors."""

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

# id, builder of y from a [2, 3, 4] float32 tensor, NumPy reference
CASES = [
    ("reshape", lambda x: tf.reshape(x, [4, -1]), lambda x: x.reshape(4, -1)),
    ("reshape_scalar", lambda x: tf.reshape(x[0, 0, :1], []), lambda x: x[0, 0, 0]),
    ("transpose_default", lambda x: tf.transpose(x), lambda x: x.T),
    ("transpose_perm", lambda x: tf.transpose(x, [1, 2, 0]), lambda x: x.transpose(1, 2, 0)),
    ("expand_dims_neg", lambda x: tf.expand_dims(x, -1), lambda x: x[..., None]),
    ("expand_dims_mid", lambda x: tf.expand_dims(x, 1), lambda x: x[:, None]),
    ("squeeze_all", lambda x: tf.squeeze(tf.reshape(x, [1, 2, 1, 12])), lambda x: x.reshape(2, 12)),
    ("squeeze_axis", lambda x: tf.squeeze(tf.reshape(x, [1, 2, 1, 12]), [2]), lambda x: x.reshape(1, 2, 12)),
    ("stack_axis1", lambda x: tf.stack([x, x * 2], axis=1), lambda x: np.stack([x, x * 2], 1)),
    ("stack_neg_axis", lambda x: tf.stack([x, x], axis=-1), lambda x: np.stack([x, x], -1)),
    ("unstack_axis2", lambda x: tf.unstack(x, axis=2)[3], lambda x: x[:, :, 3]),
    ("concat", lambda x: tf.concat([x, x[:, :1]], 1), lambda x: np.concatenate([x, x[:, :1]], 1)),
    ("concat_neg_axis", lambda x: tf.concat([x, x], -1), lambda x: np.concatenate([x, x], -1)),
    ("split_even", lambda x: tf.split(x, 2, axis=2)[1], lambda x: x[:, :, 2:]),
    ("split_sizes", lambda x: tf.split(x, [1, -1], axis=1)[1], lambda x: x[:, 1:]),
    ("tile", lambda x: tf.tile(x, [1, 2, 1]), lambda x: np.tile(x, (1, 2, 1))),
    ("pad_constant", lambda x: tf.pad(x, [[0, 0], [1, 2], [3, 0]], constant_values=7),
     lambda x: np.pad(x, [[0, 0], [1, 2], [3, 0]], constant_values=7)),
    ("pad_reflect", lambda x: tf.pad(x, [[1, 1], [2, 1], [0, 3]], "REFLECT"),
     lambda x: np.pad(x, [[1, 1], [2, 1], [0, 3]], "reflect")),
    ("pad_symmetric", lambda x: tf.pad(x, [[2, 0], [3, 1], [0, 0]], "SYMMETRIC"),
     lambda x: np.pad(x, [[2, 0], [3, 1], [0, 0]], "symmetric")),
    ("broadcast_to", lambda x: tf.broadcast_to(x[:, :1], [5, 2, 3, 4]),
     lambda x: np.broadcast_to(x[:, :1], (5, 2, 3, 4))),
    ("reverse", lambda x: tf.reverse(x, [0, -1]), lambda x: x[::-1, :, ::-1]),
    ("shape", lambda x: tf.shape(x), lambda x: np.array([2, 3, 4], np.int32)),
    ("size_rank", lambda x: tf.stack([tf.size(x), tf.rank(x)]), lambda x: np.array([24, 3], np.int32)),
]


@pytest.mark.parametrize("builder,reference", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_array_op_matches_numpy(builder, reference):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, X.shape)
        y = builder(x)
        out = evaluate(y, {x: X})
    expected = reference(X)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == expected.dtype
    assert y.shape.as_list() == list(expected.shape)


@pytest.mark.parametrize("builder,reference", [c[1:] for c in CASES if c[0] not in ("reshape_scalar",)],
                         ids=[c[0] for c in CASES if c[0] not in ("reshape_scalar",)])
def test_array_op_with_unknown_batch_dim(builder, reference):
    """The same ops on a [None, 3, 4] placeholder: compatible static shape, same values."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4])
        y = builder(x)
        out = evaluate(y, {x: X})
    np.testing.assert_array_equal(out, reference(X))
    assert y.shape.is_compatible_with(out.shape)


def test_range_one_hot_and_dtypes():
    with tf.Graph().as_default():
        r = {"int": tf.range(5), "args": tf.range(5, 0, -2), "float": tf.range(0, 1, 0.25),
             "typed": tf.range(3, dtype=tf.int64), "hot": tf.one_hot([0, 2, -1, 5], 3),
             "hot_axis0": tf.one_hot([1, 0], 3, on_value=5, off_value=-1, axis=0)}
        out = evaluate(r)
        assert r["float"].dtype == tf.float32 and r["int"].shape.as_list() == [5]
        assert r["hot"].shape.as_list() == [4, 3] and r["hot_axis0"].dtype == tf.int32
    np.testing.assert_array_equal(out["args"], [5, 3, 1])
    np.testing.assert_array_equal(out["float"], np.arange(0, 1, 0.25, dtype=np.float32))
    assert out["typed"].dtype == np.int64
    np.testing.assert_array_equal(out["hot"], [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(out["hot_axis0"], [[-1, 5], [5, -1], [-1, -1]])


def test_dynamic_shapes_flow_into_static_shapes():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4])
        flat = tf.reshape(x, tf.stack([tf.shape(x)[0], 12]))
        half = tf.reshape(x, [-1, 6])
        assert flat.shape.as_list() == [None, 12]
        assert half.shape.as_list() == [None, 6]
        assert tf.size(x).op.type == "Size" and tf.size(tf.zeros([2, 3])).op.type == "Const"
        out = evaluate([flat, half], {x: X})
    assert out[0].shape == (2, 12) and out[1].shape == (4, 6)


def test_a_shape_list_holding_tensors_is_packed_as_in_tf():
    """``tf.reshape(x, [tf.shape(x)[0], 12])``: TF packs the list (op ``Reshape/shape``, a Pack),
    and the static shape keeps what the list tells ([None, 12], or [None, None] with a -1)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3, 4])
        flat = tf.reshape(x, [tf.shape(x)[0], 12])
        loose = tf.reshape(x, (tf.shape(x)[0], -1))
        big = tf.reshape(x, [tf.cast(tf.shape(x)[0], tf.int64), 3, 4])
        assert flat.op.inputs[1].op.type == "Pack" and flat.op.inputs[1].op.name == "Reshape/shape"
        assert flat.shape.as_list() == [None, 12] and loose.shape.as_list() == [None, None]
        assert big.op.inputs[1].dtype == tf.int64
        out = evaluate([flat, loose, big], {x: X})
    assert out[0].shape == (2, 12) and out[1].shape == (2, 12) and out[2].shape == (2, 3, 4)
    np.testing.assert_array_equal(out[0], X.reshape(2, 12))


def test_default_op_names_follow_tf():
    with tf.Graph().as_default():
        x = tf.zeros([2, 3, 4])
        names = [tf.reshape(x, [-1]).op.name, tf.transpose(x).op.name, tf.expand_dims(x, 0).op.name,
                 tf.squeeze(x).op.name, tf.concat([x, x], 0).op.name, tf.split(x, 3, axis=1)[0].op.name,
                 tf.unstack(x)[0].op.name, tf.tile(x, [1, 1, 2]).op.name, tf.pad(x, [[0, 0]] * 3).op.name,
                 tf.broadcast_to(x, [2, 2, 3, 4]).op.name, tf.reverse(x, [0]).op.name, tf.range(3).op.name,
                 tf.one_hot([1], 2).op.name, tf.reshape(x, [24]).op.name]
        consts = [op.name for op in tf.get_default_graph().get_operations() if op.type == "Const"]
    assert names == ["Reshape", "transpose", "ExpandDims", "Squeeze", "concat", "split", "unstack", "Tile", "Pad",
                     "BroadcastTo", "ReverseV2", "range", "one_hot", "Reshape_1"]
    assert "Reshape/shape" in consts and "Tile/multiples" in consts and "Pad/paddings" in consts


# id, builder (on x of shape [2, 3]), exception, message fragment
BUILD_ERRORS = [
    ("reshape_count", lambda x: tf.reshape(x, [5]), ValueError, "Cannot reshape a tensor with 6 elements"),
    ("reshape_divisible", lambda x: tf.reshape(x, [4, -1]), ValueError, "evenly divisible by 4"),
    ("reshape_two_unknown", lambda x: tf.reshape(x, [-1, -1]), ValueError, "only one dimension may be -1"),
    ("reshape_float_shape", lambda x: tf.reshape(x, tf.constant([6.0])), TypeError, "shape"),
    ("transpose_rank", lambda x: tf.transpose(x, [0, 1, 2]), ValueError, "Dimension must be 2 but is 3"),
    ("transpose_not_perm", lambda x: tf.transpose(x, [0, 0]), ValueError, "not a permutation"),
    ("expand_dims_axis", lambda x: tf.expand_dims(x, 3), ValueError, "not in the interval"),
    ("squeeze_non_one", lambda x: tf.squeeze(x, [0]), ValueError, r"Can not squeeze dim\[0\]"),
    ("concat_dims", lambda x: tf.concat([x, tf.zeros([3, 2])], 0), ValueError, "Dimension 1 in both shapes"),
    ("concat_axis", lambda x: tf.concat([x, x], 2), ValueError, "rank"),
    ("concat_dtype", lambda x: tf.concat([x, tf.zeros([2, 3], tf.int32)], 0), TypeError, "don't all match"),
    ("stack_shapes", lambda x: tf.stack([x, tf.zeros([3, 2])]), ValueError, "Shapes of all inputs must match"),
    ("split_uneven", lambda x: tf.split(x, 2, axis=1), ValueError, "evenly divisible by 2"),
    ("split_sizes", lambda x: tf.split(x, [1, 1], axis=1), ValueError, "Got: 2 vs 3"),
    ("unstack_axis", lambda x: tf.unstack(x, axis=2), ValueError, "out of range"),
    ("tile_rank", lambda x: tf.tile(x, [2]), ValueError, "rank"),
    ("pad_shape", lambda x: tf.pad(x, [[1, 1]]), ValueError, "paddings"),
    ("pad_reflect_too_big", lambda x: tf.pad(x, [[2, 0], [0, 0]], "REFLECT"), ValueError, "less than"),
    ("pad_mode", lambda x: tf.pad(x, [[0, 0], [0, 0]], "WRAP"), ValueError, "unknown padding mode"),
    ("broadcast_to", lambda x: tf.broadcast_to(x, [4, 3]), ValueError, "Dimensions must be equal"),
    ("reverse_twice", lambda x: tf.reverse(x, [0, -2]), ValueError, "twice"),
    ("one_hot_float", lambda x: tf.one_hot(x, 3), TypeError, "indices"),
    ("computed_perm", lambda x: tf.transpose(x, tf.placeholder(tf.int32, [2])), ValueError, "known when the graph"),
]


@pytest.mark.parametrize("builder,exc,fragment", [c[1:] for c in BUILD_ERRORS], ids=[c[0] for c in BUILD_ERRORS])
def test_bad_arguments_raise_at_build_time_and_add_nothing(builder, exc, fragment):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2, 3], name="x")
        before = len(g.get_operations())
        with pytest.raises(exc, match=fragment):
            builder(x)
        types = [op.type for op in g.get_operations()[before:]]
    assert not any(t in ("Reshape", "Transpose", "ConcatV2", "Tile", "Pad", "Pack") for t in types[-1:]), types


def test_run_time_shape_errors_name_the_op():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.reshape(x, [-1, 2], name="pairs")
        with pytest.raises(tf.errors.InvalidArgumentError, match="pairs"):
            evaluate(y, {x: np.zeros((3, 3), np.float32)})
        z = tf.range(0, 3, tf.placeholder_with_default(0, []))
        with pytest.raises(tf.errors.InvalidArgumentError, match="delta"):
            evaluate(z)


def test_string_tensors_move_through_layout_ops():
    with tf.Graph().as_default():
        s = tf.constant([[b"a", b"b"], [b"c", b"d"]])
        out = evaluate({"concat": tf.concat([s, s[:1]], 0), "tile": tf.tile(tf.reverse(s, [1]), [1, 2]),
                        "pad": tf.pad(s, [[0, 1], [0, 0]]), "t": tf.transpose(tf.reshape(s, [2, 2]))})
    assert out["concat"].tolist() == [[b"a", b"b"], [b"c", b"d"], [b"a", b"b"]]
    assert out["tile"].tolist() == [[b"b", b"a", b"b", b"a"], [b"d", b"c", b"d", b"c"]]
    assert out["pad"].tolist() == [[b"a", b"b"], [b"c", b"d"], [b"", b""]]
    assert out["t"].tolist() == [[b"a", b"c"], [b"b", b"d"]]
