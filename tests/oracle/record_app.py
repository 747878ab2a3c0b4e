"""Record TensorFlow 2.21's ``tf.compat.v1.app.run`` with flags (what ``main`` receives, the exit
code) and what ``tf.logging`` writes at each verbosity. Run with the TensorFlow venv:

    python tests/oracle/record_app.py     # writes tests/oracle/data/app.json
"""

import json
import os
import subprocess
import sys

import app_cases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "app.json")

CHILD = app_cases.program("tensorflow.compat.v1")


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
