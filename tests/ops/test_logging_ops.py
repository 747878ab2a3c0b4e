"""``jitgraph/ops/logging_ops.py``: the text of ``tf.Print`` and ``tf.print`` against what TF 2.21
wrote (``tests/oracle/record_print.py``), ``first_n``, gradients through ``tf.Print``, output
streams, and printing inside a compiled plan."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf

TF = json.loads((Path(__file__).resolve().parents[1] / "oracle" / "data" / "print.json").read_text())
SPEC = TF["spec"]


def _values():
    return [tf.constant([[0.1, 1 / 3.0], [2.0, -1e-7]], tf.float32), tf.constant([0.1, 1e20, 1 / 3.0], tf.float64),
            tf.constant([True, False]), tf.constant([b"ab", b"c"]), tf.constant(7),
            tf.constant(np.array([1.5, -0.0, np.inf, np.nan, 1e-5, 123456789.0], np.float32))]


def test_tf1_print_text_matches_tf(capfd):
    with tf.Graph().as_default():
        ops = [tf.Print(tf.constant(0), [tf.reshape(tf.range(int(np.prod(sh))), sh)], message="@@", summarize=lim)
               for sh in SPEC["v1_shapes"] for lim in SPEC["v1_limits"]]
        ops.append(tf.Print(tf.constant(0), _values(), message="@@dtypes: ", summarize=10))
        first = tf.Print(tf.constant(0), [tf.range(4)], message="@@first_n: ", first_n=2)
        from op_library_checks import reference_executor
        with reference_executor(), tf.Session() as sess:
            capfd.readouterr()
            for o in ops:
                sess.run(o)
            for _ in range(4):
                sess.run(first)
    err = capfd.readouterr().err
    got = [line[2:] for line in err.splitlines() if line.startswith("@@")]
    assert got == TF["v1"]


def test_tf_print_text_matches_tf(capfd):
    with tf.Graph().as_default():
        ops = [tf.print(tf.reshape(tf.range(int(np.prod(sh))), sh), summarize=s, output_stream=sys.stdout,
                        end="\n@@END\n") for sh, s in SPEC["v2_shapes"]]
        values = _values()
        ops.append(tf.print("hello", *values, 3, 2.5, None, True, output_stream=sys.stdout, end="\n@@END\n"))
        ops.append(tf.print({"a": values[4]}, [values[2], "lit"], (values[4],), sep="|", output_stream=sys.stdout,
                            end="!\n@@END\n"))
        ops.append(tf.print(output_stream=sys.stdout, end="\n@@END\n"))
        with tf.Session() as sess:
            capfd.readouterr()
            for o in ops:
                sess.run(o)
    assert capfd.readouterr().out.split("@@END\n")[:-1] == TF["v2"]


def test_print_is_an_identity_with_a_gradient_and_prints_when_computed(capfd):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        y = tf.Print(x * 2.0, [x], message="x=")
        loss = tf.reduce_sum(y * y)
        g = tf.gradients(loss, x)[0]
        assert y.shape.as_list() == [3] and y.op.type == "Print"
        with tf.Session() as sess:
            capfd.readouterr()
            out, grad = sess.run([y, g], {x: [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(out, [2, 4, 6])
    np.testing.assert_allclose(grad, [8, 16, 24])
    assert capfd.readouterr().err.count("x=[1 2 3]") == 1


def test_print_op_runs_as_a_control_dependency_and_to_files(capfd, tmp_path):
    target = tmp_path / "log.txt"
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        with tf.control_dependencies([tf.print("v is", v), tf.print("to file", output_stream=f"file://{target}")]):
            inc = tf.assign_add(v, 1.0)
        with tf.Session() as sess:
            sess.run(v.initializer)
            capfd.readouterr()
            sess.run(inc)
    assert capfd.readouterr().err == "v is 1\n"
    assert target.read_text() == "to file\n"
    with tf.Graph().as_default(), pytest.raises(ValueError, match="output stream"):
        tf.print("x", output_stream="nowhere")
