"""Every pipeline and iterator scenario of ``data_*_cases.py`` against what TensorFlow 2.21 did
(recorded by ``tests/oracle/record_data.py``): element types, static shapes, the elements in order,
the end of input, and the errors (class and gist)."""

import json
import os
import sys

import pytest

import jitgraph as tf
from data_pipeline_cases import PIPELINES, run_pipeline
from data_scenario_cases import SCENARIOS

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from compare import assert_same  # noqa: E402

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "data_pipelines.json")))


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_matches_tensorflow(name, tmp_path, reference):
    assert_same(run_pipeline(tf, name, str(tmp_path)), ORACLE["pipelines"][name], name)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_tensorflow(name, tmp_path, reference):
    with tf.Graph().as_default():
        ours = json.loads(json.dumps(SCENARIOS[name](tf, str(tmp_path))))
    assert_same(ours, ORACLE["scenarios"][name], name)


def test_oracle_covers_every_case():
    assert sorted(ORACLE["pipelines"]) == sorted(PIPELINES)
    assert sorted(ORACLE["scenarios"]) == sorted(SCENARIOS)
