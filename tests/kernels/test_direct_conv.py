"""``kernels.direct_conv``: the register-tiled conv and filter gradient for 1-4 input channels
against the NumPy reference, on odd geometries (batch 1, non-square, SAME/VALID, strides 1-3, row dilation, output
widths that are not a multiple of the pixel block), with bias and activations, both dtypes."""

import numpy as np
import pytest

from jitgraph.compiler.llvm_tuning import SLP_MARK
from jitgraph.kernels import blas, conv, direct_conv, epilogue
from jitgraph.ops import fused_ops, nn_conv

TOL = {np.float32: 2e-5, np.float64: 1e-12}


def _reference(x, w, s, dh, padding, bias=None, act=None):
    y = nn_conv._conv_nhwc(x, w, [1, s, s, 1], [1, dh, 1, 1], padding)
    if bias is not None:
        y = fused_ops.apply_epilogue(y, bias, ("BiasAdd",) + ((act,) if act else ()))
    return y


def _direct(x, w, s, dh, padding, bias=None, act=None):
    kh, kw = w.shape[:2]
    oh, ow, ph, pw = nn_conv._geom(x.shape, kh, kw, [1, s, s, 1], [1, dh, 1, 1], padding)
    assert direct_conv.usable(x.dtype, x.shape[3], w.shape[3], 1, ow)
    out = np.empty((x.shape[0], oh, ow, w.shape[3]), x.dtype)
    bt = None if bias is None else epilogue.tiled_bias(bias)
    with blas.owned():
        return direct_conv.conv(x, w, s, s, dh, ph[0], pw[0], oh, ow, out, bt, act)


def _close(got, want, k):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL[got.dtype.type] * scale * np.sqrt(k))


GEOMETRIES = [
    (1, 7, 9, 3, 32, 3, 1, 1, "SAME"),      # batch 1, width not a multiple of the 4-pixel block
    (3, 10, 6, 1, 16, 5, 1, 1, "VALID"),    # 5x5 on one channel: output rows of 2 pixels, too short
    (2, 11, 13, 4, 64, 3, 2, 1, "SAME"),    # 64 filters (2-pixel blocks), stride 2
    (2, 12, 9, 2, 7, 2, 3, 1, "VALID"),     # an even window, stride 3, 7 filters
    (2, 9, 10, 3, 1, 3, 1, 2, "SAME"),      # one filter, dilated rows
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,h,w,c,f,k,s,dh,padding", GEOMETRIES)
def test_matches_the_reference(dtype, n, h, w, c, f, k, s, dh, padding):
    rng = np.random.default_rng(f * 7 + k)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    wt = rng.standard_normal((k, k, c, f)).astype(dtype)
    _, ow, _, _ = nn_conv._geom(x.shape, k, k, [1, s, s, 1], [1, dh, 1, 1], padding)
    if ow < direct_conv.pixels_per_block(f, dtype):
        assert not direct_conv.usable(x.dtype, c, f, 1, ow)
        return
    got = _direct(x, wt, s, dh, padding)
    assert got.dtype == dtype
    _close(got, _reference(x, wt, s, dh, padding), k * k * c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n,h,w,c,f,k,s,dh,padding", GEOMETRIES)
def test_filter_gradient_matches_the_reference(dtype, n, h, w, c, f, k, s, dh, padding):
    rng = np.random.default_rng(f * 5 + k)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    st, dl = [1, s, s, 1], [1, dh, 1, 1]
    oh, ow, ph, pw = nn_conv._geom(x.shape, k, k, st, dl, padding)
    dy = rng.standard_normal((n, oh, ow, f)).astype(dtype)
    with blas.owned():
        got = direct_conv.filter_grad(x, dy, k, k, s, s, dh, ph[0], pw[0])
    want = nn_conv._conv_backprop_filter_nhwc(x, (k, k, c, f), dy, st, dl, padding)
    assert got.dtype == dtype and got.shape == (k, k, c, f)
    _close(got, want, n * oh * ow)


@pytest.mark.parametrize("act", [None, "Relu", "Relu6", "Sigmoid"])
def test_bias_and_activation_per_chunk(act, monkeypatch):
    monkeypatch.setattr(direct_conv, "_CHUNK_MACS", 1)        # one image a chunk: several chunks
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 8, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 32)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    _close(_direct(x, w, 1, 1, "SAME", b, act), _reference(x, w, 1, 1, "SAME", b, act), 27)


def test_nan_and_inf_propagate():
    x = np.ones((1, 6, 8, 1), np.float32)
    x[0, 2, 3, 0], x[0, 4, 6, 0] = np.nan, np.inf
    w = np.ones((3, 3, 1, 16), np.float32)
    got, want = _direct(x, w, 1, 1, "SAME"), _reference(x, w, 1, 1, "SAME")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isfinite(want)], want[np.isfinite(want)])


