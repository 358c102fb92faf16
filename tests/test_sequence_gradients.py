"""Sequence ops on every installed backend against float64 central differences.

Hypothesis draws sequence lengths, batch and feature sizes, directions, biases, initial
states and masks (boolean, float, causal, whole rows masked).  Every element of every
gradient must match to a worst relative error of ``tinymed.gradcheck.TOLERANCE`` (1e-7).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed.gradcheck import TOLERANCE, check
from tests.conftest import assert_gradients, grad_tensor as _t
from tinymed.gradcheck_suite import distinct

seeds = st.integers(0, 2**32 - 1)
small = st.integers(1, 3)




@st.composite
def recurrent_case(draw, gates):
    steps, batch, n_in, hidden = draw(st.integers(1, 4)), draw(small), draw(small), draw(small)
    rng = np.random.default_rng(draw(seeds))
    arrays = dict(
        x=rng.standard_normal((steps, batch, n_in)),
        h0=rng.standard_normal((batch, hidden)),
        c0=rng.standard_normal((batch, hidden)),
        w_ih=0.8 * rng.standard_normal((gates * hidden, n_in)),
        w_hh=0.8 * rng.standard_normal((gates * hidden, hidden)),
        b_ih=rng.standard_normal(gates * hidden),
        b_hh=rng.standard_normal(gates * hidden),
    )
    return arrays, draw(st.booleans()), draw(st.booleans()), draw(st.booleans())


def _recurrent(op, arrays, reverse, with_bias, with_state):
    """Gradient check of one recurrent op; the initial state(s) and biases are optional."""
    names = ["x"] + (["h0", "c0"] if op == "lstm" else ["h0"] if with_state else []) + ["w_ih", "w_hh"]
    names += ["b_ih", "b_hh"] if with_bias else []

    def fn(*tensors):
        t = dict(zip(names, tensors))
        states = (t["h0"], t["c0"]) if op == "lstm" else (t.get("h0"),)
        out = getattr(F, op)(t["x"], *states, t["w_ih"], t["w_hh"], t.get("b_ih"), t.get("b_hh"), reverse=reverse)
        return F.cat(list(out), dim=0) if op == "lstm" else out

    assert_gradients(fn, *[arrays[n] for n in names])


@given(recurrent_case(1))
def test_rnn_tanh(backend, case):
    _recurrent("rnn_tanh", *case)


@given(recurrent_case(4))
def test_lstm(backend, case):
    _recurrent("lstm", *case)


@given(recurrent_case(3))
def test_gru(backend, case):
    _recurrent("gru", *case)


@settings(max_examples=8)
@given(st.sampled_from(["RNN", "LSTM", "GRU"]), st.integers(1, 2), st.booleans(), st.booleans(), st.booleans(), seeds)
def test_stacked_bidirectional_modules(backend, kind, layers, bidirectional, batch_first, with_state, seed):
    """Whole modules: every parameter of every layer and direction, the input and the states."""
    tinymed.manual_seed(seed % 1000)
    rng = np.random.default_rng(seed)
    module = getattr(nn, kind)(2, 3, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first).double()
    x = rng.standard_normal((2, 3, 2))
    count = layers * (2 if bidirectional else 1)
    states = [rng.standard_normal((count, 2 if batch_first else 3, 3)) for _ in range(2 if kind == "LSTM" else 1)]
    params = list(module.parameters())
    inputs = [_t(x)] + ([_t(s) for s in states] if with_state else []) + params

    def fn(x, *rest):
        hx = None
        if with_state:
            hx = (rest[0], rest[1]) if kind == "LSTM" else rest[0]
        out, final = module(x, hx)
        finals = list(final) if kind == "LSTM" else [final]
        return F.cat([t.reshape(-1) for t in [out] + finals])

    report = check(fn, *inputs)
    assert report.max_rel_error <= TOLERANCE, str(report)


@st.composite
def attention_case(draw):
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    length, source, e, ev = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(small), draw(small)
    rng = np.random.default_rng(draw(seeds))
    q = rng.standard_normal(lead + (length, e))
    k = rng.standard_normal(lead + (source, e))
    v = rng.standard_normal(lead + (source, ev))
    kind = draw(st.sampled_from(["none", "bool", "bool_rows", "float", "causal"]))
    mask = None
    if kind in ("bool", "bool_rows"):
        mask = rng.random((length, source)) < 0.7  # True = may attend
        if kind == "bool_rows":
            mask[rng.integers(length)] = False  # a query that may attend to nothing
    elif kind == "float":
        mask = rng.standard_normal(lead[-1:] + (length, source))
    scale = draw(st.sampled_from([None, 0.5, 2.0]))
    return q, k, v, kind, mask, scale


@given(attention_case())
def test_scaled_dot_product_attention(backend, case):
    q, k, v, kind, mask, scale = case
    causal = kind == "causal"
    if kind == "float":  # an additive float mask can carry a gradient, as in PyTorch
        assert_gradients(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, scale=scale), q, k, v, mask)
    else:
        assert_gradients(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask, is_causal=causal, scale=scale),
                         q, k, v)


@settings(max_examples=10)
@given(attention_case(), st.floats(0.1, 0.6), seeds)
def test_attention_dropout_with_a_fixed_mask(backend, case, p, seed):
    """Reseeding before every call fixes the dropout mask, so the dropped weights are differentiated too."""
    q, k, v, _, _, _ = case

    def fn(q, k, v):
        tinymed.manual_seed(seed)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p)

    assert_gradients(fn, q, k, v)


@settings(max_examples=10)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans(), seeds)
def test_multihead_attention_module(backend, heads, length, source, batch_first, masks, seed):
    tinymed.manual_seed(seed % 1000)
    rng = np.random.default_rng(seed)
    mha = nn.MultiheadAttention(2 * heads, heads, batch_first=batch_first).double()
    batch = 2
    shape_q = (batch, length, 2 * heads) if batch_first else (length, batch, 2 * heads)
    shape_kv = (batch, source, 2 * heads) if batch_first else (source, batch, 2 * heads)
    padding = attn = None
    if masks:
        padding = np.zeros((batch, source), dtype=bool)
        padding[1, source - 1] = source > 1
        attn = rng.standard_normal((length, source))

    def fn(q, kv, *params):
        out, weights = mha(q, kv, kv, key_padding_mask=padding, attn_mask=attn)
        return out

    report = check(fn, _t(rng.standard_normal(shape_q)), _t(rng.standard_normal(shape_kv)), *mha.parameters())
    assert report.max_rel_error <= TOLERANCE, str(report)


@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.data(), st.booleans(), st.booleans(), seeds)
def test_layer_norm(backend, shape, data, with_weight, with_bias, seed):
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


@given(st.integers(1, 6), st.integers(1, 3), st.lists(st.integers(1, 4), min_size=1, max_size=2), seeds)
def test_embedding(backend, num, dim, index_shape, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, num, index_shape)  # repeats are likely: their gradients must add up
    assert_gradients(lambda w: F.embedding(indices, w), rng.standard_normal((num, dim)))


def test_embedding_padding_row_gets_no_gradient(backend):
    w = _t(np.arange(12.0).reshape(4, 3))
    out = F.embedding(np.array([[0, 2, 2], [1, 0, 3]]), w, padding_idx=2)
    out.backward(tinymed.backend.asarray(np.ones(out.shape)))
    grad = tinymed.backend.to_numpy(w.grad)
    np.testing.assert_array_equal(grad, [[2, 2, 2], [1, 1, 1], [0, 0, 0], [1, 1, 1]])
