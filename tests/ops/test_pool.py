"""Max and average pooling (``kernels/reference/pool.py``, ``ops/pool.py``), article formula F4;
and ``Tensor.max``, the other maximum, whose ties are resolved differently.

Gradient: every element against float64 central differences, on every backend (max-pooling
inputs without ties).  Agreement: each fast backend against the reference, contiguous and
strided.  PyTorch parity: forward and backward.  Degenerate inputs, where central differences
do not reach: ties.  A max-pooling window's gradient goes to its *first* maximum in row-major
order (as PyTorch's ``max_pool2d``), also when windows overlap; ``Tensor.max`` shares it
equally among the maxima (as PyTorch's ``amax``).  And an empty batch.
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
from tests.strategies import dtypes, layouts, pool_geometry, seeds, shapes
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
@given(pool_geometry(max_batch=3, max_side=9), dtypes, layouts, st.booleans(), seeds)
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


# ----- degenerate inputs: ties ------------------------------------------------------------------------
def first_maximum_gradient(x, dy, kernel, stride, padding):
    """The tie rule, written as plainly as possible: each window hands its output's gradient to
    the first of its largest inputs in row-major order (padding never wins)."""
    dx = np.zeros_like(x)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    for n, c, i, j in np.ndindex(dy.shape):
        window = [(r, s) for r in range(i * sh - ph, i * sh - ph + kh) for s in range(j * sw - pw, j * sw - pw + kw)
                  if 0 <= r < x.shape[2] and 0 <= s < x.shape[3]]
        largest = max(x[n, c, r, s] for r, s in window)
        r, s = next((r, s) for r, s in window if x[n, c, r, s] == largest)
        dx[n, c, r, s] += dy[n, c, i, j]
    return dx


@st.composite
def tied_pooling(draw):
    """A pooling geometry and an input full of ties: every value in {0, 1, 2}, or all equal."""
    shape, kernel, stride, padding = draw(pool_geometry())
    rng = np.random.default_rng(draw(seeds))
    x = np.full(shape, 1.5) if draw(st.booleans()) else rng.integers(0, 3, shape).astype(float)
    return x, kernel, stride, padding, rng


def test_max_pool2d_ties_by_hand(backend):
    """All-equal 4x4 planes: windows 2x2 stride 2 (disjoint) and 3x3 stride 1 (overlapping)."""
    x = grad_tensor(np.ones((1, 1, 4, 4)))
    backward(F.max_pool2d(x, 2, 2), [[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(grad(x)[0, 0], [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    x = grad_tensor(np.ones((1, 1, 4, 4)))
    backward(F.max_pool2d(x, 3, 1), [[[[1.0, 2.0], [3.0, 4.0]]]])  # window (i, j) starts at (i, j)
    np.testing.assert_array_equal(grad(x)[0, 0], [[1, 2, 0, 0], [3, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    x = grad_tensor(np.array([[[[0.0, 2.0, 2.0], [2.0, 1.0, 2.0]]]]))
    # padded left and right: the windows see columns (-1, 0), (0, 1), (1, 2), (2, 3)
    backward(F.max_pool2d(x, (2, 2), 1, (0, 1)), [[[[1.0, 10.0, 100.0, 1000.0]]]])
    np.testing.assert_array_equal(grad(x)[0, 0], [[0, 10 + 100, 1000], [1, 0, 0]])


@given(tied_pooling())
def test_max_pool2d_ties_go_to_the_first_maximum(backend, case):
    x, kernel, stride, padding, rng = case
    t = grad_tensor(x)
    y = F.max_pool2d(t, kernel, stride, padding)
    dy = rng.standard_normal(y.shape)
    backward(y, dy)
    np.testing.assert_allclose(grad(t), first_maximum_gradient(x, dy, kernel, stride, padding),
                               rtol=1e-13, atol=1e-14)  # overlapping windows add in another order


@on_fast_backends
@given(tied_pooling(), dtypes, layouts)
def test_max_pool2d_ties_agree_with_reference(name, case, dtype, strided):
    """The same winner (argmax compared exactly) on every backend."""
    x, kernel, stride, padding, rng = case
    x = in_layout(x.astype(dtype), strided)
    y, argmax = reference("max_pool2d_forward", x, kernel, stride, padding)
    compare("max_pool2d_forward", name, (x, kernel, stride, padding), dtype)
    dy = rng.standard_normal(y.shape).astype(dtype)
    compare("max_pool2d_backward", name, (dy, argmax, x.shape, kernel, stride, padding), dtype)


@needs_torch
@given(tied_pooling(), dtypes)
def test_max_pool2d_ties_match_torch(backend, case, dtype):
    x, kernel, stride, padding, rng = case
    (t, tt) = torch_pair(x, dtype)
    y, ty = F.max_pool2d(t, kernel, stride, padding), torch.nn.functional.max_pool2d(tt, kernel, stride, padding)
    assert_close_to_torch(y, ty, dtype, "forward")
    dy = rng.standard_normal(y.shape).astype(dtype)
    backward(y, dy)
    ty.backward(torch.tensor(dy))
    assert_close_to_torch(t.grad, tt.grad, dtype, "gradient")


def test_tensor_max_shares_ties_equally(backend):
    x = grad_tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, -1.0, 0.0]]))
    backward(x.max(dim=1), [6.0, 3.0, 1.0])
    np.testing.assert_array_equal(grad(x), [[0, 3, 3], [1, 1, 1], [1, 0, 0]])
    x = grad_tensor(np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 3.0]]))
    backward(x.max(), 8.0)
    np.testing.assert_array_equal(grad(x), [[0, 2, 2], [2, 0, 2]])


@needs_torch
@given(shapes(), st.data(), st.booleans(), seeds)
def test_tensor_max_ties_match_torch_amax(backend, shape, data, keepdim, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, shape).astype(float)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    t, tt = torch_pair(x)
    y, ty = t.max(dim=dim, keepdim=keepdim), tt.amax(dim=() if dim is None else dim, keepdim=keepdim)
    assert_close_to_torch(y, ty, np.float64, "forward")
    g = rng.standard_normal(y.shape)
    backward(y, g)
    ty.backward(torch.tensor(g))
    assert_close_to_torch(t.grad, tt.grad, np.float64, "gradient")


# ----- degenerate inputs: an empty batch --------------------------------------------------------------
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_empty_batch(backend, op):
    x = grad_tensor(np.zeros((0, 3, 5, 5)))
    y = getattr(F, op)(x, 2)
    backward(y, np.zeros((0, 3, 2, 2)))
    assert y.shape == (0, 3, 2, 2) and grad(x).shape == (0, 3, 5, 5)


@needs_torch
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_empty_batch_matches_torch(backend, op, dtype):
    x, tx = torch_pair(np.zeros((0, 3, 5, 5)), dtype)
    y, ty = getattr(F, op)(x, 3, 2, 1), getattr(torch.nn.functional, op)(tx, 3, 2, 1)
    assert_close_to_torch(y, ty, dtype, "forward")
    backward(y, np.zeros(y.shape))
    ty.backward(torch.zeros(ty.shape, dtype=ty.dtype))
    assert_close_to_torch(x.grad, tx.grad, dtype, "gradient")
