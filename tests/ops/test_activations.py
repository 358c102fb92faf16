"""Activations (``kernels/reference/activations.py``; the Functions in ``tinymed/autograd.py``):
ReLU, sigmoid, tanh, softmax, log-softmax.

Gradient: every element against float64 central differences, on every backend (ReLU's input
kept off its kink).  Agreement: each fast backend against the reference.  PyTorch parity:
forward and backward against ``torch.nn.functional``.
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
    in_layout,
    needs_torch,
    on_fast_backends,
    reference,
)
from tests.strategies import dtypes, seeds, shapes, strided
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
@given(shapes(max_dims=4, max_side=5), dtypes, strided, st.data(), seeds)
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
