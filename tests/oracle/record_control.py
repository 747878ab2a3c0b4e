"""Record what TensorFlow 2.21 (TF1 graph mode, control flow v1) computes for the cases in
``control_cases.py`` and ``rnn_cases.py``: values into ``data/control.npz`` / ``data/rnn.npz``,
error classes and variable names into ``data/control.json``. Run with the TensorFlow venv from the
repository root: ``TF_USE_LEGACY_KERAS=1 python tests/oracle/record_control.py``."""

import json
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

import case_runner  # noqa: E402
import control_cases  # noqa: E402
import rnn_cases  # noqa: E402

tf.disable_v2_behavior()
tf.logging.set_verbosity(tf.logging.ERROR)
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def record(cases, path, load_weights):
    values = {}
    for name, fn in cases.items():
        for key, v in case_runner.run_case(tf, fn, load_weights).items():
            values[f"{name}/{key}"] = v
    np.savez_compressed(path, **values)


def main():
    os.makedirs(DATA, exist_ok=True)
    record(control_cases.CASES, os.path.join(DATA, "control.npz"), False)
    record(rnn_cases.CASES, os.path.join(DATA, "rnn.npz"), True)
    meta = {"build_errors": {n: case_runner.build_error(tf, f) for n, f in control_cases.BUILD_ERRORS.items()},
            "run_errors": {n: case_runner.run_error(tf, f) for n, f in control_cases.RUN_ERRORS.items()},
            "rnn_variables": {n: rnn_cases.variable_names(tf, f) for n, f in rnn_cases.CASES.items()},
            "rnn_build_errors": {n: case_runner.build_error(tf, f) for n, f in rnn_cases.BUILD_ERRORS.items()}}
    with open(os.path.join(DATA, "control.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
