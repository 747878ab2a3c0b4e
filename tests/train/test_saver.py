"""tf.train.Saver: save/restore round trips, names, max_to_keep, and restore errors that change nothing."""

import json
import os

import numpy as np
import pytest

import jitgraph as tf


def make_var(name, value, dtype=None):
    """A global, trainable variable initialized to ``value``."""
    value = np.asarray(value, dtype=dtype)
    return tf.Variable(value, name=name)


def init_all(sess, variables):
    sess.run([v.initializer for v in variables])


def values(sess, variables):
    return [sess.run(v._ref()) for v in variables]


def test_save_restore_round_trip_names_and_state(tmp_path):
    g = tf.Graph()
    with g.as_default():
        i = make_var("s/i", 7, np.int32)
        v = make_var("v", [1.5, 2.5], np.float32)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            init_all(sess, [i, v])
            sess.run(v.assign([3.0, 4.0]))
            prefix = saver.save(sess, str(tmp_path / "ckpt"), global_step=42)
    assert prefix == str(tmp_path / "ckpt-42")
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix
    assert tf.train.list_variables(prefix) == [("s/i", []), ("v", [2])]
    assert tf.train.list_variables(str(tmp_path)) == [("s/i", []), ("v", [2])]
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "v"), [3.0, 4.0])
    assert (tmp_path / "checkpoint").exists()
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == prefix
    meta = json.loads((tmp_path / "ckpt-42.meta").read_text())   # JSON data, no pickle
    assert {o["name"] for o in meta["graph"]["ops"]} >= {"s/i", "v"}
    with g.as_default(), tf.Session() as sess2:   # restore counts as initialization
        assert saver.restore(sess2, prefix) is None
        got = values(sess2, [i, v])
    assert got[0] == 7 and got[0].dtype == np.int32
    np.testing.assert_array_equal(got[1], np.float32([3.0, 4.0]))


def test_latest_checkpoint_empty_dir(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_dict_names_move_values_between_variables(tmp_path):
    with tf.Graph().as_default():
        a = make_var("a", [1.0, 2.0])
        saver = tf.train.Saver({"shared": a})
        with tf.Session() as sess:
            init_all(sess, [a])
            path = saver.save(sess, str(tmp_path / "m"))
    assert tf.train.list_variables(path) == [("shared", [2])]
    with tf.Graph().as_default():
        b = make_var("other/b", [0.0, 0.0])
        lst = tf.train.Saver([b])
        with tf.Session() as sess:
            tf.train.Saver({"shared": b}).restore(sess, path)
            np.testing.assert_array_equal(values(sess, [b])[0], [1.0, 2.0])
            p2 = lst.save(sess, str(tmp_path / "by_op_name"))
    assert tf.train.list_variables(p2) == [("other/b", [2])]


def test_construction_errors():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            tf.train.Saver()
        assert tf.train.Saver(allow_empty=True).save(None, "/nonexistent/x") is None
        w = make_var("w", 1.0)
        with pytest.raises(ValueError, match="same name: w"):
            tf.train.Saver([w, w])
        with pytest.raises(TypeError, match="not a Variable"):
            tf.train.Saver([tf.constant(1.0)])
        with pytest.raises(TypeError):
            tf.train.Saver({"a": tf.constant(3)})


def test_save_uninitialized_names_variable_and_writes_nothing(tmp_path):
    with tf.Graph().as_default():
        a = make_var("a", 1.0)
        make_var("late", 2.0)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            init_all(sess, [a])
            with pytest.raises(tf.errors.FailedPreconditionError, match="late"):
                saver.save(sess, str(tmp_path / "x"))
    assert os.listdir(tmp_path) == []


def test_max_to_keep_deletes_old_checkpoints(tmp_path):
    with tf.Graph().as_default():
        a = make_var("a", 0.0)
        inc = a.assign_add(1.0)
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            init_all(sess, [a])
            paths = []
            for step in range(4):
                sess.run(inc)
                paths.append(saver.save(sess, str(tmp_path / "m"), global_step=step))
    assert saver.last_checkpoints == paths[2:]
    assert not tf.train.checkpoint_exists(paths[0]) and not os.path.exists(paths[1] + ".meta")
    assert all(tf.train.checkpoint_exists(p) for p in paths[2:])
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == paths[2:]
    assert tf.train.load_variable(tf.train.latest_checkpoint(str(tmp_path)), "a") == 4.0


def _restore_setup(tmp_path):
    """A checkpoint with a=[1,2] (float32), b=5 (int32)."""
    with tf.Graph().as_default():
        a, b = make_var("a", [1.0, 2.0]), make_var("b", 5, np.int32)
        with tf.Session() as sess:
            init_all(sess, [a, b])
            return tf.train.Saver().save(sess, str(tmp_path / "good"))


@pytest.mark.parametrize("case", ["missing", "shape", "dtype", "truncated", "corrupt", "no_file"])
def test_failed_restore_changes_nothing(tmp_path, case):
    path = _restore_setup(tmp_path)
    data = path + ".safetensors"
    expected = {"missing": tf.errors.NotFoundError, "shape": tf.errors.InvalidArgumentError,
                "dtype": tf.errors.InvalidArgumentError, "truncated": tf.errors.DataLossError,
                "corrupt": tf.errors.DataLossError, "no_file": ValueError}[case]
    if case == "truncated":
        raw = open(data, "rb").read()
        open(data, "wb").write(raw[:-3])
    elif case == "corrupt":
        raw = bytearray(open(data, "rb").read())
        raw[-2] ^= 0xFF   # flips a byte of the last tensor's data: checksum mismatch
        open(data, "wb").write(bytes(raw))
    elif case == "no_file":
        path = str(tmp_path / "nothing_here")
    with tf.Graph().as_default():
        # "a" restores fine; the second variable is the bad one, so a non-atomic restore would show.
        a = make_var("a", [9.0, 9.0])
        second = {"missing": lambda: make_var("zz_missing", 0.0),
                  "shape": lambda: make_var("b", [0, 0], np.int32),
                  "dtype": lambda: make_var("b", 0.0, np.float64)}.get(case, lambda: make_var("b", 0, np.int32))()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            init_all(sess, [a, second])
            before = values(sess, [a, second])
            with pytest.raises(expected):
                saver.restore(sess, path)
            after = values(sess, [a, second])
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="None"):
        saver.restore(None, None)
