"""TFRecord files and ``tf.train.Example`` against what TensorFlow 2.21 did
(``tests/oracle/record_tfrecord.py``, scenarios in ``tests/oracle/tfrecord_cases.py``): the bytes
of serialized protos and of written files, the parsed values, dtypes and shapes of pipelines and
of graphs fed a placeholder, and the error classes and messages of bad input."""

import json
import sys
from pathlib import Path

import pytest

import jitgraph as tf

ORACLE_DIR = Path(__file__).resolve().parent.parent / "oracle"
sys.path.insert(0, str(ORACLE_DIR))
import tfrecord_cases as cases  # noqa: E402

TF = json.loads((ORACLE_DIR / "data" / "tfrecord.json").read_text())
TF_FILES = ORACLE_DIR / "data" / "tfrecord"


def test_serialized_protos_are_tf_bytes():
    assert cases.serialized(tf) == TF["serialized"]


@pytest.mark.parametrize("name", sorted(cases.COMPRESSIONS))
def test_written_file_is_byte_identical_to_tf(tmp_path, name):
    """Same bytes as TF's writer, so TF reads what jitgraph writes (framing, CRCs, zlib stream)."""
    path = str(tmp_path / "out.tfrecord")
    cases.write_file(tf, path, cases.COMPRESSIONS[name])
    assert Path(path).read_bytes() == (TF_FILES / f"tf_{name}.tfrecord").read_bytes()


@pytest.mark.parametrize("name", sorted(cases.COMPRESSIONS))
def test_reads_tf_written_files(name):
    path = str(TF_FILES / f"tf_{name}.tfrecord")
    compression = cases.COMPRESSIONS[name]
    got = [r.hex() for r in tf.io.tf_record_iterator(path, tf.io.TFRecordOptions(compression))]
    assert got == TF["files"][name]["records"]
    assert got == [r.hex() for r in cases.records(tf)]


@pytest.mark.parametrize("name", sorted(cases.COMPRESSIONS))
def test_pipelines_parse_as_tf(name):
    """TFRecordDataset -> map(parse_single_example) and -> batch -> map(parse_example): values,
    dtypes and shapes of every element."""
    path = str(TF_FILES / f"tf_{name}.tfrecord")
    assert cases.pipelines(tf, path, cases.COMPRESSIONS[name]) == TF["files"][name]["pipelines"]


def test_pipelines_on_the_reference_executor(reference):
    path = str(TF_FILES / "tf_none.tfrecord")
    assert cases.pipelines(tf, path, "") == TF["files"]["none"]["pipelines"]


def test_graph_parse_of_a_fed_placeholder():
    assert cases.graph_parse(tf) == TF["graph_parse"]


def test_parse_errors_match_tf():
    got, want = cases.parse_errors(tf), TF["parse_errors"]
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key]["error"] == want[key]["error"], key
        # TF prefixes an error inside a dataset function with where it happened
        assert want[key]["message"].endswith(got[key]["message"]), (key, got[key], want[key])
    assert "Feature: name" in got["missing_in_map"]["message"]


def test_corrupt_and_truncated_files_raise_as_tf(tmp_path):
    got = cases.read_errors(tf, cases.damaged_files(str(tmp_path), str(TF_FILES / "tf_none.tfrecord")))
    want = TF["read_errors"]
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key]["error"] == want[key]["error"], key
        if "gzip" not in key and "missing" not in key:   # a zlib message is zlib's own wording
            assert got[key]["message"] == want[key]["message"], key


def test_num_parallel_reads_interleaves_files_as_tf(tmp_path):
    assert cases.interleave(tf, str(tmp_path)) == TF["interleave"]
