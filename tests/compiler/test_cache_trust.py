"""The kernel cache is used only when the user owns it alone (``cache_trust.py``): a shared,
foreign or symlinked directory gets a warning naming it, and kernels compile in memory, correct,
without reading or writing a file there."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import cache_trust, config


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    root.mkdir(mode=0o700)
    monkeypatch.setenv("JITGRAPH_CACHE_DIR", str(root))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    cache_trust.forget()
    prev = config.set_compile_mode("eager")
    yield root
    config.set_compile_mode(prev)
    cache_trust.forget()


def _run_a_kernel(seed):
    """Compile and run a kernel no other test has: (result, expected)."""
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [5])
        y = tf.tanh(x * (1.0 + seed)) + seed
        with tf.Session() as sess:
            xv = np.linspace(-1, 1, 5).astype(np.float32)
            return sess.run(y, {x: xv}), np.tanh(xv * (1 + seed)) + seed


def _files(root):
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def _refused(root, match, seed):
    with pytest.warns(RuntimeWarning, match=match):
        got, want = _run_a_kernel(seed)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert not [f for f in _files(root) if f.endswith((".py", ".nbi", ".nbc"))]   # nothing written


def test_world_writable_cache_is_refused(cache):
    cache.chmod(0o777)
    _refused(cache, f"{cache}.*writable by group and others", 0.125)


def test_group_writable_kernels_dir_is_refused(cache):
    (cache / "kernels").mkdir(mode=0o700)
    (cache / "kernels").chmod(0o770)
    _refused(cache, "kernels.*writable by group", 0.25)


def test_symlinked_kernels_dir_is_refused(cache, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (cache / "kernels").symlink_to(elsewhere)
    with pytest.warns(RuntimeWarning, match="symbolic link"):
        got, want = _run_a_kernel(0.375)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert not os.listdir(elsewhere)          # nothing created or written through the link


def test_cache_owned_by_another_user_is_refused(cache, monkeypatch):
    if os.geteuid() == 0:
        os.chown(cache, 4242, 4242)                     # really another owner
    else:
        monkeypatch.setattr(os, "getuid", lambda: os.stat(cache).st_uid + 1)   # we are someone else
    _refused(cache, "owned by uid", 0.5)


def test_untrusted_numba_cache_dir_is_replaced_by_a_private_one(cache, tmp_path, monkeypatch):
    shared = tmp_path / "shared-numba"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(shared))
    import numba.core.config as nconfig
    monkeypatch.setattr(nconfig, "CACHE_DIR", str(shared))
    with pytest.warns(RuntimeWarning, match="shared-numba"):
        cache_trust.guard_numba_cache_dir()
    private = os.environ["NUMBA_CACHE_DIR"]
    assert private != str(shared) and nconfig.CACHE_DIR == private
    assert cache_trust.problem(private) is None


def test_new_directories_are_private(cache):
    _run_a_kernel(0.625)
    for d in (cache / "kernels", cache / "kernels" / "__pycache__"):
        assert d.stat().st_mode & 0o777 == 0o700


def test_default_cache_stays_warm_across_processes(tmp_path):
    code = ("import warnings, numpy as np, jitgraph as tf; warnings.simplefilter('error');"
            "from jitgraph.compiler import config, disk_cache as dc; config.set_compile_mode('eager');"
            "x = tf.placeholder(tf.float32, [3]); y = tf.exp(x) * 0.875 - 0.5;"
            "s = tf.Session(); r = s.run(y, {x: np.ones(3, np.float32)});"
            "st = dc.cache_stats(); print(st['writes'], st['disk_loads'], st['numba_cache_hits'], r[0])")
    env = dict(os.environ, JITGRAPH_CACHE_DIR=str(tmp_path / "c"))
    env.pop("NUMBA_CACHE_DIR", None)
    first, second = (subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split() for _ in range(2))
    assert first[0] != "0" and second[0] == "0"          # written once ...
    assert int(second[1]) > 0 and int(second[2]) > 0     # ... then loaded, machine code included
    assert abs(float(second[3]) - (np.exp(1) * 0.875 - 0.5)) < 1e-5
