"""Tests for jitgraph.compiler.disk_cache (on-disk Numba kernel module cache)."""

import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from jitgraph.compiler import disk_cache as dc

REPO = Path(__file__).resolve().parents[2]

# A lazily compiled kernel and an eagerly compiled one (signature in the
# decorator: compiled while the module body runs) in one generated module.
SRC = '''import math
import numpy as np
import numba


@numba.njit(cache=True, nogil=True, error_model="numpy",
            fastmath={"arcp", "contract", "afn", "reassoc", "nsz"},
            boundscheck=False)
def k0(a0, a1):
    out = np.empty_like(a0)
    for i in range(a0.shape[0]):
        out[i] = math.exp(a0[i]) * a1[i] + 1.0
    return out


@numba.njit("float64(float64[::1])", cache=True, nogil=True,
            error_model="numpy")
def k1(a0):
    s = 0.0
    for i in range(a0.shape[0]):
        s += a0[i] / 2.0
    return s
'''

A = np.linspace(-1.0, 1.0, 7)


def expected_k0(a):
    return np.exp(a) * a + 1.0


def check_module(mod):
    np.testing.assert_allclose(mod.k0(A, A), expected_k0(A))
    assert mod.k1(A) == pytest.approx(A.sum() / 2.0)


# Runs in a fresh interpreter: load SRC from the cache dir, call both kernels,
# print timings, results and Numba's own cache statistics as JSON.
WORKER = r'''
import json, sys, time
t0 = time.perf_counter()
import numba
t_import = time.perf_counter() - t0
if "warmup" in sys.argv:  # initialise numba's target outside the timings
    numba.njit(lambda x: x + 1)(1)
from jitgraph.compiler import disk_cache as dc
import numpy as np
src = open(sys.argv[1]).read()
a = np.linspace(-1.0, 1.0, 7)
t = time.perf_counter()
mod = dc.load_module(src)
t_load = time.perf_counter() - t
t = time.perf_counter()
r0 = mod.k0(a, a)
t_call = time.perf_counter() - t
r1 = mod.k1(a)
print(json.dumps({
    "r0": r0.tolist(), "r1": r1, "t_load": t_load, "t_call": t_call,
    "t_import": t_import,
    "k0_hits": sum(mod.k0.stats.cache_hits.values()),
    "k0_misses": sum(mod.k0.stats.cache_misses.values()),
    "k1_hits": sum(mod.k1.stats.cache_hits.values()),
    "k1_misses": sum(mod.k1.stats.cache_misses.values()),
    "stats": dc.cache_stats(), "name": mod.__name__, "file": mod.__file__,
}))
'''


def _env(cache_dir, **extra):
    env = dict(os.environ)
    env["JITGRAPH_CACHE_DIR"] = str(cache_dir)
    env.pop("JITGRAPH_CACHE", None)
    env.pop("NUMBA_CACHE_DIR", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(extra)
    return env


def _src_file(tmp_path):
    p = tmp_path / "kernel_src.txt"
    p.write_text(SRC)
    return p


def run_worker(cache_dir, src_file):
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(src_file), "warmup"],
        env=_env(cache_dir), capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(res["r0"], expected_k0(A))
    assert res["r1"] == pytest.approx(A.sum() / 2.0)
    return res


def numba_files(cache_dir):
    pyc = Path(cache_dir) / "kernels" / "__pycache__"
    return (sorted(pyc.glob("jg_*.nbi")), sorted(pyc.glob("jg_*.nbc")))


