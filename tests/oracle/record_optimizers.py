"""Record TensorFlow 2.21's ``tf.train.AdadeltaOptimizer`` and ``FtrlOptimizer``, and every
optimizer on an embedding table (TF1 graph mode), for ``optimizer_cases.py`` into ``data/optimizers.json``. Run with the TensorFlow venv from the
repository root: ``python tests/oracle/record_optimizers.py``."""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow.compat.v1 as tf  # noqa: E402

import optimizer_cases  # noqa: E402

tf.disable_v2_behavior()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "optimizers.json")
out = {name: optimizer_cases.trajectory(tf, name) for name in optimizer_cases.CASES}
out["errors"] = optimizer_cases.errors(tf)
out["embedding"] = {name: optimizer_cases.embedding_trajectory(tf, name) for name in optimizer_cases.EMBEDDING_CASES}
with open(path, "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
print("wrote", path)
