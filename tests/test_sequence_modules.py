"""Sequence modules: masks, initialisation, state dicts, clear errors, Seq2Seq learning, tokenizer."""

import math

import numpy as np
import pytest

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import Tokenizer, Vocabulary


def _np(t):
    return tinymed.backend.to_numpy(t.data if isinstance(t, Tensor) else t)


# ----- masks: masked positions get exactly zero weight and change nothing ------------------------
def test_sdpa_masked_keys_have_zero_weight_and_no_influence(backend, rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    allowed = np.array([[1, 1, 0, 0, 1]] * 3, dtype=bool)
    qt, kt, vt = (Tensor(a, requires_grad=True) for a in (q, k, v))
    out, weights = F.scaled_dot_product_attention(qt, kt, vt, allowed, return_weights=True)
    assert np.all(_np(weights)[..., ~allowed[0]] == 0.0)
    np.testing.assert_allclose(_np(weights).sum(-1), 1.0, rtol=1e-12)
    out.backward(np.ones(out.shape))
    assert np.all(_np(kt.grad)[:, 2:4] == 0.0) and np.all(_np(vt.grad)[:, 2:4] == 0.0)
    k2, v2 = k.copy(), v.copy()
    k2[:, 2:4] += 100.0
    v2[:, 2:4] = 7.0
    out2 = F.scaled_dot_product_attention(q, k2, v2, allowed)
    np.testing.assert_array_equal(_np(out2), _np(out))
    # the same mask as a Tensor, and as an additive float mask
    out3 = F.scaled_dot_product_attention(q, k, v, Tensor(allowed))
    out4 = F.scaled_dot_product_attention(q, k, v, np.where(allowed, 0.0, -np.inf))
    np.testing.assert_array_equal(_np(out3), _np(out))
    np.testing.assert_allclose(_np(out4), _np(out), rtol=1e-14)


def test_fully_masked_rows_give_zeros_not_nan(backend, rng):
    q, k, v = (Tensor(rng.standard_normal((1, 3, 4)), requires_grad=True) for _ in range(3))
    allowed = np.ones((3, 3), dtype=bool)
    allowed[1] = False
    out, weights = F.scaled_dot_product_attention(q, k, v, allowed, return_weights=True)
    assert np.all(_np(weights)[0, 1] == 0) and np.all(_np(out)[0, 1] == 0)
    out.backward(np.ones(out.shape))
    for t in (q, k, v):
        assert np.all(np.isfinite(_np(t.grad)))
    assert np.all(_np(q.grad)[0, 1] == 0)


def test_causal_mask_hides_the_future(backend, rng):
    q, k, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    out, weights = F.scaled_dot_product_attention(q, k, v, is_causal=True, return_weights=True)
    w = _np(weights)
    assert np.all(w[np.triu_indices(4, 1)] == 0) and w[0, 0] == 1.0
    v_future = v.copy()
    v_future[3] += 5
    assert np.array_equal(_np(F.scaled_dot_product_attention(q, k, v_future, is_causal=True))[:3], _np(out)[:3])


def test_multihead_padding_keys_are_ignored(backend, rng):
    mha = nn.MultiheadAttention(8, 2, batch_first=True).double().eval()
    x = rng.standard_normal((2, 5, 8))
    padding = np.zeros((2, 5), dtype=bool)
    padding[0, 3:] = True
    out, w = mha(x, x, x, key_padding_mask=padding)
    assert np.all(_np(w)[0, :, 3:] == 0.0)
    x2 = x.copy()
    x2[0, 3:] = 50.0  # change only the padded keys/values (and their own queries)
    out2, _ = mha(x2[:, :3], x2, x2, key_padding_mask=padding)
    np.testing.assert_allclose(_np(out2)[0], _np(out)[0, :3], rtol=1e-12, atol=1e-12)
    _, per_head = mha(x, x, x, key_padding_mask=padding, average_attn_weights=False)
    assert per_head.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(_np(per_head).mean(axis=1), _np(w), rtol=1e-12)
    assert mha(x, x, x, need_weights=False)[1] is None


def test_multihead_unbatched_and_sequence_first(backend, rng):
    mha = nn.MultiheadAttention(4, 2).double()
    x = rng.standard_normal((6, 4))
    out, w = mha(x, x, x)
    assert out.shape == (6, 4) and w.shape == (6, 6)
    batched, wb = mha(x[:, None], x[:, None], x[:, None])  # (L, N, E): sequence first by default
    np.testing.assert_allclose(_np(batched)[:, 0], _np(out), rtol=1e-12)
    np.testing.assert_allclose(_np(wb)[0], _np(w), rtol=1e-12)


# ----- initialisation and state dicts -------------------------------------------------------------
def test_initialisation_follows_pytorch():
    tinymed.manual_seed(0)
    lstm = nn.LSTM(5, 16, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert "weight_ih_l1_reverse" in names and lstm.weight_ih_l1.shape == (64, 32)
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.numpy().ravel() for p in lstm.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 3
    assert nn.GRU(3, 4, bias=False).state_dict().keys() == {"weight_ih_l0", "weight_hh_l0"}
    mha = nn.MultiheadAttention(8, 2)
    assert np.all(mha.in_proj_bias.numpy() == 0) and np.all(mha.out_proj.bias.numpy() == 0)
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4 and np.all(emb.weight.numpy()[4] == 0)


def test_state_dict_round_trip_and_wrong_shapes():
    a, b = nn.GRU(3, 4, num_layers=2), nn.GRU(3, 4, num_layers=2)
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(a(x)[0].numpy(), b(x)[0].numpy())
    with pytest.raises(ValueError, match=r"'weight_ih_l0' has shape \(12, 3\) in the state dict but \(15, 3\)"):
        nn.GRU(3, 5, num_layers=2).load_state_dict(a.state_dict())


def test_dropout_between_layers_and_in_attention_only_in_training():
    tinymed.manual_seed(1)
    rnn = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32)
    assert not np.allclose(rnn(x)[0].numpy(), rnn(x)[0].numpy())
    rnn.eval()
    np.testing.assert_array_equal(rnn(x)[0].numpy(), rnn(x)[0].numpy())
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)
    y = np.random.default_rng(1).standard_normal((5, 2, 8)).astype(np.float32)
    assert not np.allclose(layer(y).numpy(), layer(y).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(y).numpy(), layer(y).numpy())


