"""2-D convolution (``kernels/reference/conv.py``, ``ops/conv.py``), article formula F3.

Gradient: every element against float64 central differences, on every backend, for drawn
shapes, strides, paddings and dilations.  Agreement: each fast backend against the reference,
contiguous and strided.  PyTorch parity: forward and backward, alone and in a conv -> ReLU ->
max-pool chain.  Degenerate inputs: an empty batch, single-pixel images.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn.functional as F
from tests.helpers import (
    BACKENDS,
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
from tests.strategies import conv_geometry, dtypes, layouts, seeds
from tinymed import Tensor
from tinymed.gradcheck_suite import distinct, torch_comparison


# ----- gradient ------------------------------------------------------------------------------------
@given(conv_geometry(), st.booleans(), seeds)
def test_gradients(backend, geometry, with_bias, seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, stride, padding, dilation = geometry
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    if with_bias:
        assert_gradients(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation), x, w, b)
    else:
        assert_gradients(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation), x, w)


def test_the_input_gradient_nobody_reads_is_skipped(backend, rng):
    """A first layer's input needs no gradient; the weight gradient is the same either way."""
    x = tinymed.backend.asarray(rng.standard_normal((2, 3, 7, 6)))
    w = tinymed.backend.asarray(rng.standard_normal((4, 3, 3, 3)))
    grads = {}
    for wants_dx in (True, False):
        xt, wt = Tensor(x, requires_grad=wants_dx), Tensor(w, requires_grad=True)
        out = F.conv2d(xt, wt, padding=1)
        assert out._fn.needs_input_grad[:2] == (wants_dx, True)
        (out * out).sum().backward()
        assert (xt.grad is not None) == wants_dx
        grads[wants_dx] = tinymed.backend.to_numpy(wt.grad.data)
    np.testing.assert_allclose(grads[False], grads[True], rtol=1e-12)
    kernel = tinymed.backend.kernel("conv2d_backward", backend=backend)
    dx, dw, db = kernel(out.data, x, w, (1, 1), (1, 1), (1, 1), input_grad=False)
    assert dx is None and dw.shape == w.shape and db.shape == (4,)


# ----- agreement -----------------------------------------------------------------------------------
@on_fast_backends
@given(conv_geometry(max_batch=3, max_channels=4, max_kernel=4, max_side=9), dtypes, layouts, seeds)
def test_kernels_agree_with_reference(name, geometry, dtype, strided, seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, stride, padding, dilation = geometry
    x = in_layout(rng.standard_normal(x_shape).astype(dtype), strided)
    wt = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    y = reference("conv2d_forward", x, wt, b, stride, padding, dilation)
    dy = in_layout(rng.standard_normal(y.shape).astype(dtype), strided)
    compare("conv2d_forward", name, (x, wt, b, stride, padding, dilation), dtype)
    compare("conv2d_forward", name, (x, wt, None, stride, padding, dilation), dtype)
    compare("conv2d_backward", name, (dy, x, wt, stride, padding, dilation), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("conv2d"))
def test_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10


@needs_torch
@given(conv_geometry(max_batch=3, max_channels=5, max_kernel=4, max_side=12, max_stride=2, max_padding=1), dtypes,
       seeds)
def test_conv_relu_max_pool_chain_matches_torch(backend, geometry, dtype, seed):
    """A LeNet block; the ReLU's zeros make ties in the pooling windows, resolved as PyTorch does."""
    rng = np.random.default_rng(seed)
    x_shape, w_shape, stride, padding, dilation = geometry
    x, tx = torch_pair(distinct(rng, x_shape), dtype)
    wt, twt = torch_pair(rng.standard_normal(w_shape), dtype)
    b, tb = torch_pair(rng.standard_normal(w_shape[0]), dtype)
    y = F.max_pool2d(F.relu(F.conv2d(x, wt, b, stride, padding, dilation)), 2, 1, 1)
    tf = torch.nn.functional
    ty = tf.max_pool2d(torch.relu(tf.conv2d(tx, twt, tb, stride, padding, dilation)), 2, 1, 1)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = rng.standard_normal(y.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    for ours, theirs, what in ((x, tx, "input"), (wt, twt, "weight"), (b, tb, "bias")):
        assert_close_to_torch(ours.grad, theirs.grad, dtype, f"gradient of {what}")


# ----- degenerate inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", BACKENDS)
def test_empty_batch(name):
    """N = 0: an empty output, an empty input gradient, weight and bias gradients of zeros."""
    with tinymed.using(name):
        x, w, b = grad_tensor(np.zeros((0, 3, 5, 5))), grad_tensor(np.ones((2, 3, 3, 3))), grad_tensor(np.ones(2))
        y = F.conv2d(x, w, b, padding=1)
        backward(y, np.zeros((0, 2, 5, 5)))
        assert y.shape == (0, 2, 5, 5) and grad(x).shape == (0, 3, 5, 5)
        np.testing.assert_array_equal(grad(w), np.zeros((2, 3, 3, 3)))
        np.testing.assert_array_equal(grad(b), np.zeros(2))


@pytest.mark.parametrize("kernel, padding", [(1, 0), (3, 1), (5, 2)])
def test_single_pixel_images(backend, kernel, padding):
    """A 1x1 image: only the kernel's centre tap sees it."""
    rng = np.random.default_rng(kernel)
    x, w, b = rng.standard_normal((2, 3, 1, 1)), rng.standard_normal((4, 3, kernel, kernel)), rng.standard_normal(4)
    y = F.conv2d(x, w, b, padding=padding)
    centre = w[:, :, kernel // 2, kernel // 2]
    np.testing.assert_allclose(y.numpy()[:, :, 0, 0], x[:, :, 0, 0] @ centre.T + b, rtol=1e-13)
    assert_gradients(lambda x, w, b: F.conv2d(x, w, b, padding=padding), x, w, b)


def _assert_conv_matches_torch(x_shape, kernel, padding, dtype):
    rng = np.random.default_rng(0)
    (x, tx), (w, tw), (b, tb) = (torch_pair(a, dtype) for a in (
        rng.standard_normal(x_shape), rng.standard_normal((4, x_shape[1], kernel, kernel)), rng.standard_normal(4)))
    y, ty = F.conv2d(x, w, b, padding=padding), torch.nn.functional.conv2d(tx, tw, tb, padding=padding)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = rng.standard_normal(y.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    for ours, theirs, what in ((x, tx, "input"), (w, tw, "weight"), (b, tb, "bias")):
        assert_close_to_torch(ours.grad, theirs.grad, dtype, f"gradient of {what}")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", BACKENDS)
def test_empty_batch_matches_torch(name, dtype):
    with tinymed.using(name):
        _assert_conv_matches_torch((0, 3, 5, 5), 3, 1, dtype)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel, padding", [(1, 0), (3, 1)])
def test_single_pixel_images_match_torch(backend, kernel, padding, dtype):
    _assert_conv_matches_torch((1, 2, 1, 1), kernel, padding, dtype)
