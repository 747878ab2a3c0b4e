"""``kernels.pool``: MaxPool / AvgPool and their gradients against the NumPy reference (odd shapes,
ties, NaN/Inf, both dtypes, NCHW, the serial and the parallel path) and against TF 2.21's values
(``tests/oracle/record_pooling.py``)."""

import os

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.kernels import pool
from jitgraph.ops.registry import OPS

ORACLE = np.load(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "pooling.npz"))
CASES = sorted({k.rsplit("/", 1)[0] for k in ORACLE.files})


def _attrs(k, s, padding, data_format="NHWC"):
    if data_format == "NCHW":
        return dict(ksize=[1, 1, *k], strides=[1, 1, *s], padding=padding, data_format="NCHW")
    return dict(ksize=[1, *k, 1], strides=[1, *s, 1], padding=padding, data_format="NHWC")


def _run_all(x, g, a, fn="fast"):
    """MaxPool, AvgPool, MaxPoolGrad, AvgPoolGrad through ``extra["fast"]`` or the reference."""
    def call(op, *args):
        return OPS[op].extra["fast"](*args, **a) if fn == "fast" else OPS[op].compute(*args, **a)
    with np.errstate(all="ignore"):
        mp, ap = call("MaxPool", x), call("AvgPool", x)
        return mp, ap, call("MaxPoolGrad", x, mp, g), call("AvgPoolGrad", np.array(x.shape, np.int32), g)


def _assert_same(got, want, exact, what):
    assert got.shape == want.shape and got.dtype == want.dtype, what
    if exact:
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:   # sums of overlapping windows' gradients, added in another order
        tol = np.finfo(want.dtype).eps * 8 * max(1.0, float(np.nanmax(np.abs(want), initial=0)))
        np.testing.assert_allclose(got, want, rtol=0, atol=tol, err_msg=what)


@pytest.mark.parametrize("case", CASES)
def test_matches_tensorflow(case):
    kh, kw, sh, sw, same = ORACLE[case + "/config"]
    a = _attrs((kh, kw), (sh, sw), "SAME" if same else "VALID")
    x, g = ORACLE[case + "/x"], ORACLE[case + "/g"]
    got = _run_all(x, g, a)
    for name, v in zip(("max_pool", "avg_pool", "max_pool_grad", "avg_pool_grad"), got):
        want = ORACLE[f"{case}/{name}"]
        assert v.dtype == want.dtype
        np.testing.assert_allclose(v, want, rtol=2e-6, atol=2e-6, err_msg=f"{case} {name}")


