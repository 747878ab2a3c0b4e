"""``jitgraph/app.py``, ``flags.py`` and ``tf_logging.py``: a TF1-style program with flags,
``tf.app.run`` and ``tf.logging`` behaves as it did under TF 2.21 (``tests/oracle/record_app.py``):
what ``main`` receives, the exit code, which log lines appear and how they read."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jitgraph as tf

ROOT = Path(__file__).resolve().parents[1]
TF = json.loads((ROOT / "tests" / "oracle" / "data" / "app.json").read_text())
sys.path.insert(0, str(ROOT / "tests" / "oracle"))
import app_cases  # noqa: E402

PROGRAM = app_cases.program("jitgraph")


@pytest.mark.parametrize("code", [0, 3])
def test_app_run_with_flags_and_logging_behaves_as_tf(code):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", PROGRAM, str(code)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)
    want = TF[f"exit_{code}"]
    assert proc.returncode == want["returncode"], proc.stderr
    assert [json.loads(line[2:]) for line in proc.stdout.splitlines() if line.startswith("@@")] == want["main"]
    logs = [line for line in proc.stderr.splitlines() if "@@" in line]
    assert logs == [line.replace(":tensorflow:", ":jitgraph:") for line in want["logs"]]


def test_logging_levels_and_helpers(caplog):
    assert [tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR, tf.logging.FATAL] == \
        [10, 20, 30, 40, 50]
    old = tf.logging.get_verbosity()
    try:
        tf.logging.set_verbosity(tf.logging.INFO)
        assert tf.logging.get_verbosity() == tf.logging.INFO
        for _ in range(5):
            tf.logging.log_every_n(tf.logging.INFO, "every %d", 2, 2)
        for _ in range(5):
            tf.logging.log_first_n(tf.logging.INFO, "first", 1)
        tf.logging.log_if(tf.logging.INFO, "never", False)
        tf.logging.fatal("still running")
    finally:
        tf.logging.set_verbosity(old)
    lines = [f"{r.levelname}:{r.name}:{r.getMessage()}" for r in caplog.records]
    assert lines.count("INFO:jitgraph:every 2") == 3 and lines.count("INFO:jitgraph:first") == 1
    assert "never" not in str(lines) and "CRITICAL:jitgraph:still running" in lines


def test_logging_handler_follows_the_current_stderr(monkeypatch, capsys):
    """With no handlers anywhere, tf.logging prints to stderr like TF, and to the stderr of the
    moment: a stream swapped in (and closed) by a test runner or notebook is never kept."""
    import io
    import logging
    from jitgraph import tf_logging
    root, logger = logging.getLogger(), logging.getLogger("jitgraph")
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(tf_logging, "_logger", None)
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    tf.logging.warning("one")
    first.close()
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    tf.logging.warning("two %d", 2)
    assert second.getvalue() == "WARNING:jitgraph:two 2\n"
    assert logger.propagate        # an application's own root handlers still see the records


def test_flags_module_is_absl_flags():
    from absl import flags
    assert tf.flags.FLAGS is flags.FLAGS and tf.app.flags is tf.flags
    assert "DEFINE_string" in dir(tf.flags)
