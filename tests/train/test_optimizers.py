"""Optimizers: TF1 update rules (multi-step trajectories against NumPy), slot names/collections,
global step, var_list, skipped variables, errors."""

import numpy as np
import pytest

import jitgraph as tf

W0 = np.array([1.0, -2.0, 0.5])


def _np_trajectory(kind, steps=4):
    """TF1's formulas for loss = l2_loss(w) (gradient = w)."""
    w = W0.copy()
    s = {"m": 0 * w, "v": 0 * w, "acc": 0.1 + 0 * w, "ms": 1 + 0 * w, "mg": 0 * w, "mom": 0 * w, "t": 0}
    out = []
    for _ in range(steps):
        g = w.copy()
        if kind == "sgd":
            w -= 0.1 * g
        elif kind in ("mom", "nest"):
            s["mom"] = 0.9 * s["mom"] + g
            w -= 0.1 * (g + 0.9 * s["mom"] if kind == "nest" else s["mom"])
        elif kind == "adam":   # hyperparameters and beta powers are float32, as in TF
            b1, b2, eps = (np.float64(np.float32(h)) for h in (0.9, 0.999, 1e-8))
            b1p, b2p = s.get("b1p", np.float32(0.9)), s.get("b2p", np.float32(0.999))
            lr = np.float64(np.float32(0.1)) * np.sqrt(1 - np.float64(b2p)) / (1 - np.float64(b1p))
            s["b1p"], s["b2p"] = b1p * np.float32(0.9), b2p * np.float32(0.999)
            s["m"] = b1 * s["m"] + (1 - b1) * g
            s["v"] = b2 * s["v"] + (1 - b2) * g * g
            w -= lr * s["m"] / (np.sqrt(s["v"]) + eps)
        elif kind in ("rms", "rmsc"):
            s["ms"] = 0.9 * s["ms"] + 0.1 * g * g
            s["mg"] = 0.9 * s["mg"] + 0.1 * g
            denom = s["ms"] - s["mg"] ** 2 if kind == "rmsc" else s["ms"]
            s["mom"] = 0.5 * s["mom"] + 0.1 * g / np.sqrt(denom + 1e-10)
            w -= s["mom"]
        elif kind == "ada":
            s["acc"] += g * g
            w -= 0.1 * g / np.sqrt(s["acc"])
        out.append(w.copy())
    return np.array(out)


OPTS = {
    "sgd": (lambda: tf.train.GradientDescentOptimizer(0.1), []),
    "mom": (lambda: tf.train.MomentumOptimizer(0.1, 0.9), ["w/Momentum:0"]),
    "nest": (lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True), ["w/Momentum:0"]),
    "adam": (lambda: tf.train.AdamOptimizer(0.1), ["beta1_power:0", "beta2_power:0", "w/Adam:0", "w/Adam_1:0"]),
    "rms": (lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5), ["w/RMSProp:0", "w/RMSProp_1:0"]),
    "rmsc": (lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True),
             ["w/RMSProp:0", "w/RMSProp_1:0", "w/RMSProp_2:0"]),
    "ada": (lambda: tf.train.AdagradOptimizer(0.1), ["w/Adagrad:0"]),
}


@pytest.mark.parametrize("kind", list(OPTS))
def test_update_rule_trajectory_and_slot_variables(kind):
    make, slot_names = OPTS[kind]
    with tf.Graph().as_default():
        w = tf.Variable(W0, name="w")
        opt = make()
        op = opt.minimize(tf.nn.l2_loss(w))
        assert isinstance(op, tf.Operation)
        assert [v.name for v in tf.global_variables()] == ["w:0"] + slot_names
        assert [v.name for v in tf.trainable_variables()] == ["w:0"]
        assert sorted(v.name for v in opt.variables()) == sorted(slot_names)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            traj = []
            for _ in range(4):
                assert sess.run(op) is None
                traj.append(sess.run(w))
    # hyperparameters are float32 constants cast to the variable dtype, as in TF: agreement ~1e-7
    np.testing.assert_allclose(np.array(traj), _np_trajectory(kind), rtol=2e-6, atol=1e-7)


