"""Helpers the compiler tests share: what a compiled plan runs as NumPy steps, and the reference
executor's values for the same fetches."""

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.compiler.schedule import KernelStep


def numpy_step_types(steps):
    """The op types of the steps of a compiled plan that run as NumPy steps (not kernels)."""
    return [s.type for s in steps if not isinstance(s, KernelStep)]


def reference_values(graph, fetches, feeds, init):
    """``fetches`` of ``graph`` run on the reference executor after ``init``."""
    prev = config.set_compile_mode("never")
    try:
        with tf.Session(graph=graph) as ref:
            ref.run(init)
            return ref.run(fetches, feeds)
    finally:
        config.set_compile_mode(prev)
