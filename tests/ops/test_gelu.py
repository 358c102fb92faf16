"""GELU (``kernels/reference/activations.py``, ``ops/activations.py``), exact and tanh forms.

Gradient: every element against float64 central differences, on every backend.  Agreement: each
fast backend against the reference.  PyTorch parity: forward and backward against
``torch.nn.functional.gelu`` for both forms.  Degenerate inputs: 0 (value 0, slope 1/2), -0.0,
+-1e4 (the identity and zero, with slopes 1 and 0, nothing overflowing), an empty batch; and the
argument checks.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
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
from tinymed.gradcheck_suite import torch_comparison

FORMS = ["none", "tanh"]
approximations = st.sampled_from(FORMS)


# ----- gradient ------------------------------------------------------------------------------------
@given(approximations, shapes(), seeds)
def test_gradients(backend, approximate, shape, seed):
    x = 3 * np.random.default_rng(seed).standard_normal(shape)
    assert_gradients(lambda x: F.gelu(x, approximate), x)


# ----- agreement -----------------------------------------------------------------------------------
@on_fast_backends
@given(approximations, shapes(max_dims=4, max_side=5), dtypes, layouts, seeds)
def test_kernels_agree_with_reference(name, approximate, shape, dtype, strided, seed):
    rng = np.random.default_rng(seed)
    x = in_layout((4 * rng.standard_normal(shape)).astype(dtype), strided)
    dy = in_layout(rng.standard_normal(shape).astype(dtype), strided)
    compare("gelu_forward", name, (x, approximate), dtype)
    compare("gelu_backward", name, (dy, x, approximate), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("gelu"))
def test_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10


@needs_torch
@pytest.mark.parametrize("approximate", FORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_module_matches_torch(backend, approximate, dtype):
    a = 5 * np.random.default_rng(0).standard_normal((3, 4, 5))
    x, tx = torch_pair(a, dtype)
    y, ty = nn.GELU(approximate)(x), torch.nn.GELU(approximate)(tx)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = np.random.default_rng(1).standard_normal(a.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    assert_close_to_torch(x.grad, tx.grad, dtype, "gradient")


def test_the_two_forms_differ_by_little(backend):
    """The tanh form is an approximation: within 5e-4 of the exact GELU everywhere, but not equal."""
    x = np.linspace(-6, 6, 2001)
    gap = np.abs(F.gelu(x, "tanh").numpy() - F.gelu(x).numpy())
    assert 1e-5 < gap.max() < 5e-4


# ----- degenerate inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize("approximate", FORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_and_extreme_inputs(backend, approximate, dtype):
    """GELU(0) = 0 with slope 1/2 (also at -0.0); at +1e4 it is the identity with slope 1, at -1e4
    zero with slope 0: no overflow in x^3 or exp, no NaN."""
    x = grad_tensor(np.array([0.0, -0.0, 1e4, -1e4], dtype=dtype))
    y = F.gelu(x, approximate)
    backward(y, np.ones(4))
    np.testing.assert_array_equal(y.numpy(), np.array([0, 0, 1e4, 0], dtype=dtype))
    np.testing.assert_array_equal(grad(x), np.array([0.5, 0.5, 1, 0], dtype=dtype))


@pytest.mark.parametrize("approximate", FORMS)
def test_empty_batch(backend, approximate):
    x = grad_tensor(np.zeros((0, 4)))
    y = F.gelu(x, approximate)
    backward(y, np.zeros((0, 4)))
    assert y.shape == (0, 4) and grad(x).shape == (0, 4)


@on_fast_backends
@pytest.mark.parametrize("approximate", FORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_degenerate_inputs_agree_with_reference(name, approximate, dtype):
    x = np.array([[0.0, -0.0, 1e4, -1e4], [1e-30, -1e-30, 40.0, -40.0]], dtype=dtype)
    dy = np.arange(8, dtype=dtype).reshape(2, 4) - 3
    for xs, dys in ((x, dy), (x[:0], dy[:0])):
        compare("gelu_forward", name, (xs, approximate), dtype)
        compare("gelu_backward", name, (dys, xs, approximate), dtype)
    assert reference("gelu_forward", x, approximate).dtype == dtype


@needs_torch
@pytest.mark.parametrize("approximate", FORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_degenerate_inputs_match_torch(backend, approximate, dtype):
    a = np.array([[0.0, -0.0, 1e4, -1e4], [1e-30, -1e-30, 40.0, -40.0]])
    x, tx = torch_pair(a, dtype)
    y, ty = F.gelu(x, approximate), torch.nn.functional.gelu(tx, approximate=approximate)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = np.random.default_rng(0).standard_normal(a.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    assert_close_to_torch(x.grad, tx.grad, dtype, "gradient")


# ----- arguments ---------------------------------------------------------------------------------------
def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"gelu: approximate must be one of \('none', 'tanh'\), got 'erf'"):
        F.gelu(np.ones(3), approximate="erf")
    with pytest.raises(ValueError, match="GELU: approximate must be one of"):
        nn.GELU("fast")
    with pytest.raises(TypeError, match="gelu: input must be floating point, got dtype int64"):
        F.gelu(np.arange(3))
    with pytest.raises(TypeError, match="gelu: input must be a Tensor or an array, got list"):
        F.gelu([1.0, 2.0])
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert isinstance(F.gelu(tinymed.Tensor(np.ones(2))), tinymed.Tensor)
