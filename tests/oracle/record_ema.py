"""Record TensorFlow 2.21's ``ExponentialMovingAverage`` (TF1 graph mode) for ``ema_cases.py``
into ``data/ema.json``. Run with the TensorFlow venv from the repository root:
``python tests/oracle/record_ema.py``."""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow.compat.v1 as tf  # noqa: E402

import ema_cases  # noqa: E402

tf.disable_v2_behavior()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "ema.json")
with open(path, "w") as f:
    json.dump(ema_cases.ema_scenario(tf), f, indent=1, sort_keys=True)
print("wrote", path)
