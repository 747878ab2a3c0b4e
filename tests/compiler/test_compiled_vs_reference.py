"""Compiled plans against the reference executor: the elementwise op table and random graphs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.ops import math_ops


pytestmark = pytest.mark.usefixtures("eager_strict")


def _run_both(graph, fetches, feeds=None, init=None):
    """(compiled values, reference values, compiled session's cache_info)."""
    out = []
    for mode in ("eager", "never"):
        config.set_compile_mode(mode)
        with tf.Session(graph=graph) as sess:
            if init is not None:
                sess.run(init)
            out.append(sess.run(fetches, feeds))
            if mode == "eager":
                info = sess.cache_info()
    config.set_compile_mode("eager")
    return out[0], out[1], info


ULP_OPS = {"Exp", "Log", "Tanh", "Sigmoid", "Log1p", "Expm1", "Sin", "Cos", "Atan2", "Softplus", "Pow", "Sqrt",
           "Rsqrt", "Reciprocal", "RealDiv"}
FLOAT_DATA = np.array([-3.5, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0, 2.5, 7.0, np.inf, -np.inf, np.nan], np.float32)
INT_DATA = np.array([-7, -3, -1, 0, 1, 2, 5, 9], np.int32)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_elementwise_op_table_matches_reference(dtype):
    """Every unary and binary op of the math table, in one plan per dtype (one compile)."""
    np_dt = np.dtype(dtype)
    data = FLOAT_DATA.astype(np_dt) if np_dt.kind == "f" else INT_DATA
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(dtype, [len(data)])
        y = tf.placeholder(dtype, [len(data)])
        names, fetches = [], []
        for row in math_ops.UNARY:
            op_type, allowed = row[0], row[3]
            if allowed in ("float",) and np_dt.kind != "f" or allowed == "bool":
                continue
            names.append(op_type)
            fetches.append(math_ops.unary(op_type, x))
        for row in math_ops.BINARY:
            op_type, allowed = row[0], row[3]
            if allowed == "float" and np_dt.kind != "f" or allowed == "bool":
                continue
            names.append(op_type)
            fetches.append(math_ops.binary(op_type, x, y))
        fetches.append(tf.cast(x, tf.int32 if np_dt.kind == "f" else tf.float32))
        names.append("Cast")
    yv = np.roll(data, 3)
    if np_dt.kind == "i":
        yv = np.where(yv == 0, 2, np.abs(yv) % 4)       # valid divisors and exponents
    feeds = {x: data, y: yv}
    if np_dt.kind == "f":   # float->int cast of inf/nan is undefined: keep the cast finite
        feeds = {x: np.nan_to_num(data, posinf=9.0, neginf=-9.0), y: yv}
    got, want, info = _run_both(g, fetches, feeds)
    assert info["compiles"] == 1 and not info["fallbacks"]
    for name, a, b in zip(names, got, want):
        if np_dt.kind == "f" and name in ULP_OPS:
            np.testing.assert_allclose(a, b, rtol=2e-6 if dtype == "float32" else 1e-14, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


# ---- random graphs -------------------------------------------------------------------------------
UN = [tf.negative, tf.abs, tf.square, tf.tanh, tf.nn.relu]
BIN = [tf.add, tf.subtract, tf.multiply, tf.maximum, tf.minimum]
RED = [tf.reduce_sum, tf.reduce_max, tf.reduce_mean, tf.reduce_min]


@st.composite
def programs(draw):
    """A random program: placeholders and variables of broadcast-compatible shapes, elementwise
    ops, reductions, assigns and control dependencies, fetched at several points."""
    rows = draw(st.sampled_from([1, 3]))
    shapes = [(rows, 4), (1, 4), (4,), (rows, 1), ()]
    g = tf.Graph()
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    feeds, fetches, targets = {}, [], []
    with g.as_default():
        pool = []
        for i in range(draw(st.integers(1, 3))):
            s = draw(st.sampled_from(shapes))
            p = tf.placeholder(tf.float32, s)
            feeds[p] = rng.uniform(-2, 2, size=s).astype(np.float32)
            pool.append(p)
        var = tf.Variable(rng.uniform(-2, 2, size=(rows, 4)).astype(np.float32))
        pool.append(var.value())
        for _ in range(draw(st.integers(1, 8))):
            kind = draw(st.sampled_from(["un", "bin", "bin", "red", "assign", "read"]))
            a = draw(st.sampled_from(pool))
            if kind == "un":
                pool.append(draw(st.sampled_from(UN))(a))
            elif kind == "bin":
                try:
                    pool.append(draw(st.sampled_from(BIN))(a, draw(st.sampled_from(pool))))
                except ValueError:     # shapes that do not broadcast: not a program
                    pass
            elif kind == "red":
                axis = draw(st.sampled_from([None, 0, -1])) if a.shape.ndims else None
                pool.append(draw(st.sampled_from(RED))(a, axis=axis))
            elif kind == "assign" and a.shape.as_list() in ([rows, 4], [1, 4], [4], []):
                upd = draw(st.sampled_from([var.assign_add, var.assign_sub, var.assign]))(
                    tf.zeros((rows, 4)) + a if a.shape.as_list() != [rows, 4] else a)
                targets.append(upd.op)
                with tf.control_dependencies([upd]):
                    pool.append(tf.identity(var.value() * 1.0))
            else:
                pool.append(var.read_value() if hasattr(var, "read_value") else tf.identity(var))
        fetches = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(1, 3)))]
    return g, fetches + targets, feeds, var


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_random_programs_match_reference(prog):
    g, fetches, feeds, var = prog
    with g.as_default():
        init = tf.global_variables_initializer()
    out = []
    for mode in ("eager", "never"):
        config.set_compile_mode(mode)
        with tf.Session(graph=g) as sess:
            sess.run(init)
            vals = sess.run(fetches, feeds)
            vals2 = sess.run(fetches, feeds)          # second run: the state written by the first
            out.append((vals, vals2, sess.run(var)))
    config.set_compile_mode("eager")
    for a, b in zip(out[0][0] + out[0][1] + [out[0][2]], out[1][0] + out[1][1] + [out[1][2]]):
        if a is None:
            assert b is None
            continue
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
