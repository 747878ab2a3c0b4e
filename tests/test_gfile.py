"""``jitgraph/gfile.py``: ``tf.gfile``/``tf.io.gfile`` replayed against what TF 2.21 recorded
(``tests/oracle/record_gfile.py``): the same results and the same error classes."""

import json
import sys
from pathlib import Path

import pytest

import jitgraph as tf

sys.path.insert(0, str(Path(__file__).resolve().parent / "oracle"))
import gfile_cases  # noqa: E402

TF = json.loads((Path(__file__).resolve().parent / "oracle" / "data" / "gfile.json").read_text())


def outcome(fn):
    try:
        v = fn()
        if hasattr(v, "__next__"):
            v = list(v)
        return {"value": v if isinstance(v, (bool, int, str, list, type(None))) else repr(v)}
    except tf.errors.OpError as e:
        return {"error": type(e).__name__}


def test_gfile_steps_match_tf(tmp_path):
    for name, fn in gfile_cases.gfile_steps(tf, str(tmp_path)):
        got = outcome(fn)
        if name == "walk":
            got = {"value": [list(w) for w in got["value"]]}
        assert got == TF[name], name


def test_gfile_as_a_context_manager_and_iterator(tmp_path):
    path = tmp_path / "lines.txt"
    with tf.gfile.GFile(str(path), "w") as f:
        f.write("a\nb\n")
        f.write(b"c\n")
    with tf.gfile.Open(str(path)) as f:
        assert list(f) == ["a\n", "b\n", "c\n"]
    with tf.io.gfile.GFile(str(path), "rb") as f:
        f.seek(2)
        assert f.read(1) == b"b" and f.tell() == 3
    assert tf.gfile.FastGFile is tf.gfile.GFile
    assert [w[0] for w in tf.io.gfile.walk(str(tmp_path), topdown=False)] == [str(tmp_path)]
    with pytest.raises(tf.errors.InvalidArgumentError, match="mode"):
        tf.gfile.GFile(str(path), "x")
