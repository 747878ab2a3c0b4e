"""Iterator scenarios run by TensorFlow (recorded) and by jitgraph (compared): each returns a JSON
value. Error outcomes are recorded as ``[class name, whether the message says <key phrase>]`` so
both sides must raise the same class with the same gist. Nothing here imports TensorFlow."""

from data_pipeline_cases import X, Y, drain, encode, seq

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def outcome(tf, fn, phrase):
    """``fn()``'s encoded result, or ``[error class, phrase in message]``."""
    try:
        return encode(fn())
    except (tf.errors.OpError, ValueError, TypeError, RuntimeError) as e:
        return [type(e).__name__, phrase in str(getattr(e, "message", e))]


@scenario
def end_of_input_stays_at_end(tf, tmp):
    nxt = tf.data.Dataset.range(2).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        return drain(tf, sess, nxt) + drain(tf, sess, nxt)


@scenario
def two_get_next_ops_each_advance(tf, tmp):
    it = tf.data.Dataset.range(10).make_one_shot_iterator()
    a, b = it.get_next(), it.get_next()
    with tf.Session() as sess:
        pair = sess.run([a, b])
        same = sess.run([a, a])
        return [sorted(int(v) for v in pair), [int(v) for v in same], int(sess.run(b))]


@scenario
def initializable_refed_placeholders(tf, tmp):
    p = tf.placeholder(tf.float32, [None])
    n = tf.placeholder(tf.int64, [])
    it = tf.data.Dataset.from_tensor_slices(p).map(lambda v: v * 2.0).batch(n).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {p: [1.0, 2.0, 3.0], n: 2})
        first = drain(tf, sess, nxt)
        sess.run(it.initializer, {p: [5.0, 6.0], n: 1})
        return [first, drain(tf, sess, nxt), describe_shape(nxt)]


def describe_shape(t):
    return None if t.shape.ndims is None else t.shape.as_list()


@scenario
def initializer_restarts_midway(tf, tmp):
    it = tf.data.Dataset.range(5).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer)
        head = [int(sess.run(nxt)) for _ in range(3)]
        sess.run(it.initializer)
        return [head, drain(tf, sess, nxt)]


@scenario
def uninitialized_get_next(tf, tmp):
    it = tf.data.Dataset.range(3).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        return outcome(tf, lambda: sess.run(nxt), "not been initialized")


@scenario
def take_skip_counts_from_placeholders(tf, tmp):
    a, b = tf.placeholder(tf.int64, []), tf.placeholder(tf.int64, [])
    it = tf.data.Dataset.range(20).skip(a).take(b).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {a: 15, b: 3})
        return drain(tf, sess, nxt)


@scenario
def reinitializable_train_and_validation(tf, tmp):
    train = tf.data.Dataset.range(100).map(lambda x: x * 2).batch(3)
    val = tf.data.Dataset.range(5).map(lambda x: -x).batch(3)
    it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_init, val_init = it.make_initializer(train), it.make_initializer(val)
    with tf.Session() as sess:
        sess.run(train_init)
        t = [encode(sess.run(nxt)) for _ in range(2)]
        sess.run(val_init)
        v = drain(tf, sess, nxt)
        sess.run(train_init)
        return [t, v, encode(sess.run(nxt)), describe_shape(nxt)]


@scenario
def feedable_string_handle(tf, tmp):
    train = tf.data.Dataset.range(100).repeat()
    val = tf.data.Dataset.range(10, 13)
    handle = tf.placeholder(tf.string, [])
    it = tf.data.Iterator.from_string_handle(handle, train.output_types, train.output_shapes)
    nxt = it.get_next()
    train_it, val_it = train.make_one_shot_iterator(), val.make_initializable_iterator()
    with tf.Session() as sess:
        th, vh = sess.run(train_it.string_handle()), sess.run(val_it.string_handle())
        t = [int(sess.run(nxt, {handle: th})) for _ in range(3)]
        sess.run(val_it.initializer)
        v = drain(tf, sess, nxt, feed_dict={handle: vh})
        return [t, v, int(sess.run(nxt, {handle: th})), isinstance(th, bytes)]