def test_conv2d_and_its_filter_gradient_take_it_for_few_channels_only(monkeypatch):
    calls = []
    for name in ("conv", "filter_grad"):
        real = getattr(direct_conv, name)
        def spy(*a, _real=real, _name=name):
            calls.append((_name, a[0].shape[3]))
            return _real(*a)
        monkeypatch.setattr(direct_conv, name, spy)
    rng = np.random.default_rng(0)
    one = [1, 1, 1, 1]
    for c in (3, 8):
        x = rng.standard_normal((8, 16, 16, c)).astype(np.float32)
        w = rng.standard_normal((3, 3, c, 32)).astype(np.float32)
        y = conv.conv2d_nhwc(x, w, one, one, "SAME")
        conv.conv2d_backprop_filter_nhwc(x, w.shape, y, one, one, "SAME")
    assert calls == [("conv", 3), ("filter_grad", 3)]


def test_kernel_source_asks_for_the_slp_vectorizer():
    src = direct_conv.source(32, 4, "float32", 3, 9)
    assert SLP_MARK in src
    assert src.count("+= v") == 4 * 32                         # a 4-pixel x 32-filter tile of sums


def test_only_the_kernel_compiles_with_the_straight_line_options():
    """The bias + activation epilogue runs (and so compiles) with the loop vectorizer on."""
    from numba import config, njit

    @njit
    def kernel():                          # a fresh dispatcher: the first chunk compiles it
        return 0
    seen = []

    def chunk(j):
        kernel()
        seen.append(("chunk", j, config.LOOP_VECTORIZE))
    direct_conv._run(kernel, SLP_MARK, 3, chunk, lambda j: seen.append(("tail", j, config.LOOP_VECTORIZE)))
    assert seen[0] == ("chunk", 0, 0)
    tails = [(j, vec) for kind, j, vec in seen if kind == "tail"]
    assert sorted(j for j, _ in tails) == [0, 1, 2] and all(vec for _, vec in tails)


def test_avx2_sized_tiles_give_the_same_values(monkeypatch):
    """On a host without AVX-512 the tiles are smaller (16 vector registers of 8 floats)."""
    monkeypatch.setattr(direct_conv, "_vector_bytes", lambda: 32)
    assert direct_conv.pixels_per_block(32, np.float32) == 2
    assert direct_conv.taps_per_block(32, 9, np.float32) == 2
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 9, 10, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 32)).astype(np.float32)
    _close(_direct(x, w, 1, 1, "SAME"), _reference(x, w, 1, 1, "SAME"), 27)
    dy = rng.standard_normal((2, 9, 10, 32)).astype(np.float32)
    with blas.owned():
        got = direct_conv.filter_grad(x, dy, 3, 3, 1, 1, 1, 1, 1)
    _close(got, nn_conv._conv_backprop_filter_nhwc(x, (3, 3, 3, 32), dy, [1, 1, 1, 1], [1, 1, 1, 1], "SAME"), 180)


def test_read_only_inputs_use_the_same_compiled_kernel():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 32)).astype(np.float32)
    want = _direct(x, w, 1, 1, "SAME")
    fn, _ = direct_conv._kernel("conv", 32, direct_conv.pixels_per_block(32, np.float32), np.dtype(np.float32), (3, 9))
    before = len(fn.overloads)
    x.flags.writeable = w.flags.writeable = False
    np.testing.assert_array_equal(_direct(x, w, 1, 1, "SAME"), want)
    assert len(fn.overloads) == before


def test_the_window_size_is_written_into_the_kernel():
    """LLVM unrolls the window's loops only when their lengths are constants of the source."""
    src = direct_conv.source(16, 4, "float32", 5, 15)
    assert "for a in range(5):" in src and "for off in range(15):" in src
    assert "range(kh)" not in src and "range(kw * c_)" not in src



def _array_stores(fn):
    """The ``setitem`` calls of ``fn``'s compiled overloads whose stored value is an array."""
    from numba import types
    return [sig for cres in fn.overloads.values() for sig in cres.type_annotation.calltypes.values()
            if sig is not None and len(getattr(sig, "args", ())) == 3 and isinstance(sig.args[0], types.Array)
            and isinstance(sig.args[2], types.Array)]



@pytest.mark.parametrize("kind", ["conv", "filter_grad"])
def test_kernels_store_no_arrays(kind, monkeypatch):
    """An array stored into a slice makes Numba compile its shape-mismatch message (string
    formatting, 1.6 s of a cold P1 start): the kernels store element by element."""
    import sys
    import types as pytypes
    from jitgraph.compiler import disk_cache

    def fresh_module(src):      # compiled here: a module loaded from a cache keeps no typing
        mod = pytypes.ModuleType("jg_mem_direct_conv_test")
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
        exec(compile(src.replace("cache=True", "cache=False"), "<direct conv test>", "exec"), mod.__dict__)
        return mod
    monkeypatch.setattr(direct_conv, "_kernels", {})
    monkeypatch.setattr(disk_cache, "load_module", fresh_module)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 8, 8, 1)).astype(np.float32)
    w = rng.standard_normal((5, 5, 1, 32)).astype(np.float32)
    if kind == "conv":
        _direct(x, w, 1, 1, "SAME")
    else:
        direct_conv.filter_grad(x, rng.standard_normal((2, 8, 8, 32)).astype(np.float32), 5, 5, 1, 1, 1, 2, 2)
    (fn, _), = direct_conv._kernels.values()
    assert fn.overloads and _array_stores(fn) == []
