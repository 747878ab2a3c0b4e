"""TensorFlow V2 checkpoints both ways: files TF 2.21 wrote (tests/oracle/data/tb_tf) are read
bit-exactly, and what jitgraph writes is byte-identical to what TF wrote for the same tensors and
to the files TF 2.21 was shown to restore (tests/oracle/data/tb_jitgraph, tb_jitgraph_read_by_tf.json)."""

import os
import shutil

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.train import tf_checkpoint as tfc
from tests.oracle import make_tb_jitgraph_files as made
from tests.oracle.tb_data import JG_DIR, TF_DIR, dec, load

TF_REC = load("tb_tf.json")
READ_BY_TF = load("tb_jitgraph_read_by_tf.json")


def _bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_reads_every_dtype_tf_wrote():
    got = tfc.read_checkpoint(os.path.join(TF_DIR, "dtypes"))
    want = {k: dec(v) for k, v in TF_REC["dtypes"].items()}
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape, k
        np.testing.assert_array_equal(got[k], v, err_msg=k)


@pytest.mark.parametrize("prefix", ["dtypes", "model.ckpt-5"])
def test_writes_the_bytes_tf_writes(tmp_path, prefix):
    src = os.path.join(TF_DIR, prefix)
    tfc.write_checkpoint(str(tmp_path / "re"), tfc.read_checkpoint(src))
    assert _bytes(str(tmp_path / "re.index")) == _bytes(src + ".index")
    assert _bytes(str(tmp_path / "re.data-00000-of-00001")) == _bytes(src + ".data-00000-of-00001")


def test_tf_meta_graph_and_checkpoint_continue_in_jitgraph():
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(os.path.join(TF_DIR, "model.ckpt-5.meta"))
        assert not any(op.name.startswith("save/") for op in g.get_operations())
        assert [v.op.name for v in tf.trainable_variables()] == ["dense/kernel", "dense/bias"]
        y = tf.get_collection("outputs")[0]
        ckpt = tf.train.latest_checkpoint(TF_DIR)
        assert ckpt == os.path.join(TF_DIR, "model.ckpt-5")
        with tf.Session() as sess:
            saver.restore(sess, ckpt)
            np.testing.assert_array_equal(sess.run(y, {"x:0": dec(TF_REC["x"])}), dec(TF_REC["model_y"]))
            assert sess.run("global_step:0") == 5
            loss = tf.reduce_mean(tf.square(y))       # train on in jitgraph
            train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            before = sess.run(loss, {"x:0": dec(TF_REC["x"])})
            np.testing.assert_allclose(before, TF_REC["model_loss"], rtol=1e-6)
            sess.run(train, {"x:0": dec(TF_REC["x"])})
            assert sess.run(loss, {"x:0": dec(TF_REC["x"])}) < before


def test_inspection_functions_read_tf_checkpoints():
    prefix = os.path.join(TF_DIR, "model.ckpt-5")
    assert tf.train.list_variables(TF_DIR) == [["dense/bias", [2]], ["dense/kernel", [3, 2]], ["global_step", []]] \
        or tf.train.list_variables(TF_DIR) == [("dense/bias", [2]), ("dense/kernel", [3, 2]), ("global_step", [])]
    np.testing.assert_array_equal(tf.train.load_variable(prefix + ".index", "dense/bias:0"),
                                  dec(TF_REC["model_vars"]["dense/bias"]))
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_dtype_map()["global_step"] == tf.int32
    assert reader.get_variable_to_shape_map()["dense/kernel"] == [3, 2] and reader.has_tensor("global_step")
    assert tf.train.checkpoint_exists(prefix) and not tf.train.checkpoint_exists(prefix + "x")


