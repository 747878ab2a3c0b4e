"""Fixtures shared across the test tree."""

import pytest

import jitgraph as tf


@pytest.fixture
def g():
    """A fresh graph, installed as the default graph for the test."""
    graph = tf.Graph()
    with graph.as_default():
        yield graph


@pytest.fixture(autouse=True)
def _finish_background_builds():
    """A test's background builds end with it, so they never run into the next test's counters."""
    yield
    from jitgraph.compiler import wait_for_builds
    wait_for_builds()


@pytest.fixture
def reference():
    """Run every plan on the NumPy reference executor (tests of semantics; compiled paths are
    covered by tests that take ``eager`` or ``mode``)."""
    from jitgraph.compiler import config
    prev = config.set_compile_mode("never")
    try:
        yield
    finally:
        config.set_compile_mode(prev)


@pytest.fixture
def eager():
    """Compile every plan on its first run (no warm-up on the reference executor)."""
    from jitgraph.compiler import config
    prev = config.set_compile_mode("eager")
    try:
        yield
    finally:
        config.set_compile_mode(prev)


@pytest.fixture(params=["never", "eager"])
def mode(request):
    """The test twice: plans on the NumPy reference executor, then compiled on their first run."""
    from jitgraph.compiler import config
    prev = config.set_compile_mode(request.param)
    try:
        yield request.param
    finally:
        config.set_compile_mode(prev)
