"""``kernels.conv``: the fast Conv2D (``OPS["Conv2D"].extra["fast"]``) against the NumPy reference.

The reference ``compute`` in ``nn_conv`` is the oracle (itself checked against naive loops in
``test_nn_ops``); the fast kernel must match it within float tolerance for every geometry.
"""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.kernels import blas, conv, winograd, winograd8
from jitgraph.ops import nn_conv
from jitgraph.ops.registry import OPS

TOL = {np.float32: 2e-5, np.float64: 1e-12}
DEFAULTS = {k: getattr(conv, k) for k in ("_SMALL_MACS", "_SMALL_IMAGE_MACS", "_T_MIN_OW")}


@pytest.fixture(autouse=True)
def every_path(monkeypatch):
    """The tests' small shapes take the chunked Numba paths they are written for, not the
    reference's one GEMM that small convs get (``test_small_and_narrow_convs`` checks that)."""
    for k in DEFAULTS:
        monkeypatch.setattr(conv, k, 0)


def _attrs(s, d, padding, data_format="NHWC"):
    return {"strides": nn_conv._seq(s, "strides", data_format), "padding": padding, "data_format": data_format,
            "dilations": nn_conv._seq(d, "dilations", data_format), "use_cudnn_on_gpu": True}


def _check(x, w, s=1, d=1, padding="SAME", data_format="NHWC"):
    a = _attrs(s, d, padding, data_format)
    ref = OPS["Conv2D"].compute(x, w, **a)
    got = OPS["Conv2D"].extra["fast"](x, w, **a)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL[x.dtype.type] * scale * np.sqrt(w[..., 0].size))
    return got


def _data(rng, shape_x, shape_w, dtype):
    return rng.standard_normal(shape_x).astype(dtype), rng.standard_normal(shape_w).astype(dtype)


def test_registered():
    assert OPS["Conv2D"].extra["fast"].resolve() is conv.conv2d_fast


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("s", [1, 2])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_grid(dtype, k, s, padding):
    rng = np.random.default_rng(k * 10 + s)
    x, w = _data(rng, (2, 9, 11, 3), (k, k, 3, 4), dtype)
    _check(x, w, s, 1, padding)


def test_random_shapes():
    rng = np.random.default_rng(0)
    for _ in range(40):
        n, h, wd = rng.integers(1, 4), rng.integers(1, 14), rng.integers(1, 14)
        c, f = rng.integers(1, 9), rng.integers(1, 9)
        kh, kw = rng.choice([1, 2, 3, 5]), rng.choice([1, 3, 4, 5])
        sh, sw = rng.integers(1, 4), rng.integers(1, 4)
        dh, dw = (1, 1) if rng.random() < 0.6 else (rng.integers(1, 3), rng.integers(1, 3))
        padding = "SAME" if rng.random() < 0.5 else "VALID"
        if padding == "VALID" and (h < (kh - 1) * dh + 1 or wd < (kw - 1) * dw + 1):
            padding = "SAME"
        dtype = np.float32 if rng.random() < 0.7 else np.float64
        x, w = _data(rng, (n, h, wd, c), (kh, kw, c, f), dtype)
        _check(x, w, [int(sh), int(sw)], [int(dh), int(dw)], padding)


def test_w6_shape_and_chunking():
    """W6's shape spans many L2 chunks (and, with a multi-threaded BLAS, both workers)."""
    rng = np.random.default_rng(1)
    x, w = _data(rng, (8, 32, 32, 32), (5, 5, 32, 32), np.float32)
    _check(x, w)
    prev = conv._ROW_BYTES
    try:
        conv._ROW_BYTES = 1            # the 16-row minimum chunk, ragged last chunk
        _check(x[:3, :7, :9], w)
    finally:
        conv._ROW_BYTES = prev


@pytest.mark.parametrize("case", [
    dict(x=(1, 1, 1, 1), w=(1, 1, 1, 1)),                       # 1x1 kernel, 1x1 image
    dict(x=(2, 5, 7, 3), w=(1, 1, 3, 6)),                       # 1x1 kernel: one matmul
    dict(x=(2, 5, 7, 3), w=(1, 1, 3, 6), s=2),                  # strided 1x1: im2col path
    dict(x=(1, 2, 3, 2), w=(5, 7, 2, 3)),                       # kernel larger than the input (SAME)
    dict(x=(1, 3, 3, 1), w=(3, 3, 1, 1), padding="VALID"),      # one output pixel
    dict(x=(3, 13, 1, 2), w=(3, 1, 2, 2), s=[2, 1]),            # width 1, odd sizes
    dict(x=(2, 6, 6, 4), w=(3, 3, 4, 2), d=2),                  # dilation
    dict(x=(2, 8, 8, 3), w=(4, 4, 3, 2), s=3, padding="SAME"),  # even kernel, uneven padding
])
def test_edge_cases(case):
    rng = np.random.default_rng(2)
    x, w = _data(rng, case["x"], case["w"], np.float32)
    _check(x, w, case.get("s", 1), case.get("d", 1), case.get("padding", "SAME"))


