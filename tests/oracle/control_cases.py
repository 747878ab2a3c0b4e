"""Control-flow programs written once against the TF1 API, run by ``record_control.py`` with
TensorFlow (the oracle) and by ``tests/control_flow`` with jitgraph.

A case is ``fn(tf) -> steps``: a list of ``(fetches dict, feed dict)`` run in order in one
session after the variables are initialized. ``BUILD_ERRORS`` cases raise while the graph is
built; ``RUN_ERRORS`` cases build fine and their single step raises.
"""

import collections

import numpy as np

X3 = np.array([0.5, -1.25, 2.0])
M43 = np.arange(12.0).reshape(4, 3) / 7.0 - 0.6


def cond_values(tf):
    x = tf.placeholder(tf.float32, [3])
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: x - 1.0)
    pair = tf.cond(x[0] > 0, lambda: (x[0], [x[1] * 3.0]), lambda: (x[1], [x[2]]))
    single = tf.cond(x[0] > 0, lambda: [x[0] + 1.0], lambda: [x[1]])
    strict = tf.cond(x[0] > 0, lambda: [x[0] + 1.0], lambda: [x[1]], strict=True)
    fetch = {"y": y, "pair0": pair[0], "pair1": pair[1][0], "single": single, "strict0": strict[0]}
    return [(fetch, {x: X3}), (fetch, {x: -X3})]


def cond_side_effects(tf):
    v = tf.Variable(10.0)
    w = tf.Variable(0.0)
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: v.assign_add(1.0), lambda: w.assign_sub(2.0))
    # an assign nothing returns or depends on does not run (TF1)
    z = tf.cond(p, lambda: _unconnected(tf, v), lambda: tf.constant(0.0))
    return [({"y": y}, {p: True}), ({"y": y}, {p: False}), ({"z": z}, {p: True}),
            ({"v": v.read_value(), "w": w.read_value()}, {})]


def _unconnected(tf, v):
    v.assign_add(100.0)
    return tf.constant(1.0)


def cond_reads_after_assign(tf):
    v = tf.Variable(1.0)
    p = tf.placeholder(tf.bool, [])

    def true_fn():
        a = v.assign(5.0)
        with tf.control_dependencies([a]):
            return v.read_value() * 2.0
    y = tf.cond(p, true_fn, lambda: v.read_value() * 3.0)
    return [({"y": y}, {p: True}), ({"y": y}, {p: False})]


def cond_nested(tf):
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: tf.cond(x > 5, lambda: x * 10.0, lambda: x * 2.0), lambda: -x)
    return [({"y": y}, {x: 7.0}), ({"y": y}, {x: 2.0}), ({"y": y}, {x: -3.0})]


def case_values(tf):
    x = tf.placeholder(tf.int32, [])
    r = tf.case([(x < 0, lambda: tf.constant(-1)), (x < 10, lambda: tf.constant(1))],
                default=lambda: tf.constant(100))
    d = tf.case({x > 5: lambda: tf.constant(7)}, default=lambda: tf.constant(3))
    nodef = tf.case([(x < 0, lambda: tf.constant(-5)), (x >= 0, lambda: tf.constant(5))])
    return [({"r": r, "d": d, "nodef": nodef}, {x: v}) for v in (-3, 4, 50)]


def case_exclusive_ok(tf):
    x = tf.placeholder(tf.int32, [])
    r = tf.case([(x < 0, lambda: tf.constant(-1)), (x > 0, lambda: tf.constant(1))], default=lambda: tf.constant(0),
                exclusive=True)
    return [({"r": r}, {x: v}) for v in (-2, 0, 2)]


def while_counter(tf):
    i = tf.constant(0)
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [i])
    s = tf.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + tf.cast(i, tf.float32) ** 2), (0, 0.0))
    m = tf.while_loop(lambda i: i < 100, lambda i: i + 3, [0], maximum_iterations=7)
    m2 = tf.while_loop(lambda i, j: i < 100, lambda i, j: (i + 3, j * 2), (0, 1), maximum_iterations=4)
    return [({"r": r, "s0": s[0], "s1": s[1], "m": m, "m2a": m2[0], "m2b": m2[1]}, {})]


Pair = collections.namedtuple("Pair", ["a", "b"])


def while_structures(tf):
    x = tf.placeholder(tf.float32, [2])

    def body(i, p, d):
        return i + 1, Pair(p.a * 2.0, p.b + p.a), {"u": d["u"] - 1.0, "v": [d["v"][0] * x]}
    out = tf.while_loop(lambda i, p, d: i < 3, body, [0, Pair(x, x * 0.0), {"u": 1.0, "v": [x]}])
    return [({"i": out[0], "a": out[1].a, "b": out[1].b, "u": out[2]["u"], "v": out[2]["v"][0]},
             {x: np.array([1.5, -0.5])})]


def while_shape_invariants(tf):
    x = tf.constant([1.0])

    def body(i, x):
        return i + 1, tf.concat([x, x * 2.0], 0)
    _, y = tf.while_loop(lambda i, x: i < 3, body, [0, x], shape_invariants=[tf.TensorShape([]),
                                                                            tf.TensorShape([None])])
    return [({"y": y}, {})]


