"""Every demo in examples/ runs to the end and prints what it promises (the README's main demo first)."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEMOS = [
    ("variables_guide.py", ["== Sharing variables ==", "scope object: variables"]),
    ("linear_regression.py", ["learned w = 3.0"]),
    ("image_filter.py", ["shared-variable outputs identical: True", "separate scope differs: True"]),
    ("mlp_digits.py", ["test accuracy"]),
]


@pytest.mark.parametrize("script,expected", DEMOS, ids=[d[0] for d in DEMOS])
def test_demo_runs(script, expected):
    if script == "mlp_digits.py" and importlib.util.find_spec("sklearn") is None:
        pytest.skip("needs the 'examples' extra (scikit-learn's bundled digits)")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    for text in expected:
        assert text in out.stdout, f"{script}: {text!r} not in output:\n{out.stdout[-2000:]}"
    if script == "mlp_digits.py":   # the demo must actually learn: its stated test accuracy
        assert float(re.search(r"test accuracy ([0-9.]+)", out.stdout).group(1)) >= 0.95
