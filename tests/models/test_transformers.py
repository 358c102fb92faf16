"""Against Hugging Face ``transformers`` (where installed): GPT2LMHeadModel, BertForMaskedLM and
BertForSequenceClassification built from small random configs; their state dicts load into tinymed's
models and give the same logits (float32 within 1e-6, float64 within 1e-9, relative to the logits'
scale); checkpoints written by ``save_pretrained`` (safetensors, tied weight left out, with or
without the base model's prefix) load through ``tinymed.load``, and tinymed's own round-trip."""

import numpy as np
import pytest

import tinymed
from tinymed.models import GPT, BertConfig, BertForMaskedLM, BertForSequenceClassification, GPTConfig

transformers = pytest.importorskip("transformers", reason="transformers is not installed (tinymed[crosscheck])")
torch = pytest.importorskip("torch", reason="PyTorch is not installed (tinymed[torch])")

TOLERANCE = {np.float32: 1e-6, np.float64: 1e-9}
GPT_SIZES = dict(vocab_size=37, n_positions=12, n_embd=12, n_layer=2, n_head=3)
BERT_SIZES = dict(vocab_size=41, hidden_size=12, num_hidden_layers=2, num_attention_heads=3, intermediate_size=20,
                  max_position_embeddings=12, type_vocab_size=2, num_labels=3)


def relative_error(ours, theirs):
    theirs = theirs.detach().numpy()
    return np.abs(ours.numpy() - theirs).max() / np.abs(theirs).max()


def hf_gpt(dtype, seed=0):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(**GPT_SIZES, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config).eval()
    return model.to(torch.float64 if dtype == np.float64 else torch.float32)


def hf_bert(cls, dtype, seed=0):
    torch.manual_seed(seed)
    model = cls(transformers.BertConfig(**BERT_SIZES)).eval()
    for p in model.parameters():  # layer norms and biases random too, so nothing cancels by luck
        p.data.normal_(0, 0.3)
    return model.to(torch.float64 if dtype == np.float64 else torch.float32)


def numpy_state(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gpt_matches_gpt2_lm_head_model(backend, dtype):
    theirs = hf_gpt(dtype)
    ours = GPT(GPTConfig(**GPT_SIZES)).to(dtype).eval()
    state = numpy_state(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in state.items()}
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict(state)
    ids = np.random.default_rng(0).integers(0, GPT_SIZES["vocab_size"], (3, 12))
    out = theirs(torch.tensor(ids), labels=torch.tensor(ids))
    loss, logits = ours(ids, labels=ids)
    assert relative_error(logits, out.logits) <= TOLERANCE[dtype]
    assert loss.item() == pytest.approx(out.loss.item(), rel=1e-5)  # transformers computes its loss in float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ours_cls,theirs_name", [(BertForMaskedLM, "BertForMaskedLM"),
                                                  (BertForSequenceClassification, "BertForSequenceClassification")])
def test_bert_heads_match_transformers(backend, dtype, ours_cls, theirs_name):
    theirs = hf_bert(getattr(transformers, theirs_name), dtype)
    ours = ours_cls(BertConfig(**BERT_SIZES)).to(dtype).eval()
    state = numpy_state(theirs)
    assert list(ours.state_dict()) == list(state)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in state.items()}
    ours.load_state_dict(state)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, BERT_SIZES["vocab_size"], (3, 10))
    mask = np.ones_like(ids)
    mask[1, 6:], mask[2, 2:] = 0, 0
    segments = (np.arange(10) >= 5).astype(np.int64)[None].repeat(3, 0)
    out = theirs(torch.tensor(ids), attention_mask=torch.tensor(mask), token_type_ids=torch.tensor(segments))
    logits = ours(ids, attention_mask=mask, token_type_ids=segments)
    assert relative_error(logits, out.logits) <= TOLERANCE[dtype]


def test_gpt2_checkpoints_from_save_pretrained_load_through_tinymed_load(tmp_path):
    """``save_pretrained`` writes safetensors without the tied ``lm_head.weight``; a ``GPT2Model``
    checkpoint also lacks the ``transformer.`` prefix.  Both load and give the same logits."""
    theirs = hf_gpt(np.float32, seed=3)
    ids = np.random.default_rng(2).integers(0, GPT_SIZES["vocab_size"], (2, 7))
    expected = theirs(torch.tensor(ids)).logits
    theirs.save_pretrained(tmp_path / "lm")
    theirs.transformer.save_pretrained(tmp_path / "base")
    for folder in ("lm", "base"):
        state = tinymed.load(tmp_path / folder / "model.safetensors")
        assert "lm_head.weight" not in state
        ours = GPT(GPTConfig(**GPT_SIZES)).eval()
        ours.load_state_dict(state)
        assert relative_error(ours(ids), expected) <= 1e-6, folder


def test_old_gpt2_checkpoints_with_mask_buffers_load():
    """Checkpoints of older ``transformers`` versions saved each block's causal mask (``attn.bias``,
    ``attn.masked_bias``): constants that tinymed builds instead, so they are skipped."""
    state = numpy_state(hf_gpt(np.float64))
    for i in range(GPT_SIZES["n_layer"]):
        state[f"transformer.h.{i}.attn.bias"] = np.tril(np.ones((12, 12)))[None, None]
        state[f"transformer.h.{i}.attn.masked_bias"] = np.array(-1e4)
    GPT(GPTConfig(**GPT_SIZES)).load_state_dict(state)


def test_tinymed_checkpoints_round_trip_with_both_tied_names(tmp_path):
    ours = GPT(GPTConfig(**GPT_SIZES))
    for suffix in ("npz", "safetensors"):
        tinymed.save(ours, tmp_path / f"gpt.{suffix}")
        state = tinymed.load(tmp_path / f"gpt.{suffix}")
        np.testing.assert_array_equal(state["lm_head.weight"], state["transformer.wte.weight"])
        again = GPT(GPTConfig(**GPT_SIZES))
        again.load_state_dict(state)
        for key, value in again.state_dict().items():
            np.testing.assert_array_equal(value, state[key], err_msg=key)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT_SIZES, bos_token_id=0, eos_token_id=0))
    hf.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})  # and the other way
