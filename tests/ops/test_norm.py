"""Layer normalisation and embedding lookup (``kernels/reference/norm.py``, ``ops/norm.py``).

Gradient: every element against float64 central differences, on every backend (layer-norm
inputs whose variance stays away from 0; embedding indices with repeats).  Agreement: each fast
backend against the reference, contiguous and strided.  PyTorch parity: the modules with
PyTorch's weights, forward and backward.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tests.helpers import (
    AGREEMENT,
    assert_agree,
    assert_close_to_torch,
    assert_gradients,
    assert_module_gradients_match,
    compare,
    grad,
    grad_tensor,
    in_layout,
    load_torch_weights,
    needs_torch,
    on_fast_backends,
    reference,
    torch,
    torch_pair,
)
from tests.strategies import dtypes, seeds, shapes, strided
from tinymed import backend
from tinymed.gradcheck_suite import distinct


# ----- gradient ------------------------------------------------------------------------------------
@given(shapes(), st.data(), st.booleans(), st.booleans(), seeds)
def test_layer_norm_gradients(backend, shape, data, with_weight, with_bias, seed):
    rng = np.random.default_rng(seed)
    n_norm = data.draw(st.integers(1, len(shape)))
    normalized = tuple(shape[len(shape) - n_norm:])
    x = distinct(rng, shape, spacing=0.3)  # no two features nearly equal: the variance stays away from 0
    w, b = rng.standard_normal(normalized), rng.standard_normal(normalized)
    if with_weight and with_bias:
        assert_gradients(lambda x, w, b: F.layer_norm(x, normalized, w, b), x, w, b)
    elif with_weight:
        assert_gradients(lambda x, w: F.layer_norm(x, normalized, w), x, w)
    else:
        assert_gradients(lambda x: F.layer_norm(x, normalized), x)


@given(st.integers(1, 6), st.integers(1, 3), shapes(max_dims=2), seeds)
def test_embedding_gradients(backend, num, dim, index_shape, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num, index_shape)  # repeats are likely: their gradients must add up
    assert_gradients(lambda w: F.embedding(indices, w), rng.standard_normal((num, dim)))


def test_embedding_padding_row_gets_no_gradient(backend):
    w = grad_tensor(np.arange(12.0).reshape(4, 3))
    out = F.embedding(np.array([[0, 2, 2], [1, 0, 3]]), w, padding_idx=2)
    out.backward(tinymed.backend.asarray(np.ones(out.shape)))
    np.testing.assert_array_equal(grad(w), [[2, 2, 2], [1, 1, 1], [0, 0, 0], [1, 1, 1]])


# ----- agreement -----------------------------------------------------------------------------------
def _compare_layer_norm_kernels(name, dtype, x, dy, normalized, w, b):
    compare("layer_norm_forward", name, (x, normalized, w, b, 1e-5), dtype)
    _, mean, rstd = reference("layer_norm_forward", x, normalized, w, b, 1e-5)
    expected = reference("layer_norm_backward", dy, x, normalized, w, mean, rstd)
    got = backend.kernel("layer_norm_backward", backend=name)(dy, x, normalized, w, mean, rstd)
    # dweight and dbias are sums over every sample: compare them relative to their scale
    assert_agree(got[0], expected[0], dtype)
    tol = AGREEMENT[np.dtype(dtype)]
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(backend.to_numpy(g), e, rtol=tol["rtol"],
                                   atol=tol["atol"] * max(1.0, np.abs(dy).sum()))


@on_fast_backends
@given(shapes(max_dims=4, max_side=5), st.data(), dtypes, strided, st.booleans(), seeds)
def test_kernels_agree_with_reference(name, shape, data, dtype, strided, affine, seed):
    rng = np.random.default_rng(seed)
    normalized = tuple(shape[len(shape) - data.draw(st.integers(1, len(shape))):])
    x = in_layout((3 * rng.standard_normal(shape) + 1).astype(dtype), strided)
    dy = in_layout(rng.standard_normal(shape).astype(dtype), strided)
    w = rng.standard_normal(normalized).astype(dtype) if affine else None
    b = rng.standard_normal(normalized).astype(dtype) if affine else None
    _compare_layer_norm_kernels(name, dtype, x, dy, normalized, w, b)
    num = data.draw(st.integers(1, 6))
    indices = rng.integers(0, num, shape[:-1] or (1,))
    dy_e = rng.standard_normal(indices.shape + (shape[-1],)).astype(dtype)
    padding = data.draw(st.sampled_from([None, 0]))
    compare("embedding_backward", name, (dy_e, indices, num, padding), dtype)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_modules_match_torch(backend, dtype):
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    ln, tln = load_torch_weights(nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4)), dtype)
    with torch.no_grad():
        tln.weight.normal_()
        tln.bias.normal_()
    load_torch_weights(ln, tln, dtype)
    x, tx = torch_pair(3 * rng.standard_normal((2, 5, 3, 4)) + 1, dtype)
    y, ty = ln(x), tln(tx)
    assert_close_to_torch(y, ty, dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(tinymed.backend.asarray(g))
    ty.backward(torch.tensor(g))
    assert_module_gradients_match(ln, tln, [(x, tx)], dtype)

    emb, temb = load_torch_weights(nn.Embedding(7, 3, padding_idx=2), torch.nn.Embedding(7, 3, padding_idx=2), dtype)
    idx = rng.integers(0, 7, (4, 6))
    e, te = emb(idx), temb(torch.tensor(idx))
    assert_close_to_torch(e, te, dtype)
    g = rng.standard_normal(e.shape).astype(dtype)
    e.backward(tinymed.backend.asarray(g))
    te.backward(torch.tensor(g))
    assert_module_gradients_match(emb, temb, [], dtype)
