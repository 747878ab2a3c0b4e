"""Machine probes: memory bandwidth (triad / read / in-place, Numba prange, all threads) and the
sgemm FLOP rate, measured at the start of a run; the in-run "probe" impl with W1's and W2's memory
traffic (timed interleaved with the other impls, the more reliable ceiling); and the limits.
"""
import time

import numpy as np

from . import handnumba as H

F32 = np.float32


def _best(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def bandwidth(n, reps=7):
    """Best GB/s over reps, counting bytes read + bytes written (no write-allocate)."""
    n = max(int(n), 1 << 20)
    a, b, c = np.zeros(n, F32), np.ones(n, F32), np.ones(n, F32)
    s = F32(1.0000001)
    nb = 4 * n
    out = {
        "triad_GBs": 3 * nb / _best(lambda: H.probe_triad(a, b, c, s), reps) / 1e9,
        "read_GBs": nb / _best(lambda: H.probe_read(b), reps) / 1e9,
        "inplace_GBs": 2 * nb / _best(lambda: H.probe_inplace(a, s), reps) / 1e9,
        "probe_elems": n,
    }
    return out


def sgemm(m=1024, reps=7):
    a = np.random.default_rng(0).random((m, m), dtype=F32)
    b = a.copy()
    c = np.empty_like(a)
    t = _best(lambda: np.matmul(a, b, out=c), reps)
    return {"sgemm_GFLOPs": 2 * m ** 3 / t / 1e9, "sgemm_m": m}


def blas_info():
    """What threadpoolctl says about the BLAS that NumPy's matmul uses (after one call)."""
    np.ones((64, 64), F32) @ np.ones((64, 64), F32)
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not importable"}]
    keep = ("user_api", "internal_api", "version", "architecture", "num_threads",
            "threading_layer", "prefix")
    return [{k: i.get(k) for k in keep} for i in threadpool_info()]


def limits_ms(wl, sz, m):
    """Bytes that must move at the best probed bandwidth, or FLOPs at the sgemm rate (ms)."""
    n = sz["n"]
    if wl == "W1":  # read x, w, b; write y
        return 16 * n / (m["triad_GBs"] * 1e9) * 1e3
    if wl == "W2":  # read x once
        return 4 * n / (m["read_GBs"] * 1e9) * 1e3
    if wl == "W3":  # read v, g; write v
        return 12 * n / (m["inplace_GBs"] * 1e9) * 1e3
    if wl == "W5":
        b = sz["batch"]
        flops = 2 * (2 * b * 784 * 256) + 3 * (2 * b * 256 * 10)  # x@W1, x.T@dh; 3 small
        return flops / (m["sgemm_GFLOPs"] * 1e9) * 1e3
    if wl == "W6":
        nn, hh, ww, c = sz["img"]
        flops = 2 * 2 * nn * hh * ww * sz["ksz"] ** 2 * c * 32
        return flops / (m["sgemm_GFLOPs"] * 1e9) * 1e3
    return None


class _Runner:
    def value(self):
        return self._value()


def make_probe(wl, d):
    """In-run probe impl: same memory traffic as W1 (3 reads + 1 write) / W2 (1 read)."""
    from .peers import NotApplicable
    r = _Runner()
    if wl == "W1":
        x, w, b = d["x"], d["w"], d["b"]
        out = np.empty_like(x)
        r.run = lambda: H.probe_w1_traffic(x, w, b, out)
    elif wl == "W2":
        x = d["x"]
        r.run = lambda: H.probe_read(x)
    else:
        raise NotApplicable
    r._value = lambda: None  # not a result of the workload: exempt from the value check
    return r
