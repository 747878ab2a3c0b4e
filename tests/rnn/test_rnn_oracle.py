"""RNN cells, dynamic/static/bidirectional RNNs against TF 1.15 (recorded with TF 2.21's v1 API):
outputs, final states, gradients w.r.t. inputs and every weight, with fixed weights; variable names."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oracle"))

import jitgraph as tf  # noqa: E402
import rnn_cases  # noqa: E402
from jitgraph_runner import assert_matches, case_runner, data, meta, run  # noqa: E402

RECORDED = data("rnn.npz")


# Compiled (native loops) for the cells and loop features that lower differently; the other cases
# reuse the same emitters and each costs Numba 5-25 s to compile from a cold cache.
COMPILED = ["basic_lstm", "gru_sequence_length", "basic_rnn_time_major", "residual_and_dropout"]


@pytest.mark.parametrize("name", sorted(rnn_cases.CASES))
def test_rnn_matches_tf(name):
    assert_matches(run(rnn_cases.CASES[name], "never", load_weights=True), RECORDED, name, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_rnn_matches_tf(name):
    assert_matches(run(rnn_cases.CASES[name], "eager", load_weights=True), RECORDED, name, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", sorted(rnn_cases.CASES))
def test_variable_names_match_tf(name):
    assert rnn_cases.variable_names(tf, rnn_cases.CASES[name]) == meta()["rnn_variables"][name]


@pytest.mark.parametrize("name", sorted(rnn_cases.BUILD_ERRORS))
def test_build_errors_match_tf(name):
    assert case_runner.build_error(tf, rnn_cases.BUILD_ERRORS[name]) == meta()["rnn_build_errors"][name]
