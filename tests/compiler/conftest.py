"""Shared fixtures for compiler tests."""

import pytest

from jitgraph.compiler import config


@pytest.fixture
def eager_strict():
    """Compile on the first run and raise on compile failures (no silent reference fallback)."""
    prev_mode, prev_strict = config.set_compile_mode("eager"), config.set_strict(True)
    yield
    config.set_compile_mode(prev_mode)
    config.set_strict(prev_strict)
