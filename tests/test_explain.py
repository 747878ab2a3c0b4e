"""``sess.explain``: the compiled plan as text and as a Graphviz picture."""

import shutil

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.explain import Explanation


def _model():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [3, 2])
        b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
    y = tf.tanh(tf.matmul(x, w) + b)
    loss = tf.reduce_mean(tf.square(y), name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return x, w, loss, train


@pytest.fixture(scope="module")
def explained():
    with tf.Graph().as_default():
        x, w, loss, train = _model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(w)
            e = sess.explain([train, loss], {x: np.ones((4, 3), np.float32)})
            after = sess.run(w)
        yield e, before, after


def test_explain_describes_kernels_blas_in_place_writes_and_buffers(explained):
    e, before, after = explained
    assert isinstance(e, Explanation) and e.num_kernels >= 3
    kinds = {s["kind"] for s in e.steps}
    assert kinds == {"kernel", "numpy"}
    blas = [s for s in e.steps if s["kind"] == "numpy" and s["impl"] == "BLAS"]
    assert [s["ops"][0][1] for s in blas][:1] == ["MatMul"] and blas[0]["vars"] == ["layer/w"]
    writes = {v for s in e.steps if s["kind"] == "kernel" for v in s["writes"]}
    assert writes == {"layer/w", "layer/b"}                  # SGD updates fused, written in place
    fused = [s for s in e.steps if s["kind"] == "kernel" and len(s["ops"]) > 1]
    assert any({t for _, t in s["ops"]} >= {"Add", "Tanh"} for s in fused)
    assert e.buffers["loss:0"] == "fresh" and set(e.buffers.values()) <= {"scratch", "pool", "fresh", "snapshot"}
    assert {"prune", "fuse", "schedule", "codegen", "compile"} <= set(e.timings)
    np.testing.assert_array_equal(before, after)             # explaining runs nothing


def test_explain_text(explained):
    text = str(explained[0])
    assert text.startswith("Plan for fetches [GradientDescent, loss:0] with feeds [x:0 [4, 3] float32]")
    assert "Compile time: prune" in text and "writes variable(s) in place: layer/w" in text
    assert "BLAS   MatMul (MatMul)" in text and "loss:0 [fresh]" in text


def test_explain_picture_source(explained):
    pytest.importorskip("graphviz", reason="the picture needs the jitgraph[viz] extra")
    dot = explained[0].dot()
    assert "kernel" in dot and "in place" in dot and "cylinder" in dot and "BLAS: MatMul" in dot
    assert "fetch loss:0" in dot and "feed x:0" in dot


def test_explain_without_dot_program_is_a_clear_error(explained, tmp_path, monkeypatch):
    graphviz = pytest.importorskip("graphviz", reason="the picture needs the jitgraph[viz] extra")

    def missing(*a, **k):
        raise graphviz.ExecutableNotFound(("dot",))
    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    with pytest.raises(RuntimeError, match="Graphviz's 'dot' program"):
        explained[0].write_svg(str(tmp_path / "p.svg"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_explain_writes_svg(tmp_path):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        y = tf.reduce_sum(tf.exp(x) * 2.0)
        e = tf.explain(y, {x: np.zeros(5, np.float32)}, svg_path=str(tmp_path / "p.svg"))
    svg = (tmp_path / "p.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Exp" in svg
    assert e.num_kernels == 1
