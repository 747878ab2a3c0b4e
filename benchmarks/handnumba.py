"""Hand-written Numba impls: the ceiling of jitgraph's approach (fused loops, float32, prange,
an inlined rational tanh because llvmlite ships without SVML, buffers reused across runs).

Also the bandwidth-probe kernels used by probes.py.  Kernels are compiled lazily (first call) and
cached on disk (``cache=True``), which is what C1 measures for "numba".
"""
import numpy as np
from numba import njit, prange

F32 = np.float32
# Eigen / XLA float tanh: odd 13/6 rational approximation on [-7.9053, 7.9053].
_CLAMP = F32(7.90531110763549805)
_A1, _A3, _A5 = F32(4.89352455891786e-03), F32(6.37261928875436e-04), F32(1.48572235717979e-05)
_A7, _A9 = F32(5.12229709037114e-08), F32(-8.60467152213735e-11)
_A11, _A13 = F32(2.00018790482477e-13), F32(-2.76076847742355e-16)
_B0, _B2 = F32(4.89352518554385e-03), F32(2.26843463243900e-03)
_B4, _B6 = F32(1.18534705686654e-04), F32(1.19825839466702e-06)
_HALF, _ZERO, _ONE = F32(0.5), F32(0.0), F32(1.0)

KW = dict(cache=True, fastmath=True)


@njit(inline="always", **KW)
def tanh_f32(x):
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    p = x * p
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return p / q


@njit(parallel=True, **KW)
def w1_kernel(x, w, b, out):
    for i in prange(x.size):
        xi = x[i]
        out[i] = max(xi * w[i] + b[i], _ZERO) * _HALF + tanh_f32(xi)


@njit(parallel=True, **KW)
def w2_kernel(x):
    # One pass: float64 sum and sum of squares, x read once.
    s = 0.0
    q = 0.0
    for i in prange(x.size):
        v = np.float64(x[i])
        s += v
        q += v * v
    return q - s * s / x.size


@njit(parallel=True, **KW)
def w3_kernel(v, g, lr):
    for i in prange(v.size):
        v[i] += lr * g[i]


@njit(**KW)
def w4_kernel(c):
    c[0] += _ONE


@njit(parallel=True, **KW)
def bias_relu_(h, b):
    for i in prange(h.shape[0]):
        for j in range(h.shape[1]):
            h[i, j] = max(h[i, j] + b[j], _ZERO)


@njit(**KW)
def softmax_xent_(logits, y, dlogits):
    """Writes d(mean loss)/dlogits into dlogits and returns the mean loss."""
    n, k = logits.shape
    loss = 0.0
    inv = F32(1.0) / F32(n)
    for i in range(n):
        m = logits[i, 0]
        for j in range(1, k):
            m = max(m, logits[i, j])
        s = F32(0.0)
        for j in range(k):
            e = np.exp(logits[i, j] - m)
            dlogits[i, j] = e
            s += e
        ls = np.log(s) + m
        for j in range(k):
            loss -= y[i, j] * (logits[i, j] - ls)
            dlogits[i, j] = (dlogits[i, j] / s - y[i, j]) * inv
    return loss / n


@njit(parallel=True, **KW)
def relu_grad_(dh, h):
    for i in prange(dh.shape[0]):
        for j in range(dh.shape[1]):
            if h[i, j] <= _ZERO:
                dh[i, j] = _ZERO


@njit(**KW)
def col_sum_(d, out):
    out[:] = _ZERO
    for i in range(d.shape[0]):
        for j in range(d.shape[1]):
            out[j] += d[i, j]


@njit(parallel=True, **KW)
def sgd2_(w, dw, lr):
    for i in prange(w.shape[0]):
        for j in range(w.shape[1]):
            w[i, j] -= lr * dw[i, j]


@njit(**KW)
def sgd1_(w, dw, lr):
    for i in range(w.shape[0]):
        w[i] -= lr * dw[i]


@njit(parallel=True, **KW)
def im2col_same_(x, kh, kw, cols):
    """NHWC x, stride 1, SAME padding -> cols[(n*H+h)*W+w, (dy*kw+dx)*C+c]."""
    n_, hh, ww, cc = x.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    for r in prange(n_ * hh):
        n = r // hh
        h = r % hh
        for w in range(ww):
            row = (n * hh + h) * ww + w
            for dy in range(kh):
                yy = h + dy - ph
                for dx in range(kw):
                    xx = w + dx - pw
                    base = (dy * kw + dx) * cc
                    if 0 <= yy < hh and 0 <= xx < ww:
                        for c in range(cc):
                            cols[row, base + c] = x[n, yy, xx, c]
                    else:
                        for c in range(cc):
                            cols[row, base + c] = _ZERO


