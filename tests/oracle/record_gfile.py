"""Record what TensorFlow 2.21's ``tf.compat.v1.gfile`` does on the local file system: results and
the error class of each failure. Run with the TensorFlow venv from the repository root:

    python tests/oracle/record_gfile.py     # writes tests/oracle/data/gfile.json
"""

import json
import os
import tempfile

import tensorflow.compat.v1 as tf

import gfile_cases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "gfile.json")


def outcome(fn):
    try:
        v = fn()
        if hasattr(v, "__next__"):
            v = list(v)
        return {"value": v if isinstance(v, (bool, int, str, list, type(None))) else repr(v)}
    except Exception as e:  # noqa: BLE001  (the class is what we record)
        return {"error": type(e).__name__}


def main():
    rec = {}
    with tempfile.TemporaryDirectory() as root:
        steps = gfile_cases.gfile_steps(tf, root)
        for name, fn in steps:
            rec[name] = outcome(fn)
    levels = [tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR, tf.logging.FATAL]
    rec["logging"] = {"verbosity": tf.logging.get_verbosity(), "levels": levels}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(rec, f, indent=1, sort_keys=True)
    print(f"wrote {len(rec)} records to {OUT}")


if __name__ == "__main__":
    main()