@scenario
def sessions_iterate_independently(tf, tmp):
    nxt = tf.data.Dataset.range(4).make_one_shot_iterator().get_next()
    with tf.Session() as s1, tf.Session() as s2:
        a = [int(s1.run(nxt)) for _ in range(3)]
        return [a, int(s2.run(nxt)), int(s1.run(nxt))]


@scenario
def failed_run_leaves_variables(tf, tmp):
    nxt = tf.data.Dataset.range(1, 4).make_one_shot_iterator().get_next()
    total = tf.Variable(tf.constant(0, tf.int64))
    step = total.assign_add(nxt)
    with tf.Session() as sess:
        sess.run(total.initializer)
        seen = drain(tf, sess, step)
        return [seen, int(sess.run(total))]


@scenario
def map_reads_variable_at_initialization(tf, tmp):
    v = tf.Variable(2.0)
    it = tf.data.Dataset.range(5).map(lambda x: tf.cast(x, tf.float32) * v).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(it.initializer)
        a = float(sess.run(nxt))
        sess.run(v.assign(5.0))
        b = float(sess.run(nxt))
        sess.run(it.initializer)
        sess.run(nxt)
        return [a, b, float(sess.run(nxt))]


@scenario
def one_shot_rejects_placeholder(tf, tmp):
    p = tf.placeholder(tf.float32, [None])
    return outcome(tf, lambda: tf.data.Dataset.from_tensor_slices(p).make_one_shot_iterator(),
                   "Cannot capture a placeholder")


@scenario
def one_shot_rejects_variable(tf, tmp):
    v = tf.Variable(2.0)
    ds = tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.float32) * v)
    return outcome(tf, ds.make_one_shot_iterator, "Cannot capture a stateful node")


@scenario
def one_shot_has_no_initializer(tf, tmp):
    it = tf.data.Dataset.range(3).make_one_shot_iterator()
    return outcome(tf, lambda: it.initializer, "does not have an initializer")


@scenario
def make_initializer_checks_types(tf, tmp):
    it = tf.data.Iterator.from_structure(tf.int64, tf.TensorShape([]))
    f = tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.float32))
    return [outcome(tf, lambda: it.make_initializer(f), "Expected output types"),
            outcome(tf, lambda: it.make_initializer(tf.data.Dataset.range(3).batch(2)), "Expected output shapes")]


@scenario
def iterator_element_properties(tf, tmp):
    it = tf.data.Dataset.from_tensor_slices({"x": X, "y": Y}).batch(2).make_initializable_iterator()
    return [encode_types(it.output_types), encode_shapes(it.output_shapes),
            sorted(k for k in it.output_classes), it.output_classes["x"] is tf.Tensor]


def encode_types(types):
    return {k: types[k].name for k in sorted(types)}


def encode_shapes(shapes):
    return {k: shapes[k].as_list() for k in sorted(shapes)}


@scenario
def batch_of_unequal_shapes(tf, tmp):
    ds = tf.data.Dataset.range(1, 4).map(lambda x: seq(tf, x)).batch(2)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        return outcome(tf, lambda: sess.run(nxt), "Cannot add tensor to the batch")


@scenario
def padding_to_a_smaller_size(tf, tmp):
    ds = tf.data.Dataset.range(1, 5).map(lambda x: seq(tf, x)).padded_batch(2, padded_shapes=[2])
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        return [encode(sess.run(nxt)), outcome(tf, lambda: sess.run(nxt), "pad to a smaller size")]


@scenario
def generator_errors(tf, tmp):
    def run(gen, types, shapes, phrase):
        nxt = tf.data.Dataset.from_generator(gen, types, shapes).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            return [encode(sess.run(nxt)), outcome(tf, lambda: sess.run(nxt), phrase)]

    def bad_shape():
        yield [1, 2]
        yield [1, 2, 3]

    def bad_structure():
        yield 1, 2
        yield 1

    def raises():
        yield 1
        raise ValueError("boom")

    return [run(bad_shape, tf.int64, tf.TensorShape([2]), "yielded an element of shape (3,)"),
            run(bad_structure, (tf.int64, tf.int64), None, "did not match the expected structure"),
            run(raises, tf.int64, None, "boom")]


