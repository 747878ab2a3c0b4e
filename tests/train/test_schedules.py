"""``jitgraph/train/schedules.py``: every schedule over a range of global steps against TF 2.21's
values (``tests/oracle/record_schedules.py``), and a schedule driving an optimizer."""

import json
from pathlib import Path

import numpy as np
import pytest

import jitgraph as tf

TF = json.loads((Path(__file__).resolve().parents[1] / "oracle" / "data" / "schedules.json").read_text())
CASES = [k for k, v in TF.items() if isinstance(v, dict) and "call" in v]


def _run(t, step):
    from jitgraph.compiler import config
    prev = config.set_compile_mode("never")
    try:
        with tf.Session() as sess:
            return [sess.run(t, {step: i}).item() for i in TF["steps"]]
    finally:
        config.set_compile_mode(prev)


@pytest.mark.parametrize("case", CASES)
def test_schedule_matches_tf(case):
    fn, args, kw = TF[case]["call"]
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        lr = getattr(tf.train, fn)(*args, global_step=step, **kw)
        assert lr.dtype.name == TF[case]["dtype"] and lr.shape.as_list() == []
        got = _run(lr, step)
    np.testing.assert_allclose(got, TF[case]["values"], rtol=2e-6, atol=1e-9)


def test_piecewise_constant_matches_tf():
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        pw = tf.train.piecewise_constant(step, [10, 100], [1.0, 0.5, 0.1])
        pw_int = tf.train.piecewise_constant(tf.cast(step, tf.int32), [5, 33], [3, 2, 1])
        assert pw_int.dtype == tf.int32
        np.testing.assert_allclose(_run(pw, step), TF["piecewise"]["values"])
        assert _run(pw_int, step) == TF["piecewise_int"]["values"]
        with pytest.raises(ValueError, match="1 less than"):
            tf.train.piecewise_constant(step, [10], [1.0])
        with pytest.raises(ValueError, match="global_step is required"):
            tf.train.exponential_decay(0.1, None, 10, 0.5)


def test_a_decayed_rate_drives_gradient_descent():
    """``x -= lr(step) * 2x`` with ``lr = 0.25 * 0.5 ** step`` (staircase every step)."""
    with tf.Graph().as_default():
        x = tf.Variable(1.0)
        step = tf.train.get_or_create_global_step()
        lr = tf.train.exponential_decay(0.25, step, 1, 0.5, staircase=True)
        train = tf.train.GradientDescentOptimizer(lr).minimize(tf.square(x), global_step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            got = sess.run([x, step])
    want = 1.0
    for k in range(3):
        want -= 0.25 * 0.5 ** k * 2 * want
    assert got[1] == 3 and got[0] == pytest.approx(want, rel=1e-6)


def test_noisy_linear_cosine_decay_scatters_around_linear_cosine():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        step = tf.placeholder(tf.int64, [])
        clean = tf.train.linear_cosine_decay(0.1, step, 100)
        noisy = tf.train.noisy_linear_cosine_decay(0.1, step, 100, initial_variance=0.01)
        with tf.Session() as sess:
            c = sess.run(clean, {step: 99})
            draws = np.array([sess.run(noisy, {step: 99}) for _ in range(200)])
    # the noise on the linear part has std sqrt(0.01 / 100 ** 0.55) ~ 0.028, times lr * cosine
    assert len(set(draws.tolist())) > 150 and abs(draws.mean() - c) < 3 * draws.std() / np.sqrt(200)
