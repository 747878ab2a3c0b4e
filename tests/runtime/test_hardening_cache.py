"""The compiled-kernel disk cache, end to end through Session in fresh processes: corrupted or
truncated cache files are detected and recompiled; two processes compiling the same kernels into
one empty cache dir at the same moment both get correct results and leave a valid cache.
(``tests/compiler/test_disk_cache.py`` covers ``disk_cache`` itself at the module level.)"""

import glob
import os
import subprocess
import sys

import pytest


PROGRAM = r'''
import os, sys, time
import numpy as np
import jitgraph as tf
from jitgraph.compiler import config
config.set_compile_mode("eager")
start = sys.argv[1] if len(sys.argv) > 1 else None
if start:   # both processes wait for the same moment, then compile at once
    while not os.path.exists(start):
        time.sleep(0.001)
x = tf.placeholder(tf.float32, [None, 3], name="x")
v = tf.Variable(np.ones(3, np.float32), name="v")
y = tf.reduce_sum(tf.exp(x * 0.5) + v * x, axis=1)
step = v.assign_add(tf.reduce_mean(x, axis=0))
xv = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
with tf.Session() as sess:
    sess.run(v.initializer)
    got = sess.run(y, {x: xv})
    sess.run(step, {x: xv})
    got2 = sess.run(y, {x: xv})
vv = 1 + xv.mean(axis=0)
np.testing.assert_allclose(got, (np.exp(xv * 0.5) + xv).sum(1), rtol=1e-5)
np.testing.assert_allclose(got2, (np.exp(xv * 0.5) + vv * xv).sum(1), rtol=1e-5)
print("ok")
'''


def _run(cache, *args, check=True):
    env = dict(os.environ, JITGRAPH_CACHE_DIR=str(cache), JITGRAPH_STRICT="1")
    env.pop("NUMBA_CACHE_DIR", None)
    p = subprocess.run([sys.executable, "-c", PROGRAM, *args], env=env, capture_output=True, text=True,
                       timeout=180)
    if check:
        assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-3000:]
    return p


def _cache_files(cache):
    return sorted(f for f in glob.glob(f"{cache}/**/*", recursive=True) if os.path.isfile(f))


def test_corrupt_and_truncated_cache_files_are_recompiled(tmp_path):
    cache = tmp_path / "cache"
    _run(cache)
    files = _cache_files(cache)
    data = [f for f in files if f.endswith((".nbc", ".nbi"))]
    if not data:
        pytest.skip("Session did not write compiled kernels to the disk cache")
    for i, f in enumerate(f for f in files if f.endswith((".nbc", ".nbi", ".py"))):
        raw = open(f, "rb").read()
        with open(f, "wb") as out:   # alternately truncate and garble
            out.write(raw[: len(raw) // 2] if i % 2 else b"\x80\x05garbage" + raw[5:])
    _run(cache)   # correct values, no crash, no unpickling error
    _run(cache)   # and the rewritten cache is valid for the next process
    for f in _cache_files(cache):
        if f.endswith(".py"):
            compile(open(f).read(), f, "exec")


def test_two_processes_compile_the_same_kernels_at_once(tmp_path):
    cache, start = tmp_path / "cache", tmp_path / "go"
    env = dict(os.environ, JITGRAPH_CACHE_DIR=str(cache), JITGRAPH_STRICT="1")
    procs = [subprocess.Popen([sys.executable, "-c", PROGRAM, str(start)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    start.write_text("go")
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0 and out.strip() == "ok", err[-3000:]
    _run(cache)   # a third process loads what they wrote
