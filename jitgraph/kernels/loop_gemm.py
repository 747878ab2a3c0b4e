"""Matmuls of a native loop (``compiler/loops.py``) shared with a chunk worker.

A loop's matmuls run inside one Numba call, where NumPy's threads cannot help, and the BLAS that
``np.dot`` calls there runs on one thread (``loop_runner``: a multi-threaded BLAS forks and joins
on every small call and fought NumPy's own BLAS threads for two cores: P6 40 ms against 24). So
P6's LSTM spent ~11 ms of its 23 ms step in 56 single-threaded [128, 156] x [156, 512] products.

Here the loop's thread and the chunk workers (up to ``MAX_HELPERS``) split such a product by rows
of its output. The runner lends ``helper(par, gen)`` to them for the length of the loop's call
(``blas.lend``; ``par[HELPERS]`` says how many); ``shared_dot`` publishes each product in ``par``
(operand addresses and shapes), then all claim row chunks from an atomic counter
(``atomics.claim``), and the loop's thread waits only for chunks a helper has claimed, never for
a helper to arrive: a worker that starts late, or never, leaves the loop's thread to do every
chunk, as before. A helper spins (no system call) between products while the loop runs its
elementwise code, and returns when the runner sets ``par[STOP]`` after the call, or when a newer
call's ``gen`` replaces its own. 56 products of 20 MFLOP alone: 12.4 ms on one thread, 7.4 ms shared (2-core VM).

Kernels calling ``shared_dot`` are cached on disk by their own source text: a change to what this
module compiles to must bump ``compiler.disk_cache.CODEGEN_VERSION``.
"""

import numba
import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from jitgraph.kernels.atomics import claim, count, reset

# slots of ``par`` (int64)
SEQ, CLAIM, DONE, STOP, GEN, NCH, KIND, A, M, K, B, BROWS, BCOLS, BT, C, N, MODE, C2, HELPERS = range(19)
SLOTS = 19
ROWS, K_HALVES = 0, 1             # MODE: a product split by rows of its output, or A^T B by halves of K
#: Products smaller than this (m * k * n) run on the loop's thread alone: publishing one and
#: waking the helper's cache costs more than half of it.
MIN_SHARED = 1 << 20
#: Rows per chunk, at least.
MIN_ROWS = 16
#: Helpers lent to one loop call, at most: a loop's products are small ([128, 156] x [156, 512]),
#: and every helper spins for the whole call.
MAX_HELPERS = 3


def new_mailbox():
    """A fresh ``par`` for one loop runner."""
    return np.zeros(SLOTS, np.int64)


def _pointer_to(dtype):
    @intrinsic
    def as_pointer(typingctx, addr):
        sig = types.CPointer(dtype)(addr)

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(signature.return_type))
        return sig, codegen
    return as_pointer


_f32_at = _pointer_to(types.float32)
_f64_at = _pointer_to(types.float64)


@njit(nogil=True, cache=True, inline="always")
def _operand_shapes(par, j):
    """Chunk j's (a's shape, b's shape, its output's address): a [m, k] and b as stored for row
    chunks; a [k, m], b [k, n] and the output or the helper's half for the halves of K."""
    if par[MODE] == K_HALVES:
        return (par[K], par[M]), (par[K], par[N]), par[C] if j == 0 else par[C2]
    return (par[M], par[K]), (par[BROWS], par[BCOLS]), par[C]


@njit(nogil=True, cache=True)
def _run_chunk(par, j, a, b, c):
    """Chunk j of the published product (any float dtype)."""
    if par[MODE] == K_HALVES:
        k = par[K]
        k0, k1 = j * k // 2, (j + 1) * k // 2
        np.dot(a[k0:k1].T, b[k0:k1], c)
        return
    r0, r1 = j * par[M] // par[NCH], (j + 1) * par[M] // par[NCH]
    if par[BT]:
        np.dot(a[r0:r1], b.T, c[r0:r1])
    else:
        np.dot(a[r0:r1], b, c[r0:r1])


