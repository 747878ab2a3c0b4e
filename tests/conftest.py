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
