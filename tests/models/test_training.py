"""Training utilities: AdamW's decay groups, gradient accumulation (the same step as one large batch),
clipping and scheduling inside ``training_step``, and BERT's masking rule."""

import numpy as np
import pytest

import tinymed
from tinymed import backend, optim
from tinymed.models import GPT, GPTConfig, mask_tokens, training_step, weight_decay_groups


def tiny_gpt(seed=0):
    tinymed.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=11, n_positions=8, n_embd=8, n_layer=2, n_head=2, dropout=0.0)).double()


def lm_loss(model, batch):
    return model(batch, labels=batch)[0]


def test_decay_groups_split_matrices_from_biases_and_norms():
    model = tiny_gpt()
    decay, no_decay = weight_decay_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = sorted(names[id(p)] for p in decay["params"])
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert "transformer.wte.weight" in decayed and "transformer.h.1.mlp.c_fc.weight" in decayed
    assert all(names[id(p)].endswith(("bias", "ln_1.weight", "ln_2.weight", "ln_f.weight")) for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    model.transformer.wpe.weight.requires_grad = False  # frozen: in neither group
    assert sum(len(g["params"]) for g in weight_decay_groups(model)) == len(list(model.parameters())) - 1


def test_decay_groups_leave_biases_and_norms_undecayed():
    """With a zero gradient, AdamW's only effect is the decay: the matrices shrink by (1 - lr * wd), the rest stays."""
    model = tiny_gpt()
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    opt = optim.AdamW(weight_decay_groups(model, 0.5), lr=0.1)
    for p in model.parameters():
        p.grad = backend.asarray(np.zeros(p.shape))  # on the device the model is on
    opt.step()
    for name, p in model.named_parameters():
        factor = 1 - 0.1 * 0.5 if p.ndim >= 2 else 1.0
        np.testing.assert_allclose(p.numpy(), before[name] * factor, rtol=1e-15, err_msg=name)


def test_accumulated_micro_batches_take_the_step_of_one_large_batch(backend):
    ids = np.random.default_rng(0).integers(0, 11, (8, 6))
    big, small = tiny_gpt(), tiny_gpt()
    big_opt = optim.AdamW(weight_decay_groups(big), lr=1e-2)
    small_opt = optim.AdamW(weight_decay_groups(small), lr=1e-2)
    for _ in range(3):
        big_loss = training_step(big, big_opt, [ids], lm_loss)
        small_loss = training_step(small, small_opt, [ids[:4], ids[4:]], lm_loss)
        assert small_loss == pytest.approx(big_loss, rel=1e-12)
    for (name, p), q in zip(big.named_parameters(), small.parameters()):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_training_step_clips_and_schedules():
    model = tiny_gpt()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.LambdaLR(opt, lambda step: 0.5 ** step)
    ids = np.random.default_rng(1).integers(0, 11, (2, 8))
    before = [p.numpy().copy() for p in model.parameters()]
    training_step(model, opt, [ids], lm_loss, max_grad_norm=1e-3, scheduler=sched)
    moved = np.sqrt(sum(((p.numpy() - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert moved == pytest.approx(1e-3, rel=1e-3)  # lr 1 times a gradient of norm 1e-3
    assert opt.lr == 0.5
    with pytest.raises(ValueError, match="training_step: micro_batches is empty"):
        training_step(model, opt, [], lm_loss)


def test_training_reduces_the_loss():
    model = tiny_gpt()
    ids = np.tile(np.arange(8) % 11, (4, 1))  # one repeated sequence: easy to learn
    opt = optim.AdamW(weight_decay_groups(model, 0.01), lr=3e-2)
    first = training_step(model, opt, [ids], lm_loss)
    for _ in range(30):
        last = training_step(model, opt, [ids], lm_loss)
    assert last < first / 4


def test_masking_follows_the_80_10_10_rule():
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 100, (200, 50))
    ids[:, 0] = 1  # [CLS]: never chosen
    inputs, labels = mask_tokens(ids, mask_token_id=4, vocab_size=100, rng=rng, special_token_ids=(1,))
    chosen = labels != -100
    assert not chosen[:, 0].any()
    assert chosen.mean() == pytest.approx(0.15 * 49 / 50, abs=0.01)
    np.testing.assert_array_equal(labels[chosen], ids[chosen])
    np.testing.assert_array_equal(inputs[~chosen], ids[~chosen])
    masked = inputs[chosen] == 4
    kept = inputs[chosen] == ids[chosen]
    assert masked.mean() == pytest.approx(0.8, abs=0.02)
    assert kept.mean() == pytest.approx(0.1 + 0.1 / 100, abs=0.02)  # left alone, or replaced by itself
    with pytest.raises(ValueError, match=r"mlm_probability must be in \(0, 1\)"):
        mask_tokens(ids, 4, 100, rng, mlm_probability=0.0)