@njit(nogil=True, cache=True)
def _chunk32(par, j):
    sa, sb, at = _operand_shapes(par, j)
    _run_chunk(par, j, numba.carray(_f32_at(par[A]), sa), numba.carray(_f32_at(par[B]), sb),
               numba.carray(_f32_at(at), (par[M], par[N])))


@njit(nogil=True, cache=True)
def _chunk64(par, j):
    sa, sb, at = _operand_shapes(par, j)
    _run_chunk(par, j, numba.carray(_f64_at(par[A]), sa), numba.carray(_f64_at(par[B]), sb),
               numba.carray(_f64_at(at), (par[M], par[N])))


@njit(nogil=True, cache=True)
def _take_chunks(par):
    """Run chunks of the published product until none is left to claim."""
    while True:
        j = claim(par, CLAIM)
        if j >= par[NCH]:
            return
        if par[KIND] == 4:
            _chunk32(par, j)
        else:
            _chunk64(par, j)
        claim(par, DONE)


@njit(nogil=True, cache=True)
def _publish_and_share(par, nch):
    """Publish the product whose fields are set, take chunks until none is left, then wait for
    the chunks the helper took."""
    par[NCH] = nch
    reset(par, DONE)
    reset(par, CLAIM)             # after the fields: a claim that sees 0 sees them
    claim(par, SEQ)
    _take_chunks(par)
    while count(par, DONE) < nch:
        pass


@njit(nogil=True, cache=True)
def helper(par, gen):
    """The chunk worker's part: take chunks of each product the loop publishes until the loop's
    call ends (``par[STOP]``) or a newer call owns ``par`` (``par[GEN] != gen``)."""
    seen = -1                     # a product published before the helper arrived is taken too
    while count(par, STOP) == 0 and count(par, GEN) == gen:
        s = count(par, SEQ)
        if s != seen:
            seen = s
            _take_chunks(par)


@njit(nogil=True, cache=True)
def _c_contiguous(x):
    return x.strides[1] == x.itemsize and x.strides[0] == x.shape[1] * x.itemsize


@njit(nogil=True, cache=True)
def shared_dot(a, b, out, par):
    """``np.dot(a, b, out)`` for float32/float64 2-D operands, split by rows with the helper when
    the product is large and ``a``, ``out`` and ``b`` (or ``b.T``) are C-contiguous."""
    m, k = a.shape
    n = out.shape[1]
    bt = b.strides[0] == b.itemsize and b.strides[1] == b.shape[0] * b.itemsize and b.shape[1] > 1
    if (m * k * n < MIN_SHARED or m < 2 * MIN_ROWS or count(par, GEN) == 0 or not _c_contiguous(a)
            or not _c_contiguous(out) or not (bt or _c_contiguous(b))):
        np.dot(a, b, out)
        return
    par[MODE], par[A], par[M], par[K] = ROWS, a.ctypes.data, m, k
    par[B], par[BT] = b.ctypes.data, 1 if bt else 0
    par[BROWS], par[BCOLS] = (b.shape[1], b.shape[0]) if bt else (b.shape[0], b.shape[1])
    par[C], par[N], par[KIND] = out.ctypes.data, n, a.itemsize
    _publish_and_share(par, min(par[HELPERS] + 1, m // MIN_ROWS))


@njit(nogil=True, cache=True)
def shared_tn(a, b, out, half, par):
    """``out[...] = a.T @ b`` for C-contiguous float32/float64 ``a`` [k, m], ``b`` [k, n], ``out``
    and ``half`` [m, n]: the helper takes one half of k into ``half``, added to ``out`` at the end
    (a native loop's weight gradient: the stacked inputs against the stacked gate gradients)."""
    k, m = a.shape
    n = b.shape[1]
    if m * k * n < 2 * MIN_SHARED or k < 2 or count(par, GEN) == 0:
        np.dot(a.T, b, out)
        return
    par[MODE], par[A], par[M], par[K] = K_HALVES, a.ctypes.data, m, k
    par[B], par[C], par[C2], par[N], par[KIND] = b.ctypes.data, out.ctypes.data, half.ctypes.data, n, a.itemsize
    _publish_and_share(par, 2)
    for i in range(m):
        for j in range(n):
            out[i, j] += half[i, j]