# ---- bandwidth probes ----------------------------------------------------------------------
@njit(parallel=True, **KW)
def probe_triad(a, b, c, s):
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


@njit(parallel=True, **KW)
def probe_read(a):
    s = 0.0
    for i in prange(a.size):
        s += a[i]
    return s


@njit(parallel=True, **KW)
def probe_inplace(a, s):
    for i in prange(a.size):
        a[i] = a[i] * s


@njit(parallel=True, **KW)
def probe_w1_traffic(x, w, b, out):
    for i in prange(x.size):
        out[i] = x[i] + w[i] + b[i]


# ---- impls ---------------------------------------------------------------------------------
class _Runner:
    def value(self):
        return self._value()


def make(wl, d):
    """Hand-Numba runner for workload ``wl`` on data dict ``d`` (see workloads.make_data)."""
    r = _Runner()
    if wl == "W1":
        x, w, b = d["x"], d["w"], d["b"]
        out = np.empty_like(x)
        r.run = lambda: w1_kernel(x, w, b, out)
        r._value = lambda: out
    elif wl == "W2":
        x = d["x"]
        box = [0.0]

        def run():
            box[0] = w2_kernel(x)
        r.run, r._value = run, lambda: np.float32(box[0])
    elif wl == "W3":
        v, g, lr = d["v"].copy(), d["g"], F32(d["lr"])
        r.run, r._value = (lambda: w3_kernel(v, g, lr)), (lambda: v)
    elif wl == "W4":
        c, calls = np.zeros(1, F32), d["calls"]

        def run():
            for _ in range(calls):
                w4_kernel(c)
        r.run, r._value = run, lambda: c[0]
    elif wl == "W5":
        r.run, r._value = _mlp_step(d)
    elif wl == "W6":
        r.run, r._value = _conv_filter(d)
    else:
        raise KeyError(wl)
    return r


def _mlp_step(d):
    x, y, lr = d["x5"], d["y5"], F32(d["lr5"])
    W1, b1, W2, b2 = (d[k].copy() for k in ("W1", "b1", "W2", "b2"))
    n = x.shape[0]
    h = np.empty((n, W1.shape[1]), F32)
    logits = np.empty((n, W2.shape[1]), F32)
    dlog = np.empty_like(logits)
    dh = np.empty_like(h)
    dW1, dW2 = np.empty_like(W1), np.empty_like(W2)
    db1, db2 = np.empty_like(b1), np.empty_like(b2)
    box = [0.0]

    def run():
        np.matmul(x, W1, out=h)
        bias_relu_(h, b1)
        np.matmul(h, W2, out=logits)
        np.add(logits, b2, out=logits)
        box[0] = softmax_xent_(logits, y, dlog)
        np.matmul(h.T, dlog, out=dW2)
        col_sum_(dlog, db2)
        np.matmul(dlog, W2.T, out=dh)
        relu_grad_(dh, h)
        col_sum_(dh, db1)
        np.matmul(x.T, dh, out=dW1)
        sgd2_(W1, dW1, lr)
        sgd1_(b1, db1, lr)
        sgd2_(W2, dW2, lr)
        sgd1_(b2, db2, lr)
        return box[0]
    return run, lambda: np.float32(box[0])


def _conv_filter(d):
    x = d["img"]
    n, hh, ww, c = x.shape
    layers = [(d["k1"], d["kb1"]), (d["k2"], d["kb2"])]
    kh, kw, _, co = layers[0][0].shape
    cols = np.empty((n * hh * ww, kh * kw * c), F32)
    outs = [np.empty((n * hh * ww, co), F32) for _ in layers]
    mats = [k.reshape(kh * kw * c, co) for k, _ in layers]

    def run():
        inp = x
        for (k, b), m, o in zip(layers, mats, outs):
            im2col_same_(inp, kh, kw, cols)
            np.matmul(cols, m, out=o)
            bias_relu_(o, b)
            inp = o.reshape(n, hh, ww, co)
        return inp
    return run, lambda: outs[-1].reshape(n, hh, ww, co)