def test_files_jitgraph_writes_are_the_files_tf_restored(tmp_path):
    """Rebuild jitgraph's files: the same bytes TF 2.21 read in record_tb_checkpoint.py part 2."""
    out = str(tmp_path)
    made.OUT, saved = out, made.OUT
    try:
        made.main()
    finally:
        made.OUT = saved
    for name in ("ckpt.index", "ckpt.data-00000-of-00001", "model.index", "model.data-00000-of-00001"):
        assert _bytes(os.path.join(out, name)) == _bytes(os.path.join(JG_DIR, name)), name
    meta = tf.MetaGraphDef.FromString(_bytes(os.path.join(out, "model.meta")))
    assert meta == tf.MetaGraphDef.FromString(_bytes(os.path.join(JG_DIR, "model.meta")))
    assert not meta.HasField("saver_def") and meta.collection_def["variables"].bytes_list.value
    got = {k: dec(v) for k, v in READ_BY_TF["checkpoint"].items()}
    assert sorted(got) == sorted(made.DTYPE_VALUES)
    for k, v in made.DTYPE_VALUES.items():
        np.testing.assert_array_equal(got[k], v, err_msg=k)
        assert got[k].dtype == np.asarray(v).dtype, k
    assert READ_BY_TF["meta_step"] == 7 and READ_BY_TF["meta_trainable"] == ["dense/kernel", "dense/bias"]
    with tf.Graph().as_default():
        x, y, _ = made.build_model()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(y, {x: made.X}), dec(READ_BY_TF["meta_y"]))


def test_saver_formats_and_max_to_keep(tmp_path):
    with tf.Graph().as_default():
        v = tf.get_variable("v", initializer=tf.constant([1.0, 2.0]))
        s = tf.get_variable("s", initializer=tf.constant([b"a", b"bc"]), trainable=False)
        saver = tf.train.Saver(write_version=tf.train.SaverDef.V2, max_to_keep=2)
        plain = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            paths = [saver.save(sess, str(tmp_path / "m"), global_step=i) for i in range(3)]
            assert all(os.path.exists(p + ".index") for p in paths[1:]) and not os.path.exists(paths[0] + ".index")
            assert not os.path.exists(paths[0] + ".data-00000-of-00001")
            meta = tf.MetaGraphDef.FromString(_bytes(paths[-1] + ".meta"))          # a TF meta graph
            assert {n.name for n in meta.graph_def.node} >= {"v", "s", "v/Assign"}
            own = plain.save(sess, str(tmp_path / "own"), write_state=False)
            assert os.path.exists(own + ".safetensors") and not os.path.exists(own + ".index")
            sess.run(v.assign([5.0, 6.0]))
            saver.restore(sess, paths[-1])
            np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
            assert list(sess.run(s)) == [b"a", b"bc"]
        assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    with pytest.raises(ValueError, match="V1"):
        tf.train.Saver([v], write_version=tf.train.SaverDef.V1)
    with pytest.raises(ValueError, match="format"):
        tf.train.Saver([v], format="keras")


def test_restore_errors_leave_variables_unchanged(tmp_path):
    prefix = str(tmp_path / "c")
    tfc.write_checkpoint(prefix, {"v": np.zeros([3], np.float32), "w": np.ones([2], np.float64)})
    with tf.Graph().as_default():
        v = tf.get_variable("v", initializer=tf.constant([7.0, 8.0]))
        w = tf.get_variable("w", initializer=tf.constant([1.0, 2.0], tf.float64))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
                tf.train.Saver().restore(sess, prefix)
            missing = tf.get_variable("missing", [1])
            sess.run(missing.initializer)
            with pytest.raises(tf.errors.NotFoundError, match="missing"):
                tf.train.Saver([w, missing]).restore(sess, prefix)
            np.testing.assert_array_equal(sess.run(v), [7.0, 8.0])