def _inputs(rng, shape, kind, dtype):
    if kind == "ties":
        x = rng.integers(-1, 2, shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    if kind == "special":
        flat = x.reshape(-1)
        for v in (np.nan, np.inf, -np.inf):
            flat[rng.choice(flat.size, max(1, flat.size // 9), replace=False)] = v
    return x


_GEOMETRIES = [  # (x shape NHWC, ksize, strides, padding)
    ((1, 5, 7, 3), (2, 2), (2, 2), "SAME"),
    ((1, 5, 7, 3), (2, 2), (2, 2), "VALID"),
    ((2, 9, 4, 5), (3, 3), (2, 2), "SAME"),
    ((2, 9, 4, 5), (3, 2), (1, 1), "VALID"),
    ((3, 6, 11, 1), (1, 3), (2, 3), "SAME"),
    ((1, 4, 4, 7), (5, 5), (1, 1), "SAME"),      # window larger than the image
    ((2, 8, 6, 2), (2, 3), (3, 1), "VALID"),
    ((1, 1, 1, 3), (1, 1), (1, 1), "VALID"),
    ((2, 6, 8, 19), (2, 2), (2, 2), "SAME"),     # 2x2 / 2 tiling the image: the specialized kernels
    ((1, 4, 2, 16), (2, 2), (2, 2), "VALID"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["normal", "ties", "special"])
@pytest.mark.parametrize("geom", range(len(_GEOMETRIES)))
def test_equals_the_reference(dtype, kind, geom):
    shape, k, s, padding = _GEOMETRIES[geom]
    rng = np.random.default_rng(geom * 7 + len(kind))
    x = _inputs(rng, shape, kind, dtype)
    a = _attrs(k, s, padding)
    g = rng.standard_normal(OPS["MaxPool"].compute(x, **a).shape).astype(dtype)
    ref = _run_all(x, g, a, "reference")
    got = _run_all(x, g, a)
    overlapping = k[0] > s[0] or k[1] > s[1]
    for name, v, w in zip(("MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad"), got, ref):
        _assert_same(v, w, exact=name != "MaxPoolGrad" or not overlapping, what=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_path_p1_shape(dtype, monkeypatch):
    """Enough work to split the images between the chunk workers (P1's first pool, fewer images;
    the 2x2 kernels' own threshold lowered to the generic one so that they split too)."""
    rng = np.random.default_rng(1)
    x = _inputs(rng, (3, 28, 28, 32), "ties", dtype)
    assert x.size >= pool._PARALLEL_MIN
    monkeypatch.setattr(pool, "_PARALLEL_MIN_2X2", pool._PARALLEL_MIN)
    splits = []
    run_chunks = pool.blas.run_chunks
    monkeypatch.setattr(pool.blas, "run_chunks", lambda n, work, m: (splits.append(n), run_chunks(n, work, m)))
    a = _attrs((2, 2), (2, 2), "SAME")
    g = rng.standard_normal((3, 14, 14, 32)).astype(dtype)
    for name, v, w in zip("max avg max_grad avg_grad".split(), _run_all(x, g, a), _run_all(x, g, a, "reference")):
        _assert_same(v, w, exact=True, what=name)
    assert splits == [3] * 4                   # every image a chunk
    a = _attrs((3, 3), (1, 1), "SAME")         # overlapping windows, parallel scatter per image
    g = rng.standard_normal(x.shape).astype(dtype)
    for name, v, w in zip("max avg max_grad avg_grad".split(), _run_all(x, g, a), _run_all(x, g, a, "reference")):
        _assert_same(v, w, exact=name != "max_grad", what=name)


def test_nchw_noncontiguous_and_empty():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)     # NCHW
    a = _attrs((2, 3), (2, 2), "SAME", "NCHW")
    g = rng.standard_normal(OPS["MaxPool"].compute(x, **a).shape).astype(np.float32)
    for v, w in zip(_run_all(x, g, a), _run_all(x, g, a, "reference")):
        _assert_same(v, w, exact=True, what="NCHW")
    xs = rng.standard_normal((2, 9, 14, 4)).astype(np.float64)[:, ::2, 1::2]  # strided view
    a = _attrs((3, 3), (2, 2), "VALID")
    g = rng.standard_normal(OPS["MaxPool"].compute(xs, **a).shape)
    for v, w in zip(_run_all(xs, g, a), _run_all(xs, g, a, "reference")):
        _assert_same(v, w, exact=True, what="strided view")
    for shape in ((0, 4, 4, 2), (2, 4, 4, 0)):
        x0 = np.zeros(shape, np.float32)
        a = _attrs((2, 2), (2, 2), "SAME")
        g0 = np.zeros(OPS["MaxPool"].compute(x0, **a).shape, np.float32)
        for v, w in zip(_run_all(x0, g0, a), _run_all(x0, g0, a, "reference")):
            _assert_same(v, w, exact=True, what=f"empty {shape}")


def test_other_dtypes_use_the_reference():
    x = np.arange(2 * 5 * 5 * 2, dtype=np.int32).reshape(2, 5, 5, 2) % 7
    a = _attrs((2, 2), (2, 2), "SAME")
    np.testing.assert_array_equal(OPS["MaxPool"].extra["fast"](x, **a), OPS["MaxPool"].compute(x, **a))
    h = x.astype(np.float16)
    g = np.ones((2, 3, 3, 2), np.float16)
    for v, w in zip(_run_all(h, g, a), _run_all(h, g, a, "reference")):
        _assert_same(v, w, exact=True, what="float16")


def test_compiled_cnn_gradients_equal_the_reference_executor():
    """A Session plan runs the fast pools (and their gradients) and gives the reference's values."""
    rng = np.random.default_rng(3)
    xv = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    outs = []
    for mode in ("eager", "never"):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, xv.shape)
            y = tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
            z = tf.nn.avg_pool(y * y, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
            dx = tf.gradients(tf.reduce_sum(z * z), x)[0]
            prev = config.set_compile_mode(mode)
            try:
                with tf.Session() as sess:
                    outs.append(sess.run([z, dx], {x: xv}))
            finally:
                config.set_compile_mode(prev)
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
