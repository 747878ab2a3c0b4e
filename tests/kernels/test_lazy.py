"""``kernels.lazy``: every op's fast path is a lazy reference into ``jitgraph.kernels`` that
resolves to a function, and ``import jitgraph`` does not import Numba."""

import subprocess
import sys

import jitgraph  # noqa: F401  (registers the ops)
from jitgraph.kernels import Lazy
from jitgraph.ops.registry import OPS


def test_fast_paths_resolve_to_kernel_functions():
    # jitgraph's own ops (tests may register ops of their own with other fast paths)
    FAST = {t: d.extra["fast"] for t, d in OPS.items()
            if "fast" in (d.extra or {}) and getattr(d.compute, "__module__", "").startswith("jitgraph.")}
    assert {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "_FusedConv2D", "_FusedMatMul", "MaxPool",
            "MaxPoolGrad", "AvgPool", "AvgPoolGrad", "Softmax", "LogSoftmax", "SoftmaxGrad", "LogSoftmaxGrad",
            "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits", "XentGrad"} <= set(FAST)
    for op_type, fast in FAST.items():
        assert isinstance(fast, Lazy), op_type
        fn = fast.resolve()
        assert callable(fn) and fn.__module__ == f"jitgraph.kernels.{fast.module}", op_type


def test_import_does_not_load_numba():
    code = ("import sys, jitgraph; from jitgraph.ops.registry import OPS; "
            "assert OPS['Conv2D'].extra['fast'] and OPS['MaxPool'].extra['fast']; print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
