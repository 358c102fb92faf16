"""Sequence modules and ops against PyTorch with the same weights, forward and backward.

A PyTorch state dict converted to NumPy arrays is loaded with ``load_state_dict``; outputs,
final states, attention weights and the gradients of the input and of every parameter must
match.  Skipped when PyTorch is not installed.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'tinymed[torch]')")

seeds = st.integers(0, 2**32 - 1)
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _convert(ours, theirs, dtype):
    """Our module made like theirs: same dtype, same weights (from a NumPy state dict)."""
    ours.to(dtype)
    theirs.to(TORCH_DTYPE[dtype])
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state), "parameter names or their order differ from PyTorch's"
    ours.load_state_dict(state)
    return ours, theirs


def _pair(a, dtype):
    a = np.asarray(a, dtype=dtype)
    return Tensor(tinymed.backend.asarray(a), requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(ours, theirs, dtype, what=""):
    ours = tinymed.backend.to_numpy(ours.data if isinstance(ours, Tensor) else ours)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), err_msg=what, **TOL[dtype])


def _gradients_match(ours_module, theirs_module, pairs, dtype):
    for (name, p), (_, q) in zip(ours_module.named_parameters(), theirs_module.named_parameters()):
        _close(p.grad, q.grad, dtype, f"gradient of {name}")
    for i, (a, b) in enumerate(pairs):
        _close(a.grad, b.grad, dtype, f"gradient of input {i}")


@settings(max_examples=12)
@given(st.sampled_from(["RNN", "LSTM", "GRU"]), st.sampled_from([np.float32, np.float64]), st.integers(1, 2),
       st.booleans(), st.booleans(), st.booleans(), st.booleans(), seeds)
def test_recurrent_modules_match_torch(backend, kind, dtype, layers, bidirectional, batch_first, bias, with_state,
                                       seed):
    torch.manual_seed(seed % 2**31)
    rng = np.random.default_rng(seed)
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    ours, theirs = _convert(getattr(nn, kind)(3, 4, **kw), getattr(torch.nn, kind)(3, 4, **kw), dtype)
    steps, batch = 5, 2
    x, tx = _pair(rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3)), dtype)
    pairs = [(x, tx)]
    states = None, None
    if with_state:
        count = layers * (2 if bidirectional else 1)
        made = [_pair(rng.standard_normal((count, batch, 4)), dtype) for _ in range(2 if kind == "LSTM" else 1)]
        pairs += made
        ours_states = [m[0] for m in made]
        theirs_states = [m[1] for m in made]
        states = ((tuple(ours_states), tuple(theirs_states)) if kind == "LSTM" else (ours_states[0], theirs_states[0]))
    out, final = ours(x, states[0])
    tout, tfinal = theirs(tx, states[1])
    _close(out, tout, dtype, "output")
    finals = list(final) if kind == "LSTM" else [final]
    tfinals = list(tfinal) if kind == "LSTM" else [tfinal]
    for f, tf in zip(finals, tfinals):
        _close(f, tf, dtype, "final state")
    g = rng.standard_normal(out.shape).astype(dtype)
    loss = (out * Tensor(tinymed.backend.asarray(g))).sum() + sum(f.sum() * (i + 2) for i, f in enumerate(finals))
    tloss = (tout * torch.tensor(g)).sum() + sum(f.sum() * (i + 2) for i, f in enumerate(tfinals))
    loss.backward()
    tloss.backward()
    _gradients_match(ours, theirs, pairs, dtype)


def test_unbatched_input_and_article_names(backend):
    """2-D input (L, H_in) as in PyTorch; W, U, b of F6 are weight_hh, weight_ih, bias_ih + bias_hh."""
    ours, theirs = _convert(nn.RNN(3, 4), torch.nn.RNN(3, 4, nonlinearity="tanh"), np.float64)
    x = np.random.default_rng(0).standard_normal((6, 3))
    out, h = ours(Tensor(x))
    tout, th = theirs(torch.tensor(x))
    _close(out, tout, np.float64)
    _close(h, th, np.float64)
    W, U = ours.weight_hh_l0.numpy(), ours.weight_ih_l0.numpy()
    b = ours.bias_ih_l0.numpy() + ours.bias_hh_l0.numpy()
    state = np.zeros(4)
    for t in range(6):  # F6 by hand
        state = np.tanh(W @ state + U @ x[t] + b)
    np.testing.assert_allclose(out.numpy()[-1], state, rtol=1e-12)


@st.composite
def mha_case(draw):
    heads = draw(st.sampled_from([1, 2, 4]))
    embed = heads * draw(st.integers(1, 3))
    batch, length, source = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return heads, embed, batch, length, source, draw(st.booleans()), draw(
        st.sampled_from(["none", "padding", "bool", "float", "float3d", "both", "causal"])), draw(st.booleans())


@settings(max_examples=20)
@given(mha_case(), st.sampled_from([np.float32, np.float64]), seeds)
def test_multihead_attention_matches_torch(backend, case, dtype, seed):
    heads, embed, batch, length, source, batch_first, masks, average = case
    if masks == "causal":
        source = length
    torch.manual_seed(seed % 2**31)
    rng = np.random.default_rng(seed)
    ours, theirs = _convert(nn.MultiheadAttention(embed, heads, batch_first=batch_first),
                            torch.nn.MultiheadAttention(embed, heads, batch_first=batch_first), dtype)
    with torch.no_grad():  # PyTorch starts its biases at zero: make them matter
        theirs.in_proj_bias.normal_()
        theirs.out_proj.bias.normal_()
    _convert(ours, theirs, dtype)
    shape = (lambda n: (batch, n, embed)) if batch_first else (lambda n: (n, batch, embed))
    q, tq = _pair(rng.standard_normal(shape(length)), dtype)
    k, tk = _pair(rng.standard_normal(shape(source)), dtype)
    v, tv = _pair(rng.standard_normal(shape(source)), dtype)
    kw, tkw = {}, {}
    if masks in ("padding", "both"):
        padding = rng.random((batch, source)) < 0.3
        padding[:, 0] = False  # every query keeps a key: PyTorch gives NaN for none
        kw["key_padding_mask"], tkw["key_padding_mask"] = padding, torch.tensor(padding)
    if masks in ("bool", "both"):
        blocked = rng.random((length, source)) < 0.3
        blocked[:, 0] = False
        kw["attn_mask"], tkw["attn_mask"] = blocked, torch.tensor(blocked)
    if masks in ("float", "float3d"):
        m = rng.standard_normal((length, source) if masks == "float" else (batch * heads, length, source)).astype(dtype)
        kw["attn_mask"], tkw["attn_mask"] = m, torch.tensor(m)
    if masks == "causal":
        causal = ~np.tril(np.ones((length, length), dtype=bool))
        kw["is_causal"] = True
        tkw["attn_mask"], tkw["is_causal"] = torch.tensor(causal), True
    out, w = ours(q, k, v, average_attn_weights=average, **kw)
    tout, tw = theirs(tq, tk, tv, average_attn_weights=average, **tkw)
    _close(out, tout, dtype, "output")
    _close(w, tw, dtype, "attention weights")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(tinymed.backend.asarray(g))
    tout.backward(torch.tensor(g))
    _gradients_match(ours, theirs, [(q, tq), (k, tk), (v, tv)], dtype)


@settings(max_examples=15)
@given(st.sampled_from(["none", "bool", "float", "causal"]), st.sampled_from([None, 0.3]), st.integers(1, 5),
       st.integers(1, 5), seeds)
def test_scaled_dot_product_attention_matches_torch(backend, mask_kind, scale, length, source, seed):
    rng = np.random.default_rng(seed)
    if mask_kind == "causal":
        source = length
    q, tq = _pair(rng.standard_normal((2, 3, length, 4)), np.float64)
    k, tk = _pair(rng.standard_normal((2, 3, source, 4)), np.float64)
    v, tv = _pair(rng.standard_normal((2, 3, source, 2)), np.float64)
    mask = tmask = None
    if mask_kind == "bool":
        mask = rng.random((length, source)) < 0.6  # True = may attend (PyTorch's convention here)
        mask[:, 0] = True
        tmask = torch.tensor(mask)
    elif mask_kind == "float":
        mask = rng.standard_normal((3, length, source))
        tmask = torch.tensor(mask)
    causal = mask_kind == "causal"
    out = F.scaled_dot_product_attention(q, k, v, mask, is_causal=causal, scale=scale)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, tmask, is_causal=causal, scale=scale)
    _close(out, tout, np.float64)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for a, b in ((q, tq), (k, tk), (v, tv)):
        _close(a.grad, b.grad, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_torch(backend, dtype, norm_first):
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    kw = dict(dim_feedforward=16, dropout=0.1, batch_first=True, norm_first=norm_first)
    ours, theirs = _convert(nn.TransformerEncoderLayer(8, 2, **kw), torch.nn.TransformerEncoderLayer(8, 2, **kw),
                            dtype)
    ours.eval()
    theirs.eval()
    x, tx = _pair(rng.standard_normal((3, 5, 8)), dtype)
    padding = np.zeros((3, 5), dtype=bool)
    padding[1, 3:] = True
    out = ours(x, src_key_padding_mask=padding)
    tout = theirs(tx, src_key_padding_mask=torch.tensor(padding))
    _close(out, tout, dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(tinymed.backend.asarray(g))
    tout.backward(torch.tensor(g))
    _gradients_match(ours, theirs, [(x, tx)], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_and_embedding_match_torch(backend, dtype):
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    ln, tln = _convert(nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4)), dtype)
    with torch.no_grad():
        tln.weight.normal_()
        tln.bias.normal_()
    _convert(ln, tln, dtype)
    x, tx = _pair(3 * rng.standard_normal((2, 5, 3, 4)) + 1, dtype)
    y, ty = ln(x), tln(tx)
    _close(y, ty, dtype)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(tinymed.backend.asarray(g))
    ty.backward(torch.tensor(g))
    _gradients_match(ln, tln, [(x, tx)], dtype)

    emb, temb = _convert(nn.Embedding(7, 3, padding_idx=2), torch.nn.Embedding(7, 3, padding_idx=2), dtype)
    idx = rng.integers(0, 7, (4, 6))
    e, te = emb(idx), temb(torch.tensor(idx))
    _close(e, te, dtype)
    g = rng.standard_normal(e.shape).astype(dtype)
    e.backward(tinymed.backend.asarray(g))
    te.backward(torch.tensor(g))
    _gradients_match(emb, temb, [], dtype)
