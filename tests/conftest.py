"""Fixtures shared across the test tree."""

import pytest

import jitgraph as tf


@pytest.fixture
def g():
    """A fresh graph, installed as the default graph for the test."""
    graph = tf.Graph()
    with graph.as_default():
        yield graph
