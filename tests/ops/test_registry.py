"""OpDef registry and make_op: build-time failures add nothing; ops remember where the user built them."""

import pytest

import jitgraph as tf
from jitgraph.ops.registry import OPS, define_op


def test_op_records_the_users_frame_not_jitgraph_internals():
    with tf.Graph().as_default():
        v = tf.get_variable("w", [2])   # several jitgraph frames deep
        frames = v.op.traceback
    assert frames and frames[-1].filename == __file__
    assert frames[-1].name == "test_op_records_the_users_frame_not_jitgraph_internals"


def test_duplicate_variable_error_says_where_the_first_was_created():
    with tf.Graph().as_default():
        tf.get_variable("w", [2])
        with pytest.raises(ValueError, match="already exists") as err:
            tf.get_variable("w", [2])
    assert __file__ in str(err.value)


def test_failed_build_adds_no_op_and_names_the_op():
    with tf.Graph().as_default() as g:
        a, b = tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0])
        n = len(g.get_operations())
        with pytest.raises(ValueError, match=r"'add'.*\[2\], \[3\]"):
            a + b
        assert len(g.get_operations()) == n
        assert (a + a).name == "add:0"   # the failed op did not take the name


def test_an_op_type_is_defined_once():
    with pytest.raises(ValueError, match="defined twice"):
        define_op("Add", infer=lambda ins, a: [])
    assert OPS["Add"].kind == "elementwise"
