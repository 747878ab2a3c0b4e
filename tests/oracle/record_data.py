"""Record what TensorFlow 2.21 (``tf.compat.v1`` graph mode) does with the pipelines and iterator
scenarios of ``tests/data/data_*_cases.py``; writes ``tests/oracle/data/data_pipelines.json``.

Run with the TensorFlow environment (never imported by jitgraph or its tests):
    TF_CPP_MIN_LOG_LEVEL=3 python tests/oracle/record_data.py
"""

import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data"))

import tensorflow.compat.v1 as tf  # noqa: E402

from data_pipeline_cases import PIPELINES, run_pipeline  # noqa: E402
from data_scenario_cases import SCENARIOS  # noqa: E402


def main():
    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    out = {"tensorflow": tf.__version__, "pipelines": {}, "scenarios": {}}
    for name in PIPELINES:
        with tempfile.TemporaryDirectory() as tmp:
            out["pipelines"][name] = run_pipeline(tf, name, tmp)
    for name, fn in SCENARIOS.items():
        with tempfile.TemporaryDirectory() as tmp, tf.Graph().as_default():
            out["scenarios"][name] = fn(tf, tmp)
    path = os.path.join(HERE, "data", "data_pipelines.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {path}: {len(out['pipelines'])} pipelines, {len(out['scenarios'])} scenarios")


if __name__ == "__main__":
    main()