def test_slot_lookup_and_op_names():
    with tf.Graph().as_default():
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", [2], initializer=tf.ones_initializer())
        opt = tf.train.AdamOptimizer()
        with tf.name_scope("outer"):
            op = opt.minimize(tf.nn.l2_loss(w))
        assert op.name == "outer/Adam" and op.type == "NoOp"
        assert opt.get_slot(w, "m").name == "layer/w/Adam:0"
        assert opt.get_slot(w, "v").name == "layer/w/Adam_1:0"
        assert opt.get_slot_names() == ["m", "v"]
        assert opt.get_slot(w, "nope") is None
        names = {v.name for v in tf.global_variables()}
        assert {"outer/beta1_power:0", "outer/beta2_power:0"} <= names
        assert not tf.get_default_graph().get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)[1:]


def test_global_step_increments_and_collections():
    with tf.Graph().as_default():
        assert tf.train.get_global_step() is None
        gs = tf.train.get_or_create_global_step()
        assert gs.name == "global_step:0" and gs.dtype.base_dtype == tf.int64
        assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [gs]
        assert tf.train.get_global_step() is gs and tf.train.get_or_create_global_step() is gs
        assert gs not in tf.trainable_variables()
        with pytest.raises(ValueError):
            tf.train.create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        op = tf.train.GradientDescentOptimizer(0.5).minimize(tf.nn.l2_loss(w), global_step=gs)
        assert op.name == "GradientDescent"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(3):
                assert sess.run(op) is None
                assert tf.train.global_step(sess, gs) == i + 1
            np.testing.assert_allclose(sess.run(w), [0.125, 0.25])


def test_var_list_non_trainable_and_integer_variables_untouched():
    with tf.Graph().as_default():
        a = tf.Variable([1.0], name="a")
        b = tf.Variable([2.0], name="b")
        frozen = tf.Variable([3.0], name="frozen", trainable=False)
        count = tf.Variable(7, name="count")
        loss = tf.nn.l2_loss(a) + tf.nn.l2_loss(b) if tf.add(1.0, 1.0).op.op_def.grad else None
        if loss is None:
            pytest.skip("Add has no gradient rule yet")
        n_vars = len(tf.global_variables())
        only_a = tf.train.GradientDescentOptimizer(0.5).minimize(loss, var_list=[a])
        both = tf.train.GradientDescentOptimizer(0.5).minimize(loss + tf.nn.l2_loss(frozen))
        assert len(tf.global_variables()) == n_vars        # plain SGD creates no variables
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(only_a)
            np.testing.assert_allclose(sess.run([a, b]), [[0.5], [2.0]])
            sess.run(both)
            np.testing.assert_allclose(sess.run([a, b, frozen]), [[0.25], [1.0], [3.0]])
            assert sess.run(count) == 7


def test_compute_gradients_pairs_in_creation_order_and_apply():
    with tf.Graph().as_default():
        x = tf.Variable([1.0, 2.0], name="x")
        unused = tf.Variable([5.0], name="unused")
        k = tf.Variable(1, name="k")
        opt = tf.train.GradientDescentOptimizer(1.0)
        pairs = opt.compute_gradients(tf.nn.l2_loss(x))
        assert [v for _, v in pairs] == [x, unused, k]
        assert pairs[0][0] is not None and pairs[1][0] is None and pairs[2][0] is None
        assert pairs[0][0].shape.as_list() == [2]
        step = opt.apply_gradients(pairs)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step)
            np.testing.assert_allclose(sess.run(x), [0.0, 0.0])
        scaled = tf.train.GradientDescentOptimizer(0.25).apply_gradients(
            [(tf.constant([4.0]), unused)], name="manual")
        assert scaled.name == "manual"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(scaled)
            np.testing.assert_allclose(sess.run(unused), [4.0])


def test_errors():
    with tf.Graph().as_default():
        opt = tf.train.GradientDescentOptimizer(0.1)
        with pytest.raises(ValueError, match="No variables to optimize"):
            opt.minimize(tf.constant(1.0))
        tf.Variable([1.0], name="v")
        with pytest.raises(ValueError, match="No gradients provided"):
            opt.minimize(tf.constant(1.0))
        with pytest.raises(ValueError):
            opt.apply_gradients([])
        with pytest.raises(ValueError):
            tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)


