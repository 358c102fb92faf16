"""Losses (``kernels/reference/losses.py``, ``ops/losses.py``): mean squared error (article F12),
softmax cross-entropy, binary cross-entropy on probabilities and on logits.

Gradient: every element against float64 central differences, on every backend, for every
reduction.  Agreement: each fast backend against the reference.  PyTorch parity: forward and
backward.  Degenerate inputs: equal logits, logits of +-1e4 and +-1e30 (finite and exact),
probabilities of exactly 0 and 1, one class, an empty batch.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn.functional as F
from tests.helpers import (
    assert_close_to_torch,
    assert_gradients,
    backward,
    compare,
    grad,
    grad_tensor,
    gradcheck_cases,
    needs_torch,
    on_fast_backends,
    torch,
    torch_pair,
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
            assert np.isfinite(loss.numpy()) and np.all(np.isfinite(grad(z))), (logit, dtype)
            z.grad = None
        logits = Tensor(np.array([[logit, -logit], [0.0, logit]], dtype), requires_grad=True)
        loss = F.cross_entropy(logits, np.array([1, 0]))
        loss.backward()
        assert np.isfinite(loss.numpy()) and np.all(np.isfinite(grad(logits)))
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


@pytest.mark.parametrize("value", [0.0, 3.0, 1e4, -1e4])
def test_cross_entropy_of_equal_logits_is_log_of_the_class_count(backend, value):
    """Equal logits: every class has probability 1/C, the loss is exactly log C (the shift by the
    row's maximum is taken before the log, so the size of the logits cannot round it) and the
    gradient of a mean over N rows is (1/C - [c = target]) / N."""
    n, c = 4, 5
    target = np.array([0, 4, 2, 2])
    x = grad_tensor(np.full((n, c), value))
    loss = F.cross_entropy(x, target)
    loss.backward()
    assert loss.item() == np.log(c)
    np.testing.assert_allclose(grad(x), (np.full((n, c), 1 / c) - np.eye(c)[target]) / n, rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("scale", [1e6, 1e12, -1e12])
def test_cross_entropy_of_huge_logits_agrees_with_the_reference(backend, scale):
    """Logits far beyond +-1e4 with a small spread: the loss depends on the spread only, and every
    backend gives the reference's value (a max + log(s) - z_target form would lose the spread to
    the rounding of the maximum)."""
    logits = np.array([[scale, scale - 1.5, scale - 40.0], [scale - 3.0, scale, scale + 2.0]])
    target = np.array([1, 0])
    got = F.cross_entropy(Tensor(logits), target, reduction="none").numpy()
    spread = logits - logits.max(axis=1, keepdims=True)
    exact = np.log(np.exp(spread).sum(axis=1)) - spread[[0, 1], target]
    np.testing.assert_allclose(got, exact, rtol=1e-13)


def test_cross_entropy_with_one_class_costs_nothing(backend):
    """One class: its probability is 1 whatever the logit, so the loss and its gradient are 0."""
    x = grad_tensor(np.array([[3.0], [-1e4], [0.0]]))
    loss = F.cross_entropy(x, np.zeros(3, dtype=int), reduction="sum")
    loss.backward()
    assert loss.numpy() == 0.0
    np.testing.assert_array_equal(grad(x), np.zeros((3, 1)))


def test_cross_entropy_rows_weighted_zero_get_zero_gradient(backend):
    """A per-row loss weighted 0 (an ignored label, e.g. an unmasked token of a masked-LM batch)
    gets a gradient of exactly 0 -- the Numba kernel skips such rows -- and the other rows the
    reference's gradient."""
    rng = np.random.default_rng(3)
    logits, target = 4 * rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    weights = np.array([0.0, 0.5, 0.0, 2.0, 0.0, 1.0])
    x = grad_tensor(logits)
    (F.cross_entropy(x, target, reduction="none") * Tensor(weights)).sum().backward()
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    expected[np.arange(6), target] -= 1
    expected *= weights[:, None]
    assert np.all(grad(x)[weights == 0] == 0)
    np.testing.assert_allclose(grad(x), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.skipif("numba" not in tinymed.available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted_rows", ["all", "most", "few"])
def test_numba_cross_entropy_in_blocks_of_rows_agrees_with_reference(monkeypatch, dtype, weighted_rows):
    """The Numba kernels take the rows in cache-sized blocks; with blocks of 2 rows, 11 rows make
    five full blocks and a short one (the 3 weighted rows of "few": one and one), and every path
    (all rows weighted, most, few) must give the reference's numbers."""
    from tinymed.kernels.numba import losses as numba_losses

    rng = np.random.default_rng(5)
    logits, target = (4 * rng.standard_normal((11, 7))).astype(dtype), rng.integers(0, 7, 11)
    dout = rng.standard_normal(11).astype(dtype)
    dout[{"all": [], "most": [0, 5], "few": np.arange(11) % 4 != 1}[weighted_rows]] = 0
    monkeypatch.setattr(numba_losses, "_BLOCK_BYTES", 2 * 7 * np.dtype(dtype).itemsize)
    compare("cross_entropy_forward", "numba", (logits, target, "none"), dtype)
    compare("cross_entropy_backward", "numba", (dout, logits, target, "none"), dtype)


# the inputs of the degenerate cases, for the comparison with PyTorch: (op, input, target)
DEGENERATE = {
    "equal logits": ("cross_entropy", np.full((3, 4), 2.0), np.array([0, 3, 1])),
    "logits +-1e4": ("cross_entropy", np.array([[1e4, -1e4, 0.0], [1e4, 1e4 - 1, -1e4], [-1e4, 0.0, 1e4]]),
                     np.array([1, 1, 2])),
    "one class": ("cross_entropy", np.array([[3.0], [-2.0]]), np.array([0, 0])),
    "logits +-1e4 (binary)": ("binary_cross_entropy_with_logits", np.array([1e4, -1e4, 1e4, 0.0]),
                              np.array([0.0, 0.0, 1.0, 0.5])),
}


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", DEGENERATE, ids=list(DEGENERATE))
def test_degenerate_inputs_match_torch(backend, case, dtype, reduction):
    op, a, target = DEGENERATE[case]
    x, tx = torch_pair(a, dtype)
    t = target if target.dtype.kind == "i" else target.astype(dtype)
    y = getattr(F, op)(x, t, reduction=reduction)
    ty = getattr(torch.nn.functional, op)(tx, torch.tensor(t), reduction=reduction)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = np.random.default_rng(0).standard_normal(y.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    assert_close_to_torch(x.grad, tx.grad, dtype, "gradient")


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probabilities_of_exactly_0_and_1_match_torch(backend, reduction):
    """Both libraries clamp log p at -100 and bound p(1-p) below by 1e-12 in the gradient, which
    is then about 1e12 wherever p is the wrong certainty.  PyTorch's bound differs by a float32
    rounding of 1e-12 with some reductions, so the gradients are compared to 1e-8 here."""
    p, tp = torch_pair(np.array([0.0, 1.0, 1.0, 0.0]))
    target = np.array([1.0, 0.0, 1.0, 0.0])
    y = F.binary_cross_entropy(p, target, reduction=reduction)
    ty = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(target), reduction=reduction)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    g = np.random.default_rng(0).standard_normal(y.shape)
    backward(y, g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(grad(p), tp.grad.numpy(), rtol=1e-8)
    assert np.all(grad(p)[2:] == 0)  # certain and right: no gradient


# NumPy warns about the mean of an empty array, NaN as in PyTorch (which is silent), and about the
# 1/0 that scales the mean's (empty) gradient
EMPTY_MEAN = pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered",
                                        "ignore:divide by zero encountered")


@EMPTY_MEAN
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("op", ["cross_entropy", *POINTWISE])
def test_empty_batch(backend, op, reduction):
    """N = 0: the mean over nothing is NaN, the sum 0, no reduction an empty array, as in PyTorch;
    the gradient is empty either way."""
    x = grad_tensor(np.zeros((0, 3)))
    target = np.zeros(0, dtype=int) if op == "cross_entropy" else np.zeros((0, 3))
    loss = getattr(F, op)(x, target, reduction=reduction)
    backward(loss, np.ones(loss.shape))
    value = loss.numpy()
    if reduction == "mean":
        assert np.isnan(value)
    elif reduction == "sum":
        assert value == 0.0
    else:
        assert value.shape == (0,) if op == "cross_entropy" else (0, 3)
    assert grad(x).shape == (0, 3)


@needs_torch
@EMPTY_MEAN
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("op", ["cross_entropy", *POINTWISE])
def test_empty_batch_matches_torch(backend, op, reduction):
    x, tx = torch_pair(np.zeros((0, 3)))
    target = np.zeros(0, dtype=int) if op == "cross_entropy" else np.zeros((0, 3))
    y = getattr(F, op)(x, target, reduction=reduction)
    ty = getattr(torch.nn.functional, op)(tx, torch.tensor(target), reduction=reduction)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())  # NaN == NaN here
    backward(y, np.ones(y.shape))
    ty.backward(torch.ones_like(ty))
    assert_close_to_torch(x.grad, tx.grad, np.float64, "gradient")
