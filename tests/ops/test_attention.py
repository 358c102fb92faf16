"""Scaled dot-product attention (``kernels/reference/attention.py``, ``ops/attention.py``),
article formula F7; and the modules built on it (``MultiheadAttention``, the Transformer
encoder layer).

Gradient: every element against float64 central differences, on every backend, for drawn
shapes, masks (boolean, float, causal, whole rows masked), scales and dropout.  Agreement: each
fast backend against the reference, contiguous and strided.  PyTorch parity: the function and
the modules with PyTorch's weights, forward and backward.  Degenerate inputs: one query and one
key, a batch of 1, an empty batch, equal scores.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tests.helpers import (
    assert_close_to_torch,
    assert_gradients,
    assert_module_gradients_match,
    assert_report_passes,
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
from tests.strategies import attention_case, dtypes, layouts, multihead_case, seeds
from tinymed.gradcheck import check


# ----- gradient ------------------------------------------------------------------------------------
@given(attention_case())
def test_gradients(backend, case):
    q, k, v, kind, mask, scale = case
    causal = kind == "causal"
    if kind == "float":  # an additive float mask can carry a gradient, as in PyTorch
        assert_gradients(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, scale=scale), q, k, v, mask)
    else:
        assert_gradients(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask, is_causal=causal, scale=scale),
                         q, k, v)


@settings(max_examples=10)
@given(attention_case(), st.floats(0.1, 0.6), seeds)
def test_gradients_with_a_fixed_dropout_mask(backend, case, p, seed):
    """Reseeding before every call fixes the dropout mask, so the dropped weights are differentiated too."""
    q, k, v, _, _, _ = case

    def fn(q, k, v):
        tinymed.manual_seed(seed)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p)

    assert_gradients(fn, q, k, v)


@settings(max_examples=10)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans(), seeds)
def test_multihead_attention_module_gradients(backend, heads, length, source, batch_first, masks, seed):
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

    q, kv = grad_tensor(rng.standard_normal(shape_q)), grad_tensor(rng.standard_normal(shape_kv))
    assert_report_passes(check(fn, q, kv, *mha.parameters()))


# ----- agreement -----------------------------------------------------------------------------------
def _compare_attention_kernels(name, dtype, draw, rng, lead, length, source, e, ev, mask_kind, dropout):
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
    _, weights = reference("scaled_dot_product_attention_forward", q, k, v, bias, scale, keep)
    compare("scaled_dot_product_attention_backward", name, (dout, q, k, v, weights, scale, keep), dtype)


@on_fast_backends
@given(st.data(), dtypes, layouts, st.sampled_from(["none", "bool", "float", "dead_rows"]), st.booleans(), seeds)
def test_kernels_agree_with_reference(name, data, dtype, strided, mask_kind, dropout, seed):
    rng = np.random.default_rng(seed)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    length, source = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    e, ev = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))

    def draw(*shape):
        return in_layout(rng.standard_normal(lead + shape).astype(dtype), strided)

    _compare_attention_kernels(name, dtype, draw, rng, lead, length, source, e, ev, mask_kind, dropout)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@settings(max_examples=20)
@given(multihead_case(), dtypes, seeds)
def test_multihead_attention_matches_torch(backend, case, dtype, seed):
    heads, embed, batch, length, source, batch_first, masks, average = case
    if masks == "causal":
        source = length
    torch.manual_seed(seed % 2**31)
    rng = np.random.default_rng(seed)
    ours, theirs = load_torch_weights(nn.MultiheadAttention(embed, heads, batch_first=batch_first),
                                      torch.nn.MultiheadAttention(embed, heads, batch_first=batch_first), dtype)
    with torch.no_grad():  # PyTorch starts its biases at zero: make them matter
        theirs.in_proj_bias.normal_()
        theirs.out_proj.bias.normal_()
    load_torch_weights(ours, theirs, dtype)
    shape = (lambda n: (batch, n, embed)) if batch_first else (lambda n: (n, batch, embed))
    q, tq = torch_pair(rng.standard_normal(shape(length)), dtype)
    k, tk = torch_pair(rng.standard_normal(shape(source)), dtype)
    v, tv = torch_pair(rng.standard_normal(shape(source)), dtype)
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
    assert_close_to_torch(out, tout, dtype, "output")
    assert_close_to_torch(w, tw, dtype, "attention weights")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(tinymed.backend.asarray(g))
    tout.backward(torch.tensor(g))
    assert_module_gradients_match(ours, theirs, [(q, tq), (k, tk), (v, tv)], dtype)


@needs_torch
@settings(max_examples=15)
@given(st.sampled_from(["none", "bool", "float", "causal"]), st.sampled_from([None, 0.3]), st.integers(1, 5),
       st.integers(1, 5), seeds)
def test_matches_torch(backend, mask_kind, scale, length, source, seed):
    rng = np.random.default_rng(seed)
    if mask_kind == "causal":
        source = length
    q, tq = torch_pair(rng.standard_normal((2, 3, length, 4)))
    k, tk = torch_pair(rng.standard_normal((2, 3, source, 4)))
    v, tv = torch_pair(rng.standard_normal((2, 3, source, 2)))
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
    assert_close_to_torch(out, tout, np.float64)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for a, b in ((q, tq), (k, tk), (v, tv)):
        assert_close_to_torch(a.grad, b.grad, np.float64)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_torch(backend, dtype, norm_first):
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    kw = dict(dim_feedforward=16, dropout=0.1, batch_first=True, norm_first=norm_first)
    ours, theirs = load_torch_weights(nn.TransformerEncoderLayer(8, 2, **kw),
                                      torch.nn.TransformerEncoderLayer(8, 2, **kw), dtype)
    ours.eval()
    theirs.eval()
    x, tx = torch_pair(rng.standard_normal((3, 5, 8)), dtype)
    padding = np.zeros((3, 5), dtype=bool)
    padding[1, 3:] = True
    out = ours(x, src_key_padding_mask=padding)
    tout = theirs(tx, src_key_padding_mask=torch.tensor(padding))
    assert_close_to_torch(out, tout, dtype)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(tinymed.backend.asarray(g))
    tout.backward(torch.tensor(g))
    assert_module_gradients_match(ours, theirs, [(x, tx)], dtype)


# ----- degenerate inputs ----------------------------------------------------------------------------
SMALL = [((1,), 1, 1), ((1,), 1, 4), ((1,), 4, 1), ((1, 1), 3, 3)]
SMALL_IDS = ["batch 1, L=S=1", "one query", "one key", "batch 1 head 1"]


@pytest.mark.parametrize("lead, length, source", SMALL, ids=SMALL_IDS)
def test_one_query_one_key_and_batch_one_gradients(backend, lead, length, source):
    """With one key, every weight is 1 and the output is that key's value, whatever the query."""
    rng = np.random.default_rng(length + 10 * source)
    q, k, v = (rng.standard_normal(lead + shape) for shape in ((length, 3), (source, 3), (source, 2)))
    assert_gradients(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), q, k, v)
    out, weights = F.scaled_dot_product_attention(q, k, v, return_weights=True)
    if source == 1:
        np.testing.assert_array_equal(weights.numpy(), np.ones(lead + (length, 1)))
        np.testing.assert_allclose(out.numpy(), np.broadcast_to(v, out.shape), rtol=1e-15)


