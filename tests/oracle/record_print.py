"""Record the text TensorFlow 2.21 writes for ``tf.Print`` (TF1, to stderr through its C++ log)
and ``tf.print`` (to stdout here) for tensors of many shapes, dtypes and ``summarize`` values.

Run with the TensorFlow venv from the repository root:

    python tests/oracle/record_print.py     # writes tests/oracle/data/print.json

Each case runs in this script's child process so its output can be read back line by line.
"""

import json
import os
import subprocess
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "print.json")

SHAPES_V1 = [[5], [3], [2], [0], [2, 2], [3, 2], [2, 3], [1, 4], [4, 1], [2, 2, 2], [2, 3, 2], [3, 1, 2], []]
LIMITS_V1 = [1, 2, 3, 4, 6, -1]
SHAPES_V2 = [([10], 2), ([10], 3), ([6], 3), ([7], 3), ([2, 10], 2), ([10, 2], 2), ([7, 7], 2), ([2, 2, 2, 2], 3),
             ([5, 2, 3], 1), ([3], -1), ([0], 3), ([], 3), ([2, 3, 4], 3), ([7, 1, 2], 3), ([2, 2, 7], 3)]

CHILD = r'''
import sys, json
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
spec = json.loads(sys.argv[1])
ops = []
for sh in spec["v1_shapes"]:
    n = int(np.prod(sh))
    for lim in spec["v1_limits"]:
        ops.append(tf.Print(tf.constant(0), [tf.reshape(tf.range(n), sh)], message="@@", summarize=lim))
values = [tf.constant([[0.1, 1 / 3.0], [2.0, -1e-7]], tf.float32), tf.constant([0.1, 1e20, 1 / 3.0], tf.float64),
          tf.constant([True, False]), tf.constant([b"ab", b"c"]), tf.constant(7),
          tf.constant(np.array([1.5, -0.0, np.inf, np.nan, 1e-5, 123456789.0], np.float32))]
ops.append(tf.Print(tf.constant(0), values, message="@@dtypes: ", summarize=10))
first = tf.Print(tf.constant(0), [tf.range(4)], message="@@first_n: ", first_n=2)
with tf.Session() as sess:
    for o in ops:
        sess.run(o)
    for _ in range(4):
        sess.run(first)
    for sh, s in spec["v2_shapes"]:
        n = int(np.prod(sh))
        sess.run(tf.print(tf.reshape(tf.range(n), sh), summarize=s, output_stream=sys.stdout, end="\n@@END\n"))
        sys.stdout.flush()
    sess.run(tf.print("hello", *values, 3, 2.5, None, True, output_stream=sys.stdout, end="\n@@END\n"))
    sess.run(tf.print({"a": values[4]}, [values[2], "lit"], (values[4],), sep="|", output_stream=sys.stdout,
                      end="!\n@@END\n"))
    sess.run(tf.print(output_stream=sys.stdout, end="\n@@END\n"))
    sys.stdout.flush()
'''


def main():
    spec = {"v1_shapes": SHAPES_V1, "v1_limits": LIMITS_V1, "v2_shapes": SHAPES_V2}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True, check=True)
    v1 = [line[2:] for line in proc.stderr.splitlines() if line.startswith("@@")]   # the message starts "@@"
    v2 = proc.stdout.split("@@END\n")[:-1]
    rec = {"spec": spec, "v1": v1, "v2": v2}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(rec, f, indent=1)
    print(f"wrote {len(v1)} Print and {len(v2)} print outputs to {OUT}")


if __name__ == "__main__":
    main()
