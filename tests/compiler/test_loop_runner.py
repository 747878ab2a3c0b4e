"""loop_runner's BLAS setting: SciPy's BLAS (what ``np.dot`` calls in native loops) is set to one
thread by the main thread's first loop; another thread (the background builder) never sets it,
since OpenBLAS ignores a count set there and, while that thread lives, the main thread's too."""

import threading

import pytest

from jitgraph.compiler import loop_runner


def test_only_the_main_thread_sets_the_loop_blas(monkeypatch):
    monkeypatch.setattr(loop_runner, "_blas_libs", [])
    calls = []

    class Lib:
        user_api, filepath = "blas", "/site-packages/scipy.libs/libscipy_openblas.so"

        def set_num_threads(self, n):
            calls.append((threading.current_thread() is threading.main_thread(), n))

    class Controller:
        lib_controllers = [Lib()]
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr("threadpoolctl.ThreadpoolController", Controller)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("other", loop_runner._loop_blas()))
    t.start()
    t.join(10)
    assert got["other"] == [] and calls == [] and loop_runner._blas_libs == []
    libs = loop_runner._loop_blas()
    assert len(libs) == 1 and calls == [(True, loop_runner._BLAS_THREADS)]
    assert loop_runner._loop_blas() is libs and len(calls) == 1       # once per process
