"""Random ops: ``random_normal``, ``truncated_normal``, ``random_uniform`` (float and int),
``random_shuffle``, ``multinomial``/``random.categorical``, and the ``tf.random`` namespace.

Each generator op (kind ``random``) is stateful: it draws from its own stream in the session
(``SessionState.rng(op)``), seeded by the op's ``(seed, seed2)`` attrs from ``tf.get_seed``. So the
same graph seed and op seed give the same values in every process and rebuilt graph, and each
run of the op gives new values. ``mean``/``stddev``/bounds are applied by ordinary elementwise ops
after the draw, as in TF (``random_normal:0`` is an ``Add``). Streams need not match TF's.
"""

import types

import numpy as np

from jitgraph import dtypes, errors
from jitgraph.api_graph import get_seed, set_random_seed
from jitgraph.ops.math_ops import binary
from jitgraph.ops.op_util import check_dtype, int_tensor, no_gradient, op_scope, shape_value
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["random_normal", "truncated_normal", "random_uniform", "random_shuffle", "multinomial", "random"]

_FLOATS = "float16, float32, float64"


def _seed_attrs(seed):
    s1, s2 = get_seed(seed)
    return {"seed": s1 or 0, "seed2": s2 or 0}


def _size(shape):
    return tuple(int(d) for d in shape)


def _float_draw(draw):
    """A ``run`` for a float generator: draw in float32/float64 (float16 via float32)."""
    def run(ctx, op, ins):
        dt = op.get_attr("dtype").as_np
        work = np.float64 if dt == np.float64 else np.float32
        return [draw(ctx.rng(op), _size(ins[0]), work).astype(dt, copy=False)]
    return run


def _truncated(gen, size, dt):
    out = gen.standard_normal(size, dtype=dt)
    bad = np.abs(out) > 2
    while bad.any():   # redraw the tails: values stay within two standard deviations
        out[bad] = gen.standard_normal(int(bad.sum()), dtype=dt)
        bad = np.abs(out) > 2
    return out


def _gen_infer(op_type, ok, allowed):
    def infer(ins, a):
        shp = ins[0]
        check_dtype(shp, lambda d: d in (dtypes.int32, dtypes.int64), op_type, "shape", "int32, int64")
        if shp.shape.ndims not in (None, 1):
            raise ValueError(f"{op_type}: shape must be a 1-D tensor, got rank {shp.shape.ndims}")
        if not ok(a["dtype"]):
            raise TypeError(f"Value passed to parameter 'dtype' has DataType {a['dtype'].name} not in list of "
                            f"allowed values for {op_type}: {allowed}")
        for t in ins[1:]:
            if t.shape.ndims not in (None, 0):
                raise ValueError(f"{op_type}: minval and maxval must be scalars, got shape {t.shape}")
        return [(a["dtype"], shape_value(shp))]
    return infer


def _uniform_int_run(ctx, op, ins):
    shape, lo, hi = ins
    if lo >= hi:
        raise errors.InvalidArgumentError(None, op, f"Need minval < maxval: {lo} >= {hi} (op '{op.name}')")
    return [ctx.rng(op).integers(lo, hi, _size(shape), dtype=op.get_attr("dtype").as_np)]


def _is_float(d):
    return d.is_floating


_KW = dict(kind="random", stateful=True, grad=no_gradient)
define_op("RandomStandardNormal", _gen_infer("RandomStandardNormal", _is_float, _FLOATS),
          run=_float_draw(lambda gen, size, dt: gen.standard_normal(size, dtype=dt)), **_KW)
define_op("TruncatedNormal", _gen_infer("TruncatedNormal", _is_float, _FLOATS), run=_float_draw(_truncated), **_KW)
define_op("RandomUniform", _gen_infer("RandomUniform", _is_float, _FLOATS),
          run=_float_draw(lambda gen, size, dt: gen.random(size, dtype=dt)), **_KW)
define_op("RandomUniformInt", _gen_infer("RandomUniformInt", lambda d: d in (dtypes.int32, dtypes.int64),
                                         "int32, int64"), run=_uniform_int_run, **_KW)


