"""``tf.gradients`` semantics: alignment, None for unconnected inputs, summing, scopes, errors."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.ops.registry import define_op, make_op


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_aligned_with_xs_and_none_for_unconnected():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        z = tf.constant([3.0, 4.0])
        y = tf.nn.l2_loss(x)
        gx, gz = tf.gradients(y, [x, z])
        assert gz is None
        assert gx.shape.as_list() == [2] and gx.dtype == tf.float32
        np.testing.assert_allclose(_run(gx), [1.0, 2.0])


def test_single_x_and_y_as_non_lists_and_y_wrt_itself():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        (g,) = tf.gradients(x, x)
        np.testing.assert_allclose(_run(g), [1.0, 1.0])


def test_gradients_flowing_on_two_paths_are_summed():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, -2.0]])
        y1 = tf.nn.l2_loss(x)
        y2 = tf.nn.l2_loss(tf.identity(x))
        g = tf.gradients([y1, y2], x)[0]        # several ys: d(y1 + y2)/dx
        np.testing.assert_allclose(_run(g), [[2.0, -4.0]])


def test_grad_ys_weights_and_dtype_check():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.nn.softmax(x)
        g = tf.gradients(y, x, grad_ys=tf.constant([1.0, 0.0]))[0]
        s = 1 / (1 + np.exp(-1.0))   # softmax([1,2])[0] = sigmoid(-1)
        p = np.array([1 - s, s])[::-1]
        np.testing.assert_allclose(_run(g), [p[0] * (1 - p[0]), -p[0] * p[1]], rtol=1e-6)
        with pytest.raises(TypeError):
            tf.gradients(y, x, grad_ys=tf.constant([1.0, 0.0], tf.float64))


def test_ops_go_under_gradients_scope_and_are_unique():
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = tf.nn.l2_loss(x)
        g1 = tf.gradients(y, x)[0]
        g2 = tf.gradients(y, x)[0]
        assert g1.name.startswith("gradients/L2Loss_grad/")
        assert g2.name.startswith("gradients_1/")
        g3 = tf.gradients(y, x, name="mygrads")[0]
        assert g3.name.startswith("mygrads/")


def test_stop_gradient_blocks_and_is_identity_forward():
    with tf.Graph().as_default():
        x = tf.constant([3.0])
        s = tf.stop_gradient(x)
        assert s.op.type == "StopGradient"
        assert tf.gradients(tf.nn.l2_loss(s), x) == [None]
        np.testing.assert_allclose(_run(s), [3.0])


def test_stop_gradients_argument_holds_tensor_constant():
    with tf.Graph().as_default():
        x = tf.constant([2.0])
        h = tf.identity(x)
        y = tf.nn.l2_loss(tf.identity(h))
        assert tf.gradients(y, x, stop_gradients=[h]) == [None]
        np.testing.assert_allclose(_run(tf.gradients(y, x)[0]), [2.0])


define_op("TestNoGrad", infer=lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], compute=lambda x: x)


def test_missing_rule_raises_lookup_error_naming_the_op():
    with tf.Graph().as_default():
        x = tf.constant([1.0])
        y = make_op("TestNoGrad", [x], {}, "nograd").outputs[0]
        with pytest.raises(LookupError, match=r"No gradient defined for operation 'nograd' \(op type: TestNoGrad\)"):
            tf.gradients(tf.nn.l2_loss(y), x)
        # an op that is not between x and y needs no rule
        other = tf.constant([5.0])
        z = make_op("TestNoGrad", [other], {}, "side").outputs[0]
        g = tf.gradients(tf.nn.l2_loss(x) + tf.nn.l2_loss(z), x)[0] if _has_add_grad() else None
        if g is not None:
            np.testing.assert_allclose(_run(g), [1.0])


def _has_add_grad():
    from jitgraph.ops.registry import OPS
    return OPS["Add"].grad is not None


def test_integer_paths_give_none():
    with tf.Graph().as_default():
        x = tf.constant([1, 2])
        y = tf.nn.l2_loss(tf.cast(x, tf.float32))
        assert tf.gradients(y, x) == [None]


def test_sparse_xent_gives_no_label_gradient_and_dense_v1_stops_labels():
    with tf.Graph().as_default():
        logits = tf.constant([[1.0, 2.0, 0.5]])
        labels = tf.constant([[0.2, 0.5, 0.3]])
        v1 = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        v2 = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
        assert tf.gradients(v1, labels) == [None]
        gl, gz = tf.gradients(v2, [labels, logits])
        assert gl is not None
        p = np.exp([1.0, 2.0, 0.5]) / np.exp([1.0, 2.0, 0.5]).sum()
        out = _run({"gl": gl, "gz": gz, "gz1": tf.gradients(v1, logits)[0]})
        np.testing.assert_allclose(out["gz"], [p - [0.2, 0.5, 0.3]], rtol=1e-5)
        np.testing.assert_allclose(out["gz1"], out["gz"])
        np.testing.assert_allclose(out["gl"], [-np.log(p)], rtol=1e-5)
        ints = tf.constant([1])
        sp = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ints, logits=logits)
        assert tf.gradients(sp, ints) == [None]


def test_variable_gradient_gathers_reads():
    with tf.Graph().as_default():
        v = tf.Variable([1.0, -3.0], name="v")
        y = tf.nn.l2_loss(v) + tf.nn.l2_loss(v.read_value()) if _has_add_grad() else tf.nn.l2_loss(v)
        (g,) = tf.gradients(y, v)
        assert g.shape.as_list() == [2] and g.dtype == tf.float32
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = [2.0, -6.0] if _has_add_grad() else [1.0, -3.0]
            np.testing.assert_allclose(sess.run(g), want)


def test_gradients_through_assign_are_none():
    with tf.Graph().as_default():
        v = tf.Variable([1.0], name="v")
        x = tf.constant([2.0])
        a = tf.assign(v, x)
        assert tf.gradients(tf.nn.l2_loss(a), x) == [None]


def test_cast_gradient_is_cast_back_and_stop_gradient_in_products():
    with tf.Graph().as_default():
        x = tf.constant([1.0, -2.0])               # float32
        y = tf.constant([3.0, 4.0])
        (g,) = tf.gradients(tf.nn.l2_loss(tf.cast(x, tf.float64)), x)
        assert g.dtype == tf.float32
        gx, gy = tf.gradients(x * tf.stop_gradient(y) + y, [x, y])
        out = _run([g, gx, gy])
        np.testing.assert_allclose(out[0], [1.0, -2.0])
        np.testing.assert_allclose(out[1], [3.0, 4.0])
        np.testing.assert_allclose(out[2], [1.0, 1.0])     # only the direct path counts


def test_bias_gradient_is_one_sum_without_a_reshape():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 3])
        b = tf.constant(np.zeros(3, np.float32))
        db, = tf.gradients(tf.reduce_sum(x + b), [b])
        assert db.op.type == "Sum" and db.shape.as_list() == [3]
        with tf.Session() as s:
            np.testing.assert_array_equal(s.run(db, {x: np.ones((4, 3), np.float32)}), [4, 4, 4])
