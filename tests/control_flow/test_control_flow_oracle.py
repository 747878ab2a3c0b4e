"""Every program of ``tests/oracle/control_cases.py`` gives TF's recorded values, on the reference
executor and compiled (``JITGRAPH_COMPILE=eager``: loops lowered to native code where they can)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oracle"))

import control_cases  # noqa: E402
import jitgraph as tf  # noqa: E402
from jitgraph_runner import assert_matches, case_runner, data, meta, run  # noqa: E402

RECORDED = data("control.npz")


@pytest.mark.parametrize("mode", ["never", "eager"])
@pytest.mark.parametrize("name", sorted(control_cases.CASES))
def test_case_matches_tf(name, mode):
    assert_matches(run(control_cases.CASES[name], mode), RECORDED, name)


# jitgraph raises these while building, where TF1 only fails (or warns) when the graph runs
EARLIER_THAN_TF = {"err_dtype_change": "TypeError", "err_ta_dtype": "InvalidArgumentError"}


@pytest.mark.parametrize("name", sorted(control_cases.BUILD_ERRORS))
def test_build_errors_match_tf(name):
    want = meta()["build_errors"][name] or EARLIER_THAN_TF[name]
    assert case_runner.build_error(tf, control_cases.BUILD_ERRORS[name]) == want


@pytest.mark.parametrize("name", sorted(control_cases.RUN_ERRORS))
def test_run_errors_match_tf(name):
    # TF1 does not enforce tf.case(exclusive=True) when the case is built from nested conds (the
    # assertion's control edge does not reach the branch ops); jitgraph fails the run as documented
    want = meta()["run_errors"][name] or "InvalidArgumentError"
    assert case_runner.run_error(tf, control_cases.RUN_ERRORS[name]) == want