def _normal(op_type, default_name, shape, mean, stddev, dtype, seed, name):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} not in list of allowed "
                        f"values for {op_type}: {_FLOATS}")
    with op_scope(name or default_name, [mean, stddev]) as scope:
        shp = int_tensor(shape, "shape")
        mean = convert_to_tensor(mean, dtype, name="mean")
        stddev = convert_to_tensor(stddev, dtype, name="stddev")
        attrs = {"dtype": dtype, **_seed_attrs(seed)}
        rnd = make_op(op_type, [shp], attrs, op_type).outputs[0]
        return binary("Add", binary("Mul", rnd, stddev, "mul"), mean, scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples of ``shape`` with the given ``mean`` and ``stddev``; new values on every run."""
    return _normal("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples re-drawn until they lie within ``mean ± 2*stddev`` (std ≈ 0.88*stddev)."""
    return _normal("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform samples in ``[minval, maxval)``: ``maxval`` defaults to 1 for floats and must be given
    for integer dtypes."""
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer and maxval is None:
        raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
    maxval = 1 if maxval is None else maxval
    with op_scope(name or "random_uniform", [minval, maxval]) as scope:
        shp = int_tensor(shape, "shape")
        lo = convert_to_tensor(minval, dtype, name="min")
        hi = convert_to_tensor(maxval, dtype, name="max")
        attrs = {"dtype": dtype, **_seed_attrs(seed)}
        if dtype.is_integer:
            return make_op("RandomUniformInt", [shp, lo, hi], attrs, scope).outputs[0]
        rnd = make_op("RandomUniform", [shp], attrs, "RandomUniform").outputs[0]
        return binary("Add", binary("Mul", rnd, binary("Sub", hi, lo, "sub"), "mul"), lo, scope)


# ---- RandomShuffle, Multinomial --------------------------------------------------------------------
def _shuffle_run(ctx, op, ins):
    x = ins[0]
    return [x[ctx.rng(op).permutation(x.shape[0])] if x.ndim else np.array(x, copy=True)]


define_op("RandomShuffle", lambda ins, a: [(ins[0].dtype.base_dtype, ins[0].shape)], run=_shuffle_run, **_KW)


def random_shuffle(value, seed=None, name=None):
    """``value`` with its first dimension randomly permuted (a new order on every run)."""
    x = convert_to_tensor(value)
    return make_op("RandomShuffle", [x], _seed_attrs(seed), name or "RandomShuffle").outputs[0]


def _multinomial_infer(ins, a):
    logits, n = ins
    check_dtype(logits, _is_float, "Multinomial", "logits", _FLOATS)
    if logits.shape.ndims not in (None, 2):
        raise ValueError(f"Multinomial: logits must be [batch_size, num_classes], got shape {logits.shape}")
    from jitgraph.ops.registry import constant_value
    k = constant_value(n)
    batch = logits.shape[0].value if logits.shape.ndims == 2 else None
    return [(a["output_dtype"], [batch, None if k is None else int(k)])]


def _multinomial_run(ctx, op, ins):
    logits, n = ins
    z = logits.astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    cdf = np.cumsum(z / z.sum(axis=1, keepdims=True), axis=1)
    u = ctx.rng(op).random((logits.shape[0], int(n)))
    idx = (u[:, :, None] >= cdf[:, None, :-1]).sum(-1)
    return [idx.astype(op.get_attr("output_dtype").as_np)]


define_op("Multinomial", _multinomial_infer, run=_multinomial_run, **_KW)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """``num_samples`` class indices per row of ``logits`` (unnormalized log-probabilities)."""
    lg = convert_to_tensor(logits)
    out = dtypes.as_dtype(output_dtype or dtypes.int64)
    with op_scope(name or "multinomial", [lg]) as scope:
        n = int_tensor(num_samples, "num_samples")
        attrs = {"output_dtype": out, **_seed_attrs(seed)}
        return make_op("Multinomial", [lg, n], attrs, scope).outputs[0]


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """``tf.random.categorical``: like ``multinomial``."""
    return multinomial(logits, num_samples, seed=seed, name=name or "categorical", output_dtype=dtype)


random = types.SimpleNamespace(
    normal=random_normal, truncated_normal=truncated_normal, uniform=random_uniform, shuffle=random_shuffle,
    categorical=categorical, multinomial=multinomial, set_random_seed=set_random_seed, set_seed=set_random_seed)

