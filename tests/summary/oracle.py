"""The TF 2.21 summary recordings (``tests/oracle/record_tb_summary.py``) and proto helpers."""

import base64
import io
import json
import os

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "oracle", "data")


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


def recorded_inputs(rec):
    return {k: np.frombuffer(base64.b64decode(v["data"]), dtype=v["dtype"]).reshape(v["shape"])
            for k, v in rec["inputs"].items()}


def summary(serialized):
    from tensorboard.compat.proto.summary_pb2 import Summary
    if isinstance(serialized, str):
        serialized = base64.b64decode(serialized)
    return Summary.FromString(serialized)


def png_pixels(data):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)))
