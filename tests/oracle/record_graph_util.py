"""Record TensorFlow 2.21's ``tf.graph_util`` (TF1 graph mode) for ``graph_util_cases.py`` into
``data/graph_util.json``. Run with the TensorFlow venv from the repository root:
``python tests/oracle/record_graph_util.py``."""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tensorflow.compat.v1 as tf  # noqa: E402

import graph_util_cases  # noqa: E402

tf.disable_v2_behavior()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "graph_util.json")
with open(path, "w") as f:
    json.dump({"freeze": graph_util_cases.freeze_scenario(tf),
               "training_nodes": graph_util_cases.training_nodes_scenario(tf)}, f, indent=1, sort_keys=True)
print("wrote", path)
