"""``tf.contrib.layers`` and ``tf.contrib.rnn`` against TF 1.15's contrib (recorded by
``tests/oracle/record_contrib.py`` from tf_slim and TF 2.21's v1 RNNs): outputs, gradients,
regularization losses and the variables after the update ops with fixed weights; variable
names, shapes and collections; update ops; initializer identities; build-error classes."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oracle"))

import jitgraph as tf  # noqa: E402
import contrib_cases  # noqa: E402
from jitgraph_runner import ORACLE, assert_matches, case_runner, data, run  # noqa: E402

RECORDED = data("contrib.npz")
with open(os.path.join(ORACLE, "data", "contrib.json")) as _f:
    META = json.load(_f)
ALL = {**contrib_cases.CASES, **contrib_cases.RNN_CASES}

# Compiled (strict): a CNN with the layer-path batch norm, the by-hand fused batch norm under a
# training tensor, and a static LSTM; the others reuse the same kernels.
COMPILED = ["lenet", "fc_batch_norm_tensor", "conv2d_batch_norm_pool", "static_lstm"]


@pytest.mark.parametrize("name", sorted(ALL))
def test_values_match_tf(name):
    assert_matches(run(ALL[name], "never", load_weights=True), RECORDED, name, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", COMPILED)
def test_compiled_values_match_tf(name):
    assert_matches(run(ALL[name], "eager", load_weights=True), RECORDED, name, rtol=2e-5, atol=2e-6)


def _plain_update_names(names):
    """TF wraps the updates of a training tensor in ``tf.cond`` (``BatchNorm/cond_1/Merge:0``);
    jitgraph's select-based updates keep the plain ``AssignMovingAvg`` names."""
    return [re.sub(r"cond_\d+/Merge(_\d+)?:0", lambda m: f"AssignMovingAvg{m.group(1) or ''}:0", n) for n in names]


@pytest.mark.parametrize("name", sorted(ALL))
def test_structure_matches_tf(name):
    want = dict(META["structure"][name])
    want["update_ops"] = _plain_update_names(want["update_ops"])
    assert contrib_cases.structure(tf, ALL[name]) == want


@pytest.mark.parametrize("name", sorted(contrib_cases.RELATIONS))
def test_initializer_relations_hold_as_in_tf(name):
    assert META["relations"][name] is True
    assert contrib_cases.RELATIONS[name](tf) is True


@pytest.mark.parametrize("name", sorted(contrib_cases.BUILD_ERRORS))
def test_build_errors_match_tf(name):
    assert case_runner.build_error(tf, contrib_cases.BUILD_ERRORS[name]) == META["build_errors"][name]
