"""The linear layer (``kernels/reference/linear.py``, ``ops/linear.py``): ``y = x W^T + b``.

Gradient: every element against float64 central differences, on every backend.  Agreement: no
CPU backend overrides linear (one BLAS product), but CuPy runs the reference code on GPU arrays,
and any future override is held to the reference.  PyTorch parity: forward and backward.
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
)
from tests.strategies import dtypes, seeds, shapes, strided
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
@given(shapes(max_dims=4, max_side=5), st.integers(1, 5), dtypes, strided, st.booleans(), seeds)
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
