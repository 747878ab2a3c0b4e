"""Every pipeline and iterator scenario of ``data_*_cases.py`` against what TensorFlow 2.21 did
(recorded by ``tests/oracle/record_data.py``): element types, static shapes, the elements in order,
the end of input, and the errors (class and gist)."""

import json
import os

import numpy as np
import pytest

import jitgraph as tf
from data_pipeline_cases import PIPELINES, run_pipeline
from data_scenario_cases import SCENARIOS

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "data_pipelines.json")))


def assert_same(ours, theirs, where="value"):
    """Equal JSON values; numbers of float arrays within float32 rounding."""
    if isinstance(theirs, dict) and "value" in theirs:
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


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_matches_tensorflow(name, tmp_path, reference_plans):
    assert_same(run_pipeline(tf, name, str(tmp_path)), ORACLE["pipelines"][name], name)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_tensorflow(name, tmp_path, reference_plans):
    with tf.Graph().as_default():
        ours = json.loads(json.dumps(SCENARIOS[name](tf, str(tmp_path))))
    assert_same(ours, ORACLE["scenarios"][name], name)


def test_oracle_covers_every_case():
    assert sorted(ORACLE["pipelines"]) == sorted(PIPELINES)
    assert sorted(ORACLE["scenarios"]) == sorted(SCENARIOS)