def while_variable_per_iteration(tf):
    v = tf.Variable(1.0)
    log = tf.Variable(0.0)

    def body(i):
        # (a TF1 read of a ref variable may alias its buffer and see a later in-place assign; a
        # product is a new value, so the recorded numbers do not depend on that)
        before10 = v.read_value() * 10.0
        with tf.control_dependencies([before10]):
            a = v.assign(v.read_value() * 2.0)
        with tf.control_dependencies([a]):
            b = log.assign_add(before10 + v.read_value())
        with tf.control_dependencies([b]):
            return i + 1
    r = tf.while_loop(lambda i: i < 3, body, [0])
    return [({"r": r}, {}), ({"v": v.read_value(), "log": log.read_value()}, {})]


def while_nested(tf):
    x = tf.placeholder(tf.float32, [])

    def outer(i, acc):
        def inner(j, a):
            return j + 1, a + tf.cast(i * j, tf.float32) * x
        _, acc = tf.while_loop(lambda j, a: j < i, inner, [0, acc])
        return i + 1, acc
    r = tf.while_loop(lambda i, a: i < 4, outer, [0, 0.0])
    return [({"i": r[0], "acc": r[1]}, {x: 0.5})]


def while_cond_inside(tf):
    v = tf.Variable(0.0)

    def body(i):
        upd = tf.cond(tf.equal(i % 2, 0), lambda: v.assign_add(1.0), lambda: v.assign_sub(0.25))
        with tf.control_dependencies([upd]):
            return i + 1
    r = tf.while_loop(lambda i: i < 5, body, [0])
    return [({"r": r}, {}), ({"v": v.read_value()}, {})]


def tensor_array_ops(tf):
    x = tf.placeholder(tf.float32, [3, 2])
    ta = tf.TensorArray(tf.float32, size=3).unstack(x)
    read1 = ta.read(1)
    tb = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    tb = tb.write(0, x[0]).write(1, x[2] * 2.0).write(3, x[1])
    tc = tf.TensorArray(tf.float32, size=4, clear_after_read=False).scatter([3, 0, 2, 1], tf.concat([x, x[:1]], 0))
    td = tf.TensorArray(tf.float32, size=2, clear_after_read=False).split(tf.reshape(x, [6]), [3, 3])
    return [({"read1": read1, "stack": tb.stack(), "size": tb.size(), "gather": tc.gather([1, 3]),
              "cstack": tc.stack(), "concat": td.concat(), "dsplit": td.read(1)},
             {x: M43[:3, :2]})]


def tensor_array_in_loop(tf):
    x = tf.placeholder(tf.float32, [4, 3])
    inp = tf.TensorArray(tf.float32, size=4).unstack(x)
    out = tf.TensorArray(tf.float32, size=4)

    def body(t, h, out):
        h = tf.tanh(h * 0.5 + inp.read(t))
        return t + 1, h, out.write(t, h)
    _, h, out = tf.while_loop(lambda t, h, o: t < 4, body, [0, tf.zeros([3]), out])
    seq = out.stack()
    loss = tf.reduce_sum(seq * seq) + tf.reduce_sum(h)
    return [({"seq": seq, "h": h, "dx": tf.gradients(loss, x)[0]}, {x: M43})]


def functional_ops(tf):
    x = tf.placeholder(tf.float64, [4, 3])
    m = tf.map_fn(lambda r: tf.reduce_sum(r * r), x)
    mt = tf.map_fn(lambda r: (r[0], r * 2.0), x, dtype=(tf.float64, tf.float64))
    s = tf.scan(lambda a, r: a * 0.5 + r, x)
    sr = tf.scan(lambda a, r: a + r, x, initializer=tf.zeros([3], tf.float64), reverse=True)
    fl = tf.foldl(lambda a, r: a * r + 1.0, x)
    fr = tf.foldr(lambda a, r: a - r, x, initializer=tf.ones([3], tf.float64))
    loss = tf.reduce_sum(s * s) + tf.reduce_sum(m) + tf.reduce_sum(fl * fr) + tf.reduce_sum(sr)
    return [({"m": m, "mt0": mt[0], "mt1": mt[1], "s": s, "sr": sr, "fl": fl, "fr": fr,
              "dx": tf.gradients(loss, x)[0]}, {x: M43})]


def grad_while(tf):
    x = tf.placeholder(tf.float64, [3])
    w = tf.Variable(np.array([0.5, -0.3, 0.2]))
    c = tf.constant(np.array([1.0, 2.0, 0.5]))
    _, h = tf.while_loop(lambda i, h: i < 4, lambda i, h: (i + 1, tf.tanh(h * w + c * x)), [0, x])
    loss = tf.reduce_sum(h * h)
    gx, gw = tf.gradients(loss, [x, w])
    return [({"loss": loss, "gx": gx, "gw": gw}, {x: X3})]


