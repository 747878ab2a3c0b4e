"""``kernels.softmax``: the Numba row kernels behind ``SoftmaxCrossEntropyWithLogits`` /
``XentGrad``'s ``extra["fast"]`` give the NumPy reference's values (NaN/Inf included) and fall back to it off their fast case."""

import numpy as np
import pytest

import jitgraph  # noqa: F401  (registers the ops)
from jitgraph.ops.registry import OPS

XENT, GRAD = OPS["SoftmaxCrossEntropyWithLogits"], OPS["XentGrad"]


def _same(got, want, dtype):
    tol = 2e-6 if dtype == np.float32 else 1e-13
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(256, 10), (1, 1), (3, 1000), (0, 4)])
def test_xent_and_its_gradient_equal_the_reference(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    logits = (rng.standard_normal(shape) * 30).astype(dtype)
    labels = rng.dirichlet(np.ones(shape[1]), shape[0]).astype(dtype)
    g = rng.standard_normal(shape[0]).astype(dtype)
    with np.errstate(all="ignore"):
        for got, want in zip(XENT.extra["fast"](labels, logits), XENT.compute(labels, logits)):
            _same(got, want, dtype)
        backprop = XENT.compute(labels, logits)[1]
        _same(GRAD.extra["fast"](g, backprop), GRAD.compute(g, backprop), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_logits_propagate_as_in_numpy(dtype):
    logits = np.zeros((5, 4), dtype)
    logits[0, 1] = np.nan
    logits[1, 2] = np.inf
    logits[2, :] = -np.inf
    logits[3, 0] = -np.inf
    logits[4, 3] = np.nan
    logits[4, 0] = np.inf
    labels = np.full((5, 4), 0.25, dtype)
    with np.errstate(all="ignore"):
        for got, want in zip(XENT.extra["fast"](labels, logits), XENT.compute(labels, logits)):
            _same(got, want, dtype)


def test_off_the_fast_case_it_is_the_reference():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 6)).astype(np.float32)
    labels = np.full((4, 6), 1 / 6, np.float32)
    for args, kw in [((labels.T.copy(), logits.T.copy()), {"axis": 0}),     # another axis
                     ((labels[:, ::2], logits[:, ::2]), {}),                 # not contiguous
                     ((labels[None], logits[None]), {})]:                    # rank 3
        for got, want in zip(XENT.extra["fast"](*args, **kw), XENT.compute(*args, **kw)):
            np.testing.assert_allclose(got, want, rtol=1e-6)
