"""Summary ops against TF 2.21's protos (tests/oracle/record_tb_summary.py): names, tags,
collections, values, histograms bucket for bucket, image pixels, WAV bytes, errors."""

import contextlib

import numpy as np
import pytest

import jitgraph as tf
from jitgraph.compiler import config
from jitgraph.summary import buckets as hist_mod
from tests.oracle import summary_cases
from tests.summary.oracle import load, png_pixels, recorded_inputs, summary

REC = load("tb_summary.json")
INPUTS = recorded_inputs(REC)


def build():
    """The recording's graph, built with jitgraph (same calls, same order)."""
    return summary_cases.summary_graph(tf, INPUTS)


def assert_same_summary(got, want):
    got, want = summary(got), summary(want)
    assert [v.tag for v in got.value] == [v.tag for v in want.value]
    for g, w in zip(got.value, want.value):
        kind = w.WhichOneof("value")
        assert g.WhichOneof("value") == kind, w.tag
        if kind == "image":
            assert (g.image.height, g.image.width, g.image.colorspace) == (w.image.height, w.image.width,
                                                                          w.image.colorspace)
            np.testing.assert_array_equal(png_pixels(g.image.encoded_image_string),
                                          png_pixels(w.image.encoded_image_string), err_msg=w.tag)
        else:                            # scalars, histograms, WAV bytes, tensors: bit for bit
            assert g == w, w.tag


@contextlib.contextmanager
def compile_mode(mode):
    prev_mode, prev_strict = config.set_compile_mode(mode), config.set_strict(True)
    try:
        yield
    finally:
        config.set_compile_mode(prev_mode)
        config.set_strict(prev_strict)


@pytest.fixture(scope="module")
def run_outputs():
    with tf.Graph().as_default() as g:
        s, coll, other, merged_all, merged_named, feeds = build()
        fetches = {**s, "merged_all": merged_all, "merged_named": merged_named}
        outs = []
        for mode in ("never", "eager"):              # the reference executor, then the compiled plan
            with compile_mode(mode), tf.Session() as sess:
                outs.append(sess.run(fetches, feeds))
                assert sess.cache_info()["compiles"] == (mode == "eager")
        yield (g, s, coll, other, merged_all, merged_named, *outs)


def test_names_inputs_and_collections_match_tf(run_outputs):
    g, s, coll, other, merged_all, merged_named, _, _ = run_outputs
    names = {k: t.name for k, t in {**s, "merged_all": merged_all, "merged_named": merged_named,
                                    "other": other}.items()}
    assert names == REC["names"]
    assert {k: [i.name for i in t.op.inputs] for k, t in s.items()} == REC["op_inputs"]
    assert [t.name for t in coll] == REC["collection"]
    assert [t.name for t in g.get_collection("mine")] == REC["mine"]
    assert all(t.dtype == tf.string and t.shape.ndims == 0 for t in s.values())


@pytest.mark.parametrize("key", sorted(REC["summaries"]))
def test_summary_protos_match_tf(run_outputs, key):
    first, second = run_outputs[-2], run_outputs[-1]
    assert_same_summary(first[key], REC["summaries"][key])      # reference executor (lazy tier)
    assert_same_summary(second[key], REC["summaries"][key])     # compiled plan


def test_family_tag_and_histogram_fields():
    tags = [v.tag for v in summary(REC["summaries"]["merged_all"]).value]
    assert "metrics/metrics/acc" in tags and "train/loss" in tags and "a_b_c" in tags
    h = summary(REC["summaries"]["hist_empty"]).value[0].histo
    assert (h.min, h.max, list(h.bucket)) == (hist_mod.DBL_MAX, -hist_mod.DBL_MAX, [0.0])


def test_errors_match_tf():
    want = REC["errors"]
    with tf.Graph().as_default():
        loss = tf.summary.scalar("loss", tf.constant(0.1))
        cases = {"merge_dup": tf.summary.merge([loss, loss]),
                 "nan_hist": tf.summary.histogram("nanhist", tf.constant([1.0, np.nan])),
                 "bad_scalar": tf.summary.scalar("vec", tf.constant([1.0, 2.0]))}
        with tf.Session() as sess:
            for key, t in cases.items():
                with pytest.raises(tf.errors.InvalidArgumentError) as e:
                    sess.run(t)
                assert want[key]["message"].strip() in e.value.message, key
    with pytest.raises(TypeError, match="bool"):
        tf.summary.histogram("b", tf.constant([True]))
    with pytest.raises(ValueError, match="dtype string"):
        tf.summary.text("x", tf.constant(1.0))


def test_histogram_kernel_matches_reference_on_many_values():
    from jitgraph.kernels import histogram
    rng = np.random.RandomState(3)
    for values in (rng.randn(10000).astype(np.float32) * 100, rng.randint(-9, 9, 300).astype(np.int64),
                   np.array([], np.float64), np.array([hist_mod.default_bucket_limits()[5]])):
        fast, ref = histogram.count_fast(values), hist_mod.count_reference(values)
        np.testing.assert_array_equal(fast[0], ref[0])
        assert fast[1:] == ref[1:]
    with pytest.raises(ValueError):
        histogram.count_fast(np.array([1.0, np.inf]))


def test_histogram_runs_the_numba_kernel_in_compiled_plans(monkeypatch):
    from jitgraph.kernels import histogram
    calls = []
    real = histogram.count
    monkeypatch.setattr(histogram, "count", lambda v, *a: calls.append(v.shape) or real(v, *a))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        h = tf.summary.histogram("h", x * 2.0)
        with compile_mode("eager"), tf.Session() as sess:
            for _ in range(2):
                out = sess.run(h, {x: np.arange(5, dtype=np.float32)})
    assert calls == [(5,), (5,)]          # each compiled run counts in the Numba kernel
    assert summary(out).value[0].histo.sum == 20.0
