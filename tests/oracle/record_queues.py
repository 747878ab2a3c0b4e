"""Record TensorFlow 2.21's (tf.compat.v1) queue-based input pipelines: every scenario of
``queue_cases.py`` (queue ops and their errors, the producers, tf.train.batch / shuffle_batch,
TextLineReader / WholeFileReader, a Coordinator training loop, MonitoredSession).

Run with the TensorFlow venv from the repository root:

    python tests/oracle/record_queues.py     # writes tests/oracle/data/queues.json
"""

import json
import os
import sys
import tempfile

import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queue_cases import SCENARIOS  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "queues.json")

rec = {}
for name, fn in SCENARIOS.items():
    with tempfile.TemporaryDirectory() as tmp:
        rec[name] = json.loads(json.dumps(fn(tf, tmp)))
    print(name, json.dumps(rec[name])[:300])
with open(OUT, "w") as f:
    json.dump({"tensorflow": tf.__version__, "scenarios": rec}, f, indent=1, sort_keys=True)
    f.write("\n")
