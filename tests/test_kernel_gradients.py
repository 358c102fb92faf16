"""Every backward kernel, on every installed backend, against float64 central differences.

Hypothesis draws shapes, strides, paddings, dilations and values; inputs are kept off kinks
(ReLU at 0, ties inside a max-pooling window).  Every element of every gradient must match
to a worst relative error of ``tinymed.gradcheck.TOLERANCE`` (1e-7).
"""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.conftest import assert_gradients
from tinymed.gradcheck_suite import distinct, off_kink, probabilities

seeds = st.integers(0, 2**32 - 1)




@st.composite
def conv_geometry(draw):
    n, c, k = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    assume(dh * (kh - 1) + 1 <= h + 2 * ph and dw * (kw - 1) + 1 <= w + 2 * pw)
    return (n, c, h, w), (k, c, kh, kw), (sh, sw), (ph, pw), (dh, dw)


@given(conv_geometry(), st.booleans(), seeds)
def test_conv2d(backend, geometry, with_bias, seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, stride, padding, dilation = geometry
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    if with_bias:
        assert_gradients(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation), x, w, b)
    else:
        assert_gradients(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation), x, w)


@st.composite
def pool_geometry(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h, w = draw(st.integers(kh, 7)), draw(st.integers(kw, 7))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (n, c, h, w), (kh, kw), (sh, sw), (ph, pw)


@given(pool_geometry(), seeds)
def test_max_pool2d(backend, geometry, seed):
    shape, kernel, stride, padding = geometry
    x = distinct(np.random.default_rng(seed), shape)
    assert_gradients(lambda x: F.max_pool2d(x, kernel, stride, padding), x)


@given(pool_geometry(), st.booleans(), seeds)
def test_avg_pool2d(backend, geometry, include_pad, seed):
    shape, kernel, stride, padding = geometry
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_gradients(lambda x: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=include_pad), x)


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(shapes, st.integers(1, 5), st.booleans(), seeds)
def test_linear(backend, lead, n_out, with_bias, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(lead), rng.standard_normal((n_out, lead[-1])), rng.standard_normal(n_out)
    if with_bias:
        assert_gradients(F.linear, x, w, b)
    else:
        assert_gradients(lambda x, w: F.linear(x, w), x, w)


@given(st.sampled_from(["relu", "sigmoid", "tanh"]), shapes, seeds)
def test_activations(backend, op, shape, seed):
    x = 3 * off_kink(np.random.default_rng(seed), shape)
    assert_gradients(getattr(F, op), x)


@given(st.sampled_from(["softmax", "log_softmax"]), shapes, st.data(), seeds)
def test_softmax(backend, op, shape, data, seed):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = 3 * np.random.default_rng(seed).standard_normal(shape)
    assert_gradients(lambda x: getattr(F, op)(x, dim), x)


reductions = st.sampled_from(["mean", "sum", "none"])


@given(shapes, reductions, seeds)
def test_mse_loss(backend, shape, reduction, seed):
    rng = np.random.default_rng(seed)
    assert_gradients(lambda x, t: F.mse_loss(x, t, reduction=reduction),
                     rng.standard_normal(shape), rng.standard_normal(shape))


@given(st.integers(1, 5), st.integers(1, 5), reductions, seeds)
def test_cross_entropy(backend, n, c, reduction, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, c, n)
    assert_gradients(lambda x: F.cross_entropy(x, target, reduction=reduction), 3 * rng.standard_normal((n, c)))


@given(shapes, reductions, st.booleans(), seeds)
def test_binary_cross_entropy(backend, shape, reduction, hard_labels, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 2, shape).astype(float) if hard_labels else rng.uniform(0, 1, shape)
    assert_gradients(lambda p: F.binary_cross_entropy(p, target, reduction=reduction), probabilities(rng, shape))
    assert_gradients(lambda z: F.binary_cross_entropy_with_logits(z, target, reduction=reduction),
                     4 * rng.standard_normal(shape))
