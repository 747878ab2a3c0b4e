"""Random programs of splits and concats (equal and unequal parts, either axis, parts fetched, fed
to matmuls or to elementwise math, concats of kernel results, of a feed and of parts), with the
gradient of a loss over all of them, batches of 1 and 3 with a free or a fixed batch dim: the
compiled plan must compile (no fallback) and match the reference executor. Seed 6 found a
concat's readers keeping a dim name that no kernel operand gave once the concat was stored in
place (the plan fell back to the reference)."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config


def _part_use(rng, p, parts, axis, vals, fetches):
    r = rng.random()
    if r < 0.3:
        vals.append(tf.sigmoid(p) * 2.0 - p)
    elif r < 0.45:
        fetches.append(p)
    elif r < 0.6:
        q = p
        if axis == 0:
            q = tf.matmul(p, tf.constant(rng.standard_normal((p.shape[1].value, 3)).astype(np.float32)))
        fetches.append(tf.tanh(q))
    elif r < 0.8:
        other = parts[int(rng.integers(len(parts)))]
        if other.shape.as_list() == p.shape.as_list():
            vals.append(p * other + 1.0)
    else:
        fetches.append(tf.reduce_sum(tf.exp(p * 0.1), axis=int(rng.integers(0, 2))))


def _concat(rng, x, vals, fetches):
    base = vals[int(rng.integers(len(vals)))]
    same = [v for v in vals if v.shape.as_list() == base.shape.as_list()]
    picks = [same[int(rng.integers(len(same)))] for _ in range(int(rng.integers(2, 4)))]
    picks = [tf.sigmoid(p) if rng.random() < 0.5 else p for p in picks]
    if rng.random() < 0.3:
        fits = x.shape.as_list()[1:] == base.shape.as_list()[1:] and base.shape[0].value is None
        picks.append(x if fits else picks[0] * 3.0)
    axis = int(rng.integers(0, 2))
    c = tf.concat(picks, axis=axis)
    r = rng.random()
    if r < 0.4:
        fetches.append(c)
    elif r < 0.7:
        fetches.append(tf.tanh(c) + 1.0)
    else:
        fetches.append(tf.reduce_sum(c if axis == 0 else tf.transpose(c), axis=0))


def _program(seed):
    rng = np.random.default_rng(seed)
    batch, width = int(rng.choice([1, 3])), int(rng.choice([4, 6, 12]))
    x = tf.placeholder(tf.float32, [None, width] if rng.random() < 0.7 else [batch, width])
    w = tf.Variable(rng.standard_normal((width, width)).astype(np.float32) * 0.5)
    z = tf.matmul(x, w) if rng.random() < 0.7 else tf.tanh(x * 1.5)
    vals, fetches = [z], []
    for _ in range(int(rng.integers(1, 4))):
        src = vals[int(rng.integers(len(vals)))]
        shape = src.shape.as_list()
        axis = int(rng.integers(0, 2)) if shape[0] is not None else 1
        divisors = [n for n in (2, 3, 4, 6) if shape[axis] % n == 0]
        if not divisors:
            continue
        if rng.random() < 0.6:
            parts = tf.split(src, int(rng.choice(divisors)), axis=axis)
        else:
            cut = int(rng.integers(1, shape[axis]))
            parts = tf.split(src, [cut, shape[axis] - cut], axis=axis)
        for p in parts:
            _part_use(rng, p, parts, axis, vals, fetches)
    for _ in range(int(rng.integers(0, 3))):
        _concat(rng, x, vals, fetches)
    fetches += vals[1:] or [tf.reduce_sum(z)]
    loss = tf.add_n([tf.reduce_sum(tf.square(f)) for f in fetches])
    grad = tf.gradients(loss, w)[0]
    fetches += ([grad] if grad is not None else []) + [loss]
    return fetches, {x: rng.standard_normal((batch, width)).astype(np.float32)}


def _run(seed, mode):
    prev = config.set_compile_mode(mode)
    try:
        with tf.Graph().as_default():
            fetches, feeds = _program(seed)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                out = sess.run(fetches, feeds)
                return out, sess.cache_info()["fallbacks"]
    finally:
        config.set_compile_mode(prev)


@pytest.mark.parametrize("seed", range(12))
def test_compiled_splits_and_concats_match_the_reference(seed):
    got, fallbacks = _run(seed, "eager")
    want, _ = _run(seed, "never")
    assert not fallbacks
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