def test_equal_scores_average_the_values(backend):
    """Identical keys give equal scores: uniform weights 1/S, the output is the mean value, and
    no gradient reaches the query (softmax of equal scores is flat in every direction of q)."""
    rng = np.random.default_rng(0)
    q, v = grad_tensor(rng.standard_normal((2, 3, 4))), grad_tensor(rng.standard_normal((2, 5, 2)))
    k = grad_tensor(np.repeat(rng.standard_normal((2, 1, 4)), 5, axis=1))
    out, weights = F.scaled_dot_product_attention(q, k, v, return_weights=True)
    np.testing.assert_allclose(weights.numpy(), np.full((2, 3, 5), 0.2), rtol=1e-15)
    np.testing.assert_allclose(out.numpy(), np.repeat(v.numpy().mean(1, keepdims=True), 3, axis=1), rtol=1e-14)
    backward(out, rng.standard_normal(out.shape))
    np.testing.assert_allclose(grad(q), 0.0, atol=1e-15)


def test_empty_batch(backend):
    q, k, v = (grad_tensor(np.zeros(shape)) for shape in ((0, 2, 3, 4), (0, 2, 5, 4), (0, 2, 5, 3)))
    out = F.scaled_dot_product_attention(q, k, v)
    backward(out, np.zeros((0, 2, 3, 3)))
    assert out.shape == (0, 2, 3, 3) and grad(q).shape == (0, 2, 3, 4) and grad(v).shape == (0, 2, 5, 3)


@on_fast_backends
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lead, length, source", SMALL + [((0, 2), 3, 5)], ids=SMALL_IDS + ["N=0"])
def test_degenerate_shapes_agree_with_reference(name, dtype, lead, length, source):
    rng = np.random.default_rng(0)

    def draw(*shape):
        return rng.standard_normal(lead + shape).astype(dtype)

    for mask_kind in ("none", "dead_rows"):
        _compare_attention_kernels(name, dtype, draw, rng, lead, length, source, 3, 2, mask_kind, dropout=False)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch, length, source", [(1, 1, 1), (1, 1, 4), (1, 4, 1), (0, 3, 5)],
                         ids=["batch 1, L=S=1", "one query", "one key", "N=0"])
def test_degenerate_shapes_match_torch(backend, dtype, batch, length, source):
    """The function and ``MultiheadAttention`` (batch first) against PyTorch."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    q, tq = torch_pair(rng.standard_normal((batch, 2, length, 4)), dtype)
    k, tk = torch_pair(rng.standard_normal((batch, 2, source, 4)), dtype)
    v, tv = torch_pair(rng.standard_normal((batch, 2, source, 3)), dtype)
    out, tout = F.scaled_dot_product_attention(q, k, v), torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)
    assert_close_to_torch(out, tout, dtype, "output")
    g = rng.standard_normal(out.shape).astype(dtype)
    backward(out, g)
    tout.backward(torch.tensor(g))
    for a, b, what in ((q, tq, "query"), (k, tk, "key"), (v, tv, "value")):
        assert_close_to_torch(a.grad, b.grad, dtype, f"gradient of {what}")

    ours, theirs = load_torch_weights(nn.MultiheadAttention(4, 2, batch_first=True),
                                      torch.nn.MultiheadAttention(4, 2, batch_first=True), dtype)
    x, tx = torch_pair(rng.standard_normal((batch, length, 4)), dtype)
    kv, tkv = torch_pair(rng.standard_normal((batch, source, 4)), dtype)
    (out, w), (tout, tw) = ours(x, kv, kv), theirs(tx, tkv, tkv)
    assert_close_to_torch(out, tout, dtype, "module output")
    assert_close_to_torch(w, tw, dtype, "module attention weights")
    g = rng.standard_normal(out.shape).astype(dtype)
    backward(out, g)
    tout.backward(torch.tensor(g))
    assert_module_gradients_match(ours, theirs, [(x, tx), (kv, tkv)], dtype)
