"""Candidate samplers for sampled losses: ``tf.random.log_uniform_candidate_sampler``,
``uniform_candidate_sampler``, ``fixed_unigram_candidate_sampler``, and
``tf.nn.compute_accidental_hits``.

A sampler draws ``num_sampled`` classes from ``[0, range_max)`` (without repeats when
``unique``) and returns ``(sampled_candidates, true_expected_count, sampled_expected_count)``: the
expected number of times each true and each sampled class appears in a draw of that size. With
``unique`` a draw takes ``tries`` samples until ``num_sampled`` distinct ones are found, and the
expected count of a class of probability ``p`` is ``1 - (1 - p) ** tries``; without it it is
``num_sampled * p`` — TF's definitions. The samplers are random ops (kind ``random``): seeded by
the graph and op seeds like ``tf.random_uniform``, new classes on every run; their streams need
not match TF's.
"""

import collections

import numpy as np

from jitgraph import dtypes
from jitgraph.framework.shapes import TensorShape
from jitgraph.ops.op_util import check_int_tensor, no_gradient
from jitgraph.ops.random_ops import _seed_attrs
from jitgraph.ops.registry import convert_to_tensor, define_op, make_op

__all__ = ["log_uniform_candidate_sampler", "uniform_candidate_sampler", "fixed_unigram_candidate_sampler",
           "compute_accidental_hits"]

SampledValues = collections.namedtuple("SampledValues",
                                       ["sampled_candidates", "true_expected_count", "sampled_expected_count"])


# ---- the distributions: probability of a class, and a vectorized draw ------------------------------
def _log_uniform(range_max):
    log_range = np.log(range_max + 1.0)

    def prob(c):
        c = c.astype(np.float64)
        return np.log((c + 2.0) / (c + 1.0)) / log_range

    def draw(gen, n):
        return (np.exp(gen.random(n) * log_range).astype(np.int64) - 1).clip(0, range_max - 1)
    return prob, draw


def _uniform(range_max):
    return (lambda c: np.full(np.shape(c), 1.0 / range_max)), (lambda gen, n: gen.integers(0, range_max, n))


def _unigram(weights):
    w = np.asarray(weights, dtype=np.float64)
    p = w / w.sum()
    cdf = np.cumsum(p)

    def prob(c):
        c = np.asarray(c)
        inside = (c >= 0) & (c < len(p))
        return np.where(inside, p[np.where(inside, c, 0)], 0.0)

    def draw(gen, n):
        return np.minimum(np.searchsorted(cdf, gen.random(n) * cdf[-1], side="right"), len(p) - 1)
    return prob, draw


def _sample(gen, draw, num_sampled, unique):
    """``(classes, tries)``: a draw of ``num_sampled`` classes, distinct when ``unique``."""
    if not unique:
        return draw(gen, num_sampled), num_sampled
    seen, out, tries = set(), [], 0
    while len(out) < num_sampled:
        for c in draw(gen, max(16, 2 * (num_sampled - len(out)))).tolist():
            tries += 1
            if c not in seen:
                seen.add(c)
                out.append(c)
                if len(out) == num_sampled:
                    break
    return np.array(out, dtype=np.int64), tries


def _expected(p, num_sampled, tries):
    if tries == num_sampled:
        return p * num_sampled
    return -np.expm1(tries * np.log1p(-p))


# ---- the sampler ops ---------------------------------------------------------------------------------
def _sampler_infer(op_type):
    def infer(ins, a):
        true = ins[0]
        if true.dtype.base_dtype != dtypes.int64:
            raise TypeError(f"{op_type}: true_classes must be int64, got {true.dtype.base_dtype.name}")
        if true.shape.ndims not in (None, 2):
            raise ValueError(f"{op_type}: true_classes must be [batch_size, num_true], got shape {true.shape}")
        if true.shape.ndims == 2 and true.shape[1].value not in (None, a["num_true"]):
            raise ValueError(f"{op_type}: true_classes has {true.shape[1].value} columns but num_true is "
                             f"{a['num_true']}")
        if a["unique"] and a["num_sampled"] > a["range_max"]:
            raise ValueError(f"{op_type}: the sampler's range ({a['range_max']}) is smaller than num_sampled "
                             f"({a['num_sampled']}) with unique=True")
        batch = true.shape[0].value if true.shape.ndims == 2 else None
        n = a["num_sampled"]
        return [(dtypes.int64, [n]), (dtypes.float32, [batch, a["num_true"]]), (dtypes.float32, [n])]
    return infer


def _sampler_run(dist_of):
    def run(ctx, op, ins):
        a = op.attrs
        prob, draw = dist_of(a)
        sampled, tries = _sample(ctx.rng(op), draw, a["num_sampled"], a["unique"])
        true = ins[0]
        return [sampled, _expected(prob(true), a["num_sampled"], tries).astype(np.float32),
                _expected(prob(sampled), a["num_sampled"], tries).astype(np.float32)]
    return run


