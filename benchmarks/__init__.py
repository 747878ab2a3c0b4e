"""jitgraph benchmarks: W1-W6 and C1 (see benchmarks/README.md).  Run ``python -m benchmarks -h``.

Importing this package sets two process-wide defaults *before* Numba or TensorFlow are imported
(an explicit value in the environment always wins):

* ``NUMBA_THREADING_LAYER=workqueue``: Numba's default OpenMP layer spin-waits after each
  parallel loop and starves OpenBLAS on a 2-core machine (PERF.md: W6 16.0 ms -> 5.4 ms).  The
  layer is process-global, so it applies to the hand-Numba impl *and* to jitgraph (and
  PyTensor's Numba mode) in the same run; the layer actually used is recorded in the JSON.
* ``TF_XLA_FLAGS`` gains ``--tf_xla_cpu_global_jit``: with it, a TF1 session whose ConfigProto
  sets ``global_jit_level=ON_1`` is XLA auto-jitted on CPU while a session with the default
  config is not, so "tf" and "tf-xla" run side by side in one process (checked with
  ``XLA_FLAGS=--xla_dump_to``: only the ON_1 session produces XLA modules).
"""
import os

os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_flags = os.environ.get("TF_XLA_FLAGS", "")
if "tf_xla_cpu_global_jit" not in _flags:
    os.environ["TF_XLA_FLAGS"] = (_flags + " --tf_xla_cpu_global_jit").strip()
