"""Generation: the key/value cache gives the same logits and tokens as recomputing the sequence; seeds
repeat; greedy, top-k and top-p choose as stated (by hand, and against Hugging Face's warpers where
``transformers`` is installed); eos stops; bad sampling arguments are refused."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import seeds
from tinymed import backend, no_grad
from tinymed.models import GPT, DynamicCache, GPTConfig
from tinymed.models.sampling import next_token_distribution, sample_next_token


def trained_looking_gpt(seed=0, vocab=13, positions=24):
    """A float64 GPT with random weights large enough to make its distributions uneven."""
    model = GPT(GPTConfig(vocab_size=vocab, n_positions=positions, n_embd=8, n_layer=2, n_head=2, dropout=0.1))
    model.double()
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data = backend.asarray(rng.normal(0, 0.6, p.shape))  # on the device the model is on
    return model


def test_cached_logits_equal_the_full_forward(backend):
    """Feeding a sequence in pieces through a cache gives, position by position, the full forward's logits."""
    model = trained_looking_gpt().eval()
    ids = np.random.default_rng(1).integers(0, 13, (2, 9))
    with no_grad():
        full = model(ids).numpy()
        cache = DynamicCache()
        pieces = [model(ids[:, a:b], past_key_values=cache).numpy() for a, b in ((0, 4), (4, 5), (5, 9))]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, rtol=1e-12, atol=1e-12)
    assert cache.get_seq_length() == 9 and len(cache) == 2


@pytest.mark.parametrize("sampling", [dict(temperature=0), dict(temperature=1.0), dict(temperature=0.7, top_k=4),
                                      dict(temperature=1.3, top_p=0.8)], ids=["greedy", "t=1", "top-k", "top-p"])
def test_cached_and_uncached_generation_give_the_same_tokens(backend, sampling):
    model = trained_looking_gpt()
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    cached = model.generate(prompt, max_new_tokens=15, seed=7, use_cache=True, **sampling)
    uncached = model.generate(prompt, max_new_tokens=15, seed=7, use_cache=False, **sampling)
    np.testing.assert_array_equal(cached, uncached)
    assert cached.shape == (2, 18) and (cached[:, :3] == prompt).all()
    assert model.training  # generate switches to eval and back


def test_a_seed_repeats_and_another_seed_differs():
    model = trained_looking_gpt()
    prompt = np.array([[0]])
    first, again = (model.generate(prompt, 20, seed=3) for _ in range(2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, model.generate(prompt, 20, seed=4))


def test_greedy_is_top_k_of_one_and_takes_the_argmax_each_step():
    model = trained_looking_gpt().eval()
    prompt = np.array([[5, 1]])
    greedy = model.generate(prompt, 8, temperature=0)
    np.testing.assert_array_equal(greedy, model.generate(prompt, 8, top_k=1, seed=11))
    with no_grad():
        logits = model(greedy[:, :-1]).numpy()
    np.testing.assert_array_equal(greedy[0, 2:], logits[0, 1:].argmax(-1))


def test_generation_stops_at_eos_and_pads_with_it():
    model = trained_looking_gpt()
    free = model.generate(np.array([[1], [2]]), 12, temperature=0)
    eos = int(free[0, 3])
    first = 1 + int(np.flatnonzero(free[0, 1:] == eos)[0])  # where row 0 first produces it
    stopped = model.generate(np.array([[1], [2]]), 12, temperature=0, eos_token_id=eos)
    np.testing.assert_array_equal(stopped[0, :first + 1], free[0, :first + 1])
    assert (stopped[0, first:] == eos).all()  # finished: continued with eos
    row1 = np.flatnonzero(free[1, 1:] == eos)
    expected_length = 13 if row1.size == 0 else 1 + max(first, 1 + int(row1[0]))
    assert stopped.shape == (2, expected_length)
    alone = model.generate(np.array([[1]]), 12, temperature=0, eos_token_id=eos)
    np.testing.assert_array_equal(alone, free[:1, :first + 1])  # stops as soon as every row has


# ----- the sampling rules ---------------------------------------------------------------------------
@given(st.integers(2, 12), st.integers(1, 12), seeds)
def test_top_k_keeps_the_k_most_likely(vocab, k, seed):
    logits = np.random.default_rng(seed).normal(0, 2, (3, vocab))
    p = next_token_distribution(logits, top_k=k)
    kept = p > 0
    assert (kept.sum(-1) == min(k, vocab)).all()
    for row, keep in zip(logits, kept):
        assert row[keep].min() >= row[~keep].max(initial=-np.inf)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)


@given(st.integers(2, 12), st.floats(0.05, 1.0), seeds)
def test_top_p_keeps_the_smallest_set_reaching_p(vocab, top_p, seed):
    logits = np.random.default_rng(seed).normal(0, 2, (3, vocab))
    full = next_token_distribution(logits)
    p = next_token_distribution(logits, top_p=top_p)
    for f, q in zip(full, p):
        order = np.argsort(-f, kind="stable")
        reach = np.cumsum(f[order])
        n = int(np.searchsorted(reach, top_p - 1e-12)) + 1 if top_p < 1 else len(f)
        np.testing.assert_array_equal(np.flatnonzero(q[order] > 0), np.arange(min(n, len(f))))
        np.testing.assert_allclose(q.sum(), 1.0, rtol=1e-12)


def test_temperature_sharpens_and_flattens():
    logits = np.array([[2.0, 1.0, 0.0]])
    cold, warm = next_token_distribution(logits, 0.5), next_token_distribution(logits, 2.0)
    np.testing.assert_allclose(cold, np.exp([[4, 2, 0]]) / np.exp([[4, 2, 0]]).sum(), rtol=1e-12)
    assert cold[0, 0] > next_token_distribution(logits)[0, 0] > warm[0, 0]


def test_draws_follow_the_distribution():
    logits = np.array([[np.log(0.5), np.log(0.3), np.log(0.2), -np.inf]])
    rng = np.random.default_rng(0)
    draws = np.array([sample_next_token(logits, rng)[0] for _ in range(20000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20000, [0.5, 0.3, 0.2, 0.0], atol=0.015)


@pytest.mark.parametrize("top_k,top_p,temperature", [(None, 0.9, 1.0), (3, None, 0.7), (5, 0.6, 1.5)])
def test_sampling_rules_match_hugging_face_warpers(top_k, top_p, temperature):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (tinymed[crosscheck])")
    torch = pytest.importorskip("torch")
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    assert transformers
    logits = np.random.default_rng(0).normal(0, 2, (4, 10))
    scores = TemperatureLogitsWarper(temperature)(None, torch.tensor(logits))
    if top_k is not None:
        scores = TopKLogitsWarper(top_k)(None, scores)
    if top_p is not None:
        scores = TopPLogitsWarper(top_p)(None, scores)
    expected = torch.softmax(scores, dim=-1).numpy()
    np.testing.assert_allclose(next_token_distribution(logits, temperature, top_k, top_p), expected,
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs,match", [
    (dict(max_new_tokens=0), "max_new_tokens must be a positive integer"),
    (dict(max_new_tokens=3, temperature=-1.0), "temperature must be >= 0"),
    (dict(max_new_tokens=3, top_k=0), "top_k must be a positive integer"),
    (dict(max_new_tokens=3, top_p=1.5), r"top_p must be in \(0, 1\]"),
    (dict(max_new_tokens=30), "a prompt of 2 tokens plus max_new_tokens=30 is longer than n_positions=24"),
])
def test_bad_generation_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        trained_looking_gpt().generate(np.array([[1, 2]]), **kwargs)
