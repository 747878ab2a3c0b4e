"""``jitgraph/ops/scatter_ops.py``: variable scatters (values and the variable afterwards, repeated
indices, errors that leave the variable unchanged, program order in compiled plans) and tensor
scatters with gradients, against TF 2.21's recorded values."""

from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf
from op_library_checks import gradient_error, reference_executor

TF = np.load(Path(__file__).resolve().parents[1] / "oracle" / "data" / "ops.npz")
INIT, IDX, UPD, ND_IDX = (TF[f"scatter/{k}"] for k in ("init", "idx", "upd", "nd_idx"))


def _scatters():
    res = {}
    for op in ("add", "sub", "mul", "div", "max", "min"):
        v = tf.Variable(INIT)
        res[op] = (v, getattr(tf, "scatter_" + op)(v, IDX, UPD))
    v = tf.Variable(INIT)
    res["update"] = (v, tf.scatter_update(v, [4, 1], UPD[:2]))
    v = tf.Variable(INIT)
    res["update_scalar"] = (v, tf.scatter_update(v, [2], 7.0))
    vi = tf.Variable(np.array([7, -7, 9, 100], np.int32))
    res["div_int"] = (vi, tf.scatter_div(vi, [0, 1, 1, 3], np.array([2, 2, 2, -7], np.int32)))
    for op in ("update", "add", "sub"):
        v = tf.Variable(INIT)
        idx, upd = (ND_IDX[1:], np.arange(3.0)[1:] + 1) if op == "update" else (ND_IDX, np.arange(3.0) + 1)
        res["nd_" + op] = (v, getattr(tf, "scatter_nd_" + op)(v, idx, upd))
    v = tf.Variable(INIT)
    res["nd_rows"] = (v, tf.scatter_nd_add(v, [[1], [3]], UPD[:2]))
    return res


@pytest.mark.parametrize("compiled", [False, True], ids=["reference", "compiled"])
def test_variable_scatters_match_tf(compiled):
    with tf.Graph().as_default():
        res = _scatters()
        with (reference_executor() if not compiled else _nothing()), tf.Session() as sess:
            for key, (v, r) in res.items():
                sess.run(v.initializer)
                got = sess.run(r)
                np.testing.assert_allclose(got, TF[f"scatter_{key}/result"], err_msg=key)
                np.testing.assert_allclose(sess.run(v), TF[f"scatter_{key}/variable"], err_msg=key)
                assert got.dtype == TF[f"scatter_{key}/result"].dtype


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_scatter_out_of_range_raises_and_leaves_the_variable_unchanged():
    with tf.Graph().as_default():
        v = tf.Variable(INIT)
        bad = tf.scatter_add(v, [1, 5], UPD[:2])
        bad_nd = tf.scatter_nd_update(v, [[0, 3]], [1.0])
        with reference_executor(), tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 5 is not in \[0, 5\)"):
                sess.run(bad)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"is not in \[0, 3\)"):
                sess.run(bad_nd)
            np.testing.assert_array_equal(sess.run(v), INIT)


def test_scatter_build_time_errors_name_the_op():
    with tf.Graph().as_default():
        v = tf.Variable(INIT)
        with pytest.raises(ValueError, match="ScatterUpdate: updates of shape"):
            tf.scatter_update(v, [0, 1], np.ones((2, 2)))
        with pytest.raises(TypeError, match="'ScatterAdd'"):
            tf.scatter_add(v, [0], tf.ones([1, 3], tf.float32))
        with pytest.raises(TypeError, match="variable or a reference tensor"):
            tf.scatter_add(tf.constant(INIT), [0], np.ones((1, 3)))


def test_scatter_needs_an_initialized_variable():
    with tf.Graph().as_default():
        v = tf.Variable(INIT, name="table")
        up = tf.scatter_add(v, [0], np.ones((1, 3)))
        with reference_executor(), tf.Session() as sess, \
                pytest.raises(tf.errors.FailedPreconditionError, match="table"):
            sess.run(up)