def test_empty_and_nchw_and_noncontiguous():
    rng = np.random.default_rng(3)
    x, w = _data(rng, (0, 5, 5, 2), (3, 3, 2, 4), np.float32)
    assert _check(x, w).shape == (0, 5, 5, 4)
    x, w = _data(rng, (2, 5, 5, 0), (3, 3, 0, 4), np.float32)
    assert not _check(x, w).any()
    x, w = _data(rng, (2, 3, 6, 7), (3, 3, 3, 4), np.float32)   # NCHW goes through the NHWC kernel
    _check(x, w, 1, 1, "SAME", "NCHW")
    x, w = _data(rng, (2, 9, 9, 6), (3, 3, 3, 4), np.float32)
    _check(x[:, ::2, 1:, ::2], w, 2, 1, "VALID")                  # strided view input


def test_unsupported_falls_back_to_reference():
    x = np.arange(2 * 4 * 4 * 2, dtype=np.float16).reshape(2, 4, 4, 2)
    w = np.ones((3, 3, 2, 2), np.float16)
    a = _attrs(1, 1, "SAME")
    np.testing.assert_array_equal(OPS["Conv2D"].extra["fast"](x, w, **a), OPS["Conv2D"].compute(x, w, **a))


def test_parallel_runner_serial_and_threads():
    """The chunk runner visits every chunk exactly once, with or without BLAS threads; fewer than
    ``MIN_PARALLEL_CHUNKS`` chunks stay on the calling thread."""
    import threading
    seen, where = [], set()

    def work(j):
        seen.append(j)
        where.add(threading.get_ident())
    blas.run_chunks(37, work)
    assert sorted(seen) == list(range(37))
    seen.clear()
    where.clear()
    blas.run_chunks(blas.MIN_PARALLEL_CHUNKS - 1, work)
    assert sorted(seen) == list(range(blas.MIN_PARALLEL_CHUNKS - 1)) and where == {threading.get_ident()}


def test_session_run_uses_fast_path(monkeypatch):
    from jitgraph.compiler import config
    calls = []
    fast = OPS["Conv2D"].extra["fast"]

    def counting(*args, **kw):
        calls.append(1)
        return fast(*args, **kw)
    monkeypatch.setitem(OPS["Conv2D"].extra, "fast", counting)
    rng = np.random.default_rng(5)
    xv, wv = _data(rng, (2, 8, 8, 3), (3, 3, 3, 4), np.float32)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 8, 8, 3])
        y = tf.nn.relu(tf.nn.conv2d(x, tf.constant(wv), strides=[1, 1, 1, 1], padding="SAME") + 1.0)
    prev = config.set_compile_mode("eager")
    try:
        with tf.Session(graph=g) as sess:
            got = sess.run(y, {x: xv})
            got = sess.run(y, {x: xv})
    finally:
        config.set_compile_mode(prev)
    assert calls, "Session.run did not call the registered fast Conv2D"
    ref = np.maximum(OPS["Conv2D"].compute(xv, wv, **_attrs(1, 1, "SAME")) + 1.0, 0)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


# ---- gradient kernels ------------------------------------------------------------------------------------
def _check_grads(x, w, s=1, d=1, padding="SAME", data_format="NHWC"):
    a = _attrs(s, d, padding, data_format)
    dy = np.random.default_rng(9).standard_normal(OPS["Conv2D"].compute(x, w, **a).shape).astype(x.dtype)
    for op, args in (("Conv2DBackpropInput", (np.array(x.shape, np.int32), w, dy)),
                     ("Conv2DBackpropFilter", (x, np.array(w.shape, np.int32), dy))):
        ref = OPS[op].compute(*args, **a)
        got = OPS[op].extra["fast"](*args, **a)
        assert got.shape == ref.shape and got.dtype == ref.dtype, op
        scale = max(1.0, float(np.abs(ref).max(initial=0.0)))
        np.testing.assert_allclose(got, ref, rtol=0, atol=TOL[x.dtype.type] * scale * np.sqrt(dy.size + w.size),
                                   err_msg=op)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("s", [1, 2])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_grad_grid(dtype, k, s, padding):
    rng = np.random.default_rng(k * 10 + s + 100)
    x, w = _data(rng, (2, 9, 11, 3), (k, k, 3, 4), dtype)
    _check_grads(x, w, s, 1, padding)


