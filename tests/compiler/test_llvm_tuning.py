"""Kernels that call fastmath helpers compile with a forced interleave count, and only they."""
import numpy as np

from jitgraph.compiler import fastmath as fm
from jitgraph.compiler.llvm_tuning import tuned_for, wants_interleave

_KERNEL = fm.PRELUDE + fm.helper_source(["jg_tanh_f32"]) + '''
@njit(error_model='numpy', fastmath=FASTMATH)
def kernel(x, out):
    for i in range(x.shape[0]):
        out[i] = jg_tanh_f32(jg_tanh_f32(x[i]))
'''


def _divisions(source, tuned):
    """Float divisions in the machine code of ``source``'s kernel (each tanh divides once)."""
    from numba import types
    ns = {}
    exec(compile(source, "<test kernel>", "exec"), ns)
    sig = (types.float32[::1], types.float32[::1])
    if tuned:
        with tuned_for(source):
            ns["kernel"].compile(sig)
    else:
        ns["kernel"].compile(sig)
    x = np.linspace(-3, 3, 100, dtype=np.float32)
    out = np.empty_like(x)
    ns["kernel"](x, out)
    np.testing.assert_allclose(out, np.tanh(np.tanh(x)), rtol=1e-6)
    return ns["kernel"].inspect_asm(sig).count("divps")


def test_only_helper_kernels_are_tuned():
    assert wants_interleave(_KERNEL)
    assert not wants_interleave(fm.PRELUDE + "@njit\ndef kernel(x):\n    return x\n")


def test_helper_kernels_interleave_and_the_option_is_put_back():
    plain = _divisions(_KERNEL, tuned=False)
    tuned = _divisions(_KERNEL, tuned=True)
    after = _divisions(_KERNEL, tuned=False)
    # Two tanh per element: one vector body and a scalar remainder hold 4 divisions here; four
    # interleaved vector bodies and the remainder hold 10.
    assert tuned > plain, (plain, tuned)
    assert after == plain, (plain, after)
