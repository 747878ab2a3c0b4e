"""``kernels.softmax``: the Numba row kernels behind Softmax, LogSoftmax, their gradients and the
dense and sparse cross-entropies give the NumPy references' values (NaN/Inf included), raise the
reference's error on a bad label, and fall back to the reference off their case."""

import numpy as np
import pytest

import jitgraph  # noqa: F401  (registers the ops)
from jitgraph import errors
from jitgraph.ops.registry import OPS

XENT, SPARSE, GRAD = OPS["SoftmaxCrossEntropyWithLogits"], OPS["SparseSoftmaxCrossEntropyWithLogits"], OPS["XentGrad"]
SHAPES = [(256, 10), (1, 1), (3, 1000), (0, 4), (128, 10)]


def _same(got, want, dtype):
    tol = 2e-6 if dtype == np.float32 else 1e-13
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _both(d, *args, **kw):
    with np.errstate(all="ignore"):
        fast, ref = d.extra["fast"](*args, **kw), d.compute(*args, **kw)
    return zip(fast, ref) if isinstance(ref, tuple) else [(fast, ref)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_xent_and_its_gradient_equal_the_reference(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    logits = (rng.standard_normal(shape) * 30).astype(dtype)
    labels = rng.dirichlet(np.ones(shape[1]), shape[0]).astype(dtype)
    g = rng.standard_normal(shape[0]).astype(dtype)
    for got, want in _both(XENT, labels, logits):
        _same(got, want, dtype)
    backprop = XENT.compute(labels, logits)[1]
    for got, want in _both(GRAD, g, backprop):
        _same(got, want, dtype)


@pytest.mark.parametrize("ldtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [s for s in SHAPES if s[1]])
def test_sparse_xent_equals_the_reference(ldtype, dtype, shape):
    rng = np.random.default_rng(sum(shape) + 1)
    logits = (rng.standard_normal(shape) * 30).astype(dtype)
    labels = rng.integers(0, shape[1], shape[0]).astype(ldtype)
    for got, want in _both(SPARSE, labels, logits):
        _same(got, want, dtype)


def test_sparse_xent_bad_label_raises_the_references_error():
    logits = np.zeros((3, 4), np.float32)
    for bad in (4, -1):
        labels = np.array([0, bad, 2], np.int32)
        with pytest.raises(errors.InvalidArgumentError, match=f"Received a label value of {bad} which is outside"):
            SPARSE.extra["fast"](labels, logits)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES + [(2, 3, 7), (5,)])
def test_softmax_log_softmax_and_grads_equal_the_reference(op, dtype, shape):
    rng = np.random.default_rng(len(shape) + sum(shape))
    x = (rng.standard_normal(shape) * 20).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    for got, want in _both(OPS[op], x):
        _same(got, want, dtype)
    y = OPS[op].compute(x)
    for got, want in _both(OPS[op + "Grad"], y, g):
        _same(got, want, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_propagate_as_in_numpy(dtype):
    logits = np.zeros((5, 4), dtype)
    logits[0, 1] = np.nan
    logits[1, 2] = np.inf
    logits[2, :] = -np.inf
    logits[3, 0] = -np.inf
    logits[4, 3] = np.nan
    logits[4, 0] = np.inf
    labels = np.full((5, 4), 0.25, dtype)
    for got, want in _both(XENT, labels, logits):
        _same(got, want, dtype)
    for got, want in _both(SPARSE, np.array([1, 2, 0, 3, 3], np.int64), logits):
        _same(got, want, dtype)
    for op in ("Softmax", "LogSoftmax"):
        for got, want in _both(OPS[op], logits):
            _same(got, want, dtype)
        y = OPS[op].compute(np.nan_to_num(logits))
        for got, want in _both(OPS[op + "Grad"], y, logits):      # NaN/Inf in the incoming gradient
            _same(got, want, dtype)


def test_off_the_fast_case_it_is_the_reference():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 6)).astype(np.float32)
    labels = np.full((4, 6), 1 / 6, np.float32)
    for args, kw in [((labels.T.copy(), logits.T.copy()), {"axis": 0}),     # another axis
                     ((labels[:, ::2], logits[:, ::2]), {}),                 # not contiguous
                     ((labels[None], logits[None]), {})]:                    # rank 3
        for got, want in _both(XENT, *args, **kw):
            np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in _both(OPS["Softmax"], logits.T, axis=0):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in _both(OPS["Softmax"], logits[:, ::2]):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in _both(OPS["LogSoftmax"], logits.astype(np.float16)):
        np.testing.assert_array_equal(got, want)
    for got, want in _both(SPARSE, np.array([1, 2, 0, 0], np.int32), logits[:, ::2]):      # not contiguous
        np.testing.assert_allclose(got, want, rtol=1e-6)
