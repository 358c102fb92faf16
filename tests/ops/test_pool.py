"""Max and average pooling (``kernels/reference/pool.py``, ``ops/pool.py``), article formula F4.

Gradient: every element against float64 central differences, on every backend (max-pooling
inputs without ties).  Agreement: each fast backend against the reference, contiguous and
strided.  PyTorch parity: forward and backward.
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
from tests.strategies import dtypes, pool_geometry, seeds, strided
from tinymed.gradcheck_suite import distinct, torch_comparison


# ----- gradient ------------------------------------------------------------------------------------
@given(pool_geometry(), seeds)
def test_max_pool2d_gradients(backend, geometry, seed):
    shape, kernel, stride, padding = geometry
    x = distinct(np.random.default_rng(seed), shape)
    assert_gradients(lambda x: F.max_pool2d(x, kernel, stride, padding), x)


@given(pool_geometry(), st.booleans(), seeds)
def test_avg_pool2d_gradients(backend, geometry, include_pad, seed):
    shape, kernel, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_gradients(lambda x: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=include_pad), x)


# ----- agreement -----------------------------------------------------------------------------------
@on_fast_backends
@given(pool_geometry(max_batch=3, max_side=9), dtypes, strided, st.booleans(), seeds)
def test_kernels_agree_with_reference(name, geometry, dtype, strided, include_pad, seed):
    rng = np.random.default_rng(seed)
    shape, kernel, stride, padding = geometry
    x = in_layout(distinct(rng, shape).astype(dtype), strided)
    y, argmax = reference("max_pool2d_forward", x, kernel, stride, padding)
    dy = in_layout(rng.standard_normal(y.shape).astype(dtype), strided)
    compare("max_pool2d_forward", name, (x, kernel, stride, padding), dtype)
    compare("max_pool2d_backward", name, (dy, argmax, shape, kernel, stride, padding), dtype)
    compare("avg_pool2d_forward", name, (x, kernel, stride, padding, include_pad), dtype)
    compare("avg_pool2d_backward", name, (dy, shape, kernel, stride, padding, include_pad), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("max_pool2d", "avg_pool2d"))
def test_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10
