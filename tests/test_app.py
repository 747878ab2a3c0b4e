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


def test_logging_levels_and_helpers(capsys):
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
    err = capsys.readouterr().err
    assert err.count("INFO:jitgraph:every 2") == 3 and err.count("first") == 1 and "never" not in err
    assert "CRITICAL:jitgraph:still running" in err


def test_flags_module_is_absl_flags():
    from absl import flags
    assert tf.flags.FLAGS is flags.FLAGS and tf.app.flags is tf.flags
    assert "DEFINE_string" in dir(tf.flags)
