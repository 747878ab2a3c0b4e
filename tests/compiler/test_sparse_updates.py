"""remap.sparse_updates: SGD on an embedding table (the gradient a segment sum of the looked-up
rows' gradients) runs as one ``_SparseGradientDescent`` step that writes only those rows, with
the reference executor's values (bit for bit given the same gradient: ``tests/kernels/test_segment.py``);
everything else keeps the dense chain."""

import numpy as np
import pytest

import jitgraph as tf
from jitgraph import errors
from jitgraph.compiler import config
from jitgraph.compiler.prune import prune
from jitgraph.compiler.simplify import simplify
from jitgraph.runtime.store import VariableStore

pytestmark = pytest.mark.usefixtures("eager_strict")

V, E = 50, 4
RNG = np.random.default_rng(3)
IDS = np.array([[3, 7, 3], [49, 0, 3]], np.int32)        # 2-d ids with repeats, both ends of the table


def _types(fetches, feeds, targets=()):
    return [o.type for o in simplify(prune(fetches, targets, feeds), fetches, feeds).ops]


def _word2vec(opt=None, dtype=tf.float32, before_train=lambda table: None):
    """embedding_lookup of a table and a bias vector, trained by ``opt`` (SGD 0.5);
    ``before_train(table)`` adds ops created before the optimizer's."""
    ids = tf.placeholder(tf.int32, [None, 3])
    table = tf.Variable(RNG.standard_normal((V, E)).astype(dtype.as_numpy_dtype), name="table")
    bias = tf.Variable(RNG.standard_normal(V).astype(dtype.as_numpy_dtype), name="bias")
    rows = tf.nn.embedding_lookup(table, ids)
    loss = tf.reduce_sum(tf.square(rows - 1.0)) + tf.reduce_sum(tf.sin(tf.gather(bias, ids)))
    before_train(table)
    train = (opt or tf.train.GradientDescentOptimizer(0.5)).minimize(loss)
    return ids, table, bias, loss, train


def _run(mode, fetch_each, feeds, steps=3, after=()):
    """``steps`` runs of ``fetch_each``, then one of ``after`` (the variables once updated)."""
    prev = config.set_compile_mode(mode)
    try:
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            return [s.run(fetch_each, feeds) for _ in range(steps)] + [s.run(list(after))]
    finally:
        config.set_compile_mode(prev)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_sgd_on_an_embedding_writes_only_its_rows_and_equals_the_reference(g, dtype):
    ids, table, bias, loss, train = _word2vec(dtype=dtype)
    types = _types([loss], [ids], [train])
    assert types.count("_SparseGradientDescent") == 2
    assert "UnsortedSegmentSum" not in types and "AssignSub" not in types
    fetch = [loss, train]
    got = _run("eager", fetch, {ids: IDS}, after=[table, bias])
    want = _run("never", fetch, {ids: IDS}, after=[table, bias])
    for a, b in zip(got[:-1], want[:-1]):     # (the loss's sum may add in another order)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    for a, b in zip(got[-1], want[-1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    untouched = np.setdiff1d(np.arange(V), IDS)
    first = _run("never", [], {}, steps=0, after=[table.initial_value])[-1][0]
    np.testing.assert_array_equal(got[-1][0][untouched], first[untouched])
    assert not np.array_equal(got[-1][0][IDS[0, 0]], first[IDS[0, 0]])


@pytest.mark.parametrize("make", [
    lambda: tf.train.MomentumOptimizer(0.5, 0.9),         # every row's accumulator decays
    lambda: tf.train.AdamOptimizer(0.1),
])
def test_optimizers_that_touch_every_row_keep_the_dense_update(g, make):
    ids, table, bias, loss, train = _word2vec(make())
    assert "_SparseGradientDescent" not in _types([loss], [ids], [train])


def test_a_gradient_read_elsewhere_or_transformed_keeps_the_dense_update(g):
    ids, table, bias, loss, _ = _word2vec()
    opt = tf.train.GradientDescentOptimizer(0.5)
    (gt, vt), (gb, vb) = opt.compute_gradients(loss, [table, bias])
    clipped = opt.apply_gradients([(tf.clip_by_norm(gt, 1.0), vt), (gb, vb)])
    assert _types([loss], [ids], [clipped]).count("_SparseGradientDescent") == 1     # the bias only
    plain = opt.apply_gradients([(gt, vt)])
    assert "_SparseGradientDescent" not in _types([loss, gt], [ids], [plain])         # gradient fetched


