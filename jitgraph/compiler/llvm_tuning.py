"""LLVM options for compiling one generated kernel.

Kernels that call the inlined transcendental helpers (``fastmath``: tanh, exp, log, sigmoid) are
bound by latency, not throughput: each element runs one long dependent chain (a tanh is ~25
dependent vector ops), and LLVM's cost model interleaves such a big loop body once, so only one
16-lane vector is in flight. Forcing an interleave count of 4 keeps four independent vectors in
flight. Measured on a Zen 4 core, a kernel of four ``tanh(y) * a + b`` over 1,000 float32:
3.6 -> 2.4 us a call (one tanh 0.93 -> 0.59 ns); its compile time moved 1.00 -> 1.02 s. Memory-bound
loops and short ones (8-100 elements) measured the same either way, so only helper kernels get it.

Kernels written as straight-line code for LLVM's SLP vectorizer (``kernels.direct_conv``: a tile
of sums held in registers, one scalar each) carry the line ``SLP_MARK``; they compile with Numba's
SLP vectorizer on and its loop vectorizer off (``numba.core.config``, read when Numba builds the
pass pipeline of each compile): the loop vectorizer would vectorize the pixel loop with gathers.

LLVM's options and Numba's settings are process-global (``llvmlite.binding.set_option``,
``numba.core.config``), so they are set just around the compile of such a kernel and put back
after it (LLVM's default interleave 0: the cost model decides), while holding Numba's own global
compiler lock: no other thread compiles in that window. Without it, a function another thread
compiled meanwhile (a fast kernel's first call on the plan's thread while the builder thread
loads kernels) would take the window's settings, and Numba's disk cache would keep them (as it
kept the bias + ReLU epilogue that ``direct_conv`` once compiled inside its own block: loop
vectorizer off, 4x slower).
"""
import contextlib

#: Interleave count forced for kernels that call fastmath helpers.
HELPER_INTERLEAVE = 4

#: The line that asks for the SLP vectorizer instead of the loop vectorizer.
SLP_MARK = "# jitgraph: straight-line vectorizer\n"


# With ``helper_source(..., wide=True)``, every helper's first statement, inlined with it into the
# kernel that calls it: the kernel's LLVM function gets the attribute "prefer-vector-width"="512".
# LLVM's tuning for Intel AVX-512 cores (Skylake-X to Sapphire Rapids) prefers 256-bit vectors,
# for Zen 4 512-bit, and Numba takes the host's tuning for every function it compiles. On a 2-core
# Intel AVX-512 VM (LLVM: rocketlake): four tanh over 1,000 float32 5.30 -> 3.64 us; C2's chain3000
# (250 such kernels) 0.78-0.81 -> 0.60-0.68 ms a run. Only single-threaded kernels ask
# (``codegen.kernel_source``): W1's 10M-element ``prange`` tanh kernel took 5.7-5.8 -> 6.1-6.2 ms
# with it, and P6's native LSTM loop (one function, its matmuls and small loops included)
# 17.3-17.6 -> 18.0-19.2 ms. Elsewhere (AVX2, Zen 4, other architectures) it changes nothing. An
# intrinsic because llvmlite lists the function attributes it knows and this is not one of them;
# a plain set add puts the string attribute into the IR text.
#: Source text pasted before the fastmath helpers by ``fastmath.helper_source(..., wide=True)``.
WIDE_VECTORS = '''\
from numba.core import types as jg_types
from numba.extending import intrinsic as jg_intrinsic


@jg_intrinsic
def jg_wide_vectors(typingctx):
    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return jg_types.none(), codegen
'''


def wants_interleave(source):
    """True when the kernel module ``source`` holds inlined fastmath helpers (``def jg_...``)."""
    return "\ndef jg_" in source


@contextlib.contextmanager
def tuned_for(source):
    """Compile inside this block with the LLVM options that suit the kernel module ``source``
    (holding Numba's global compiler lock: other threads' compiles wait until the block ends)."""
    from numba.core.compiler_lock import global_compiler_lock
    if SLP_MARK in source:
        from numba.core import config
        with global_compiler_lock:
            saved = config.SLP_VECTORIZE, config.LOOP_VECTORIZE
            config.SLP_VECTORIZE, config.LOOP_VECTORIZE = 1, 0
            try:
                yield
            finally:
                config.SLP_VECTORIZE, config.LOOP_VECTORIZE = saved
        return
    if not wants_interleave(source):
        yield
        return
    import llvmlite.binding as llvm
    with global_compiler_lock:
        llvm.set_option("jitgraph", f"-force-vector-interleave={HELPER_INTERLEAVE}")
        try:
            yield
        finally:
            llvm.set_option("jitgraph", "-force-vector-interleave=0")
