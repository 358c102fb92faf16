"""Fast sequence kernels give the reference's numbers: float64 ~1e-12, float32 ~1e-5.

Inputs come in random memory layouts (non-contiguous views) as well as contiguous ones.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinymed import backend
from tests.test_kernel_agreement import FAST, _layout, compare

dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(0, 2**32 - 1)

pytestmark = pytest.mark.skipif(not FAST, reason="no backend besides numpy is installed")


def _ref(op, *args, **weights):
    return backend.kernel(op, backend="numpy")(*args, **weights)


@pytest.mark.parametrize("name", FAST)
@given(st.data(), dtypes, st.booleans(), seeds)
def test_recurrent_kernels(name, data, dtype, strided, seed):
    rng = np.random.default_rng(seed)
    steps, batch = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    n_in, hidden = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))

    def draw(*shape, scale=1.0):
        return _layout((scale * rng.standard_normal(shape)).astype(dtype), strided)

    x, h0, c0 = draw(steps, batch, n_in), draw(batch, hidden), draw(batch, hidden)
    dh, dc = draw(steps, batch, hidden), draw(steps, batch, hidden)
    # RNN (F6): W = weight_hh, U = weight_ih
    W, U, b = draw(hidden, hidden, scale=0.7), draw(hidden, n_in), draw(hidden)
    compare("rnn_tanh_forward", name, (x, h0), dtype, weights=dict(w_ih=U, w_hh=W, b=b))
    h = _ref("rnn_tanh_forward", x, h0, w_ih=U, w_hh=W, b=b)
    compare("rnn_tanh_backward", name, (dh, x, h0, h), dtype, weights=dict(w_ih=U, w_hh=W))
    # LSTM
    w_ih, w_hh, b4 = draw(4 * hidden, n_in), draw(4 * hidden, hidden, scale=0.7), draw(4 * hidden)
    compare("lstm_forward", name, (x, h0, c0), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh, b=b4))
    h, c, gates = _ref("lstm_forward", x, h0, c0, w_ih=w_ih, w_hh=w_hh, b=b4)
    compare("lstm_backward", name, (dh, dc, x, h0, c0, h, c, gates), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh))
    # GRU
    w_ih, w_hh = draw(3 * hidden, n_in), draw(3 * hidden, hidden, scale=0.7)
    b_ih, b_hh = draw(3 * hidden), draw(3 * hidden)
    compare("gru_forward", name, (x, h0), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh))
    h, gates = _ref("gru_forward", x, h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    compare("gru_backward", name, (dh, x, h0, h, gates), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh))


def test_recurrent_kernels_saturated_and_tiny_arguments():
    """tanh and the sigmoid at |x| up to 1e3 (no overflow, no NaN: exactly ±1, 0 or 1) and down
    to 1e-30 (agreement to the tolerance near 0; the numba kernels trade np.tanh's relative
    accuracy for tiny x for speed, see tinymed.kernels.numba.rnn)."""
    for name in FAST:
        for dtype in (np.float64, np.float32):
            x = np.array([[[1e3, -1e3, 1e-30, -1e-30, 0.0, 30.0]]], dtype=dtype).transpose(2, 1, 0)
            h0 = np.zeros((1, 1), dtype)  # x is (T=6, N=1, I=1)
            eye, zero = np.eye(1, dtype=dtype), np.zeros(1, dtype)
            rnn = dict(w_ih=eye, w_hh=eye * 0, b=zero)
            compare("rnn_tanh_forward", name, (x, h0), dtype, weights=rnn)
            h = backend.to_numpy(backend.kernel("rnn_tanh_forward", backend=name)(x, h0, **rnn))
            assert h[0, 0, 0] == 1.0 and h[1, 0, 0] == -1.0 and h[4, 0, 0] == 0.0   # tanh(±1e3), tanh(0)
            four = np.ones((4, 1), dtype)
            lstm = dict(w_ih=four, w_hh=four * 0, b=np.zeros(4, dtype))
            compare("lstm_forward", name, (x, h0, h0), dtype, weights=lstm)
            _, _, gates = backend.kernel("lstm_forward", backend=name)(x, h0, h0, **lstm)
            gates = backend.to_numpy(gates)
            assert np.all(np.isfinite(gates)) and gates[0, 0, 0] == 1.0 and gates[1, 0, 0] == 0.0  # σ(±1e3)


@pytest.mark.parametrize("name", FAST)
@given(st.data(), dtypes, st.booleans(), st.sampled_from(["none", "bool", "float", "dead_rows"]), st.booleans(),
       seeds)
def test_attention_kernels(name, data, dtype, strided, mask_kind, dropout, seed):
    rng = np.random.default_rng(seed)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    length, source = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    e, ev = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))

    def draw(*shape):
        return _layout(rng.standard_normal(lead + shape).astype(dtype), strided)

    q, k, v, dout = draw(length, e), draw(source, e), draw(source, ev), draw(length, ev)
    bias = None
    if mask_kind == "float":
        bias = rng.standard_normal((length, source)).astype(dtype)
    elif mask_kind in ("bool", "dead_rows"):
        allowed = rng.random((length, source)) < 0.6
        if mask_kind == "dead_rows":
            allowed[0] = False
        bias = np.where(allowed, 0.0, -np.inf).astype(dtype)
    keep = None
    if dropout:
        keep = ((rng.random(lead + (length, source)) > 0.3) / 0.7).astype(dtype)
    scale = dtype(1 / np.sqrt(e))
    compare("scaled_dot_product_attention_forward", name, (q, k, v, bias, scale, keep), dtype)
    _, weights = _ref("scaled_dot_product_attention_forward", q, k, v, bias, scale, keep)
    compare("scaled_dot_product_attention_backward", name, (dout, q, k, v, weights, scale, keep), dtype)


@pytest.mark.parametrize("name", FAST)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.data(), dtypes, st.booleans(), st.booleans(), seeds)
def test_layer_norm_and_embedding_kernels(name, shape, data, dtype, strided, affine, seed):
    rng = np.random.default_rng(seed)
    normalized = tuple(shape[len(shape) - data.draw(st.integers(1, len(shape))):])
    x = _layout((3 * rng.standard_normal(shape) + 1).astype(dtype), strided)
    dy = _layout(rng.standard_normal(shape).astype(dtype), strided)
    w = rng.standard_normal(normalized).astype(dtype) if affine else None
    b = rng.standard_normal(normalized).astype(dtype) if affine else None
    compare("layer_norm_forward", name, (x, normalized, w, b, 1e-5), dtype)
    _, mean, rstd = _ref("layer_norm_forward", x, normalized, w, b, 1e-5)
    expected = _ref("layer_norm_backward", dy, x, normalized, w, mean, rstd)
    got = backend.kernel("layer_norm_backward", backend=name)(dy, x, normalized, w, mean, rstd)
    from tests.conftest import assert_agree

    # dweight and dbias are sums over every sample: compare them relative to their scale
    assert_agree(got[0], expected[0], dtype)
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(backend.to_numpy(g), e, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=(1e-5 if dtype == np.float32 else 1e-12) * max(1.0, np.abs(dy).sum()))
    num = data.draw(st.integers(1, 6))
    indices = rng.integers(0, num, shape[:-1] or (1,))
    dy_e = rng.standard_normal(indices.shape + (shape[-1],)).astype(dtype)
    padding = data.draw(st.sampled_from([None, 0]))
    compare("embedding_backward", name, (dy_e, indices, num, padding), dtype)