# ----- clear errors -------------------------------------------------------------------------------
f32 = np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.RNN(3, 4)(np.zeros((5, 2, 6), f32)),
     ValueError, r"RNN\(input_size=3\): input's last dimension must be 3, got input shape \(5, 2, 6\)"),
    (lambda: nn.LSTM(3, 4)(np.zeros((5, 3), f32), np.zeros((1, 4), f32)), TypeError, "LSTM: hx must be a tuple"),
    (lambda: nn.GRU(3, 4)(np.zeros((5, 2, 3), f32), np.zeros((1, 3, 4), f32)),
     ValueError, r"GRU: hx must have shape \(1, 2, 4\)"),
    (lambda: nn.GRU(3, 4)(np.zeros((5, 2, 3))),
     TypeError, "GRU: input has dtype float64 but the parameters have dtype float32"),
    (lambda: nn.RNN(3, 4)(np.zeros((2, 5, 2, 3), f32)), ValueError, "RNN: input must be 3-D"),
    (lambda: nn.RNN(3, 4, nonlinearity="relu"), ValueError, "only nonlinearity='tanh'"),
    (lambda: nn.MultiheadAttention(10, 3), ValueError, "embed_dim=10 must be divisible by num_heads=3"),
    (lambda: nn.MultiheadAttention(8, 2)(np.zeros((5, 2, 6), f32), np.zeros((5, 2, 6), f32), np.zeros((5, 2, 6), f32)),
     ValueError, r"MultiheadAttention\(embed_dim=8\): query must be .* got shape \(5, 2, 6\)"),
    (lambda: nn.MultiheadAttention(8, 2)(*[np.zeros((5, 2, 8), f32)] * 3, key_padding_mask=np.zeros((2, 4), bool)),
     ValueError, r"key_padding_mask must have shape \(N, S\) = \(2, 5\), got \(2, 4\)"),
    (lambda: nn.MultiheadAttention(8, 2)(*[np.zeros((5, 2, 8), f32)] * 3, attn_mask=np.zeros((5, 4), bool)),
     ValueError,
     r"attn_mask must have shape \(L, S\) = \(5, 5\) or \(N\*num_heads, L, S\) = \(4, 5, 5\), got \(5, 4\)"),
    (lambda: nn.MultiheadAttention(8, 2)(*[np.zeros((5, 2, 8), f32)] * 3, attn_mask=np.zeros((5, 5), np.int64)),
     TypeError, "attn_mask must be boolean"),
    (lambda: F.scaled_dot_product_attention(np.zeros((2, 3, 4)), np.zeros((2, 5, 3)), np.zeros((2, 5, 3))),
     ValueError, r"scaled_dot_product_attention: key has 3 features but query has 4"),
    (lambda: F.scaled_dot_product_attention(np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 6, 3))),
     ValueError, "value has length 6 but key has length 5"),
    (lambda: F.scaled_dot_product_attention(np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 3)),
                                            np.ones((3, 4), bool)),
     ValueError, r"attn_mask of shape \(3, 4\) does not broadcast to the attention scores' shape \(2, 3, 5\)"),
    (lambda: F.scaled_dot_product_attention(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)), np.ones((3, 3), bool),
                                            is_causal=True),
     ValueError, "either attn_mask or is_causal"),
    (lambda: F.scaled_dot_product_attention(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)), dropout_p=1.0),
     ValueError, r"dropout_p must be in \[0, 1\)"),
    (lambda: F.layer_norm(np.zeros((2, 3), f32), (4,)),
     ValueError, r"layer_norm: input's trailing dimensions must equal normalized_shape=\(4,\)"),
    (lambda: F.layer_norm(np.zeros((2, 3), f32), 3, np.ones(4, f32)),
     ValueError, r"layer_norm: weight must have shape normalized_shape=\(3,\)"),
    (lambda: nn.LayerNorm(4)(Tensor(np.zeros((2, 3), f32))), ValueError, r"LayerNorm\(normalized_shape=\(4,\)\)"),
    (lambda: F.embedding(np.array([0, 5]), np.zeros((5, 2), f32)),
     ValueError, r"embedding: indices must be in \[0, num_embeddings=5\), got values in \[0, 5\]"),
    (lambda: F.embedding(np.array([0.0, 1.0]), np.zeros((5, 2), f32)),
     TypeError, "embedding: input must hold integer indices"),
    (lambda: F.lstm(np.zeros((4, 2, 3), f32), None, None, np.zeros((8, 3), f32), np.zeros((8, 3), f32)), ValueError,
     r"lstm: weight_hh must have shape \(4\*hidden_size, hidden_size\), got \(8, 3\)"),
    (lambda: F.gru(np.zeros((0, 2, 3), f32), None, np.zeros((6, 3), f32), np.zeros((6, 2), f32)), ValueError,
     "gru: input must be 3-D .* seq_len >= 1"),
    (lambda: F.rnn_tanh(np.zeros((4, 2, 3), f32), np.zeros((3, 2), f32), np.zeros((2, 3), f32), np.zeros((2, 2), f32)),
     ValueError, r"rnn_tanh: hx must have shape \(batch=2, hidden_size=2\), got \(3, 2\)"),
    (lambda: F.cat([np.zeros((2, 3)), np.zeros((3, 2))], dim=0), ValueError, r"cat: tensors\[1\] has shape \(3, 2\)"),
    (lambda: nn.LSTM(3, 4)(np.zeros((5, 2, 4), f32)),
     ValueError, r"LSTM\(input_size=3\): input's last dimension must be 3"),
    (lambda: nn.GRU(3, 4, batch_first=True)(np.zeros((2, 5, 2), f32)),
     ValueError, r"GRU\(input_size=3\): input's last dimension must be 3"),
    (lambda: F.scaled_dot_product_attention(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)),
                                            np.ones((3, 3), np.int64)),
     TypeError, r"attn_mask must be boolean \(True = may attend\) or float"),
    (lambda: nn.MultiheadAttention(8, 2)(np.zeros((5, 2, 8), f32), np.zeros((4, 2, 8), f32), np.zeros((3, 2, 8), f32)),
     ValueError, "key and value must have the same length"),
    # the bug of the article's snippet S3: MultiheadAttention's (output, weights) passed on as if it were the output
    (lambda: nn.Linear(8, 8)(nn.MultiheadAttention(8, 2)(*[np.zeros((5, 2, 8), f32)] * 3)), TypeError,
     r"Linear\(in_features=8\): input must be a Tensor or an array, got tuple \(modules such as MultiheadAttention"),
])
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_dropout_train_eval_and_seeding(backend):
    """Inverted dropout: about p of the elements are zeroed, the rest scaled by 1/(1-p); the same
    seed gives the same mask; the gradient is the mask; evaluation mode is the identity."""
    x = Tensor(np.ones(4000), requires_grad=True)
    tinymed.manual_seed(3)
    y = F.dropout(x, 0.3)
    tinymed.manual_seed(3)
    again = F.dropout(Tensor(np.ones(4000)), 0.3)
    values = _np(y)
    assert set(np.unique(values)) == {0.0, 1 / 0.7}
    assert abs(np.mean(values == 0) - 0.3) < 0.03          # binomial sd 0.007
    np.testing.assert_array_equal(_np(again), values)
    assert not np.array_equal(_np(F.dropout(Tensor(np.ones(4000)), 0.3)), values)   # the generator moved on
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), values)       # d(x * mask)/dx = mask
    assert F.dropout(x, 0.3, training=False) is x
    layer = nn.Dropout(0.3)
    assert np.any(_np(layer(x)) == 0)
    layer.eval()
    np.testing.assert_array_equal(_np(layer(x)), _np(x))


