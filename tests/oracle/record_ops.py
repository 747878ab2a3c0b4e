"""Record what TensorFlow 2.21 (``tf.compat.v1`` graph mode) computes for the ops of
``jitgraph/ops/{sort,scatter,segment,embedding,candidate_sampling,sampled_loss,einsum,sequence}_ops.py``
and ``tensordot``/``gather_nd``: values and gradients, with the inputs used.

Run with the TensorFlow venv from the repository root (never imported by jitgraph's tests):

    python tests/oracle/record_ops.py     # writes tests/oracle/data/ops.npz

Keys are ``<case>/<name>``; inputs are stored next to the outputs so the tests feed the same data.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "ops.npz")
rng = np.random.default_rng(13)
rec = {}


def run(fetches, feed=None):
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        return s.run(fetches, feed)


def dense(g):
    return tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g


def grads_of(y, xs, w):
    return [dense(g) for g in tf.gradients(y, xs, grad_ys=tf.constant(w))]


def case(name, **arrays):
    for k, v in arrays.items():
        rec[f"{name}/{k}"] = np.asarray(v)


def ordering():
    x = np.array([[1, 5, 3, 5, 0, 3], [2, 2, 2, 1, 9, -4], [0.5, -1, 7, 7, 7, 2], [4, 3, 2, 1, 0, -1]],
                 np.float64)
    with tf.Graph().as_default():
        t = tf.constant(x)
        v, i = tf.nn.top_k(t, 3)
        w = rng.standard_normal((4, 3))
        out = run([v, i] + grads_of(v, [t], w))
    case("top_k", x=x, w=w, values=out[0], indices=out[1], grad=out[2])
    xi = np.array([[3, -1, 3, 7, 3], [0, 0, -5, 2, 2]], np.int32)
    with tf.Graph().as_default():
        fx, ix = tf.constant(x), tf.constant(xi)
        out = run([tf.sort(fx), tf.sort(fx, axis=0, direction="DESCENDING"), tf.argsort(fx),
                   tf.argsort(fx, axis=0, direction="DESCENDING"), tf.sort(ix), tf.argsort(ix),
                   tf.sort(ix, direction="DESCENDING"), tf.argsort(ix, direction="DESCENDING")])
    case("sort", x=x, xi=xi, asc=out[0], desc0=out[1], arg_asc=out[2], arg_desc0=out[3], int_asc=out[4],
         int_arg_asc=out[5], int_desc=out[6], int_arg_desc=out[7])
    p = np.array([[0.1, 0.3, 0.3, 0.2], [0.5, 0.1, 0.2, 0.2], [0.0, np.inf, 0.2, 0.1], [1, 2, 3, 4],
                  [0.4, 0.4, 0.4, 0.4]], np.float32)
    targets = np.array([2, 3, 2, 0, 3], np.int32)
    with tf.Graph().as_default():
        out = run([tf.nn.in_top_k(p, targets, k) for k in (1, 2, 3)])
    case("in_top_k", predictions=p, targets=targets, k1=out[0], k2=out[1], k3=out[2])
    u = np.array([4, 1, 4, 2, 9, 1, 1, 0], np.int64)
    uf = np.array([2.5, -1.0, 2.5, 0.0, -1.0], np.float32)
    with tf.Graph().as_default():
        a, b = tf.unique(u, out_idx=tf.int64), tf.unique_with_counts(uf)
        c = tf.unique(np.array([1.0, np.nan, np.nan, 1.0]))
        out = run([a.y, a.idx, b.y, b.idx, b.count, c.y, c.idx])
    case("unique", x=u, y=out[0], idx=out[1], xf=uf, yf=out[2], idxf=out[3], countf=out[4], ynan=out[5],
         idxnan=out[6])
    with tf.Graph().as_default():
        out = run(tf.nn.in_top_k(p, np.array([9, -1, 0, 0, 0], np.int32), 2))
    case("in_top_k", out_of_range=out)


def scatters():
    init = rng.standard_normal((5, 3)).round(2)
    idx = np.array([3, 0, 3, 1], np.int32)
    upd = rng.standard_normal((4, 3)).round(2) + 2.0
    res = {}
    with tf.Graph().as_default():
        for op in ("add", "sub", "mul", "div", "max", "min"):
            v = tf.Variable(init)
            r = getattr(tf, "scatter_" + op)(v, idx, upd)
            res[op] = (v, r)
        v = tf.Variable(init)
        res["update"] = (v, tf.scatter_update(v, [4, 1], upd[:2]))
        v = tf.Variable(init)
        res["update_scalar"] = (v, tf.scatter_update(v, [2], 7.0))
        vi = tf.Variable(np.array([7, -7, 9, 100], np.int32))
        res["div_int"] = (vi, tf.scatter_div(vi, [0, 1, 1, 3], np.array([2, 2, 2, -7], np.int32)))
        nd_idx = np.array([[0, 1], [4, 2], [0, 1]], np.int32)
        for op in ("update", "add", "sub"):
            v = tf.Variable(init)
            res["nd_" + op] = (v, getattr(tf, "scatter_nd_" + op)(v, nd_idx[1:] if op == "update" else nd_idx,
                                                                    (np.arange(3.0) + 1)[1:] if op == "update"
                                                                    else np.arange(3.0) + 1))
        v = tf.Variable(init)
        res["nd_rows"] = (v, tf.scatter_nd_add(v, [[1], [3]], upd[:2]))
        with tf.Session() as s:
            for k, (v, r) in res.items():
                s.run(v.initializer)
                rv = s.run(r)
                case(f"scatter_{k}", result=rv, variable=s.run(v))
    case("scatter", init=init, idx=idx, upd=upd, nd_idx=np.array([[0, 1], [4, 2], [0, 1]], np.int32))
    t = rng.standard_normal((4, 3))
    with tf.Graph().as_default():
        x, u = tf.constant(t), tf.constant(upd[:3])
        ti = [[1], [3], [1]]
        outs = []
        for fn in (tf.tensor_scatter_nd_update, tf.tensor_scatter_nd_add, tf.tensor_scatter_nd_sub):
            y = fn(x, ti[1:] if fn is tf.tensor_scatter_nd_update else ti, u[1:] if fn is tf.tensor_scatter_nd_update
                   else u)
            w = rng.standard_normal((4, 3))
            outs += [y] + grads_of(y, [x, u], w) + [tf.constant(w)]
        out = run(outs)
    for j, name in enumerate(("update", "add", "sub")):
        case(f"tensor_scatter_{name}", tensor=t, updates=upd[:3], value=out[4 * j], grad_tensor=out[4 * j + 1],
             grad_updates=out[4 * j + 2], w=out[4 * j + 3])


def gathers_and_contractions():
    p = rng.standard_normal((3, 4, 2))
    gi = np.array([[[0, 1], [2, 3]], [[2, 0], [0, 1]]], np.int32)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 5, 2))
    with tf.Graph().as_default():
        tp, ta, tb = tf.constant(p), tf.constant(a), tf.constant(b)
        g = tf.gather_nd(tp, gi)
        w1 = rng.standard_normal((2, 2, 2))
        td1 = tf.tensordot(ta, tb, 2)
        td2 = tf.tensordot(ta, tb, [[1], [0]])
        w2, w3 = rng.standard_normal((3, 2)), rng.standard_normal((3, 5, 5, 2))
        sn = tf.scatter_nd([[1], [3], [1]], tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), [5, 2])
        out = run([g] + grads_of(g, [tp], w1) + [td1] + grads_of(td1, [ta, tb], w2) + [td2] +
                  grads_of(td2, [ta, tb], w3) + [sn])
    case("gather_nd", params=p, indices=gi, w=w1, value=out[0], grad=out[1])
    case("tensordot", a=a, b=b, w2=w2, w3=w3, axes2=out[2], axes2_ga=out[3], axes2_gb=out[4], pairs=out[5],
         pairs_ga=out[6], pairs_gb=out[7])
    case("scatter_nd", value=out[8])
    eqs = {"matmul": ("ij,jk->ik", [(2, 3), (3, 4)]), "batch": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
           "trace": ("ii", [(3, 3)]), "diag": ("ii->i", [(3, 3)]), "outer": ("i,j->ij", [(2,), (3,)]),
           "implicit": ("ij,jk", [(2, 3), (3, 2)]), "sum": ("ijk->", [(2, 3, 2)]),
           "ellipsis": ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)]), "transpose": ("ijk->kij", [(2, 3, 4)]),
           "three": ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)])}
    for key, (eq, shapes) in eqs.items():
        xs = [rng.standard_normal(s) for s in shapes]
        with tf.Graph().as_default():
            ts = [tf.constant(x) for x in xs]
            y = tf.einsum(eq, *ts)
            w = rng.standard_normal(y.shape.as_list())
            out = run([y] + grads_of(y, ts, w))
        case(f"einsum_{key}", equation=np.array(eq), w=w, value=out[0],
             **{f"x{i}": x for i, x in enumerate(xs)}, **{f"g{i}": gr for i, gr in enumerate(out[1:])})
    with tf.Graph().as_default():
        out = run([tf.sequence_mask([1, 3, 2], 5), tf.sequence_mask([[1, 3], [2, 0]], dtype=tf.float32),
                   tf.sequence_mask(np.array([0, 2], np.int64))])
    case("sequence_mask", fixed=out[0], nested=out[1], default=out[2])


def segments():
    data = rng.standard_normal((6, 2)).round(2)
    data[4] = data[3]   # a tie in a max/min segment
    ids = np.array([0, 0, 2, 3, 3, 3], np.int32)
    uids = np.array([3, 0, 3, 1, 1, 0], np.int32)
    fetch, names = [], []
    with tf.Graph().as_default():
        d = tf.constant(data)
        w4, w5 = rng.standard_normal((4, 2)), rng.standard_normal((5, 2))
        for op in ("sum", "mean", "max", "min", "prod"):
            y = getattr(tf.math, "segment_" + op)(d, ids)
            fetch += [y] + (grads_of(y, [d], w4) if op != "prod" else [])
            names += [f"segment_{op}"] + ([f"segment_{op}_grad"] if op != "prod" else [])
        for op in ("sum", "max", "min", "prod", "mean", "sqrt_n"):
            y = getattr(tf.math, "unsorted_segment_" + op)(d, uids, 5)
            fetch += [y] + grads_of(y, [d], w5)
            names += [f"unsorted_{op}", f"unsorted_{op}_grad"]
        parts = tf.dynamic_partition(d, [1, 0, 2, 1, 1, 0], 3)
        stitched = tf.dynamic_stitch([[0, 2], [1, 3, 2]], [d[:2], d[2:5]])
        wp = [rng.standard_normal((n, 2)) for n in (2, 3, 1)]
        ws = rng.standard_normal((4, 2))
        part_grad = tf.gradients(parts, [d], grad_ys=[tf.constant(w) for w in wp])[0]
        stitch_grad = tf.gradients(stitched, [d], grad_ys=tf.constant(ws))[0]
        fetch += parts + [stitched, part_grad, stitch_grad]
        names += ["part0", "part1", "part2", "stitched", "partition_grad", "stitch_grad"]
        out = run(fetch)
    case("segments", data=data, ids=ids, uids=uids, w4=w4, w5=w5, wp0=wp[0], wp1=wp[1], wp2=wp[2], ws=ws,
         **dict(zip(names, out)))


def embeddings():
    table = rng.standard_normal((11, 3))
    ids = np.array([[0, 5, 10], [3, 7, 7]], np.int64)
    w = rng.standard_normal((2, 3, 3))
    shards = {"mod": [table[i::3] for i in range(3)], "div": [table[0:4], table[4:8], table[8:11]]}
    for key in ("single", "mod", "div", "max_norm", "div_max_norm"):
        strategy = "div" if key.startswith("div") else "mod"
        with tf.Graph().as_default():
            ps = [tf.constant(table)] if key in ("single", "max_norm") else [tf.constant(s) for s in shards[strategy]]
            y = tf.nn.embedding_lookup(ps, ids, partition_strategy=strategy,
                                       max_norm=1.5 if "max_norm" in key else None)
            out = run([y] + grads_of(y, ps, w))
        case(f"embedding_{key}", value=out[0], **{f"grad{i}": g for i, g in enumerate(out[1:])})
    case("embedding", table=table, ids=ids, w=w)


def sampled_losses():
    num_classes, dim, batch = 12, 4, 5
    weights = rng.standard_normal((num_classes, dim)).astype(np.float32)   # the samplers' counts are float32
    biases = (rng.standard_normal(num_classes) * 0.1).astype(np.float32)
    inputs = rng.standard_normal((batch, dim)).astype(np.float32)
    labels1 = np.array([[1], [4], [4], [0], [11]], np.int64)
    labels2 = np.array([[1, 2], [4, 0], [3, 4], [0, 9], [11, 5]], np.int64)
    sampled = np.array([4, 7, 0, 2], np.int64)
    for num_true, labels in ((1, labels1), (2, labels2)):
        te = rng.uniform(0.1, 0.9, (batch, num_true)).astype(np.float32)
        se = rng.uniform(0.1, 0.9, 4).astype(np.float32)
        for loss in ("nce", "sampled_softmax"):
            for hits in (False, True):
                with tf.Graph().as_default():
                    wt, bt, it = tf.constant(weights), tf.constant(biases), tf.constant(inputs)
                    fn = tf.nn.nce_loss if loss == "nce" else tf.nn.sampled_softmax_loss
                    y = fn(wt, bt, labels, it, num_sampled=4, num_classes=num_classes, num_true=num_true,
                           sampled_values=(sampled, te, se), remove_accidental_hits=hits)
                    gw = rng.standard_normal(batch).astype(np.float32)
                    out = run([y] + grads_of(y, [wt, bt, it], gw))
                case(f"{loss}_true{num_true}_hits{int(hits)}", labels=labels, true_expected=te, sampled_expected=se,
                     w=gw, value=out[0], grad_weights=out[1], grad_biases=out[2], grad_inputs=out[3])
    case("sampled", weights=weights, biases=biases, inputs=inputs, sampled=sampled)
    with tf.Graph().as_default():
        h = tf.nn.compute_accidental_hits(labels2, sampled, num_true=2)
        out = run(list(h))
    case("accidental_hits", indices=out[0], ids=out[1], weights=out[2])
    with tf.Graph().as_default():
        true = tf.constant(labels2)
        outs = [tf.nn.log_uniform_candidate_sampler(true, 2, 6, False, 20, seed=3),
                tf.nn.uniform_candidate_sampler(true, 2, 6, False, 20, seed=3),
                tf.nn.fixed_unigram_candidate_sampler(true, 2, 6, False, 12, distortion=0.75,
                                                      unigrams=list(range(1, 13)), seed=3),
                tf.nn.log_uniform_candidate_sampler(true, 2, 6, True, 20, seed=3),
                tf.nn.fixed_unigram_candidate_sampler(true, 2, 6, True, 14, num_reserved_ids=2,
                                                      unigrams=list(range(1, 13)), seed=3)]
        out = run([list(o) for o in outs])
    for key, o in zip(("log_uniform", "uniform", "unigram", "log_uniform_unique", "unigram_unique"), out):
        case(f"sampler_{key}", sampled=o[0], true_expected=o[1], sampled_expected=o[2])


if __name__ == "__main__":
    ordering()
    scatters()
    gathers_and_contractions()
    segments()
    embeddings()
    sampled_losses()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **rec)
    print(f"wrote {len(rec)} arrays to {OUT}")
