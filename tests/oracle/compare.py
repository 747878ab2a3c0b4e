"""``assert_same``: a jitgraph scenario's JSON-shaped result against TensorFlow's recorded one,
for the oracle tests that record nested dicts and lists (``test_data_oracle``,
``test_queue_oracle``)."""

import numpy as np
import pytest


def assert_same(ours, theirs, where="value"):
    """Equal JSON values, recursively. Floats within float32 rounding; an array recorded as
    ``{"dtype", "shape", "value"}`` must match dtype and shape, and its float values within
    rounding."""
    if isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6), where
    elif isinstance(theirs, dict) and "value" in theirs:
        assert isinstance(ours, dict) and ours.get("dtype") == theirs["dtype"], f"{where}: {ours} != {theirs}"
        assert ours["shape"] == theirs["shape"], f"{where}: shape {ours['shape']} != {theirs['shape']}"
        if theirs["dtype"].startswith("float"):
            np.testing.assert_allclose(ours["value"], theirs["value"], rtol=1e-6, err_msg=where)
        else:
            assert ours["value"] == theirs["value"], f"{where}: {ours['value']} != {theirs['value']}"
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), f"{where}: {ours} != {theirs}"
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{where}.{k}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{where}: {ours} != {theirs}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"