# ----- Seq2Seq: teacher forcing and greedy decoding ---------------------------------------------------
def test_seq2seq_teacher_forcing_and_greedy_decoding_agree():
    """One teacher-forced call gives the logits of step-by-step decoding (the decoder is causal),
    and feeding greedy decoding's own tokens back as the teacher reproduces them."""
    tinymed.manual_seed(5)
    rng = np.random.default_rng(5)
    model = nn.Seq2Seq(12, 9, embed_dim=8, hidden_size=16).double()
    lengths = rng.integers(2, 8, 6)
    src = np.where(np.arange(7) < lengths[:, None], rng.integers(4, 12, (6, 7)), 0)   # padded at the end
    tgt_in = np.concatenate([np.full((6, 1), 2), rng.integers(4, 9, (6, 4))], axis=1)
    with tinymed.no_grad():
        at_once = model(src, tgt_in).numpy()
        step_by_step = np.stack([model(src, tgt_in[:, :t + 1]).numpy()[:, -1] for t in range(5)], axis=1)
        np.testing.assert_allclose(at_once, step_by_step, rtol=1e-12, atol=1e-12)
        tokens, _ = model.greedy_decode(src, max_len=6)
        fed_back = np.concatenate([np.full((6, 1), 2), tokens[:, :-1]], axis=1)
        again = model(src, fed_back).numpy().argmax(axis=2)
    for row, out in zip(tokens, again):
        n = list(row).index(3) + 1 if 3 in row else len(row)   # up to and including <eos>
        np.testing.assert_array_equal(out[:n], row[:n])