def test_grad_random_shapes():
    rng = np.random.default_rng(7)
    for _ in range(30):
        n, h, wd = rng.integers(1, 4), rng.integers(1, 12), rng.integers(1, 12)
        c, f = rng.integers(1, 6), rng.integers(1, 6)
        kh, kw = rng.choice([1, 2, 3, 5]), rng.choice([1, 3, 4])
        sh, sw = rng.integers(1, 4), rng.integers(1, 4)
        dh, dw = (1, 1) if rng.random() < 0.6 else (rng.integers(1, 3), rng.integers(1, 3))
        padding = "SAME" if rng.random() < 0.5 else "VALID"
        if padding == "VALID" and (h < (kh - 1) * dh + 1 or wd < (kw - 1) * dw + 1):
            padding = "SAME"
        x, w = _data(rng, (n, h, wd, c), (kh, kw, c, f), np.float32 if rng.random() < 0.7 else np.float64)
        _check_grads(x, w, [int(sh), int(sw)], [int(dh), int(dw)], padding)


def test_grad_w6_and_nchw():
    rng = np.random.default_rng(8)
    x, w = _data(rng, (8, 32, 32, 32), (5, 5, 32, 32), np.float32)
    _check_grads(x, w)
    x, w = _data(rng, (2, 3, 7, 6), (3, 3, 3, 2), np.float64)
    _check_grads(x, w, 2, 1, "SAME", "NCHW")
    x, w = _data(rng, (1, 2, 3, 2), (5, 7, 2, 3), np.float32)   # kernel larger than the input
    _check_grads(x, w)


# ---- Winograd (3x3 / 5x5, stride 1, wide enough channels) ----------------------------------------
_WINOGRAD_CASES = [(dtype, r, c, f, padding, hw)
                   for dtype in (np.float32, np.float64)
                   for r, c, f in [(3, 16, 16), (3, 17, 20), (5, 8, 8), (5, 32, 32), (5, 33, 40)]
                   for padding in ("SAME", "VALID")
                   for hw in [(4, 4), (7, 9), (13, 6), (32, 32)]
                   if padding == "SAME" or min(hw) >= r]     # VALID needs the image at least kernel-sized


@pytest.mark.parametrize("dtype,r,c,f,padding,hw", _WINOGRAD_CASES)
def test_winograd_against_reference(dtype, r, c, f, padding, hw):
    rng = np.random.default_rng(r + c + f + hw[0])
    x, w = _data(rng, (2,) + hw + (c,), (r, r, c, f), dtype)
    assert winograd.usable(x, w, 1, 1, 1, 1)
    _check(x, w, 1, 1, padding)
    # and as the stride-1 backprop-input (a forward conv with the flipped filter)
    _check_grads(x, w, 1, 1, padding)


def test_winograd_off_matches_too(monkeypatch):
    monkeypatch.setattr(winograd, "_WINOGRAD", False)
    rng = np.random.default_rng(11)
    x, w = _data(rng, (2, 9, 9, 32), (5, 5, 32, 32), np.float32)
    assert not winograd.usable(x, w, 1, 1, 1, 1)
    _check(x, w)


def test_winograd_g_matrices():
    """F(m, r) in 1-D: A^T[(G g) * (B^T d)] equals the correlation of d with g, exactly in float64."""
    bt = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                   [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float)
    at = {4: np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], float),
          2: np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 1]], float)}
    rng = np.random.default_rng(12)
    for r in (3, 5):
        m = 7 - r
        d, g = rng.standard_normal(6), rng.standard_normal(r)
        got = at[m] @ ((winograd._wino_g(r) @ g) * (bt @ d))
        np.testing.assert_allclose(got, [d[i:i + r] @ g for i in range(m)], rtol=1e-12, atol=1e-12)


