"""GPT against a PyTorch twin with the same weights: logits, the shifted loss and every parameter's
gradient in float64, on every backend, for drawn sizes; the layout (Hugging Face's keys and shapes,
tied embeddings), dropout, and ignored labels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
from tests.strategies import seeds
from tinymed import backend
from tinymed.models import GPT, GPTConfig


@st.composite
def gpt_cases(draw):
    """A small GPTConfig, token ids (B, T) that fit it, and a seed."""
    # at least 4 features: a layer norm over 1 feature is all noise, and over 2 or 3 its 1/sigma can
    # blow the last bits of two float64 computations past the 1e-9 the comparison asks for
    n_head = draw(st.integers(1, 3))
    head_dim = draw(st.integers(max(2, -(-4 // n_head)), 4))
    config = GPTConfig(vocab_size=draw(st.integers(2, 20)), n_positions=draw(st.integers(2, 8)),
                       n_embd=n_head * head_dim, n_layer=draw(st.integers(1, 2)), n_head=n_head, dropout=0.0)
    length = draw(st.integers(2, config.n_positions))
    batch = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(seeds))
    return config, rng.integers(0, config.vocab_size, (batch, length)), rng


def random_gpt(config, rng):
    """A float64 GPT whose every parameter (the layer norms' too) is random, so no gradient is trivially 0 or 1."""
    model = GPT(config).double()
    for p in model.parameters():
        p.data = backend.asarray(rng.normal(0, 0.5, p.shape))  # on the device the model is on
    return model


@settings(max_examples=12)
@given(gpt_cases())
def test_forward_loss_and_every_gradient_match_a_torch_twin(backend, twins, case):
    config, ids, rng = case
    model = random_gpt(config, rng)
    labels = ids.copy()
    labels[rng.random(ids.shape) < 0.2] = -100  # some positions unscored
    if (labels[:, 1:] == -100).all():
        labels[:, -1] = ids[:, -1]
    loss, logits = model(ids, labels=labels)
    loss.backward()
    weights = twins.weights(model.state_dict())
    torch_logits, torch_loss = twins.gpt(weights, ids, labels, config)
    torch_loss.backward()
    twins.assert_close(logits, torch_logits, "logits")
    twins.assert_close(loss.numpy(), torch_loss, "loss")
    for name, p in model.named_parameters():
        twins.assert_close(p.grad, weights[name].grad, f"gradient of {name}")


def test_state_dict_has_gpt2_keys_and_shapes_and_ties_the_embeddings():
    model = GPT(GPTConfig(vocab_size=11, n_positions=7, n_embd=6, n_layer=2, n_head=3))
    state = model.state_dict()
    shapes = {k: v.shape for k, v in state.items()}
    assert list(shapes)[:4] == ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                                "transformer.h.0.ln_1.bias"]
    assert list(shapes)[-1] == "lm_head.weight"
    assert shapes["transformer.h.1.attn.c_attn.weight"] == (6, 18)   # Conv1D: (in, out)
    assert shapes["transformer.h.1.mlp.c_fc.weight"] == (6, 24)
    assert shapes["transformer.h.1.mlp.c_proj.weight"] == (24, 6)
    assert shapes["lm_head.weight"] == shapes["transformer.wte.weight"] == (11, 6)
    assert len(state) == 2 + 12 * 2 + 2 + 1
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names  # the optimizer sees the tied weight once
    per_block = 4 * 6 + 6 * 18 + 18 + 6 * 6 + 6 + 6 * 24 + 24 + 24 * 6 + 6
    assert model.num_parameters() == 11 * 6 + 7 * 6 + 2 * per_block + 12


def test_gpt2_small_has_124m_parameters():
    """GPTConfig's defaults are GPT-2 small's: 124,439,808 parameters (the tied output layer counted once)."""
    config = GPTConfig()
    e, v, p, n = config.n_embd, config.vocab_size, config.n_positions, config.n_layer
    per_block = 2 * 2 * e + e * 3 * e + 3 * e + e * e + e + e * 4 * e + 4 * e + 4 * e * e + e
    assert v * e + p * e + n * per_block + 2 * e == 124_439_808


def test_dropout_is_active_in_training_mode_only():
    tinymed.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=9, n_positions=6, n_embd=8, n_layer=1, n_head=2, dropout=0.3))
    ids = np.arange(12).reshape(2, 6) % 9
    first, second = model(ids).numpy(), model(ids).numpy()
    assert not np.allclose(first, second)
    model.eval()
    np.testing.assert_array_equal(model(ids).numpy(), model(ids).numpy())


def test_one_token_has_logits_but_nothing_to_predict(twins):
    """A sequence of one token: its logits are the next token's distribution, and a loss over the
    next tokens has no term (NaN, a mean over nothing, as in PyTorch)."""
    config = GPTConfig(vocab_size=5, n_positions=3, n_embd=4, n_layer=1, n_head=2, dropout=0.0)
    model = random_gpt(config, np.random.default_rng(0))
    ids = np.array([[3], [1]])
    loss, logits = model(ids, labels=ids)
    torch_logits, torch_loss = twins.gpt(twins.weights(model.state_dict()), ids, ids, config)
    twins.assert_close(logits, torch_logits, "logits")
    assert np.isnan(loss.item()) and np.isnan(torch_loss.item())


def test_labels_of_minus_100_cost_nothing(backend):
    model = random_gpt(GPTConfig(vocab_size=7, n_positions=5, n_embd=4, n_layer=1, n_head=2, dropout=0.0),
                       np.random.default_rng(0))
    ids = np.array([[1, 2, 3, 4, 5], [6, 5, 4, 3, 2]])
    padded = ids.copy()
    padded[1, 3:] = -100
    loss, logits = model(ids, labels=padded)
    log_p = logits.numpy() - np.log(np.exp(logits.numpy()).sum(-1, keepdims=True))
    scored = [(b, t) for b in range(2) for t in range(4) if padded[b, t + 1] != -100]
    expected = -np.mean([log_p[b, t, padded[b, t + 1]] for b, t in scored])
    assert loss.item() == pytest.approx(expected, rel=1e-12)
