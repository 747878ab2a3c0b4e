"""Record what TensorFlow 2.21 does with TFRecord files and ``tf.train.Example``: serialized proto
bytes, the files its ``TFRecordWriter`` writes (uncompressed, GZIP, ZLIB: ``data/tfrecord/``),
parsed pipeline values, dtypes and shapes, and the errors of bad input. Run with the TensorFlow
venv from the repository root:

    python tests/oracle/record_tfrecord.py     # writes tests/oracle/data/tfrecord.json
"""

import json
import os
import tempfile

import tensorflow.compat.v1 as tf

import tfrecord_cases as cases

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "tfrecord.json")
FILES = os.path.join(HERE, "data", "tfrecord")


def main():
    tf.disable_v2_behavior()
    os.makedirs(FILES, exist_ok=True)
    rec = {"serialized": cases.serialized(tf), "files": {}}
    for name, compression in cases.COMPRESSIONS.items():
        path = os.path.join(FILES, f"tf_{name}.tfrecord")
        cases.write_file(tf, path, compression)
        rec["files"][name] = {"records": [r.hex() for r in tf.io.tf_record_iterator(path, compression)],
                              "pipelines": cases.pipelines(tf, path, compression)}
    rec["graph_parse"] = cases.graph_parse(tf)
    rec["parse_errors"] = cases.parse_errors(tf)
    with tempfile.TemporaryDirectory() as root:
        rec["read_errors"] = cases.read_errors(tf, cases.damaged_files(root, os.path.join(FILES, "tf_none.tfrecord")))
        rec["interleave"] = cases.interleave(tf, root)
    with open(OUT, "w") as f:
        json.dump(rec, f, indent=1, sort_keys=True)
    print(f"wrote {OUT} and the files in {FILES}")


if __name__ == "__main__":
    main()
