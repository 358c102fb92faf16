"""Activations (``kernels/reference/activations.py``; the Functions in ``tinymed/autograd.py``):
ReLU, sigmoid, tanh, softmax, log-softmax.

Gradient: every element against float64 central differences, on every backend (ReLU's input
kept off its kink).  Agreement: each fast backend against the reference.  PyTorch parity:
forward and backward against ``torch.nn.functional``.  Degenerate inputs, where central
differences do not reach: ReLU at exactly 0, equal logits, logits of +-1e4, a softmax over one
element, an empty batch.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.helpers import (
    assert_close_to_torch,
    assert_gradients,
    backward,
    compare,
    grad,
    grad_tensor,
    gradcheck_cases,
    in_layout,
    needs_torch,
    on_fast_backends,
    reference,
    torch,
    torch_pair,
)
from tests.strategies import dtypes, layouts, seeds, shapes
from tinymed.gradcheck_suite import off_kink, torch_comparison

SOFTMAXES = ["softmax", "log_softmax"]


# ----- gradient ------------------------------------------------------------------------------------
@given(st.sampled_from(["relu", "sigmoid", "tanh"]), shapes(), seeds)
def test_elementwise_gradients(backend, op, shape, seed):
    x = 3 * off_kink(np.random.default_rng(seed), shape)
    assert_gradients(getattr(F, op), x)


@given(st.sampled_from(SOFTMAXES), shapes(), st.data(), seeds)
def test_softmax_gradients(backend, op, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = 3 * np.random.default_rng(seed).standard_normal(shape)
    assert_gradients(lambda x: getattr(F, op)(x, dim), x)


# ----- agreement -----------------------------------------------------------------------------------
@on_fast_backends
@given(shapes(max_dims=4, max_side=5), dtypes, layouts, st.data(), seeds)
def test_kernels_agree_with_reference(name, shape, dtype, strided, data, seed):
    rng = np.random.default_rng(seed)
    x = in_layout((4 * rng.standard_normal(shape)).astype(dtype), strided)
    dy = in_layout(rng.standard_normal(shape).astype(dtype), strided)
    for op in ("relu", "sigmoid", "tanh"):
        compare(f"{op}_forward", name, (x,), dtype)
        y = reference(f"{op}_forward", x)
        compare(f"{op}_backward", name, (dy, x if op == "relu" else y), dtype)
    dim = data.draw(st.integers(0, len(shape) - 1))
    for op in SOFTMAXES:
        compare(f"{op}_forward", name, (x, dim), dtype)
        y = reference(f"{op}_forward", x, dim)
        compare(f"{op}_backward", name, (dy, y, dim), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("relu", "sigmoid", "tanh", *SOFTMAXES))
def test_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10


# ----- degenerate inputs ----------------------------------------------------------------------------
def test_relu_gradient_at_zero_is_zero(backend):
    """ReLU has no derivative at 0; tinymed takes 0 there (also at -0.0), as PyTorch does.
    Central differences would say 1/2, so this is checked by value."""
    x = grad_tensor(np.array([[-1.0, -0.0, 0.0], [0.0, 2.0, 1e-300]]))
    y = F.relu(x)
    backward(y, np.full(x.shape, 3.0))
    np.testing.assert_array_equal(y.numpy(), [[0, 0, 0], [0, 2, 1e-300]])
    np.testing.assert_array_equal(grad(x), [[0, 0, 0], [0, 3, 3]])


@pytest.mark.parametrize("op", SOFTMAXES)
@pytest.mark.parametrize("value", [0.0, 2.5, -7.0, 1e4, -1e4])
def test_softmax_of_equal_logits_is_uniform(backend, op, value):
    """Equal logits (at any offset): softmax 1/n, log-softmax -log n, exactly up to rounding;
    the gradient is the uniform Jacobian's product, y (g - mean g) or g - sum(g)/n."""
    n = 6
    x = grad_tensor(np.full((3, n), value))
    g = np.random.default_rng(0).standard_normal((3, n))
    y = getattr(F, op)(x, dim=1)
    backward(y, g)
    if op == "softmax":
        expected, expected_grad = np.full((3, n), 1 / n), (g - g.mean(1, keepdims=True)) / n
    else:
        expected, expected_grad = np.full((3, n), -np.log(n)), g - g.sum(1, keepdims=True) / n
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(grad(x), expected_grad, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_at_extreme_logits_is_finite_and_exact(backend, dtype):
    """Logits of +-1e4 (far past exp's range): no overflow, no NaN, and the exact values."""
    x = grad_tensor(np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype))
    third = np.log(3)
    log_expected = np.array([[0, -2e4, -1e4], [-np.log(2), -np.log(2), -2e4 - np.log(2)], [-third] * 3])
    for op, expected in (("softmax", np.exp(log_expected)), ("log_softmax", log_expected)):
        y = getattr(F, op)(x, dim=1)
        g = np.array([[1.0, 2.0, -3.0], [0.5, -1.5, 4.0], [1.0, -2.0, 7.0]])
        x.grad = None
        backward(y, g)
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(grad(x))), op
        tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-15, atol=1e-14)
        np.testing.assert_allclose(y.numpy(), expected, **tol)
        p = np.exp(log_expected)
        expected_grad = p * (g - (g * p).sum(1, keepdims=True)) if op == "softmax" else g - p * g.sum(1, keepdims=True)
        np.testing.assert_allclose(grad(x), expected_grad, **tol)


