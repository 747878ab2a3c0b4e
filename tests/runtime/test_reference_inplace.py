"""The reference executor writes a ufunc's result into a dying input's buffer only when nothing else
can see that buffer: not fetched, not fed, not a variable, no live view or alias of it."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.runtime import reference


@pytest.fixture(autouse=True)
def reference_only():
    prev = config.set_compile_mode("never")
    yield
    config.set_compile_mode(prev)


@pytest.fixture
def donations(monkeypatch):
    seen = []
    real = reference._free_buffer

    def spy(args, slots, dtype):
        buf = real(args, slots, dtype)
        seen.append(buf is not None)
        return buf
    monkeypatch.setattr(reference, "_free_buffer", spy)
    return seen


X = np.linspace(-2, 2, 12, dtype=np.float32)
W = np.linspace(1, 3, 12, dtype=np.float32)


def test_an_elementwise_chain_reuses_its_temporaries(g, donations):
    x = tf.placeholder(tf.float32, [12])
    y = tf.nn.relu(x * W + 1.0) * 0.5 + tf.tanh(x)
    with tf.Session() as s:
        got = s.run(y, {x: X})
    np.testing.assert_allclose(got, np.maximum(X * W + 1, 0) * 0.5 + np.tanh(X), rtol=1e-6)
    assert sum(donations) == 4     # +1.0, relu, *0.5 and the final + write into their input


def test_a_live_view_or_alias_keeps_the_buffer(g, donations):
    x = tf.placeholder(tf.float32, [12])
    a = x * W
    view = tf.reshape(a, [3, 4])           # a view of a's buffer, fetched
    same = tf.identity(a)                  # the same array object under another tensor
    later = a + 1.0                        # a's last use: must not overwrite a
    with tf.Session() as s:
        v, i, z = s.run([view, same, later], {x: X})
    np.testing.assert_array_equal(v.reshape(-1), X * W)
    np.testing.assert_array_equal(i, X * W)
    np.testing.assert_array_equal(z, X * W + 1)
    assert not any(donations)


def test_fetched_fed_and_variable_values_are_never_written(g, donations):
    x = tf.placeholder(tf.float32, [12])
    v = tf.Variable(W)
    a = x * 2.0
    fetched_then_used = a + 1.0                   # a is fetched: kept
    from_var = v * 1.0 + 0.0                      # v*1 is owned and dies into +0: donated
    with tf.Session() as s:
        s.run(v.initializer)
        xv = X.copy()
        got_a, got_b, got_v = s.run([a, fetched_then_used, from_var], {x: xv})
        np.testing.assert_array_equal(s.run(v), W)
    np.testing.assert_array_equal(xv, X)
    np.testing.assert_array_equal(got_a, X * 2)
    np.testing.assert_array_equal(got_b, X * 2 + 1)
    np.testing.assert_array_equal(got_v, W)
    assert donations == [True]       # only v*1 -> +0 was a candidate (a is fetched)


def test_broadcasting_or_dtype_change_allocates(g, donations):
    x = tf.placeholder(tf.float32, [3, 1])
    wide = (x * 2.0) + tf.constant(np.ones((1, 4), np.float32))   # result is larger than x*2
    mask = (x * 2.0) > 0.0                                          # bool result
    with tf.Session() as s:
        got_w, got_m = s.run([wide, mask], {x: np.ones((3, 1), np.float32)})
    np.testing.assert_array_equal(got_w, np.full((3, 4), 3, np.float32))
    assert got_m.all() and not any(donations)
