"""Fixtures of the tf.data tests."""

import pytest

from jitgraph.compiler import config


@pytest.fixture
def reference_plans():
    """Run plans (the session's and the pipeline functions') on the NumPy reference executor:
    these tests check the pipeline's semantics; ``test_compiled.py`` covers compiled plans."""
    prev = config.set_compile_mode("never")
    try:
        yield
    finally:
        config.set_compile_mode(prev)
