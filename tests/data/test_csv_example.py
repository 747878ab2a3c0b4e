"""``examples/csv_pipeline.py`` (CSV files -> decode_csv -> shuffle -> batch, a reinitializable
iterator for train and test) trains a classifier that generalizes."""

import importlib.util
import os

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "csv_pipeline.py")


def test_csv_pipeline_example_learns(g, capsys):
    spec = importlib.util.spec_from_file_location("csv_pipeline", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accuracy = module.main(epochs=4)
    out = capsys.readouterr().out
    assert "epoch  4" in out and "test accuracy" in out
    assert accuracy > 0.9