def test_scatter_is_ordered_as_a_write_among_reads_and_assigns():
    """A read created after a scatter sees it; one created before does not (program order), in
    the compiled plan as in the reference executor."""
    for mode in ("never", None):
        with tf.Graph().as_default():
            v = tf.Variable(np.zeros(4), name="v")
            before = v * 1.0
            up = tf.scatter_add(v, [1, 1, 3], [1.0, 2.0, 5.0])
            with tf.control_dependencies([up]):
                after = v * 1.0
                bump = tf.assign_add(v, np.ones(4))
            with tf.control_dependencies([bump]):
                last = tf.scatter_update(v, [0], [9.0])
            from jitgraph.compiler import config
            prev = config.set_compile_mode(mode) if mode else None
            try:
                with tf.Session() as sess:
                    sess.run(v.initializer)
                    b, a, l = sess.run([before, after, last])
            finally:
                if mode:
                    config.set_compile_mode(prev)
        np.testing.assert_array_equal(b, [0, 0, 0, 0])
        np.testing.assert_array_equal(a, [0, 3, 0, 5])
        np.testing.assert_array_equal(l, [9, 4, 1, 6])


def test_tensor_scatters_match_tf_with_gradients():
    for name, fn in (("update", tf.tensor_scatter_nd_update), ("add", tf.tensor_scatter_nd_add),
                     ("sub", tf.tensor_scatter_nd_sub)):
        key = f"tensor_scatter_{name}"
        idx = [[3], [1]] if name == "update" else [[1], [3], [1]]
        upd = TF[f"{key}/updates"][1:] if name == "update" else TF[f"{key}/updates"]
        with tf.Graph().as_default(), reference_executor(), tf.Session() as sess:
            x, u = tf.constant(TF[f"{key}/tensor"]), tf.constant(upd)
            y = fn(x, idx, u)
            gx, gu = tf.gradients(y, [x, u], grad_ys=tf.constant(TF[f"{key}/w"]))
            out = sess.run([y, gx, gu])
        want = [TF[f"{key}/{what}"] for what in ("value", "grad_tensor", "grad_updates")]
        if name == "update":   # TF's recording fed updates[1:] of a 3-row constant
            want[2] = want[2][1:]
        for got, w, what in zip(out, want, ("value", "grad_tensor", "grad_updates")):
            np.testing.assert_allclose(got, w, err_msg=f"{key} {what}")
        assert gradient_error(lambda a, b: fn(a, idx, b), [TF[f"{key}/tensor"], upd]) < 1e-6


# ---- _ScatterRowsUpdate: the optimizers' in-place row writes ----------------------------------------
@pytest.mark.parametrize("mode", ["never", "eager"])
def test_row_writes_in_place_errors_and_rollback(g, mode):
    from jitgraph import errors
    from jitgraph.compiler import config
    from jitgraph.ops.scatter_ops import scatter_rows_update
    table = tf.Variable(np.arange(8.0, dtype=np.float32).reshape(4, 2), name="table")
    rows = tf.placeholder(tf.int32, [None])
    values = tf.placeholder(tf.float32, [None, 2])
    x = tf.placeholder(tf.float32, [])
    write = scatter_rows_update(table, rows, values)
    with tf.control_dependencies([write]):
        checked = tf.debugging.check_numerics(x, "x is bad")       # fails after the write
    prev = config.set_compile_mode(mode)
    try:
        with tf.Session() as s:
            s.run(table.initializer)
            before = s.run(table)
            s.run(write, {rows: [3, 0], values: [[-1, -2], [-3, -4]]})
            np.testing.assert_array_equal(s.run(table), [[-3, -4], [2, 3], [4, 5], [-1, -2]])
            for feed, pattern in [({rows: [4], values: [[0, 0]]}, r"rows\[0\] = 4 is not in \[0, 4\)"),
                                  ({rows: [1, 2], values: [[0, 0]]}, r"must have shape \[2, 2\] for variable 'table'")]:
                with pytest.raises(errors.InvalidArgumentError, match=pattern):
                    s.run(write, feed)
            after = s.run(table)
            with pytest.raises(errors.InvalidArgumentError, match="x is bad"):
                s.run(checked, {rows: [1, 2], values: [[9, 9], [9, 9]], x: np.nan})
            np.testing.assert_array_equal(s.run(table), after)
            assert not np.array_equal(after, before)
    finally:
        config.set_compile_mode(prev)
