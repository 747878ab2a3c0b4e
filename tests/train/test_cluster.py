"""tf.train.ClusterSpec and tf.train.Server (in-process protocol), against TF 2.21's recorded values."""

import json
import os
import re

import pytest

import jitgraph as tf

ORACLE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "oracle", "data", "monitored_session.json")))


def spec():
    return tf.train.ClusterSpec({"worker": {0: "w0:2222", 3: "w3:2222"}, "ps": ["ps0:2222", "ps1:2222"]})


def test_cluster_spec_queries_match_tf():
    s, want = spec(), ORACLE["cluster"]
    got = s.as_dict()
    assert got["ps"] == want["as_dict"]["ps"]
    assert {str(k): v for k, v in got["worker"].items()} == want["as_dict"]["worker"]
    assert s.jobs == want["jobs"]
    assert s.num_tasks("worker") == want["num_tasks_worker"]
    assert s.task_indices("worker") == want["task_indices_worker"]
    assert s.job_tasks("worker") == want["job_tasks_worker"]
    assert s.task_address("ps", 1) == want["task_address"]
    assert repr(s) == want["repr"]
    assert bool(tf.train.ClusterSpec({})) is want["bool_empty"]
    assert (s == {"worker": {0: "w0:2222", 3: "w3:2222"}, "ps": {0: "ps0:2222", 1: "ps1:2222"}}) is want["eq_dict"]
    assert tf.train.ClusterSpec(s).jobs == want["copy_jobs"]
    assert tf.train.ClusterSpec(s) == s and tf.train.ClusterSpec(s.as_cluster_def()) == s


@pytest.mark.parametrize("case, call", [
    ("err_job", lambda: spec().num_tasks("chief")),
    ("err_task", lambda: spec().task_address("ps", 5)),
    ("err_type", lambda: tf.train.ClusterSpec(["a"])),
    ("err_tasks_type", lambda: tf.train.ClusterSpec({"ps": "a:1"})),
])
def test_cluster_spec_errors_match_tf(case, call):
    kind, message = ORACLE["cluster"][case]
    with pytest.raises({"ValueError": ValueError, "TypeError": TypeError}[kind], match=re.escape(message)):
        call()


def test_device_setter_still_takes_the_cluster_spec():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(cluster=spec())):
            v = tf.get_variable("v", [1])
        assert v.device == "/job:ps/task:0"


@pytest.mark.parametrize("case, cluster", [("no_job", {"a": ["x:1"], "b": ["y:1"]}), ("no_task", {"a": ["x:1", "x:2"]})])
def test_server_needs_job_and_task_when_ambiguous(case, cluster):
    kind, message = ORACLE["server_errors"][case]
    with pytest.raises(ValueError, match=re.escape(message)):
        tf.train.Server(tf.train.ClusterSpec(cluster), protocol="in_process", start=False)


def test_server_rejects_unknown_task_and_protocol():
    with pytest.raises(ValueError, match="No task with index 7 in job 'ps'"):
        tf.train.Server(spec(), job_name="ps", task_index=7, protocol="in_process")
    with pytest.raises(ValueError, match="Unknown protocol 'carrier-pigeon'"):
        tf.train.Server(spec(), job_name="ps", task_index=0, protocol="carrier-pigeon").backend


def test_local_server_target_and_session_run_locally():
    server = tf.train.Server.create_local_server()
    assert ORACLE["local_target_pattern_ok"] and re.fullmatch(r"grpc://localhost:\d+", server.target)
    assert server.server_def["job_name"] == "localhost" and server.server_def["task_index"] == 0
    with tf.Graph().as_default():
        v = tf.Variable(2.0)
        with tf.Session(server.target) as sess:
            assert sess.sess_str == server.target
            sess.run(v.initializer)
            assert sess.run(v * 3) == 6.0


def test_session_with_a_target_no_server_has_is_an_error():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="No tf.train.Server in this process"):
        tf.Session("grpc://nowhere:1")
