"""The linear layer (``kernels/reference/linear.py``, ``ops/linear.py``): ``y = x W^T + b``.

Gradient: every element against float64 central differences, on every backend.  Agreement: no
CPU backend overrides linear (one BLAS product), but CuPy runs the reference code on GPU arrays,
and any future override is held to the reference.  PyTorch parity: forward and backward.
Degenerate inputs: an empty batch, one input feature.
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
    torch,
    torch_pair,
)
from tests.strategies import dtypes, layouts, seeds, shapes
from tinymed.gradcheck_suite import torch_comparison


# ----- gradient ------------------------------------------------------------------------------------
@given(shapes(), st.integers(1, 5), st.booleans(), seeds)
def test_gradients(backend, lead, n_out, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(lead), rng.standard_normal((n_out, lead[-1])), rng.standard_normal(n_out)
    if with_bias:
        assert_gradients(F.linear, x, w, b)
    else:
        assert_gradients(lambda x, w: F.linear(x, w), x, w)


# ----- agreement -----------------------------------------------------------------------------------
@on_fast_backends
@given(shapes(max_dims=4, max_side=5), st.integers(1, 5), dtypes, layouts, st.booleans(), seeds)
def test_kernels_agree_with_reference(name, lead, n_out, dtype, strided, with_bias, seed):
    rng = np.random.default_rng(seed)
    x = in_layout(rng.standard_normal(lead).astype(dtype), strided)
    w = in_layout(rng.standard_normal((n_out, lead[-1])).astype(dtype), strided)
    b = rng.standard_normal(n_out).astype(dtype) if with_bias else None
    dy = in_layout(rng.standard_normal(lead[:-1] + (n_out,)).astype(dtype), strided)
    compare("linear_forward", name, (x, w, b), dtype)
    compare("linear_backward", name, (dy, x, w), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("linear"))
def test_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10


# ----- degenerate inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0, 4), (2, 0, 4)], ids=["N=0", "empty middle axis"])
def test_empty_batch(backend, shape):
    """No rows: an empty output, an empty input gradient, and weight and bias gradients of zeros
    (sums over nothing)."""
    x, w, b = grad_tensor(np.zeros(shape)), grad_tensor(np.ones((3, 4))), grad_tensor(np.ones(3))
    y = F.linear(x, w, b)
    backward(y, np.zeros(shape[:-1] + (3,)))
    assert y.shape == shape[:-1] + (3,) and grad(x).shape == shape
    np.testing.assert_array_equal(grad(w), np.zeros((3, 4)))
    np.testing.assert_array_equal(grad(b), np.zeros(3))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(0, 4), (2, 0, 4), (1, 1), (5, 1)], ids=["N=0", "empty middle axis", "1x1", "in=1"])
def test_degenerate_inputs_match_torch(backend, shape, dtype):
    rng = np.random.default_rng(0)
    (x, tx), (w, tw), (b, tb) = (torch_pair(a, dtype) for a in (
        rng.standard_normal(shape), rng.standard_normal((3, shape[-1])), rng.standard_normal(3)))
    y, ty = F.linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = rng.standard_normal(y.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    for ours, theirs, what in ((x, tx, "input"), (w, tw, "weight"), (b, tb, "bias")):
        assert_close_to_torch(ours.grad, theirs.grad, dtype, f"gradient of {what}")