@pytest.mark.parametrize("op", SOFTMAXES)
def test_softmax_over_one_element(backend, op):
    """A softmax over an axis of length 1 is 1 (log-softmax 0) whatever the input, with gradient 0."""
    x = grad_tensor(np.array([[3.0], [-1e4], [0.0]]))
    y = getattr(F, op)(x, dim=1)
    backward(y, np.array([[2.0], [-1.0], [5.0]]))
    np.testing.assert_array_equal(y.numpy(), np.full((3, 1), 1.0 if op == "softmax" else 0.0))
    np.testing.assert_array_equal(grad(x), np.zeros((3, 1)))


@pytest.mark.parametrize("op", ["relu", "sigmoid", "tanh", *SOFTMAXES])
def test_empty_batch(backend, op):
    """A batch of 0 rows gives 0 rows and a gradient of 0 rows (no error, no reduction over nothing)."""
    x = grad_tensor(np.zeros((0, 4)))
    y = getattr(F, op)(x) if op not in SOFTMAXES else getattr(F, op)(x, dim=1)
    backward(y, np.zeros((0, 4)))
    assert y.shape == (0, 4) and grad(x).shape == (0, 4)


@on_fast_backends
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_degenerate_inputs_agree_with_reference(name, dtype):
    """Zeros for ReLU's derivative, equal and extreme logits, one-element and empty axes."""
    x = np.array([[0.0, -0.0, 1.0, -1.0], [5.0] * 4, [1e4, -1e4, 1e4, 0.0]], dtype=dtype)
    dy = np.arange(12, dtype=dtype).reshape(3, 4) - 5
    compare("relu_backward", name, (dy, x), dtype)
    for xs, dys in ((x, dy), (x[:, :1], dy[:, :1]), (x[:0], dy[:0])):  # whole rows, one column, no rows
        for op in SOFTMAXES:
            compare(f"{op}_forward", name, (xs, 1), dtype)
            compare(f"{op}_backward", name, (dys, reference(f"{op}_forward", xs, 1), 1), dtype)


# the inputs of the degenerate cases above, for the comparison with PyTorch
DEGENERATE = {
    "relu at 0": ("relu", np.array([[-1.0, -0.0, 0.0], [0.0, 2.0, 0.0]]), {}),
    "equal logits": ("softmax", np.full((2, 5), 3.0), {"dim": 1}),
    "equal logits (log)": ("log_softmax", np.full((2, 5), -3.0), {"dim": 0}),
    "logits +-1e4": ("softmax", np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]]), {"dim": 1}),
    "logits +-1e4 (log)": ("log_softmax", np.array([[1e4, -1e4, 0.0], [1e4, 1e4 - 1, -1e4]]), {"dim": 1}),
    "one element": ("softmax", np.array([[3.0], [-2.0]]), {"dim": 1}),
    "one element (log)": ("log_softmax", np.array([[3.0], [-2.0]]), {"dim": 1}),
    "empty batch": ("log_softmax", np.zeros((0, 3)), {"dim": 1}),
    "empty batch (tanh)": ("tanh", np.zeros((0, 3)), {}),
}


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", DEGENERATE, ids=list(DEGENERATE))
def test_degenerate_inputs_match_torch(backend, case, dtype):
    op, a, kw = DEGENERATE[case]
    x, tx = torch_pair(a, dtype)
    y, ty = getattr(F, op)(x, **kw), getattr(torch.nn.functional, op)(tx, **kw)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = np.random.default_rng(0).standard_normal(a.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    assert_close_to_torch(x.grad, tx.grad, dtype, "gradient")