@scenario
def filter_predicate_must_be_scalar_bool(tf, tmp):
    ds = tf.data.Dataset.range(5)
    return [outcome(tf, lambda: ds.filter(lambda x: x), "must return a `tf.bool` scalar tensor"),
            outcome(tf, lambda: ds.filter(lambda x: tf.stack([x > 1, x > 2])), "must return a `tf.bool` scalar")]


@scenario
def concatenate_incompatible(tf, tmp):
    a = tf.data.Dataset.range(3)
    return outcome(tf, lambda: a.concatenate(tf.data.Dataset.from_tensor_slices(X)), "Incompatible dataset elements")


@scenario
def slices_of_unequal_lengths(tf, tmp):
    return outcome(tf, lambda: tf.data.Dataset.from_tensor_slices((X, Y[:3])), "not compatible")


@scenario
def missing_text_file(tf, tmp):
    nxt = tf.data.TextLineDataset(tmp + "/missing.txt").make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        return outcome(tf, lambda: sess.run(nxt), "No such file or directory")


@scenario
def batch_size_zero(tf, tmp):
    nxt = tf.data.Dataset.range(5).batch(0).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        return outcome(tf, lambda: sess.run(nxt), "Batch size must be greater than zero")


@scenario
def graph_mode_iteration_refused(tf, tmp):
    return outcome(tf, lambda: iter(tf.data.Dataset.range(3)), "only supports Python-style iteration in eager mode")


@scenario
def shuffle_epochs_and_reinitialization(tf, tmp):
    """Facts that hold for TF's and jitgraph's (different) permutations."""
    def epochs(reshuffle, seed):
        it = tf.data.Dataset.range(20).shuffle(20, seed=seed, reshuffle_each_iteration=reshuffle).repeat(2)
        it = it.make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            sess.run(it.initializer)
            first = [int(sess.run(nxt)) for _ in range(40)]
            sess.run(it.initializer)
            again = [int(sess.run(nxt)) for _ in range(20)]
        return first[:20], first[20:], again

    e1, e2, again = epochs(True, 7)
    f1, f2, fagain = epochs(False, 7)
    return {"permutation": sorted(e1) == list(range(20)) and sorted(e2) == list(range(20)),
            "shuffled": e1 != list(range(20)),
            "reshuffle_differs": e1 != e2, "reinit_repeats_with_seed": again == e1,
            "no_reshuffle_same": f1 == f2, "no_reshuffle_reinit_same": fagain == f1}


@scenario
def shuffle_buffer_is_local(tf, tmp):
    """With a buffer of 3, element i can only come out at position >= i - 2."""
    it = tf.data.Dataset.range(30).shuffle(3, seed=1).make_one_shot_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        out = [int(sess.run(nxt)) for _ in range(30)]
    return [sorted(out) == list(range(30)), all(out.index(i) >= i - 2 for i in range(30))]


@scenario
def get_next_static_shapes(tf, tmp):
    ds = tf.data.Dataset.from_tensor_slices((X, Y))
    shapes = []
    for d in (ds, ds.batch(2), ds.batch(2, drop_remainder=True), ds.map(lambda x, y: (x[:2], y)).repeat()):
        x, y = d.make_one_shot_iterator().get_next()
        shapes.append([describe_shape(x), describe_shape(y), x.dtype.name, y.dtype.name, x.op.type])
    return shapes


@scenario
def decode_csv_values_and_errors(tf, tmp):
    def run(*args, phrase="~", **kw):
        with tf.Session() as sess:
            return outcome(tf, lambda: tuple(sess.run(tf.decode_csv(*args, **kw))), phrase)

    records = tf.constant(["1,2.5,a", '3,,"b,c"'])
    return [run(records, [[0], [9.0], ["z"]]),
            run("1,2", [[0], []]),
            run("NA;2", [[7], [tf.constant(0, tf.int64)]], field_delim=";", na_value="NA"),
            run(" 1,2.5e3,x", [[0], [0.0]], select_cols=[0, 1]),
            run('1,"a""b"', [[0], [""]]),
            run("1,9999999999", [[0], [tf.constant(0, tf.int64)]]),
            run("1,", [[0], []], phrase="is required but missing"),
            run("1", [[0], [0]], phrase="Expect 2 fields but have 1"),
            run("1.5,2", [[0], [0]], phrase="is not a valid int32: 1.5"),
            run("9999999999,2", [[0], [0]], phrase="is not a valid int32")]
