"""The Winograd filter transform U = G w G^T of ``winograd8.tiled_conv``, cached per filter array,
and the filter gradient's last step, dW = A'^T M A' (``gradient_from_points``).

One native call: ``_transform``, one GEMM by the Kronecker product G (x) G ([n*n, r*r] x
[r*r, C*F]: Numba's ``np.dot``, SciPy's BLAS). The NumPy version (two float64 matmuls, an
``array_equal`` and a copy) took 20 us alone for the C2 CNN's 3x3x16x32 filter (this: 5.5 us, 10.6
with its Python), but 48-245 us inside a training step: each of its NumPy calls let go of the GIL,
and when the filter gradient's op ran beside it on the other thread (a side step), the transform
waited for that op's Python to reach its own native call before it got the GIL back; one call lets
it go once. The calls release the GIL like the other kernels (they also run inside side steps):
the C2 CNN's step measured the same as with calls that keep it (1.110 against 1.111 ms, median of
16 interleaved blocks). P1's 5x5x32x64: 88 us native against ~120-200 (the GEMM does 2.5x the
separable form's multiplies, at BLAS speed).

``flipped`` transforms the filter of a stride-1 input gradient, w[::-1, ::-1] with its channel axes
swapped (``conv.conv2d_backprop_input_nhwc``), straight from w: K's columns are reversed (that
flips w's rows and columns) and w's channel axes are swapped into a small buffer (r*r*C*F values,
not U's n*n*C*F). The copy of the flipped filter this replaced released the GIL too.

``gradient_from_points`` adds the threads' partial sums M of ``winograd_grad`` in float64 and
applies A' (x) A' ([r*r, n*n] GEMM, float64) in one native call too: the NumPy version (a sum, two
matmuls, a cast) ran on a side step's thread, and beside the plan thread's Python each of its calls
waited for the GIL.

Error: K = G (x) G is computed in float64 and rounded once to the conv's dtype; each U value sums
r*r products in that dtype (the NumPy version summed in float64 and rounded once): a few float32
ulps, against Winograd's ~4e-6 of the output's max from the tile transforms.
"""

import threading

import numpy as np
from numba import njit

_filters = {}          # (id of w, shape, dtype, G, U's dtype, flipped) -> (w copy, U), oldest first
_FILTERS_KEPT = 8
_filters_lock = threading.Lock()
_krons = {}            # (id of G, dtype, flipped) -> (G, K)


@njit(cache=True, nogil=True, boundscheck=False)
def _equal(a, b):
    """Whether the flat arrays ``a`` and ``b`` (same size) hold the same values (NaN differs); no
    early exit, so that the loop vectorizes."""
    differ = False
    for k in range(a.size):
        differ |= a[k] != b[k]
    return not differ


@njit(cache=True, nogil=True, boundscheck=False)
def _transform(kron, w, kept, wt, u):
    """u = kron @ w ([n*n, r*r] x [r*r, C*F]), or, given ``wt`` ([r*r, F, C], the flipped case),
    kron @ (w with its channel axes swapped) ([n*n, F*C]); ``kept`` gets a copy of w."""
    kept[...] = w
    if wt.size:
        f, c = wt.shape[1], wt.shape[2]
        for pq in range(wt.shape[0]):
            wp, tp = w[pq], wt[pq]
            for i in range(c):
                for j in range(f):
                    tp[j, i] = wp[i * f + j]
        w = wt.reshape(w.shape)
    np.dot(kron, w, u)


def _kron(g, dtype, flipped):
    """K[a*n+b, p*r+q] = G[a, p] G[b, q] (computed in float64) in ``dtype``; ``flipped``: for
    w[::-1, ::-1], i.e. K's columns reversed. Kept per G (a cached array, held in ``_krons`` so
    that its id stays its own)."""
    key = (id(g), dtype.str, flipped)
    got = _krons.get(key)
    if got is None:
        k = np.einsum("ap,bq->abpq", g, g).reshape(g.shape[0] ** 2, g.shape[1] ** 2)
        got = _krons[key] = (g, np.ascontiguousarray(k[:, ::-1] if flipped else k, dtype))
    return got[1]


def filter_transform(w, g, dtype, flipped=False):
    """U[n*a+b] = (G w G^T)[a, b] as [n*n, C, F] in ``dtype`` for G (n x r) (``flipped``: of the
    input gradient's filter w[::-1, ::-1] with C and F swapped, [n*n, F, C]), reused while ``w``
    holds the same values: a graph's filters are usually constant between runs.

    One entry per filter array (a variable's buffer is the same array every run): in training it
    holds new values every step, and comparing it with each of its kept earlier values cost more
    than the transform. The key only picks the entry to compare with: an id reused by a new array
    finds values that differ, and is replaced. Each miss makes a new U, so a conv still running
    with the old one (on another thread) is not disturbed."""
    dtype = np.dtype(dtype)
    key = (id(w), w.shape, w.dtype.str, id(g), dtype.str, flipped)
    r, _, c, f = w.shape
    flat = np.ascontiguousarray(w, dtype).reshape(r * r, c * f)
    hit = _filters.get(key)
    if hit is not None and _equal(hit[0].reshape(-1), flat.reshape(-1)):
        return hit[1]
    nn = g.shape[0] ** 2
    u = np.empty((nn,) + ((f, c) if flipped else (c, f)), dtype)
    kept = np.empty(flat.shape, dtype)
    wt = np.empty((r * r, f, c) if flipped else (0, 0, 0), dtype)
    _transform(_kron(g, dtype, flipped), flat, kept, wt, u.reshape(nn, c * f))
    u.flags.writeable = False
    with _filters_lock:                 # (convs of one run may run on several threads)
        _filters.pop(key, None)
        _filters[key] = (kept, u)
        while len(_filters) > _FILTERS_KEPT:
            del _filters[next(iter(_filters))]
    return u


@njit(cache=True, nogil=True, boundscheck=False)
def _from_points(parts, kron, dw):
    """dw = kron @ (parts summed over their first axis), in float64 ([r*r, n*n] x [n*n, C*F])."""
    slots, sq = parts.shape[0], parts.shape[1]
    cf = dw.shape[1]
    m = np.zeros((sq, cf))
    for s in range(slots):
        ps = parts[s].reshape(sq, cf)
        for p in range(sq):
            mp, pp = m[p], ps[p]
            for k in range(cf):
                mp[k] += pp[k]
    out = np.dot(kron, m)
    for i in range(dw.shape[0]):
        for k in range(cf):
            dw[i, k] = out[i, k]


def gradient_from_points(parts, at):
    """dW [r, r, C, F] = A'^T M A' for M = the sum of ``parts`` ([threads, n*n, C, F], the per-point
    sums of ``winograd_grad``) and A'^T = ``at`` (r x n), summed in float64, in ``parts``' dtype."""
    r = at.shape[0]
    c, f = parts.shape[2:]
    dw = np.empty((r, r, c, f), parts.dtype)
    _from_points(parts, _kron(at, np.dtype(np.float64), False), dw.reshape(r * r, c * f))
    return dw
