"""Every queue-pipeline scenario of ``tests/oracle/queue_cases.py`` against what TensorFlow 2.21 did
(recorded by ``tests/oracle/record_queues.py``): batches in order, static shapes, the end of input,
error classes and messages, a Coordinator training loop and MonitoredSession. Each scenario runs
with plans on the reference executor and compiled (queue ops are NumPy steps of compiled plans)."""

import json
import os
import sys

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from queue_cases import SCENARIOS, deadline  # noqa: E402

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "queues.json")))["scenarios"]


def assert_same(ours, theirs, where):
    if isinstance(theirs, float):
        assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-6), where
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


@pytest.fixture(params=["never", "eager"])
def compile_mode(request):
    prev = config.set_compile_mode(request.param)
    try:
        yield request.param
    finally:
        config.set_compile_mode(prev)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_tensorflow(name, tmp_path, compile_mode):
    with deadline(60):
        ours = json.loads(json.dumps(SCENARIOS[name](tf, str(tmp_path))))
    assert_same(ours, ORACLE[name], name)


def test_oracle_covers_every_scenario():
    assert sorted(ORACLE) == sorted(SCENARIOS)


def test_training_loop_learns_and_stops_cleanly():
    """The recorded loop: 36 examples / batch 4 = 9 steps, then OutOfRangeError, threads all ended."""
    with deadline(60):
        got = SCENARIOS["training_loop"](tf, "")
    assert got["steps"] == 9 and got["alive"] == 0 and got["stopped"][0] == "OutOfRangeError"
    np.testing.assert_allclose([got["w"], got["b"]], [ORACLE["training_loop"]["w"], ORACLE["training_loop"]["b"]],
                               rtol=1e-5)
