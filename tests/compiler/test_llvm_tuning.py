"""Kernels that call fastmath helpers compile with a forced interleave count, and only they."""
import re

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


def test_slp_kernels_compile_with_the_slp_vectorizer_and_the_settings_are_put_back():
    """A 4 x 16 tile of straight-line sums: with the SLP vectorizer its FMAs are 16-lane vector
    FMAs; Numba's own settings (SLP off, loop vectorizer on) hold again after the block."""
    from numba.core import config

    from jitgraph.compiler.llvm_tuning import SLP_MARK, tuned_for
    from jitgraph.kernels import direct_conv
    src = direct_conv.source(16, 4, "float32", 3, 3)
    assert SLP_MARK in src
    before = config.SLP_VECTORIZE, config.LOOP_VECTORIZE
    ns = {}
    exec(src.replace("@njit(cache=True, ", "@njit("), ns)   # noqa: S102 - our own generated source
    fn = ns["conv"]
    x = np.ones((1, 6, 8, 1), np.float32)
    w2 = np.ones((9, 16), np.float32)
    out = np.empty((1, 4, 6, 16), np.float32)
    with tuned_for(src):
        assert (config.SLP_VECTORIZE, config.LOOP_VECTORIZE) == (1, 0)
        fn(x, w2, out, 0, 1, 3, 3, 1, 1, 1, 0, 0, np.zeros((6, 8), np.float32))
    assert (config.SLP_VECTORIZE, config.LOOP_VECTORIZE) == before
    np.testing.assert_array_equal(out, 9.0)
    asm = next(iter(fn.inspect_asm().values()))
    assert re.search(r"vfmadd\d+ps\s", asm) and not re.search(r"vfmadd\d+ss\s", asm), \
        "the tile's sums were not all packed into vector FMAs"


def test_no_other_thread_compiles_inside_a_tuned_block():
    """The settings are process-global: a compile on another thread waits for the block's end."""
    import threading

    from numba import njit
    from numba.core import config

    from jitgraph.compiler.llvm_tuning import SLP_MARK
    entered, compiled, block_done = threading.Event(), threading.Event(), threading.Event()

    def tuned():
        with tuned_for(SLP_MARK):
            entered.set()
            compiled.wait(1.0)               # without the lock the compile below ends in here
        block_done.set()

    t = threading.Thread(target=tuned)
    t.start()
    entered.wait(10)

    @njit
    def fresh(x):
        return x + 1
    fresh(1)                                  # compiles now
    during = not block_done.is_set()
    compiled.set()
    t.join(10)
    assert not during and config.LOOP_VECTORIZE == 1
