"""Record TensorFlow 2.21's ``tf.compat.v1.app.run`` with flags (what ``main`` receives, the exit
code) and what ``tf.logging`` writes at each verbosity. Run with the TensorFlow venv:

    python tests/oracle/record_app.py     # writes tests/oracle/data/app.json
"""

import json
import os
import subprocess
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "app.json")

CHILD = r'''
import json, sys
import tensorflow.compat.v1 as tf
tf.flags.DEFINE_integer("steps", 5, "training steps")
tf.app.flags.DEFINE_string("data_dir", "/tmp/data", "where")
tf.flags.DEFINE_boolean("fast", False, "hurry")
tf.flags.DEFINE_float("rate", 0.5, "learning rate")
FLAGS = tf.flags.FLAGS

def main(argv):
    print("@@" + json.dumps({"argv": argv, "steps": FLAGS.steps, "data_dir": FLAGS.data_dir, "fast": FLAGS.fast,
                             "rate": FLAGS.rate}), flush=True)
    return int(sys.argv[1])

tf.logging.info("@@hidden info")
tf.logging.warn("@@shown warn %d", 1)
tf.logging.set_verbosity(tf.logging.INFO)
tf.logging.info("@@shown info")
tf.logging.debug("@@hidden debug")
tf.app.run(main, argv=["prog", "--steps=7", "extra", "--fast", "--unknown=1", "--data_dir", "/x"])
'''


def main():
    rec = {}
    for code in (0, 3):
        proc = subprocess.run([sys.executable, "-c", CHILD, str(code)], capture_output=True, text=True)
        out = [json.loads(line[2:]) for line in proc.stdout.splitlines() if line.startswith("@@")]
        logs = [line for line in proc.stderr.splitlines() if "@@" in line]
        rec[f"exit_{code}"] = {"returncode": proc.returncode, "main": out, "logs": logs}
    with open(OUT, "w") as f:
        json.dump(rec, f, indent=1)
    print(f"wrote {OUT}: {rec}")


if __name__ == "__main__":
    main()
