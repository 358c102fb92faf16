"""BERT against a PyTorch twin with the same weights: the masked-LM and classification heads'
logits, losses and every parameter's gradient in float64, with padding masks and segments, on
every backend, for drawn sizes; the layout (Hugging Face's keys, tied decoder), moving the encoder
from one head to the other."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import seeds
from tinymed import backend
from tinymed.models import BertConfig, BertForMaskedLM, BertForSequenceClassification


@st.composite
def bert_cases(draw):
    """A small BertConfig, token ids, an attention mask (some rows padded), segment ids, a seed."""
    # at least 4 features: a layer norm over 1 feature is all noise, and over 2 or 3 its 1/sigma can
    # blow the last bits of two float64 computations past the 1e-9 the comparison asks for
    heads = draw(st.integers(1, 3))
    head_dim = draw(st.integers(max(2, -(-4 // heads)), 4))
    config = BertConfig(vocab_size=draw(st.integers(3, 20)), hidden_size=heads * head_dim,
                        num_hidden_layers=draw(st.integers(1, 2)), num_attention_heads=heads,
                        intermediate_size=draw(st.integers(1, 8)), max_position_embeddings=draw(st.integers(1, 8)),
                        type_vocab_size=draw(st.integers(1, 3)), num_labels=draw(st.integers(2, 4)),
                        hidden_act=draw(st.sampled_from(["gelu", "gelu_new"])),
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    batch, length = draw(st.integers(1, 3)), draw(st.integers(1, config.max_position_embeddings))
    rng = np.random.default_rng(draw(seeds))
    ids = rng.integers(0, config.vocab_size, (batch, length))
    mask = np.ones((batch, length), dtype=np.int64)
    for row in range(batch):  # padding at the end of some rows; the first token always kept
        mask[row, rng.integers(1, length + 1):] = 0
    return config, ids, mask, rng.integers(0, config.type_vocab_size, (batch, length)), rng


def randomised(model, rng):
    model.double().eval()
    for p in model.parameters():
        p.data = backend.asarray(rng.normal(0, 0.5, p.shape))  # on the device the model is on
    return model


@settings(max_examples=10)
@given(bert_cases())
def test_masked_lm_matches_a_torch_twin(backend, twins, case):
    config, ids, mask, segments, rng = case
    model = randomised(BertForMaskedLM(config), rng)
    labels = np.where(rng.random(ids.shape) < 0.5, ids, -100)
    labels[0, 0] = ids[0, 0]  # at least one scored position
    loss, logits = model(ids, attention_mask=mask, token_type_ids=segments, labels=labels)
    loss.backward()
    weights = twins.weights(model.state_dict())
    torch_logits, torch_loss = twins.bert_mlm(weights, ids, mask, segments, labels, config)
    torch_loss.backward()
    twins.assert_close(logits, torch_logits, "logits")
    twins.assert_close(loss.numpy(), torch_loss, "loss")
    for name, p in model.named_parameters():
        twins.assert_close(p.grad, weights[name].grad, f"gradient of {name}")


@settings(max_examples=10)
@given(bert_cases())
def test_sequence_classification_matches_a_torch_twin(backend, twins, case):
    config, ids, mask, segments, rng = case
    model = randomised(BertForSequenceClassification(config), rng)
    labels = rng.integers(0, config.num_labels, ids.shape[0])
    loss, logits = model(ids, attention_mask=mask, token_type_ids=segments, labels=labels)
    loss.backward()
    weights = twins.weights(model.state_dict())
    torch_logits, torch_loss = twins.bert_classifier(weights, ids, mask, segments, labels, config)
    torch_loss.backward()
    twins.assert_close(logits, torch_logits, "logits")
    twins.assert_close(loss.numpy(), torch_loss, "loss")
    for name, p in model.named_parameters():
        twins.assert_close(p.grad, weights[name].grad, f"gradient of {name}")


def small_config(**changes):
    return BertConfig(**{**dict(vocab_size=13, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=12, max_position_embeddings=10, num_labels=3), **changes})


def test_padding_changes_nothing_for_the_real_tokens():
    """Masked positions are invisible: the real tokens' outputs are the same with or without padding after them."""
    model = randomised(BertForMaskedLM(small_config()), np.random.default_rng(0))
    ids = np.array([[4, 5, 6, 7]])
    padded = np.array([[4, 5, 6, 7, 0, 0, 3]])
    short = model(ids).numpy()
    long = model(padded, attention_mask=(np.arange(7) < 4).astype(int)[None]).numpy()
    np.testing.assert_allclose(long[:, :4], short, rtol=1e-12, atol=1e-12)


def test_state_dicts_have_hugging_face_keys_and_the_decoder_is_tied():
    config = small_config()
    mlm, classifier = BertForMaskedLM(config), BertForSequenceClassification(config)
    mlm_keys, clf_keys = list(mlm.state_dict()), list(classifier.state_dict())
    assert mlm_keys[-7:] == ["cls.predictions.bias", "cls.predictions.transform.dense.weight",
                             "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
                             "cls.predictions.transform.LayerNorm.bias", "cls.predictions.decoder.weight",
                             "cls.predictions.decoder.bias"]
    assert clf_keys[-4:] == ["bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight",
                             "classifier.bias"]
    assert "bert.encoder.layer.1.attention.self.query.weight" in mlm_keys
    predictions = mlm.cls.predictions
    assert predictions.decoder.weight is mlm.bert.embeddings.word_embeddings.weight
    assert predictions.decoder.bias is predictions.bias
    assert classifier.classifier.weight.shape == (3, 8)


def test_pretrained_encoder_moves_to_the_classifier():
    """Fine-tuning starts from the pretrained encoder: load the masked-LM model's state dict into the
    classifier non-strictly; the pooler and classifier are new, the MLM head is left behind."""
    config = small_config()
    mlm = randomised(BertForMaskedLM(config), np.random.default_rng(1))
    classifier = BertForSequenceClassification(config).double()
    missing, unexpected = classifier.load_state_dict(mlm.state_dict(), strict=False)
    assert missing == ["bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"]
    assert unexpected == [k for k in mlm.state_dict() if k.startswith("cls.")]
    ids = np.array([[1, 2, 3]])
    classifier.eval()
    np.testing.assert_array_equal(classifier.bert(ids)[0].numpy(), mlm.bert(ids)[0].numpy())


def test_regression_head_uses_a_squared_error():
    model = randomised(BertForSequenceClassification(small_config(num_labels=1)), np.random.default_rng(2))
    ids = np.array([[1, 2, 3], [4, 5, 6]])
    loss, logits = model(ids, labels=np.array([0.5, -1.0]))
    assert logits.shape == (2, 1)
    assert loss.item() == pytest.approx(np.mean((logits.numpy()[:, 0] - [0.5, -1.0]) ** 2), rel=1e-12)
