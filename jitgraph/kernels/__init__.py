"""Fast kernels: the second half of a ``library`` op, one module per kernel family.

An op is defined once in ``jitgraph/ops/`` with its NumPy reference (``compute``), the oracle of
the reference executor and of the tests.  Its fast path lives here and is attached to the op as
``extra["fast"] = lazy("<module>", "<function>")``: same arguments and results as ``compute``
within the float tolerance its docstring states.  The compiler runs the fast path in its NumPy
steps (``compiler.runner_calls.numpy_step``); each fast path falls back to the reference for inputs it
does not handle (other dtypes, layouts).

Modules import Numba at their top and hold their ``@njit(cache=True)`` loops at module level, so
Numba's disk cache finds them again in the next process.  ``lazy`` defers the import to the first
call: ``import jitgraph`` never imports Numba.

Families (each module's docstring states what it measured and its error bound):

* ``conv``: Conv2D and its gradients by blocked im2col + BLAS (``im2col``: the Numba gathers),
  register-tiled direct loops for 1-4 input channels (``direct_conv``),
  Winograd for stride-1 3x3 / 5x5 (``winograd``, ``winograd8``, their loops in
  ``winograd_jit``; the filter gradient in ``winograd_grad``; the transform of the filter and of
  the filter gradient's sums in ``winograd_filter``), bias + activation epilogues
  (``epilogue``) for ``_FusedConv2D``;
* ``matmul``: ``_FusedMatMul`` (BLAS by row blocks + the epilogue);
* ``pool``: MaxPool, AvgPool and their gradients; ``pool_taps``: the 2x2 max pool that records
  its windows' winning taps and the gradient from that record (``_MaxPoolTaps``);
* ``softmax``: Softmax, LogSoftmax, their gradients and the cross-entropies, row by row;
* ``histogram``: the bucket count of ``HistogramSummary``;
* ``dropout``: ``DropoutMask`` drawn and written in one loop from the op's generator;
* ``loop_gemm``: a native loop's matmuls split by rows with lent chunk workers;
* ``segment``: ``UnsortedSegmentSum`` (the gradient of ``gather`` / ``embedding_lookup``);
* ``blas``: the chunk runner (one worker per BLAS thread, single-threaded BLAS each), the
  per-thread scratch buffers they share, and ``owned``: plans whose kernels run on several threads
  hold OpenBLAS at one thread for the whole run, so its spin-waiting workers keep off their cores;
  the workers are kept off the CPU of the thread that hands them work (``_Steer``);
* ``workers``: the chunk workers' threads, which stay awake for a moment after each call (a
  hand-off to a sleeping thread cost ~50 us);
* ``denormals``: FTZ/DAZ on for each ``Session.run`` and in jitgraph's own threads, as TF's pools;
* ``side_steps``: a plan's conv run on the chunk worker beside its other steps (``spawn``/``join``,
  placed by ``compiler/concurrency.py``), sharing its chunks with the plan's thread when it waits.
"""

import importlib


class Lazy:
    """``jitgraph.kernels.<module>.<name>``, imported on its first call."""

    __slots__ = ("module", "name", "_fn")

    def __init__(self, module, name):
        self.module, self.name, self._fn = module, name, None

    def resolve(self):
        """The kernel function itself (imports its module)."""
        if self._fn is None:
            self._fn = getattr(importlib.import_module(f"{__name__}.{self.module}"), self.name)
        return self._fn

    def __call__(self, *args, **kwargs):
        return (self._fn or self.resolve())(*args, **kwargs)

    def __repr__(self):
        return f"<kernel {__name__}.{self.module}.{self.name}>"


def lazy(module, name):
    """An ``extra["fast"]`` entry for ``jitgraph.kernels.<module>.<name>``."""
    return Lazy(module, name)
