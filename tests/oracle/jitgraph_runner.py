"""The jitgraph side of the oracle cases (used by ``tests/control_flow`` and ``tests/rnn``): the
recorded TF values and a runner on the reference executor or compiled plans. Not collected."""

import contextlib
import json
import os

import numpy as np

import jitgraph as tf

ORACLE = os.path.dirname(os.path.abspath(__file__))

import case_runner  # noqa: E402


def data(name):
    return np.load(os.path.join(ORACLE, "data", name))


def meta():
    with open(os.path.join(ORACLE, "data", "control.json")) as f:
        return json.load(f)


@contextlib.contextmanager
def compile_mode(mode):
    from jitgraph.compiler import config
    prev = config.set_compile_mode(mode)
    strict = config.set_strict(mode == "eager")
    try:
        yield
    finally:
        config.set_compile_mode(prev)
        config.set_strict(strict)


def run(fn, mode, load_weights=False):
    with compile_mode(mode):
        return case_runner.run_case(tf, fn, load_weights)


def assert_matches(got, recorded, prefix, rtol=1e-5, atol=1e-6):
    keys = [k for k in recorded.files if k.startswith(prefix + "/")]
    assert keys, f"no recorded values for {prefix}"
    assert sorted(got) == sorted(k[len(prefix) + 1:] for k in keys)
    for k in keys:
        want, have = recorded[k], got[k[len(prefix) + 1:]]
        assert have.shape == want.shape, (k, have.shape, want.shape)
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(have, want, rtol=rtol, atol=atol, err_msg=k)
        else:
            np.testing.assert_array_equal(have, want, err_msg=k)