def test_learning_rate_tensor_and_float32_variables():
    with tf.Graph().as_default():
        w = tf.Variable([1.0, -1.0], name="w")
        lr = tf.placeholder(tf.float32, [])
        op = tf.train.MomentumOptimizer(lr, 0.5).minimize(tf.nn.l2_loss(w))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(op, {lr: 0.5})
            np.testing.assert_allclose(sess.run(w), [0.5, -0.5])
            sess.run(op, {lr: 0.0})
            np.testing.assert_allclose(sess.run(w), [0.5, -0.5])
            assert sess.run(w).dtype == np.float32


# ---- Adadelta and FTRL against TensorFlow 2.21 (tests/oracle/optimizer_cases.py) -----------------
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

_ORACLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "oracle")
sys.path.insert(0, _ORACLE)
import optimizer_cases  # noqa: E402

with open(os.path.join(_ORACLE, "data", "optimizers.json")) as _f:
    _TF = json.load(_f)


@pytest.mark.parametrize("name", sorted(optimizer_cases.CASES))
def test_adadelta_and_ftrl_follow_tf(name, mode):
    """Five steps of a vector and a matrix variable (FTRL's l1 zeroes some entries), slot names,
    and final slots, on the reference executor and compiled (``mode``)."""
    got, want = optimizer_cases.trajectory(tf, name), _TF[name]
    assert got["slot_names"] == want["slot_names"] and got["slot_vars"] == want["slot_vars"]
    assert got["global"] == want["global"]
    for g_step, w_step in zip(got["steps"], want["steps"]):
        for a, b in zip(g_step, w_step):
            np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7)
    for k, v in want["slots"].items():
        np.testing.assert_allclose(got["slots"][k], v, rtol=2e-6, atol=1e-7)


def test_ftrl_argument_errors_are_tfs():
    got = optimizer_cases.errors(tf)
    assert got == {k: v if v is None else list(v) for k, v in _TF["errors"].items()}


@pytest.mark.parametrize("name", sorted(optimizer_cases.EMBEDDING_CASES))
def test_embedding_updates_follow_tf(name, mode):
    """Every optimizer on a table looked up twice and a bias looked up once (TF: ``IndexedSlices``
    gradients): Momentum, RMSProp, Adagrad, Adadelta and FTRL leave the rows no id names alone,
    slots included; SGD and Adam move as TF's do."""
    got, want = optimizer_cases.embedding_trajectory(tf, name), _TF["embedding"][name]
    for g_step, w_step in zip(got["steps"], want["steps"]):
        for a, b in zip(g_step, w_step):
            np.testing.assert_allclose(a, b, rtol=3e-6, atol=1e-6)
    assert sorted(got["slots"]) == sorted(want["slots"])
    for k, v in want["slots"].items():
        for a, b in zip(got["slots"][k], v):
            np.testing.assert_allclose(a, b, rtol=3e-6, atol=1e-6)
    if name in ("momentum", "ftrl"):      # (row 3 is never looked up: a dense update moves it)
        assert got["steps"][-1][0][3] == [0.5, 0.75]


def test_an_embedding_update_writes_rows_not_the_table(g):
    """Adagrad on a looked-up table reads and writes its rows only: no op of the update takes or
    makes a tensor as large as the table (TF's sparse path), so its cost follows the batch."""
    table = tf.Variable(np.ones((50000, 8), np.float32), name="table")
    ids = tf.placeholder(tf.int32, [None])
    loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(table, ids)))
    opt = tf.train.AdagradOptimizer(0.1)
    train = opt.minimize(loss)
    from jitgraph.compiler.prune import prune
    acc = opt.get_slot(table, "accumulator")
    for op in prune([], [train], [ids]):
        if op.type in ("VariableV2", "Const") or op.name.startswith(("table", acc.op.name)):
            continue
        for t in op.outputs:     # (a write's output is the variable's reference, not a value)
            assert t.dtype.is_ref_dtype or t.shape.ndims is None or t.shape.as_list()[:1] != [50000], (op.type, op.name, t.shape)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(train, {ids: [7, 7, 3]})
        got = s.run(table)
    want = 1.0 - 0.1 * 4.0 / np.sqrt(0.1 + 16.0)                     # row 7: gradient 2 + 2
    np.testing.assert_allclose(got[7], want, rtol=1e-6)
    np.testing.assert_array_equal(got[np.r_[0:3, 4:7, 8:50000]], 1.0)