# ----- Seq2Seq: learning ---------------------------------------------------------------------------------
def test_seq2seq_learns_to_reverse_short_sequences():
    """A task that needs attention to positions: output the input tokens in reverse order."""
    tinymed.manual_seed(0)
    rng = np.random.default_rng(0)
    vocab, n = 10, 512  # tokens 4..9 are content; 0 pad, 2 bos, 3 eos

    def batch(size):
        lengths = rng.integers(2, 5, size)
        src = np.zeros((size, 4), np.int64)
        tgt = np.zeros((size, 5), np.int64)
        for i, length in enumerate(lengths):
            seq = rng.integers(4, vocab, length)
            src[i, :length] = seq
            tgt[i, :length] = seq[::-1]
            tgt[i, length] = 3
        return src, tgt

    model = nn.Seq2Seq(vocab, vocab, embed_dim=16, hidden_size=32)
    opt = tinymed.optim.Adam(model.parameters(), lr=1e-2)
    src, tgt = batch(n)
    first = None
    for _ in range(100):
        idx = rng.integers(0, n, 64)
        loss = model.loss(src[idx], tgt[idx])
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 4
    model.eval()
    test_src, test_tgt = batch(200)
    tokens, attention = model.greedy_decode(test_src, max_len=6)
    width = tokens.shape[1]
    padded = np.zeros((200, max(width, 5)), np.int64)
    padded[:, :width] = tokens
    exact = np.mean([np.array_equal(padded[i, :5], test_tgt[i]) for i in range(200)])
    assert exact > 0.8, exact
    assert attention.shape == (200, width, 4)
    pads = test_src == 0
    assert np.all(attention.transpose(1, 0, 2)[:, pads] == 0.0)  # no step ever looks at padding


# ----- tokenizer --------------------------------------------------------------------------------------
def test_tokenizer_fit_encode_decode():
    texts = ["Fever and productive cough.", "no fever; 500mg amoxicillin"]
    tok = Tokenizer().fit(texts)
    assert Tokenizer.tokenize("Amoxicillin 500mg, p.o. 2.5 mg") == ["amoxicillin", "500", "mg", ",", "p", ".", "o",
                                                                      ".", "2.5", "mg"]
    ids = tok.encode(texts + ["unseen words"], add_bos=True, add_eos=True)
    assert ids.dtype == np.int64 and ids.shape == (3, 8)
    assert ids[0, 0] == Vocabulary.bos_idx and ids[2].tolist()[:5] == [2, 1, 1, 3, 0]
    assert tok.decode(ids[0]) == "fever and productive cough ."
    assert tok.decode(ids[2], skip_special=False).startswith("<bos> <unk> <unk> <eos>")
    assert tok.decode(ids)[1] == "no fever ; 500 mg amoxicillin"
    assert tok.encode("fever", max_len=3).tolist() == [tok.vocab["fever"], 0, 0]
    assert tok.encode(texts, max_len=2).shape == (2, 2)
    small = Tokenizer(min_freq=2).fit(texts)
    assert "fever" in small.vocab and "cough" not in small.vocab and small.vocab["cough"] == Vocabulary.unk_idx
    with pytest.raises(RuntimeError, match="call fit"):
        Tokenizer().encode(["x"])
    with pytest.raises(TypeError, match=r"texts\[1\] is a int"):
        Tokenizer().fit(["a", 3])
