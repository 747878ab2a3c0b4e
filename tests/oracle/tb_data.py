"""Readers for the TF-format recordings (record_tb_checkpoint.py, make_tb_jitgraph_files.py)."""

import base64
import json
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TF_DIR, JG_DIR = os.path.join(DATA, "tb_tf"), os.path.join(DATA, "tb_jitgraph")


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def dec(e):
    """An array recorded by ``enc`` in record_tb_checkpoint.py."""
    if e["dtype"] == "string":
        return np.array([base64.b64decode(x) for x in e["items"]], dtype=object).reshape(e["shape"])
    return np.frombuffer(base64.b64decode(e["data"]), e["dtype"]).reshape(e["shape"])
