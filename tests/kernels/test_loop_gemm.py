"""kernels.loop_gemm: a native loop's matmuls split with a lent helper thread give ``np.dot``'s
values, whether the helper takes chunks, arrives late or never comes; it leaves when told."""

import threading

import numpy as np
import pytest

from jitgraph.kernels import loop_gemm as lg


def _with_helper(fn, *args):
    """``fn(*args, par)`` with a helper thread lent for the call, as the loop runner does."""
    par = lg.new_mailbox()
    par[lg.GEN], par[lg.HELPERS] = 1, 1
    t = threading.Thread(target=lg.helper, args=(par, 1))
    t.start()
    try:
        return fn(*args, par), par
    finally:
        par[lg.STOP] = 1
        t.join(10)
        assert not t.is_alive()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("b_transposed", [False, True])
@pytest.mark.parametrize("m", [128, 97, 8])
def test_shared_dot_matches_np_dot(dtype, b_transposed, m):
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, 160)).astype(dtype)
    b = rng.standard_normal((512, 160) if b_transposed else (160, 512)).astype(dtype)
    bb = b.T if b_transposed else b
    out = np.empty((m, 512), dtype)
    _, par = _with_helper(lg.shared_dot, a, bb, out)
    np.testing.assert_allclose(out, a @ bb, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)
    assert par[lg.SEQ] == (1 if m >= 2 * lg.MIN_ROWS else 0)    # shared only when big enough


def test_shared_dot_falls_back_for_strided_operands_and_without_a_helper():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((128, 320)).astype(np.float32)[:, ::2]     # not contiguous
    b = rng.standard_normal((160, 512)).astype(np.float32)
    out = np.empty((128, 512), np.float32)
    _, par = _with_helper(lg.shared_dot, a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)
    assert par[lg.SEQ] == 0
    par = lg.new_mailbox()                 # GEN 0: no helper lent, nothing published
    lg.shared_dot(np.ascontiguousarray(a), b, out, par)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)
    assert par[lg.SEQ] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shared_tn_sums_both_halves(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1001, 156)).astype(dtype)
    g = rng.standard_normal((1001, 512)).astype(dtype)
    out, half = np.empty((156, 512), dtype), np.empty((156, 512), dtype)
    _, par = _with_helper(lg.shared_tn, a, g, out, half)
    np.testing.assert_allclose(out, a.T @ g, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-3)
    assert par[lg.SEQ] == 1


def test_a_product_without_a_helper_taking_chunks_is_done_by_the_caller():
    """GEN set (a helper was lent) but none running: the caller takes every chunk itself."""
    par = lg.new_mailbox()
    par[lg.GEN], par[lg.HELPERS] = 1, 1
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((64, 200)).astype(np.float32), rng.standard_normal((200, 300)).astype(np.float32)
    out = np.empty((64, 300), np.float32)
    lg.shared_dot(a, b, out, par)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)
    assert par[lg.DONE] == par[lg.NCH] == 2


def test_helper_leaves_on_stop_and_on_a_newer_call():
    par = lg.new_mailbox()
    par[lg.GEN] = 2
    lg.helper(par, 1)                      # a newer call owns the mailbox: returns at once
    par[lg.GEN], par[lg.STOP] = 1, 1
    lg.helper(par, 1)                      # the call has ended: returns at once