def grad_cond(tf):
    x = tf.placeholder(tf.float64, [3])
    w = tf.Variable(np.array([1.0, 2.0, 3.0]))
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: tf.sin(x) * w, lambda: tf.exp(x) * 2.0)
    gx, gw = tf.gradients(tf.reduce_sum(y), [x, w])
    fetch = {"gx": gx, "gw": gw if gw is not None else tf.zeros([3], tf.float64)}
    return [(fetch, {x: X3}), (fetch, {x: -X3})]


def grad_nested(tf):
    x = tf.placeholder(tf.float64, [2])

    def body(i, h):
        _, h2 = tf.while_loop(lambda j, h: j < 2, lambda j, h: (j + 1, tf.sin(h) + x[0]), [0, h])
        return i + 1, tf.cond(i > 0, lambda: h2 * 2.0, lambda: h2)
    _, h = tf.while_loop(lambda i, h: i < 3, body, [0, x[1]])
    return [({"h": h, "dx": tf.gradients(h, x)[0]}, {x: np.array([0.3, -0.7])})]


def grad_max_iterations(tf):
    x = tf.placeholder(tf.float64, [])
    r = tf.while_loop(lambda v: v < 1e9, lambda v: v * x, [x], maximum_iterations=3)
    return [({"r": r, "dx": tf.gradients(r, x)[0]}, {x: 1.5})]


CASES = {f.__name__: f for f in (cond_values, cond_side_effects, cond_reads_after_assign, cond_nested, case_values,
                                 case_exclusive_ok, while_counter, while_structures, while_shape_invariants,
                                 while_variable_per_iteration, while_nested, while_cond_inside, tensor_array_ops,
                                 tensor_array_in_loop, functional_ops, grad_while, grad_cond, grad_nested,
                                 grad_max_iterations)}


# ---- errors ---------------------------------------------------------------------------------------
def err_shape_change(tf):
    tf.while_loop(lambda x: tf.reduce_sum(x) < 10, lambda x: tf.concat([x, x], 0), [tf.constant([1.0])])


def err_dtype_change(tf):
    tf.while_loop(lambda x: x < 10, lambda x: tf.cast(x, tf.float32), [tf.constant(1)])


def err_structure_mismatch(tf):
    tf.cond(tf.constant(True), lambda: (tf.constant(1), tf.constant(2)), lambda: tf.constant(1))


def err_branch_dtype(tf):
    tf.cond(tf.constant(True), lambda: tf.constant(1), lambda: tf.constant(1.0))


def err_python_pred(tf):
    tf.cond(True, lambda: tf.constant(1), lambda: tf.constant(2))


def err_not_callable(tf):
    tf.while_loop(lambda i: i < 3, 5, [0])


def err_body_arity(tf):
    tf.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1,), [0, 1])


def err_list_vs_tuple(tf):
    tf.while_loop(lambda i, j: i < 100, lambda i, j: (i + 3, j * 2), [0, 1], maximum_iterations=4)


def err_ta_dtype(tf):
    ta = tf.TensorArray(tf.float32, size=2)
    ta.write(0, tf.constant(1))


def err_ta_shape(tf):
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[3])
    ta.write(0, tf.constant([1.0, 2.0]))


def err_bad_invariant(tf):
    tf.while_loop(lambda x: x[0] < 3, lambda x: x + 1, [tf.constant([1, 2])], shape_invariants=[tf.TensorShape([3])])


BUILD_ERRORS = {f.__name__: f for f in (err_shape_change, err_dtype_change, err_structure_mismatch,
                                        err_branch_dtype, err_python_pred, err_not_callable, err_body_arity, err_list_vs_tuple,
                                        err_ta_dtype, err_ta_shape, err_bad_invariant)}


def run_case_none_true(tf):
    x = tf.placeholder(tf.int32, [])
    r = tf.case([(x < 0, lambda: tf.constant(-5)), (x > 10, lambda: tf.constant(5))])
    return [({"r": r}, {x: 3})]


def run_exclusive_two_true(tf):
    x = tf.placeholder(tf.int32, [])
    r = tf.case([(x > 0, lambda: tf.constant(1)), (x > 1, lambda: tf.constant(2))], exclusive=True)
    return [({"r": r}, {x: 3})]


def run_ta_double_write(tf):
    ta = tf.TensorArray(tf.float32, size=2)
    ta = ta.write(0, 1.0).write(0, 2.0)
    return [({"s": ta.stack()}, {})]


def run_ta_out_of_range(tf):
    ta = tf.TensorArray(tf.float32, size=2)
    ta = ta.write(3, 1.0)
    return [({"s": ta.stack()}, {})]


def run_ta_read_twice(tf):
    ta = tf.TensorArray(tf.float32, size=2).unstack([1.0, 2.0])
    a = ta.read(0)
    with tf.control_dependencies([a]):
        b = ta.read(0)
    return [({"b": b}, {})]


def run_ta_unwritten_unknown_shape(tf):
    ta = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    ta = ta.write(0, tf.placeholder_with_default([1.0], [None]))
    return [({"s": ta.read(1)}, {})]


RUN_ERRORS = {f.__name__: f for f in (run_case_none_true, run_exclusive_two_true, run_ta_double_write,
                                      run_ta_out_of_range, run_ta_read_twice, run_ta_unwritten_unknown_shape)}
