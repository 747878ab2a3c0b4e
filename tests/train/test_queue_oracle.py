"""Every queue-pipeline scenario of ``tests/oracle/queue_cases.py`` against what TensorFlow 2.21 did
(recorded by ``tests/oracle/record_queues.py``): batches in order, static shapes, the end of input,
error classes and messages, a Coordinator training loop and MonitoredSession. Each scenario runs
with plans on the reference executor and compiled (queue ops are NumPy steps of compiled plans)."""

import json
import os
import sys

import numpy as np
import pytest

import jitgraph as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracle"))
from compare import assert_same  # noqa: E402
from queue_cases import SCENARIOS, deadline  # noqa: E402

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "queues.json")))["scenarios"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_tensorflow(name, tmp_path, mode):
    with deadline(60):
        ours = json.loads(json.dumps(SCENARIOS[name](tf, str(tmp_path))))
    assert_same(ours, ORACLE[name], name)


def test_oracle_covers_every_scenario():
    assert sorted(ORACLE) == sorted(SCENARIOS)


def test_training_loop_learns_and_stops_cleanly():
    """The recorded loop: 36 examples / batch 4 = 9 steps, then OutOfRangeError, threads all ended."""
    with deadline(60):
        got = SCENARIOS["training_loop"](tf, "")
    assert got["steps"] == 9 and got["alive"] == 0 and got["stopped"][0] == "OutOfRangeError"
    np.testing.assert_allclose([got["w"], got["b"]], [ORACLE["training_loop"]["w"], ORACLE["training_loop"]["b"]],
                               rtol=1e-5)


QUEUE_NAMES = """tf.FIFOQueue tf.RandomShuffleQueue tf.PaddingFIFOQueue tf.QueueBase tf.TextLineReader tf.WholeFileReader
tf.IdentityReader tf.ReaderBase tf.TFRecordReader tf.count_up_to tf.resource tf.train.QueueRunner tf.train.add_queue_runner
tf.train.start_queue_runners tf.train.batch tf.train.shuffle_batch tf.train.batch_join tf.train.shuffle_batch_join
tf.train.input_producer tf.train.string_input_producer tf.train.range_input_producer tf.train.slice_input_producer
tf.train.limit_epochs tf.train.LooperThread tf.train.Coordinator tf.train.queue_runner.QueueRunner
tf.train.queue_runner.add_queue_runner tf.train.queue_runner.start_queue_runners""".split()


def test_queue_names_are_tf_names_and_resolve():
    """Every name added for queue pipelines is one TF 2.21's tf.compat.v1 exports (the recorded
    list has no tf.queue.*: those are checked to be the same classes)."""
    tf_names = set(json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data",
                                               "compat_v1_names.json"))))
    for name in QUEUE_NAMES:
        assert name in tf_names, name
        obj = tf
        for part in name.split(".")[1:]:
            obj = getattr(obj, part)
    assert tf.queue.FIFOQueue is tf.FIFOQueue and tf.queue.RandomShuffleQueue is tf.RandomShuffleQueue
    assert tf.queue.PaddingFIFOQueue is tf.PaddingFIFOQueue and tf.queue.QueueBase is tf.QueueBase
