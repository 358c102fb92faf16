"""Layer normalisation and embedding lookup (``kernels/reference/norm.py``, ``ops/norm.py``).

Gradient: every element against float64 central differences, on every backend (layer-norm
inputs whose variance stays away from 0; embedding indices with repeats).  Agreement: each fast
backend against the reference, contiguous and strided.  PyTorch parity: the modules with
PyTorch's weights, forward and backward.  Degenerate inputs: rows of one constant value (zero
variance: the output is the bias, the gradient finite), a single normalised feature, an empty
batch, no indices at all.
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
    _on,
    assert_agree,
    assert_close_to_torch,
    assert_gradients,
    assert_module_gradients_match,
    backward,
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
from tests.strategies import dtypes, layouts, seeds, shapes
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
def _compare_layer_norm_forward(name, dtype, x, normalized, w, b):
    """y, mean and rstd against the reference.  A row whose features nearly coincide is
    ill-conditioned: its mean is rounded by about eps |x|, and y = (x - mean) rstd carries that
    rounding times rstd (up to 1/sqrt(1e-5) = 316), rstd a relative error of the same size.  The
    reference's float32 mean and a fast kernel's float64 one then differ by more than the plain
    tolerance, though each is right to rounding.  So each row's tolerance grows by that bound,
    4 eps rstd max|x| (times max|w| for y); for a row whose variance is not small the bound is
    far below the plain tolerance, which is then what the row is held to."""
    y, mean, rstd = reference("layer_norm_forward", x, normalized, w, b, 1e-5)
    got = backend.kernel("layer_norm_forward", backend=name)(*_on(name, [x, normalized, w, b, 1e-5]))
    got = [backend.to_numpy(g) for g in got]
    assert all(g.dtype == np.dtype(dtype) for g in got)
    tol = AGREEMENT[np.dtype(dtype)]
    width = int(np.prod(normalized))
    x_rows = np.asarray(x, dtype=np.float64).reshape(-1, width)
    amplification = (4 * np.finfo(dtype).eps * np.asarray(rstd, np.float64).reshape(-1, 1)
                     * np.abs(x_rows).max(axis=1, keepdims=True, initial=0.0))
    w_scale = 1.0 if w is None else max(1.0, float(np.abs(w).max(initial=0.0)))
    checks = [("y", got[0], y, width, tol["atol"] + amplification * w_scale, tol["rtol"]),
              ("rstd", got[2], rstd, 1, tol["atol"], tol["rtol"] + amplification)]
    for what, actual, expected, per_row, atol, rtol in checks:
        a = actual.astype(np.float64).reshape(-1, per_row)
        e = np.asarray(expected, np.float64).reshape(-1, per_row)
        excess = np.abs(a - e) - atol - rtol * np.abs(e)
        assert excess.max(initial=-1.0) <= 0, f"layer_norm_forward {what}: {excess.max():.3g} beyond the tolerance"
    assert_agree(got[1], mean, dtype)
    return mean, rstd


def _compare_layer_norm_kernels(name, dtype, x, dy, normalized, w, b):
    mean, rstd = _compare_layer_norm_forward(name, dtype, x, normalized, w, b)
    expected = reference("layer_norm_backward", dy, x, normalized, w, mean, rstd)
    got = backend.kernel("layer_norm_backward", backend=name)(dy, x, normalized, w, mean, rstd)
    # dweight and dbias are sums over every sample: compare them relative to their scale
    assert_agree(got[0], expected[0], dtype)
    tol = AGREEMENT[np.dtype(dtype)]
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(backend.to_numpy(g), e, rtol=tol["rtol"],
                                   atol=tol["atol"] * max(1.0, np.abs(dy).sum()))


@on_fast_backends
@given(shapes(max_dims=4, max_side=5), st.data(), dtypes, layouts, st.booleans(), seeds)
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


# ----- degenerate inputs ----------------------------------------------------------------------------
def constant_row_gradient(g, weight, eps=1e-5):
    r"""Layer norm's input gradient where :math:`\sigma^2 = 0`: :math:`\hat x = 0`, so only the
    path through the mean remains, :math:`dx = (\hat g - \overline{\hat g}) / \sqrt{\epsilon}`."""
    g_hat = g * weight
    return (g_hat - g_hat.mean(-1, keepdims=True)) / np.sqrt(eps)


# rows of one value, among ordinary rows; dyadic values, so that both libraries' means are exact
ROWS = np.array([[2.5, 2.5, 2.5, 2.5], [1.0, -2.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0], [-3.0, -3.0, -3.0, -3.0]])
CONSTANT = [0, 2, 3]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_of_a_constant_row_is_the_bias(backend, dtype):
    """Zero variance: y = beta exactly, dgamma gets nothing from the row, and dx is finite and
    equal to the mean path alone (rstd = 1/sqrt(eps), about 316)."""
    w, b = np.array([1.5, -0.5, 2.0, 1.0]), np.array([0.1, 0.2, 0.3, 0.4])
    x, wt, bt = (grad_tensor(a.astype(dtype)) for a in (ROWS, w, b))
    y = F.layer_norm(x, (4,), wt, bt)
    g = np.random.default_rng(0).standard_normal(ROWS.shape)
    backward(y, g)
    np.testing.assert_array_equal(y.numpy()[CONSTANT], np.broadcast_to(b.astype(dtype), (3, 4)))
    assert np.all(np.isfinite(grad(x)))
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(grad(x)[CONSTANT], constant_row_gradient(g[CONSTANT], w), **tol)
    x_hat_1 = (ROWS[1] - ROWS[1].mean()) / np.sqrt(ROWS[1].var() + 1e-5)
    np.testing.assert_allclose(grad(wt), g[1] * x_hat_1, **tol)  # only the ordinary row counts
    np.testing.assert_allclose(grad(bt), g.sum(0), **tol)


def test_layer_norm_of_a_large_constant_row(backend):
    """A constant row at 1e4 in float64: the mean is rounded, so x - mean is a rounding error
    times rstd (316), still y = beta to 1e-8 and dx as for an exact zero variance."""
    w = np.array([1.5, -0.5, 2.0])
    x, wt = grad_tensor(np.full((2, 3), 1e4 + 0.1)), grad_tensor(w)
    y = F.layer_norm(x, 3, wt)
    g = np.random.default_rng(1).standard_normal((2, 3))
    backward(y, g)
    np.testing.assert_allclose(y.numpy(), 0.0, atol=1e-8)
    np.testing.assert_allclose(grad(x), constant_row_gradient(g, w), rtol=1e-8, atol=1e-8)


def test_layer_norm_over_one_feature_is_the_bias(backend):
    """Normalising a single feature: its variance is always 0, so y = beta and dx = 0."""
    x, b = grad_tensor(np.array([[3.0], [-7.0], [0.5]])), grad_tensor(np.array([0.25]))
    y = F.layer_norm(x, (1,), grad_tensor(np.array([2.0])), b)
    backward(y, np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(y.numpy(), np.full((3, 1), 0.25))
    np.testing.assert_array_equal(grad(x), np.zeros((3, 1)))
    np.testing.assert_array_equal(grad(b), [6.0])


def test_empty_batch(backend):
    x, w = grad_tensor(np.zeros((0, 5, 4))), grad_tensor(np.ones(4))
    y = F.layer_norm(x, (4,), w)
    backward(y, np.zeros((0, 5, 4)))
    assert y.shape == (0, 5, 4) and grad(x).shape == (0, 5, 4)
    np.testing.assert_array_equal(grad(w), np.zeros(4))
    table = grad_tensor(np.ones((6, 3)))
    e = F.embedding(np.zeros((0, 2), dtype=int), table)
    backward(e, np.zeros((0, 2, 3)))
    assert e.shape == (0, 2, 3)
    np.testing.assert_array_equal(grad(table), np.zeros((6, 3)))


@on_fast_backends
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_degenerate_inputs_agree_with_reference(name, dtype):
    """Constant rows, one normalised feature, an empty batch; no indices for the embedding."""
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal(4).astype(dtype), rng.standard_normal(4).astype(dtype)
    x = ROWS.astype(dtype)
    _compare_layer_norm_kernels(name, dtype, x, rng.standard_normal(x.shape).astype(dtype), (4,), w, b)
    _compare_layer_norm_kernels(name, dtype, x[:, :1], rng.standard_normal((4, 1)).astype(dtype), (1,), w[:1], b[:1])
    _compare_layer_norm_kernels(name, dtype, x[:0], x[:0], (4,), w, None)
    compare("embedding_backward", name, (np.zeros((0, 3), dtype), np.zeros(0, dtype=int), 5, None), dtype)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows, features", [(ROWS, 4), (ROWS[:, :1], 1), (np.zeros((0, 4)), 4)],
                         ids=["constant rows", "one feature", "N=0"])
def test_degenerate_inputs_match_torch(backend, dtype, rows, features):
    """Dyadic constant rows, where PyTorch's mean is exact too.  (Elsewhere PyTorch's rounded mean
    leaves x_hat at a few rounding errors times rstd: at a constant 1e4 in float32 its input
    gradient is off by about 0.8 where tinymed's is right.)"""
    rng = np.random.default_rng(0)
    (x, tx), (w, tw), (b, tb) = (torch_pair(a, dtype) for a in (
        rows, rng.standard_normal(features), rng.standard_normal(features)))
    y, ty = F.layer_norm(x, (features,), w, b), torch.nn.functional.layer_norm(tx, (features,), tw, tb)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = rng.standard_normal(y.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    for ours, theirs, what in ((x, tx, "input"), (w, tw, "weight"), (b, tb, "bias")):
        assert_close_to_torch(ours.grad, theirs.grad, dtype, f"gradient of {what}")


@needs_torch
def test_embedding_of_no_indices_matches_torch(backend):
    w, tw = torch_pair(np.random.default_rng(0).standard_normal((6, 3)))
    e, te = F.embedding(np.zeros((0, 2), dtype=int), w), torch.nn.functional.embedding(torch.zeros(0, 2).long(), tw)
    assert_close_to_torch(e, te, np.float64, "forward")
    backward(e, np.zeros(e.shape))
    te.backward(torch.zeros(te.shape, dtype=te.dtype))
    assert_close_to_torch(w.grad, tw.grad, np.float64, "gradient")
