"""The ``tf.gfile`` scenario, written once against the TF1 API: replayed by ``record_gfile.py``
with TensorFlow (into ``data/gfile.json``) and by ``tests/test_gfile.py`` with jitgraph."""

import os


def gfile_steps(tf, root):
    """``[(name, fn)]``: file-system steps under the empty directory ``root``, run in order."""
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
    return steps
