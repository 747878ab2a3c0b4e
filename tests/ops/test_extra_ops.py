"""The TF1 aliases and smaller functions of ``compat.py``, ``ops/extra_math_ops.py``,
``matrix_ops.py``, ``array_extra_ops.py`` and ``nn_extra_ops.py``: the cases of
``tests/oracle/extra_cases.py`` built on jitgraph, against the values and gradients TF 2.21 gave
for the same cases (``record_extra_ops.py``); plus what TF cannot record (py_func, files)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import evaluate

ORACLE = Path(__file__).resolve().parents[1] / "oracle"
TF = np.load(ORACLE / "data" / "extra_ops.npz")
_spec = importlib.util.spec_from_file_location("extra_cases", ORACLE / "extra_cases.py")
extra_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extra_cases)
CASES = extra_cases.cases()


@pytest.mark.parametrize("name", list(CASES))
def test_case_matches_tf(name):
    build, inputs, differentiable = CASES[name]
    with tf.Graph().as_default():
        ts = [tf.constant(x) for x in inputs]
        y = build(tf, *ts)
        fetch = [y]
        if differentiable:
            fetch += tf.gradients(y, ts, grad_ys=tf.constant(TF[f"{name}/w"], y.dtype))
        out = evaluate(fetch)
    want = TF[f"{name}/value"]
    assert out[0].dtype == want.dtype and np.shape(out[0]) == want.shape, name
    tol = dict(rtol=1e-5, atol=1e-6) if want.dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[0], want, **tol)
    for i, g in enumerate(out[1:]):
        np.testing.assert_allclose(g, TF[f"{name}/grad{i}"], err_msg=f"grad {i}", **tol)


def test_py_func_calls_python_on_every_run():
    calls = []

    def f(a, b):
        calls.append(1)
        return a * b, np.array(str(a).encode())

    with tf.Graph().as_default():
        x = tf.placeholder(tf.int32, [])
        prod, text = tf.py_func(f, [x, tf.constant(3)], [tf.int32, tf.string])
        single = tf.numpy_function(lambda a: a + 1.0, [tf.constant([1.0])], tf.float32)
        with tf.Session() as sess:
            assert sess.run([prod, text], {x: 2}) == [6, b"2"]
            assert sess.run(prod, {x: 5}) == 15
            np.testing.assert_array_equal(sess.run(single), [2.0])
        bad = tf.py_func(lambda a: (a, a), [x], tf.int32)
        with pytest.raises(tf.errors.InvalidArgumentError, match="returned 2 values"):
            evaluate(bad, {x: 1})
    assert len(calls) == 2


def test_ensure_shape_and_matching_files(tmp_path):
    for n in ("a.txt", "b.txt", "c.csv"):
        (tmp_path / n).write_text(n)
    with tf.Graph().as_default():
        p = tf.placeholder(tf.float32, [None, None])
        y = tf.ensure_shape(p, [None, 3])
        assert y.shape.as_list() == [None, 3]
        with pytest.raises(ValueError, match="not compatible"):
            tf.ensure_shape(tf.zeros([2, 2]), [2, 3])
        with pytest.raises(tf.errors.InvalidArgumentError, match="not compatible"):
            evaluate(y, {p: np.zeros((2, 2))})
        files = evaluate(tf.io.matching_files(str(tmp_path / "*.txt")))
    assert [f.decode() for f in files] == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]


def test_switches_and_namespaces():
    tf.disable_resource_variables()
    tf.disable_v2_tensorshape()
    assert not tf.resource_variables_enabled() and not tf.executing_eagerly_outside_functions()
    assert tf.compat.v1 is tf
    assert tf.random.log_uniform_candidate_sampler is tf.nn.log_uniform_candidate_sampler
    assert tf.linalg.einsum is tf.einsum and tf.image.transpose is tf.image.transpose_image
    with tf.Graph().as_default():
        c = tf.constant([1, 2])
        assert tf.is_tensor(c) and not tf.is_tensor(np.ones(2))
        assert list(tf.get_static_value(c)) == [1, 2]
        assert tf.dimension_value(c.shape[0]) == 2 and tf.dimension_at_index(c.shape, 0).value == 2
        assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])).as_list() == [2, 3]
        assert tf.tables_initializer().type == "NoOp"
        with tf.op_scope([c], "outer"):
            assert tf.constant(0).name == "outer/Const:0"


def test_no_gradient_declares_an_op_type_not_differentiable():
    from jitgraph.ops.registry import define_op, make_op
    define_op("TestOnlyOpaque", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], lambda x: x * 2)
    with tf.Graph().as_default():
        x = tf.constant([1.0])
        y = make_op("TestOnlyOpaque", [x], {}).outputs[0]
        with pytest.raises(LookupError, match="TestOnlyOpaque"):
            tf.gradients(y, x)
        tf.no_gradient("TestOnlyOpaque")
        assert tf.gradients(y, x) == [None]