def test_winograd8_g_matrix():
    """F(4, 5) on 8 points in 1-D: A^T[(G g) * (B^T d)] is the correlation of d with g (float64)."""
    rng = np.random.default_rng(13)
    d, g = rng.standard_normal(8), rng.standard_normal(5)
    got = winograd8._AT @ ((winograd8.wino_g() @ g) * (winograd8._BT @ d))
    np.testing.assert_allclose(got, [d[i:i + 5] @ g for i in range(4)], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("r", [3, 5])
@pytest.mark.parametrize("hw", [(8, 8), (7, 9)])
def test_winograd_bias_relu_epilogue(r, hw):
    """conv(..., bias, relu) adds the bias and applies ReLU in the output transform."""
    rng = np.random.default_rng(14 + r)
    x, w = _data(rng, (2,) + hw + (16,), (r, r, 16, 24), np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    ref = OPS["Conv2D"].compute(x, w, **_attrs(1, 1, "SAME"))
    top = (r - 1) // 2
    tol = TOL[np.float32] * np.abs(ref).max() * np.sqrt(r * r * 16)
    for bias, relu, want in [(b, False, ref + b), (b, True, np.maximum(ref + b, 0)), (None, True, np.maximum(ref, 0))]:
        got = winograd.conv(x, w, top, top, hw[0], hw[1], None, bias, relu)
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_winograd_filter_cache_sees_new_values():
    """The transformed filter is reused only while the filter's values are unchanged (in-place
    updates of a variable's buffer keep its identity, so the cache compares values)."""
    rng = np.random.default_rng(15)
    x, w = _data(rng, (1, 8, 8, 8), (5, 5, 8, 8), np.float32)
    _check(x, w)
    w *= 2                                              # same buffer, new values
    _check(x, w)
    w2 = w.copy()
    _check(x, w2)                                       # equal values in another buffer


@pytest.mark.parametrize("case", [
    dict(x=(2, 9, 9, 32), w=(5, 5, 32, 32)),                         # Winograd 8x8: fused epilogue
    dict(x=(2, 9, 9, 16), w=(3, 3, 16, 16), padding="VALID"),        # Winograd 6x6: fused epilogue
    dict(x=(2, 9, 9, 5), w=(3, 3, 5, 4), s=2),                       # im2col rows, epilogue per chunk
    dict(x=(2, 9, 9, 3), w=(3, 3, 3, 4), s=2),                       # im2col per tap, epilogue per chunk
    dict(x=(2, 5, 6, 7), w=(1, 1, 7, 9)),                            # 1x1: one matmul, then the epilogue
    dict(x=(2, 16, 7, 9), w=(5, 5, 16, 8), data_format="NCHW"),
])
@pytest.mark.parametrize("act", [None, "Relu", "Relu6", "Tanh", "Sigmoid"])
def test_conv_bias_act_entry(case, act):
    """``extra["fast_bias_act"]`` = act(Conv2D + bias), the kernel of ``_FusedConv2D``."""
    from jitgraph.ops import fused_ops
    rng = np.random.default_rng(16)
    x, w = _data(rng, case["x"], case["w"], np.float32)
    b = (rng.standard_normal(case["w"][3]) * 3).astype(np.float32)
    fmt = case.get("data_format", "NHWC")
    a = _attrs(case.get("s", 1), 1, case.get("padding", "SAME"), fmt)
    chain = ("BiasAdd",) + ((act,) if act else ())
    ref = fused_ops.apply_epilogue(OPS["Conv2D"].compute(x, w, **a), b, chain, fmt)
    got = OPS["Conv2D"].extra["fast_bias_act"](x, w, b, act=act, **a)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL[np.float32] * np.abs(ref).max() * np.sqrt(w[..., 0].size))
    fused = OPS["_FusedConv2D"].extra["fast"](x, w, b, fused_ops=chain, **a)
    np.testing.assert_array_equal(fused, got)


# ---- few input channels: patches one row per tap (im2col_t / col2im_t) ----------------------------
@pytest.mark.parametrize("case", [
    dict(x=(3, 28, 28, 1), w=(5, 5, 1, 32)),                         # P1's first layer
    dict(x=(2, 32, 32, 3), w=(3, 3, 3, 64), s=2),                    # RGB stem, stride 2
    dict(x=(1, 9, 14, 3), w=(3, 3, 3, 5), s=[2, 1], padding="VALID"),
    dict(x=(2, 7, 5, 2), w=(4, 2, 2, 3), s=3),                       # even kernel, uneven padding
    dict(x=(1, 11, 8, 4), w=(3, 3, 4, 7), d=2),                      # dilation
    dict(x=(2, 6, 6, 1), w=(7, 7, 1, 2)),                            # kernel larger than the image
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_channels_forward_and_grads(case, dtype):
    assert case["w"][2] <= conv._T_MAX_C
    rng = np.random.default_rng(21)
    x, w = _data(rng, case["x"], case["w"], dtype)
    args = (case.get("s", 1), case.get("d", 1), case.get("padding", "SAME"))
    _check(x, w, *args)
    _check_grads(x, w, *args)


def test_few_channels_many_chunks(monkeypatch):
    """Chunks of output rows that split images, a ragged last chunk, and rows per GEMM below an
    image's height in the input gradient."""
    monkeypatch.setattr(conv, "_ROW_BYTES", 3000)
    rng = np.random.default_rng(22)
    x, w = _data(rng, (3, 13, 10, 2), (3, 3, 2, 5), np.float32)
    _check(x, w)
    _check_grads(x, w)
    _check_grads(x, w, 2, 1, "VALID")


@pytest.mark.parametrize("case", [
    dict(x=(2, 11, 9, 16), w=(3, 3, 16, 8), s=2),                   # input gradient by phases
    dict(x=(3, 10, 13, 9), w=(3, 3, 9, 12), s=[2, 3], padding="VALID"),
    dict(x=(2, 12, 12, 8), w=(5, 5, 8, 8), s=2),
    dict(x=(4, 14, 14, 32), w=(5, 5, 32, 16), s=2),                 # a DCGAN conv2d_transpose (3x3 phase by Winograd)
    dict(x=(2, 9, 8, 6), w=(4, 4, 6, 5), s=2),                      # even kernel, odd image
    dict(x=(2, 10, 11, 5), w=(2, 3, 5, 4), s=3),                    # phases that no tap reaches
    dict(x=(1, 7, 7, 6), w=(1, 1, 6, 3), s=2, padding="VALID"),
])
def test_strided_input_gradient_with_more_channels(case, monkeypatch):
    from jitgraph.kernels import conv
    phases = []
    real = conv._backprop_input_phases
    monkeypatch.setattr(conv, "_backprop_input_phases", lambda *a: phases.append(1) or real(*a))
    rng = np.random.default_rng(23)
    x, w = _data(rng, case["x"], case["w"], np.float32)
    _check_grads(x, w, case.get("s", 1), 1, case.get("padding", "SAME"))
    assert phases


def test_phases_decline_a_negative_padding():
    from jitgraph.kernels import conv
    dy = np.ones((1, 3, 3, 2), np.float32)
    assert conv._backprop_input_phases((1, 6, 6, 5), np.ones((1, 1, 5, 2), np.float32), dy, 2, 2, 2, 0) is None


# ---- which path a shape takes ---------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    dict(x=(6, 30, 24, 1), w=(5, 24, 1, 16), padding="VALID"),   # a text CNN's full-width filter
    dict(x=(20, 30, 24, 1), w=(5, 24, 1, 16), padding="VALID"),  # ... over more sentences: pixel rows
    dict(x=(4, 12, 5, 1), w=(3, 3, 1, 4)),                       # tiny: the reference's GEMM
    dict(x=(2, 40, 6, 3), w=(3, 6, 3, 8), padding="VALID"),      # narrow rows, few channels
])
def test_small_and_narrow_convs(monkeypatch, case):
    """With the real thresholds: small convs and gradients run the reference's code (bitwise its
    result, bias and activation applied after), narrow rows are gathered as pixel rows."""
    for k, v in DEFAULTS.items():
        monkeypatch.setattr(conv, k, v)
    calls = []
    monkeypatch.setattr(conv, "_patches_t", lambda *a: calls.append(a))
    rng = np.random.default_rng(31)
    x, w = _data(rng, case["x"], case["w"], np.float32)
    a = _attrs(1, 1, case.get("padding", "SAME"))
    small = np.prod(x.shape[:1]) * np.prod(OPS["Conv2D"].compute(x, w, **a).shape[1:3]) * w.size < conv._SMALL_MACS
    got = _check(x, w, 1, 1, case.get("padding", "SAME"))
    if small:
        np.testing.assert_array_equal(got, OPS["Conv2D"].compute(x, w, **a))
        b = rng.standard_normal(w.shape[3]).astype(np.float32)
        from jitgraph.ops import fused_ops
        ref = fused_ops.apply_epilogue(OPS["Conv2D"].compute(x, w, **a), b, ("BiasAdd", "Relu"), "NHWC")
        np.testing.assert_allclose(OPS["Conv2D"].extra["fast_bias_act"](x, w, b, act="Relu", **a), ref, rtol=1e-6)
    _check_grads(x, w, 1, 1, case.get("padding", "SAME"))
    assert not calls