def test_corrupt_files_are_data_loss(tmp_path):
    src = os.path.join(TF_DIR, "dtypes")
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copy(src + suffix, str(tmp_path / ("d" + suffix)))
    data = bytearray(_bytes(str(tmp_path / "d.data-00000-of-00001")))
    data[3] ^= 0xFF
    (tmp_path / "d.data-00000-of-00001").write_bytes(bytes(data))
    with pytest.raises(tf.errors.DataLossError, match="Checksum does not match"):
        tfc.read_checkpoint(str(tmp_path / "d"))
    index = bytearray(_bytes(src + ".index"))
    index[20] ^= 0x01
    (tmp_path / "d.index").write_bytes(bytes(index))
    with pytest.raises(tf.errors.DataLossError):
        tfc.read_checkpoint(str(tmp_path / "d"))
    (tmp_path / "d.index").write_bytes(b"not a table")
    with pytest.raises(tf.errors.DataLossError, match="magic"):
        tfc.read_checkpoint(str(tmp_path / "d"))
    with pytest.raises(tf.errors.NotFoundError):
        tfc.read_checkpoint(str(tmp_path / "nothing"))


def test_many_tensors_span_several_table_blocks(tmp_path, monkeypatch):
    from jitgraph.train import tf_checkpoint_table
    monkeypatch.setattr(tf_checkpoint_table, "BLOCK_SIZE", 64)
    values = {f"layer_{i:03d}/w": np.full([2], i, np.int64) for i in range(40)}
    tfc.write_checkpoint(str(tmp_path / "many"), values)
    got = tfc.read_checkpoint(str(tmp_path / "many"))
    assert sorted(got) == sorted(values) and all((got[k] == v).all() for k, v in values.items())


def test_tf_meta_graph_round_trip_in_jitgraph(tmp_path):
    with tf.Graph().as_default():
        x, y, step = made.build_model()
        tf.summary.scalar("total", tf.reduce_sum(y))
        tf.add_to_collection("numbers", 3)
        tf.add_to_collection("names", "abc")
        meta = tf.train.export_meta_graph(str(tmp_path / "m.meta"), format="tensorflow")
        tf.train.export_meta_graph(str(tmp_path / "t.meta"), format="tensorflow", as_text=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = sess.run(y, {x: made.X})
    assert isinstance(meta, tf.MetaGraphDef) and meta.collection_def["numbers"].int64_list.value == [3]
    for name in ("m.meta", "t.meta"):
        with tf.Graph().as_default():
            saver = tf.train.import_meta_graph(str(tmp_path / name), import_scope="imp")
            assert [v.op.name for v in tf.global_variables()] == ["imp/dense/kernel", "imp/dense/bias",
                                                                  "imp/global_step"]
            assert [v.op.name for v in tf.trainable_variables()] == ["imp/dense/kernel", "imp/dense/bias"]
            assert tf.get_collection("numbers") == [3] and tf.get_collection("names") == [b"abc"]
            assert [t.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)] == ["imp/total:0"]
            assert sorted(saver._names) == ["imp/dense/bias", "imp/dense/kernel", "imp/global_step"]
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                np.testing.assert_array_equal(sess.run("imp/y:0", {"imp/x:0": made.X}), want)


def test_tf_resource_variables_import_as_reference_variables():
    rec = TF_REC
    with tf.Graph().as_default() as g:
        saver = tf.train.import_meta_graph(os.path.join(TF_DIR, "resource.meta"))
        assert g.get_operation_by_name("w").type == "VariableV2"                 # TF's VarHandleOp
        assert g.get_operation_by_name("inc").type == "AssignAdd"                # AssignAddVariableOp
        y, inc = tf.get_collection("outputs")[0], tf.get_collection("updates")[0]
        with tf.Session() as sess:
            saver.restore(sess, os.path.join(TF_DIR, "resource"))
            np.testing.assert_array_equal(sess.run(y, {"x:0": dec(rec["x"])}), dec(rec["resource_y"]))
            sess.run(inc)
            np.testing.assert_array_equal(sess.run(y, {"x:0": dec(rec["x"])}), dec(rec["resource_y_after_inc"]))