def test_a_non_finite_learning_rate_reaches_every_row_as_in_the_chain(g):
    lr = tf.placeholder(tf.float32, [])
    ids, table, bias, loss, train = _word2vec(tf.train.GradientDescentOptimizer(lr))
    assert "_SparseGradientDescent" in _types([loss], [ids, lr], [train])
    got = _run("eager", train, {ids: IDS, lr: np.float32(np.inf)}, steps=1, after=[table, bias])[-1]
    want = _run("never", train, {ids: IDS, lr: np.float32(np.inf)}, steps=1, after=[table, bias])[-1]
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert np.isnan(got[0][np.setdiff1d(np.arange(V), IDS)]).all()        # inf * 0 on the rows no id names


def test_a_failure_later_in_the_run_restores_the_updated_rows(g):
    ids, table, bias, loss, train = _word2vec()
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([train]):
        checked = tf.debugging.check_numerics(x, "x is bad")
    prev = config.set_compile_mode("eager")
    try:
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            before = s.run([table, bias])
            with pytest.raises(errors.InvalidArgumentError, match="x is bad"):
                s.run(checked, {ids: IDS, x: np.nan})
            for a, b in zip(s.run([table, bias]), before):
                np.testing.assert_array_equal(a, b)
            s.run(checked, {ids: IDS, x: 1.0})
            assert not np.array_equal(s.run(table), before[0])
    finally:
        config.set_compile_mode(prev)


class _Ctx:
    def __init__(self, store):
        self.store = store


def test_bad_rows_are_a_clear_error_that_leaves_the_variable_alone(g):
    from jitgraph.ops.registry import OPS, make_op
    from jitgraph.ops.state_ops import VarRef
    table = tf.Variable(np.zeros((4, 2), np.float32), name="emb")
    op = make_op("_SparseGradientDescent", [table._ref(), tf.constant(1.0), tf.zeros([2, 2]),
                                            tf.constant([0, 1])], {}, "update")
    store = VariableStore()
    store.set(table.op, np.zeros((4, 2), np.float32))
    run = OPS["_SparseGradientDescent"].run
    for data, ids, pattern in [
            (np.ones((2, 2), np.float32), np.array([0, 4]), r"'emb': segment_ids\[1\] = 4 is not in \[0, 4\)"),
            (np.ones((2, 3), np.float32), np.array([0, 1]), r"'emb' of shape \[4, 2\] has rows of shape \[2, 3\]")]:
        with pytest.raises(errors.InvalidArgumentError, match=pattern):
            run(_Ctx(store), op, [VarRef(table.op), np.float32(1), data, ids])
        np.testing.assert_array_equal(store.get(table.op), 0)


def test_store_rollback_restores_rows_written_in_place():
    store, var, other = VariableStore(), object(), object()
    buf = np.arange(12.0).reshape(6, 2)
    store.set(var, buf)
    store.set(other, np.zeros(2))
    store.begin()
    store.update_rows(var, np.array([1, 4]), -np.ones((2, 2)))
    store.update_rows(var, np.array([4, 5]), np.full((2, 2), 9.0))     # row 4 twice
    store.set(other, np.ones(2))
    assert store.get(var) is buf and buf[4, 0] == 9.0
    store.rollback()
    assert store.get(var) is buf
    np.testing.assert_array_equal(buf, np.arange(12.0).reshape(6, 2))
    np.testing.assert_array_equal(store.get(other), 0)


def test_a_view_read_before_the_update_keeps_the_old_rows(g):
    views = []
    ids, table, bias, loss, train = _word2vec(before_train=lambda t: views.append(tf.reshape(t, [-1])))
    with tf.control_dependencies([train]):          # a NumPy step's view of the buffer, read in
        later = tf.identity(views[0]) * 2.0         # program order before the update, used after it
    got = _run("eager", later, {ids: IDS}, steps=2)
    want = _run("never", later, {ids: IDS}, steps=2)
    for a, b in zip(got[:2], want[:2]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(got[0], got[1])


def test_a_segment_sum_of_unknown_rank_keeps_the_dense_update(g):
    v = tf.Variable(np.ones((5, 3), np.float32))
    data, ids = tf.placeholder(tf.float32), tf.placeholder(tf.int32, [None])
    update = tf.assign_sub(v, 0.1 * tf.unsorted_segment_sum(data, ids, 5)).op
    assert "_SparseGradientDescent" not in _types([], [data, ids], [update])
