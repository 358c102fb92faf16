"""Bad input gets a clear error naming the model, the argument or key, and the shapes or values: token
ids out of range or of the wrong type or shape, sequences longer than the positions, mismatched
masks and segments, bad labels, bad configs, and state dicts with missing, unknown, misshaped or
disagreeing tied keys (which change nothing)."""

import numpy as np
import pytest

from tinymed import no_grad
from tinymed.models import GPT, BertConfig, BertForMaskedLM, BertForSequenceClassification, DynamicCache, GPTConfig


def small_gpt():
    return GPT(GPTConfig(vocab_size=10, n_positions=6, n_embd=4, n_layer=1, n_head=2))


def small_bert(cls=BertForMaskedLM):
    return cls(BertConfig(vocab_size=10, hidden_size=4, num_hidden_layers=1, num_attention_heads=2,
                          intermediate_size=8, max_position_embeddings=6, num_labels=3))


@pytest.mark.parametrize("ids,error,match", [
    (np.array([[1, 2, 10]]), ValueError,
     r"GPT: input_ids must be token ids in \[0, vocab_size=10\), got values in \[1, 10\]"),
    (np.array([[-1, 2]]), ValueError, r"got values in \[-1, 2\]"),
    (np.arange(7)[None], ValueError, "GPT: a sequence of 7 tokens is longer than n_positions=6"),
    (np.array([1, 2, 3]), ValueError, r"GPT: input_ids must be 2-D \(batch, sequence length\) .*got shape \(3,\)"),
    (np.zeros((2, 0), dtype=int), ValueError, "at least one token"),
    (np.array([[1.0, 2.0]]), TypeError, "GPT: input_ids must hold integers, got dtype float64"),
    ("hello", TypeError, "GPT: input_ids must be a Tensor, an array or a list of integers, got str"),
])
def test_gpt_refuses_bad_token_ids(ids, error, match):
    with pytest.raises(error, match=match):
        small_gpt()(ids)


def test_gpt_refuses_bad_labels():
    ids = np.array([[1, 2, 3]])
    with pytest.raises(ValueError, match=r"GPT: labels must have shape \(1, 3\), got \(1, 2\)"):
        small_gpt()(ids, labels=np.array([[1, 2]]))
    with pytest.raises(ValueError, match=r"GPT: labels must be in \[0, 10\) or -100 \(ignored\), got values in \[1,"):
        small_gpt()(ids, labels=np.array([[1, 12, -100]]))


def test_a_cache_counts_towards_the_positions():
    model, cache = small_gpt().eval(), DynamicCache()
    with no_grad():
        model(np.array([[1, 2, 3, 4]]), past_key_values=cache)
        with pytest.raises(ValueError, match="GPT: a sequence of 4 cached and 3 new tokens is longer than n_positions"):
            model(np.array([[1, 2, 3]]), past_key_values=cache)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(attention_mask=np.ones((2, 4), dtype=int)), ValueError,
     r"BertForMaskedLM: attention_mask must have the shape of input_ids \(2, 3\), got \(2, 4\)"),
    (dict(attention_mask=np.array([[1, 1, 2], [1, 0, 0]])), ValueError,
     r"attention_mask must hold values in \[0, 2\), got values in \[0, 2\]"),
    (dict(attention_mask=np.ones((2, 3), dtype=np.float32)), TypeError, "attention_mask must hold integers"),
    (dict(token_type_ids=np.full((2, 3), 2)), ValueError, r"token_type_ids must hold values in \[0, 2\)"),
    (dict(token_type_ids=np.zeros((3,), dtype=int)), ValueError, "token_type_ids must have the shape of input_ids"),
    (dict(labels=np.zeros((2, 2), dtype=int)), ValueError, r"BertForMaskedLM: labels must have shape \(2, 3\)"),
])
def test_bert_refuses_mismatched_masks_segments_and_labels(kwargs, error, match):
    with pytest.raises(error, match=match):
        small_bert()(np.array([[1, 2, 3], [4, 5, 6]]), **kwargs)


def test_bert_refuses_long_sequences_and_bad_class_labels():
    with pytest.raises(ValueError, match="BertForSequenceClassification: a sequence of 7 tokens is longer than "
                                         "n_positions=6"):
        small_bert(BertForSequenceClassification)(np.ones((1, 7), dtype=int))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\) or -100"):
        small_bert(BertForSequenceClassification)(np.ones((2, 3), dtype=int), labels=np.array([0, 3]))


@pytest.mark.parametrize("build,match", [
    (lambda: GPTConfig(n_embd=10, n_head=3), "GPTConfig: n_embd=10 must be divisible by n_head=3"),
    (lambda: GPTConfig(n_layer=0), "GPTConfig: n_layer must be a positive integer, got 0"),
    (lambda: GPTConfig(dropout=1.0), r"GPTConfig: dropout must be in \[0, 1\)"),
    (lambda: BertConfig(hidden_act="swish"), "BertConfig: hidden_act must be one of"),
    (lambda: BertConfig(hidden_size=10, num_attention_heads=4), "hidden_size=10 must be divisible"),
    (lambda: BertConfig(vocab_size=5, pad_token_id=5), r"pad_token_id must be in \[0, vocab_size=5\)"),
])
def test_bad_configs_are_refused(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_models_refuse_a_config_of_the_other_kind():
    with pytest.raises(TypeError, match="GPT: config must be a GPTConfig, got BertConfig"):
        GPT(BertConfig())


# ----- state dicts ---------------------------------------------------------------------------------
def test_missing_and_unknown_keys_are_named():
    state = small_gpt().state_dict()
    del state["transformer.h.0.mlp.c_fc.bias"]
    state["transformer.h.0.attn.c_attn.scale"] = np.ones(1)
    with pytest.raises(KeyError, match=r"missing keys \['transformer.h.0.mlp.c_fc.bias'\]; "
                                       r"unexpected keys \['transformer.h.0.attn.c_attn.scale'\]"):
        small_gpt().load_state_dict(state)


def test_a_misshaped_key_is_named_with_both_shapes_and_changes_nothing():
    model = small_gpt()
    before = model.state_dict()
    state = small_gpt().state_dict()
    state["transformer.h.0.attn.c_attn.weight"] = state["transformer.h.0.attn.c_attn.weight"].T  # nn.Linear's layout
    with pytest.raises(ValueError, match=r"'transformer.h.0.attn.c_attn.weight' has shape \(12, 4\) in the state dict "
                                         r"but \(4, 12\) in the model"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_tied_keys_must_agree():
    state = small_gpt().state_dict()
    state["lm_head.weight"] = state["lm_head.weight"] + 1
    with pytest.raises(ValueError, match="'lm_head.weight' and 'transformer.wte.weight' are one tied weight"):
        small_gpt().load_state_dict(state)
    state["lm_head.weight"] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"shapes \(3, 4\) and \(10, 4\)"):
        small_gpt().load_state_dict(state)


def test_a_tied_weight_loads_from_either_name():
    source = small_gpt()
    state = source.state_dict()
    wte = state.pop("transformer.wte.weight")
    target = small_gpt()
    target.load_state_dict(state)  # only lm_head.weight
    np.testing.assert_array_equal(target.transformer.wte.weight.numpy(), wte)
    state = source.state_dict()
    del state["lm_head.weight"]  # how safetensors files leave it out
    small_gpt().load_state_dict(state)
