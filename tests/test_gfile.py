"""``jitgraph/gfile.py``: ``tf.gfile``/``tf.io.gfile`` replayed against what TF 2.21 recorded
(``tests/oracle/record_gfile.py``): the same results and the same error classes."""

import json
import os
from pathlib import Path

import pytest

import jitgraph as tf

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
    root = str(tmp_path)

    def p(*parts):
        return os.path.join(root, *parts)
    g = tf.gfile
    steps = [
        ("makedirs", lambda: g.MakeDirs(p("a", "b"))), ("makedirs_again", lambda: g.MakeDirs(p("a", "b"))),
        ("mkdir_exists", lambda: g.MkDir(p("a"))), ("mkdir_no_parent", lambda: g.MkDir(p("x", "y"))),
        ("write", lambda: g.GFile(p("a", "f.txt"), "w").write("one\ntwo\n")),
        ("read", lambda: g.GFile(p("a", "f.txt")).read()),
        ("readlines", lambda: g.GFile(p("a", "f.txt")).readlines()),
        ("read_missing", lambda: g.GFile(p("missing.txt")).read()),
        ("open_missing_no_read", lambda: g.GFile(p("missing.txt")) and None),
        ("exists", lambda: [g.Exists(p("a")), g.Exists(p("a", "f.txt")), g.Exists(p("nope"))]),
        ("isdir", lambda: [g.IsDirectory(p("a")), g.IsDirectory(p("a", "f.txt")), g.IsDirectory(p("nope"))]),
        ("listdir", lambda: sorted(g.ListDirectory(p("a")))), ("listdir_missing", lambda: g.ListDirectory(p("no"))),
        ("glob", lambda: [os.path.relpath(x, root) for x in sorted(g.Glob(p("a", "*")))]),
        ("glob_none", lambda: g.Glob(p("zz*"))),
        ("copy", lambda: g.Copy(p("a", "f.txt"), p("a", "g.txt"))),
        ("copy_exists", lambda: g.Copy(p("a", "f.txt"), p("a", "g.txt"))),
        ("copy_overwrite", lambda: g.Copy(p("a", "f.txt"), p("a", "g.txt"), overwrite=True)),
        ("copy_missing", lambda: g.Copy(p("nope"), p("a", "h.txt"))),
        ("rename_exists", lambda: g.Rename(p("a", "g.txt"), p("a", "f.txt"))),
        ("rename", lambda: g.Rename(p("a", "g.txt"), p("a", "h.txt"))),
        ("rename_missing", lambda: g.Rename(p("a", "g.txt"), p("a", "i.txt"))),
        ("stat", lambda: [g.Stat(p("a", "f.txt")).length, g.Stat(p("a")).is_directory]),
        ("stat_missing", lambda: g.Stat(p("nope"))),
        ("walk", lambda: [(os.path.relpath(d, root), sorted(s), sorted(f)) for d, s, f in g.Walk(p("a"))]),
        ("walk_post", lambda: [os.path.relpath(d, root) for d, _, _ in g.Walk(p("a"), in_order=False)]),
        ("walk_missing", lambda: list(g.Walk(p("nope")))),
        ("remove", lambda: g.Remove(p("a", "h.txt"))), ("remove_missing", lambda: g.Remove(p("a", "h.txt"))),
        ("remove_dir", lambda: g.Remove(p("a", "b"))),
        ("append", lambda: g.GFile(p("a", "f.txt"), "a").write("three\n")),
        ("read_bytes", lambda: list(g.GFile(p("a", "f.txt"), "rb").read())),
        ("size", lambda: g.GFile(p("a", "f.txt")).size()),
        ("delete_missing", lambda: g.DeleteRecursively(p("nope"))),
        ("delete", lambda: g.DeleteRecursively(p("a"))), ("exists_after", lambda: g.Exists(p("a"))),
        ("v2_names", lambda: sorted(n for n in dir(tf.io.gfile) if not n.startswith("_"))),
    ]
    for name, fn in steps:
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