_KW = dict(kind="random", stateful=True, grad=no_gradient)
define_op("LogUniformCandidateSampler", _sampler_infer("LogUniformCandidateSampler"),
          run=_sampler_run(lambda a: _log_uniform(a["range_max"])), **_KW)
define_op("UniformCandidateSampler", _sampler_infer("UniformCandidateSampler"),
          run=_sampler_run(lambda a: _uniform(a["range_max"])), **_KW)
define_op("FixedUnigramCandidateSampler", _sampler_infer("FixedUnigramCandidateSampler"),
          run=_sampler_run(lambda a: _unigram(a["weights"])), **_KW)


def _sampler(op_type, true_classes, num_true, num_sampled, unique, range_max, seed, name, **extra):
    if range_max <= 0 or num_sampled <= 0 or num_true <= 0:
        raise ValueError(f"{op_type}: num_true ({num_true}), num_sampled ({num_sampled}) and range_max "
                         f"({range_max}) must be positive")
    attrs = {"num_true": int(num_true), "num_sampled": int(num_sampled), "unique": bool(unique),
             "range_max": int(range_max), **extra, **_seed_attrs(seed)}
    true = convert_to_tensor(true_classes, dtypes.int64)
    return SampledValues(*make_op(op_type, [true], attrs, name or op_type).outputs)


def log_uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Sample classes with Zipf-like probability ``log((c + 2) / (c + 1)) / log(range_max + 1)``:
    small class ids (frequent words, when the vocabulary is sorted by frequency) come up most."""
    return _sampler("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique, range_max, seed,
                    name)


def uniform_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None):
    """Sample classes uniformly from ``[0, range_max)``."""
    return _sampler("UniformCandidateSampler", true_classes, num_true, num_sampled, unique, range_max, seed, name)


def fixed_unigram_candidate_sampler(true_classes, num_true, num_sampled, unique, range_max, vocab_file="",
                                    distortion=1.0, num_reserved_ids=0, num_shards=1, shard=0, unigrams=(),
                                    seed=None, name=None):
    """Sample classes with probability proportional to ``unigrams[c] ** distortion``; the counts
    come from ``unigrams`` or from ``vocab_file`` (one entry per line, the count last after a
    comma). The first ``num_reserved_ids`` classes are never sampled."""
    if num_shards != 1 or shard != 0:
        raise ValueError("fixed_unigram_candidate_sampler: num_shards/shard other than 1/0 are not supported")
    if bool(vocab_file) == bool(len(unigrams)):
        raise ValueError("fixed_unigram_candidate_sampler: give exactly one of vocab_file and unigrams")
    if vocab_file:
        with open(vocab_file, encoding="utf-8") as f:
            unigrams = [float(line.rsplit(",", 1)[-1]) for line in f if line.strip()]
    counts = [0.0] * int(num_reserved_ids) + [float(u) ** distortion for u in unigrams]
    if len(counts) != range_max:
        raise ValueError(f"fixed_unigram_candidate_sampler: {len(counts)} classes (reserved ids + unigrams) but "
                         f"range_max is {range_max}")
    return _sampler("FixedUnigramCandidateSampler", true_classes, num_true, num_sampled, unique, range_max, seed,
                    name, weights=tuple(counts))


# ---- ComputeAccidentalHits ---------------------------------------------------------------------------
def _hits_compute(true_classes, sampled_candidates, num_true):
    rows, _, cols = np.nonzero(true_classes[:, :, None] == sampled_candidates[None, None, :])
    return (rows.astype(np.int32), cols.astype(np.int64),
            np.full(rows.shape, np.finfo(np.float32).min, dtype=np.float32))


def _hits_infer(ins, a):
    for t, what in zip(ins, ("true_classes", "sampled_candidates")):
        check_int_tensor(t, "ComputeAccidentalHits", what)
    return [(dtypes.int32, TensorShape([None])), (dtypes.int64, TensorShape([None])),
            (dtypes.float32, TensorShape([None]))]


define_op("ComputeAccidentalHits", _hits_infer, _hits_compute, kind="library", grad=no_gradient)


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """Where a sampled class equals a true class of a row: ``(indices, ids, weights)`` with the
    row, the position in ``sampled_candidates`` and ``-FLOAT_MAX`` (to add to that logit)."""
    ts = [convert_to_tensor(true_classes, dtypes.int64), convert_to_tensor(sampled_candidates, dtypes.int64)]
    return tuple(make_op("ComputeAccidentalHits", ts, {"num_true": int(num_true)},
                         name or "ComputeAccidentalHits").outputs)
