"""tf.debugging.check_numerics and add_check_numerics_ops."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph import debugging


def test_check_numerics_passes_finite_and_names_op_and_message():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        y = debugging.check_numerics(x * 2.0, "doubled x", name="guard")
        assert y.op.type == "CheckNumerics" and y.dtype == tf.float32
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
            for value, what in (([np.nan, 1.0], "NaN"), ([np.inf, 1.0], "Inf"), ([np.nan, -np.inf], "NaN and Inf")):
                with pytest.raises(tf.errors.InvalidArgumentError, match=f"doubled x : Tensor had {what} values") as e:
                    sess.run(y, {x: value})
                assert "guard" in str(e.value) and e.value.op is y.op
        with pytest.raises(TypeError):
            debugging.check_numerics(tf.constant(1), "ints are not checked")


def test_add_check_numerics_ops_reports_first_bad_op_in_program_order():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        fine = tf.identity(x + 1.0, name="fine")
        first = tf.log(fine - 1.0, name="first_bad")      # log(0) = -inf
        second = tf.multiply(first, 0.0, name="second_bad")  # -inf * 0 = nan
        check = debugging.add_check_numerics_ops()
        v = tf.Variable(1.0, name="v")
        with tf.Session() as sess:
            sess.run(v.initializer)
            sess.run(check, {x: [1.0, 2.0]})   # no NaN/Inf: fine
            with tf.control_dependencies([v.assign(7.0)]):
                guarded = tf.group(check, second)
            with pytest.raises(tf.errors.InvalidArgumentError, match="first_bad:0 : Tensor had Inf values"):
                sess.run(guarded, {x: [0.0, 2.0]})
            assert sess.run(v) == 1.0   # the failed run rolled the assign back