def assert_cache_consistent(cache_dir):
    """One .py with exactly SRC, no leftover temp files, loadable indexes."""
    kdir = Path(cache_dir) / "kernels"
    pys = sorted(kdir.glob("jg_*.py"))
    assert len(pys) == 1
    assert pys[0].read_text() == SRC
    leftovers = [p for p in kdir.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    nbis, nbcs = numba_files(cache_dir)
    assert len(nbis) == 2 and len(nbcs) >= 2  # k0 and k1
    for nbi in nbis:
        with open(nbi, "rb") as f:
            pickle.load(f)  # version
            stamp, overloads = pickle.loads(f.read())
        assert overloads  # at least one entry
        for name in overloads.values():
            assert (nbi.parent / name).exists()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "jgcache"
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(d))
    monkeypatch.delenv("JITGRAPH_CACHE", raising=False)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    return d


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A cache dir filled by one separate process (cold compile)."""
    base = tmp_path_factory.mktemp("populated")
    d = base / "jgcache"
    res = run_worker(d, _src_file(base))
    assert res["k0_misses"] == 1 and res["k1_misses"] == 1
    return d, res


# --------------------------------------------------------------------------


def test_import_does_not_import_numba():
    code = ("import sys, jitgraph.compiler.disk_cache as m; "
            "assert 'numba' not in sys.modules, 'numba imported'; "
            "m.cache_dir(); m.cache_enabled(); "
            "assert 'numba' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], env=_env("/nonexistent"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(tmp_path / "x"))
    assert dc.cache_dir() == tmp_path / "x"
    assert dc.kernels_dir() == tmp_path / "x" / "kernels"
    monkeypatch.delenv("JITGRAPH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dc.cache_dir() == tmp_path / "xdg" / "jitgraph"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert dc.cache_dir() == Path.home() / ".cache" / "jitgraph"
    monkeypatch.setenv("JITGRAPH_CACHE", "0")
    assert not dc.cache_enabled()
    monkeypatch.setenv("JITGRAPH_CACHE", "1")
    assert dc.cache_enabled()


def test_key_covers_codegen_version(monkeypatch):
    k1 = dc.module_key(SRC)
    assert k1 == dc.module_key(SRC)
    assert k1 != dc.module_key(SRC + "\n")
    monkeypatch.setattr(dc, "CODEGEN_VERSION", "999")
    monkeypatch.setattr(dc, "_version_salt", None)
    assert dc.module_key(SRC) != k1
    monkeypatch.undo()
    dc._version_salt = None
    assert dc.module_key(SRC) == k1


def test_memo_same_module_and_file_layout(cache_dir):
    before = dc.cache_stats()
    m1 = dc.load_module(SRC)
    m2 = dc.load_module(SRC)
    assert m1 is m2
    key = dc.module_key(SRC)
    assert m1.__name__ == f"jg_{key[:32]}"
    assert sys.modules[m1.__name__] is m1
    path = cache_dir / "kernels" / f"jg_{key[:32]}.py"
    assert Path(m1.__file__) == path
    assert path.read_text() == SRC
    check_module(m1)
    after = dc.cache_stats()
    assert after["memory_hits"] - before["memory_hits"] == 1
    assert after["writes"] - before["writes"] == 1
    # numba wrote its index next to the module
    nbis, nbcs = numba_files(cache_dir)
    assert len(nbis) == 2 and len(nbcs) == 2
    # a different source is a different module
    m3 = dc.load_module(SRC.replace("+ 1.0", "+ 2.0"))
    assert m3 is not m1
    np.testing.assert_allclose(m3.k0(A, A), expected_k0(A) + 1.0)


def test_new_process_loads_from_disk_without_compiling(tmp_path, populated):
    d, cold = populated
    warm = run_worker(d, _src_file(tmp_path))
    assert warm["stats"]["disk_loads"] == 1 and warm["stats"]["writes"] == 0
    assert warm["k0_hits"] == 1 and warm["k0_misses"] == 0
    assert warm["k1_hits"] == 1 and warm["k1_misses"] == 0
    assert warm["stats"]["numba_cache_misses"] == 0
    # compile (k1 eager at load, k0 lazy at first call) vs load from cache
    cold_t = cold["t_load"] + cold["t_call"]
    warm_t = warm["t_load"] + warm["t_call"]
    print(f"cold compile {cold_t * 1e3:.1f} ms, warm load {warm_t * 1e3:.1f} ms")
    assert warm_t < cold_t / 2


def test_numba_needs_module_registered(tmp_path, populated):
    """The cached environment names the real module, not '<dynamic>'."""
    d, cold = populated
    assert cold["name"].startswith("jg_")
    assert Path(cold["file"]).parent == d / "kernels"


CORRUPTIONS = {
    "nbi_garbage": ("nbi", lambda b: os.urandom(len(b))),
    "nbi_truncated": ("nbi", lambda b: b[: len(b) // 2]),
    "nbi_empty": ("nbi", lambda b: b""),
    "nbi_bad_payload": ("nbi", lambda b: b[:40] + os.urandom(len(b) - 40)),
    "nbc_garbage": ("nbc", lambda b: os.urandom(len(b))),
    "nbc_truncated": ("nbc", lambda b: b[: len(b) // 3]),
    "nbc_empty": ("nbc", lambda b: b""),
}


@pytest.mark.parametrize("func", ["k0", "k1"])  # lazy, eager
@pytest.mark.parametrize("mode", sorted(CORRUPTIONS))
def test_corrupt_numba_cache_recompiles(mode, func, populated, tmp_path,
                                        monkeypatch):
    """Numba 0.68 itself raises (UnpicklingError/EOFError) on all of these;
    load_module must recompile instead, for eager (compiled while the module
    body runs) and lazy (compiled on first call) kernels alike."""
    src_dir, _ = populated
    d = tmp_path / "jgcache"
    shutil.copytree(src_dir, d)
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(d))
    kind, damage = CORRUPTIONS[mode]
    nbis, nbcs = numba_files(d)
    targets = [p for p in (nbis if kind == "nbi" else nbcs)
               if f".{func}-" in p.name]
    assert len(targets) == 1
    for p in targets:
        p.write_bytes(damage(p.read_bytes()))
    before = dc.cache_stats()["recoveries"]
    mod = dc.load_module(SRC)
    check_module(mod)
    assert dc.cache_stats()["recoveries"] - before == 1
    damaged, intact = (mod.k0, mod.k1) if func == "k0" else (mod.k1, mod.k0)
    assert sum(damaged.stats.cache_misses.values()) == 1  # recompiled
    assert sum(intact.stats.cache_hits.values()) == 1  # only its files purged
    # and the cache was rewritten in a good state
    assert_cache_consistent(d)


def test_truncated_py_is_rewritten(populated, tmp_path, monkeypatch):
    src_dir, _ = populated
    d = tmp_path / "jgcache"
    shutil.copytree(src_dir, d)
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(d))
    (py,) = (d / "kernels").glob("jg_*.py")
    py.write_text(SRC[: len(SRC) // 2])  # as left by a killed writer
    before = dc.cache_stats()["rewrites"]
    mod = dc.load_module(SRC)
    assert dc.cache_stats()["rewrites"] - before == 1
    assert py.read_text() == SRC
    check_module(mod)
    assert_cache_consistent(d)


def test_concurrent_processes_share_one_cache(cache_dir, tmp_path):
    d = cache_dir
    src_file = _src_file(tmp_path)
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(src_file)],
                         env=_env(d), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        res = json.loads(out.strip().splitlines()[-1])
        np.testing.assert_allclose(res["r0"], expected_k0(A))
        assert res["r1"] == pytest.approx(A.sum() / 2.0)
        results.append(res)
    # exactly one writer of the .py; eager k1 compiled once under the lock,
    # the other processes then loaded it from numba's cache
    assert sum(r["stats"]["writes"] for r in results) == 1
    assert sum(r["k1_misses"] for r in results) == 1
    assert_cache_consistent(d)
    # a later load (fresh dispatchers; memo is empty for this dir) finds
    # everything in numba's cache
    mod = dc.load_module(SRC)
    check_module(mod)
    assert sum(mod.k0.stats.cache_misses.values()) == 0
    assert sum(mod.k1.stats.cache_misses.values()) == 0
    assert sum(mod.k0.stats.cache_hits.values()) == 1
    assert sum(mod.k1.stats.cache_hits.values()) == 1


def test_cache_disabled_in_memory(tmp_path, monkeypatch):
    d = tmp_path / "jgcache"
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(d))
    monkeypatch.setenv("JITGRAPH_CACHE", "0")
    src = SRC.replace("+ 1.0", "+ 3.0")  # not loaded by any other test
    before = dc.cache_stats()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumbaWarning about caching
        mod = dc.load_module(src)
        np.testing.assert_allclose(mod.k0(A, A), expected_k0(A) + 2.0)
        assert mod.k1(A) == pytest.approx(A.sum() / 2.0)
    assert dc.load_module(src) is mod
    assert mod.__name__.startswith("jg_mem_")
    assert sys.modules[mod.__name__] is mod
    assert not d.exists()
    after = dc.cache_stats()
    assert after["memory_loads"] - before["memory_loads"] == 1
    assert after["memory_hits"] - before["memory_hits"] == 1


def test_unwritable_cache_dir_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(blocker))
    src = SRC.replace("+ 1.0", "+ 4.0")
    from jitgraph.compiler import cache_trust
    cache_trust.forget()
    with pytest.warns(RuntimeWarning, match="cannot be created or read"):
        mod = dc.load_module(src)
    assert mod.__name__.startswith("jg_mem_")
    np.testing.assert_allclose(mod.k0(A, A), expected_k0(A) + 3.0)


def test_compile_error_is_not_swallowed(cache_dir):
    bad = SRC.replace('"float64(float64[::1])"', '"float64(int64)"')
    before = dc.cache_stats()["recoveries"]
    with pytest.raises(Exception) as ei:
        dc.load_module(bad)
    assert "Typing" in type(ei.value).__name__
    assert dc.cache_stats()["recoveries"] == before  # no purge-and-retry
    assert not any(m.startswith(f"jg_{dc.module_key(bad)[:32]}")
                   for m in sys.modules)


def test_clear_cache(cache_dir):
    mod = dc.load_module(SRC)
    assert (cache_dir / "kernels").exists()
    dc.clear_cache()
    assert not (cache_dir / "kernels").exists()
    check_module(mod)  # handed-out modules keep working
    mod2 = dc.load_module(SRC)
    assert mod2 is not mod
    check_module(mod2)
    assert (cache_dir / "kernels").exists()


def test_threads_load_once(cache_dir):
    import threading

    src = SRC.replace("+ 1.0", "+ 5.0")
    got = []
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        got.append(dc.load_module(src))

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(got) == 4 and all(m is got[0] for m in got)
    np.testing.assert_allclose(got[0].k0(A, A), expected_k0(A) + 4.0)
