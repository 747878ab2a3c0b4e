"""``tools/api_coverage.py``: name resolution, the three statistics from name counts and from
per-file uses, scanning Python sources, and TF's namespace report."""

import importlib.util
import json
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "tools" / "api_coverage.py")
api_coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_coverage)

FAKE = types.SimpleNamespace(nn=types.SimpleNamespace(relu=1), Session=1, train=types.SimpleNamespace())


def test_resolve_follows_attributes():
    assert api_coverage.resolve("tf.nn.relu", FAKE) and api_coverage.resolve("tf.Session", FAKE)
    assert not api_coverage.resolve("tf.nn.elu", FAKE) and not api_coverage.resolve("tf.train.x.y", FAKE)


def test_name_counts_give_bounds_on_the_file_share(tmp_path):
    tsv = tmp_path / "usage.tsv"
    tsv.write_text("# names used by 10 graph-mode files\nname\tfiles\trepos\n"
                   "tf.Session\t10\t3\ntf.nn.relu\t6\t2\ntf.nn.elu\t3\t1\ntf.train.Foo\t2\t1\ntf.contrib.x\t5\t1\n")
    rows, total = api_coverage.read_usage(tsv)
    assert total == 10
    s = api_coverage.coverage(rows, total, FAKE)
    assert s["names"] == pytest.approx(2 / 4) and s["uses"] == pytest.approx(16 / 21)
    assert s["files"] is None and s["files_low"] == pytest.approx(0.5) and s["files_high"] == pytest.approx(0.7)
    assert set(s["missing"]) == {"tf.nn.elu", "tf.train.Foo"}      # tf.contrib is left out
    assert "between 50.0% and 70.0%" in api_coverage.report(s)


def test_per_file_uses_give_the_exact_share(tmp_path):
    tsv = tmp_path / "uses.tsv"
    tsv.write_text("file\tname\na.py\ttf.Session\na.py\ttf.nn.elu\nb.py\ttf.nn.relu\nc.py\ttf.keras.Model\n")
    rows, _ = api_coverage.read_usage(tsv)
    s = api_coverage.coverage(rows, None, FAKE)
    assert s["total_files"] == 3 and s["files"] == pytest.approx(2 / 3)   # only a.py needs a missing name


def test_scan_collects_the_longest_tf_chains(tmp_path):
    (tmp_path / "m.py").write_text("import tensorflow.compat.v1 as tf\nimport numpy as np\n"
                                   "x = tf.nn.relu(tf.constant(1))\ny = tf.nn.elu\nz = tf.Session().run(x)\n"
                                   "w = np.nn.foo\n")
    (tmp_path / "bad.py").write_text("def (:\n")
    rows = api_coverage.scan(tmp_path)
    assert sorted(r["name"] for r in rows) == ["tf.Session", "tf.constant", "tf.nn.elu", "tf.nn.relu"]
    s = api_coverage.coverage(rows, None, FAKE)
    assert s["files"] == 0 and set(s["missing"]) == {"tf.constant", "tf.nn.elu"}


def test_tf_names_report(tmp_path):
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"tf.nn.relu": "function", "tf.nn.elu": "function", "tf.Session": "type"}))
    text = api_coverage.tf_names_report(names, FAKE)
    assert text.splitlines() == ["TF names present: 2/3", "  tf.nn: 1 missing: elu"]


def test_runs_on_jitgraph_from_the_command_line(tmp_path, capsys):
    tsv = tmp_path / "usage.tsv"
    tsv.write_text("name\tfiles\ntf.Session\t4\ntf.nn.embedding_lookup\t2\ntf.no_such_name\t1\n")
    assert api_coverage.main([str(tsv), "--total-files", "5"]) == 0
    out = capsys.readouterr().out
    assert "names present: 2/3" in out and "tf.no_such_name (1)" in out
