"""Losses (``kernels/reference/losses.py``, ``ops/losses.py``): mean squared error (article F12),
softmax cross-entropy, binary cross-entropy on probabilities and on logits.

Gradient: every element against float64 central differences, on every backend, for every
reduction.  Agreement: each fast backend against the reference.  PyTorch parity: forward and
backward.  Degenerate inputs: logits of +-1e4 and +-1e30 (finite and exact), probabilities
of exactly 0 and 1.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.helpers import (
    assert_gradients,
    compare,
    gradcheck_cases,
    needs_torch,
    on_fast_backends,
)
from tests.strategies import dtypes, reductions, seeds, shapes
from tinymed import Tensor
from tinymed.gradcheck_suite import probabilities, torch_comparison

POINTWISE = ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]


# ----- gradient ------------------------------------------------------------------------------------
@given(shapes(), reductions, seeds)
def test_mse_loss_gradients(backend, shape, reduction, seed):
    rng = np.random.default_rng(seed)
    assert_gradients(lambda x, t: F.mse_loss(x, t, reduction=reduction),
                     rng.standard_normal(shape), rng.standard_normal(shape))


@given(st.integers(1, 5), st.integers(1, 5), reductions, seeds)
def test_cross_entropy_gradients(backend, n, c, reduction, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, c, n)
    assert_gradients(lambda x: F.cross_entropy(x, target, reduction=reduction), 3 * rng.standard_normal((n, c)))


@given(shapes(), reductions, st.booleans(), seeds)
def test_binary_cross_entropy_gradients(backend, shape, reduction, hard_labels, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 2, shape).astype(float) if hard_labels else rng.uniform(0, 1, shape)
    assert_gradients(lambda p: F.binary_cross_entropy(p, target, reduction=reduction), probabilities(rng, shape))
    assert_gradients(lambda z: F.binary_cross_entropy_with_logits(z, target, reduction=reduction),
                     4 * rng.standard_normal(shape))


# ----- agreement -----------------------------------------------------------------------------------
@on_fast_backends
@given(shapes(max_dims=4, max_side=5), dtypes, reductions, seeds)
def test_kernels_agree_with_reference(name, shape, dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    t = rng.uniform(0, 1, shape).astype(dtype)
    p = rng.uniform(0.01, 0.99, shape).astype(dtype)
    dout = np.asarray(1.7 if reduction != "none" else rng.standard_normal(shape), dtype=dtype)
    for op, inp in zip(POINTWISE, (x, p, 5 * x)):
        compare(f"{op}_forward", name, (inp, t, reduction), dtype)
        compare(f"{op}_backward", name, (dout, inp, t, reduction), dtype)
    logits = (3 * rng.standard_normal((shape[0], shape[-1] + 1))).astype(dtype)
    target = rng.integers(0, shape[-1] + 1, shape[0])
    dout = np.asarray(0.3 if reduction != "none" else rng.standard_normal(shape[0]), dtype=dtype)
    compare("cross_entropy_forward", name, (logits, target, reduction), dtype)
    compare("cross_entropy_backward", name, (dout, logits, target, reduction), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("mse_loss", "cross_entropy", *POINTWISE[1:]))
def test_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10


# ----- degenerate inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize("logit", [1e4, -1e4, 1e30, -1e30])
def test_losses_are_finite_at_extreme_logits(backend, logit):
    for dtype in (np.float32, np.float64):
        z = Tensor(np.array([logit, -logit, 0.0], dtype), requires_grad=True)
        for target in (np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.5])):
            loss = F.binary_cross_entropy_with_logits(z, target)
            loss.backward()
            assert np.isfinite(loss.numpy()) and np.all(np.isfinite(z.grad)), (logit, dtype)
            z.grad = None
        logits = Tensor(np.array([[logit, -logit], [0.0, logit]], dtype), requires_grad=True)
        loss = F.cross_entropy(logits, np.array([1, 0]))
        loss.backward()
        assert np.isfinite(loss.numpy()) and np.all(np.isfinite(logits.grad))
        for op in (F.softmax, F.log_softmax, F.sigmoid, F.tanh):
            assert np.all(np.isfinite(op(Tensor(np.array([logit, 0.0], dtype))).numpy())), op


def test_extreme_logit_values_are_right(backend):
    z = Tensor(np.array([1e4, -1e4]))
    # a confident wrong answer costs |z|; a confident right one costs nothing
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0]), reduction="none").numpy(), [1e4, 1e4])
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, np.array([1.0, 0.0]), reduction="none").numpy(), [0.0, 0.0])
    np.testing.assert_allclose(F.cross_entropy(Tensor(np.array([[1e4, -1e4]])), np.array([1])).numpy(), 2e4)
    # probabilities of exactly 0 and 1: PyTorch's clamp of log at -100 keeps BCE finite
    np.testing.assert_allclose(
        F.binary_cross_entropy(Tensor(np.array([0.0, 1.0])), np.array([1.0, 0.0]), reduction="none").numpy(),
        [100.0, 100.0])
