"""Smoke tests for ``benchmarks/ops.py`` (the per-op table) and ``benchmarks/programs.py`` (the P1
training step): they run and report; timings are never asserted."""
import os
import subprocess
import sys

import numpy as np

import jitgraph as tf
from benchmarks import ops, programs
from jitgraph.compiler import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ops_table_runs_the_fast_kernel_and_the_reference():
    cmd = [sys.executable, "-m", "benchmarks.ops", "--impls", "jitgraph", "--reps", "1", "--passes", "1",
           "--pause", "0", "--only", "C2 pool 2x2 14x14x32"]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    rows = [line for line in p.stdout.splitlines() if line.startswith("C2 pool 2x2 14x14x32")]
    assert [r.split()[4] for r in rows] == ["MaxPool", "MaxPoolGrad"]
    for r in rows:
        fast, ref, tf_ms = r.split()[5:8]
        assert float(fast) > 0 and float(ref) > 0 and tf_ms == "n/a"


def test_every_case_has_inputs_matching_its_op():
    for i, case in enumerate(ops.cases()):
        args = ops.inputs(case, i)
        assert len(args) == len(case.shapes), case.name


def test_p1_builds_and_trains_on_the_reference_executor():
    prev = config.set_compile_mode("never")
    try:
        g = tf.Graph()
        with g.as_default():
            prog = programs.p1_cnn(tf, batch=2)
            init = tf.global_variables_initializer()
        with tf.Session(graph=g) as sess:
            sess.run(init)
            before = sess.run(prog.loss, prog.check_feeds)
            for i in range(2):
                sess.run(prog.train, prog.feeds(i))
            after = sess.run(prog.loss, prog.check_feeds)
    finally:
        config.set_compile_mode(prev)
    assert np.isfinite(before) and np.isfinite(after) and after != before


def test_flop_floor_counts_each_product_of_a_training_step_once():
    """``flop_floor.count_flops``: 2*m*k*n for each matmul, 2*positions*KH*KW*C*F for each conv and
    each of its two gradients, native loop bodies included (counted as the reference runs them)."""
    from benchmarks import flop_floor
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [4, 6, 6, 2])
        k = tf.Variable(np.full((3, 3, 2, 5), 0.1, np.float32))
        h = tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME")                      # [4, 6, 6, 5]
        w = tf.Variable(np.full((180, 7), 0.01, np.float32))
        y = tf.matmul(tf.reshape(h, [4, 180]), w)                        # [4, 180] x [180, 7]
        i, acc = tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, tf.matmul(a, tf.ones([7, 7]))),
                               [0, y])
        loss = tf.reduce_sum(acc)
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[k, w])
        init = tf.global_variables_initializer()
    with tf.Session(graph=g) as sess:
        sess.run(init)
        mm, conv = flop_floor.count_flops(sess, [train, loss], {x: np.ones((4, 6, 6, 2), np.float32)})
    loop = 3 * 2 * 4 * 7 * 7
    # forward matmul, its two gradients; the loop's 3 products forward and 3 gradients of a
    assert mm == 3 * (2 * 4 * 180 * 7) + 2 * loop
    assert conv == 2 * (2 * 4 * 36 * 3 * 3 * 2 * 5)   # forward, filter gradient (x needs none)
    assert flop_floor.sgemm_rate(n=64, reps=1) > 0
