"""permutation_importance against its definition and scikit-learn's result; attention rollout and
the capture of the attention weights of tinymed's attention models."""

import numpy as np
import pytest

import tinymed
from tinymed import nn
from tinymed.explain import attention_rollout, capture_attention, permutation_importance


class LinearScore:
    """score(X, y) = -mean((X w - y)^2): a model whose importances are known."""

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)

    def score(self, X, y):
        return -np.mean((X @ self.w - y) ** 2)


def test_permutation_importance_by_its_definition():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    model = LinearScore([2.0, 0.5, 0.0])
    y = X @ model.w
    result = permutation_importance(model, X, y, n_repeats=4, random_state=1)
    assert result.importances.shape == (3, 4)
    assert np.all(result.importances[2] == 0.0)  # a feature the model ignores
    replay = np.random.default_rng(1)
    for j in range(3):
        for k in range(4):
            shuffled = X.copy()
            shuffled[:, j] = X[replay.permutation(200), j]
            assert result.importances[j, k] == pytest.approx(model.score(X, y) - model.score(shuffled, y), rel=1e-12)
    np.testing.assert_allclose(result.importances_mean, result.importances.mean(axis=1))
    np.testing.assert_allclose(result["importances_std"], result.importances.std(axis=1))
    # shuffling x_j adds about 2 w_j^2 var(x_j) to the squared error
    np.testing.assert_allclose(result.importances_mean[:2], [8.0, 0.5], rtol=0.25)


def test_same_result_shape_and_ranking_as_scikit_learns():
    inspection = pytest.importorskip("sklearn.inspection", reason="the comparison needs scikit-learn")
    linear_model = pytest.importorskip("sklearn.linear_model", reason="the comparison needs scikit-learn")
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 4))
    y = (X @ [3.0, -1.0, 0.3, 0.0] + 0.1 * rng.standard_normal(300) > 0).astype(int)
    model = linear_model.LogisticRegression().fit(X, y)
    ours = permutation_importance(model, X, y, n_repeats=30, random_state=0)
    theirs = inspection.permutation_importance(model, X, y, n_repeats=30, random_state=0)
    assert set(ours) == set(theirs) and all(ours[k].shape == theirs[k].shape for k in ours)
    assert list(np.argsort(ours.importances_mean)) == list(np.argsort(theirs.importances_mean))
    np.testing.assert_allclose(ours.importances_mean, theirs.importances_mean, atol=0.03)


def test_a_tinymed_model_with_a_scoring_function(mlp):
    X = np.random.default_rng(3).standard_normal((50, 5))
    with tinymed.no_grad():
        y = (mlp(tinymed.Tensor(X)).numpy() > 0).astype(int)

    def accuracy(model, X, y):
        with tinymed.no_grad():
            return np.mean((model(tinymed.Tensor(X)).numpy() > 0) == y)

    result = permutation_importance(mlp, X, y, scoring=accuracy, n_repeats=3, random_state=0)
    assert result.importances.shape == (5, 3) and result.importances_mean.max() > 0


def test_permutation_importance_errors(mlp):
    X = np.zeros((4, 5))
    with pytest.raises(TypeError, match="has no score"):
        permutation_importance(mlp, X, np.zeros(4))
    with pytest.raises(ValueError, match="X has 4 rows but y has 3"):
        permutation_importance(LinearScore(np.zeros(5)), X, np.zeros(3))
    with pytest.raises(ValueError, match="must be 2-D"):
        permutation_importance(LinearScore(np.zeros(5)), X[0], np.zeros(5))
    with pytest.raises(ValueError, match="n_repeats"):
        permutation_importance(LinearScore(np.zeros(5)), X, np.zeros(4), n_repeats=0)
    with pytest.raises(TypeError, match="random_state"):
        permutation_importance(LinearScore(np.zeros(5)), X, np.zeros(4), random_state="seed")


# ----- attention -----------------------------------------------------------------------------------
def test_rollout_of_one_layer_and_of_a_stack():
    rng = np.random.default_rng(4)
    raw = rng.random((2, 3, 5, 5))
    other = np.roll(raw, 1, axis=0)
    layers = [raw / raw.sum(-1, keepdims=True), other / other.sum(-1, keepdims=True)]
    one = attention_rollout(layers[:1])
    np.testing.assert_allclose(one, 0.5 * layers[0].mean(axis=1) + 0.5 * np.eye(5))
    two = attention_rollout(layers, head_fusion="max")
    fused = [a.max(axis=1) * 0.5 + 0.5 * np.eye(5) for a in layers]
    fused = [f / f.sum(-1, keepdims=True) for f in fused]
    np.testing.assert_allclose(two, fused[1] @ fused[0])
    np.testing.assert_allclose(two.sum(-1), 1.0)
    np.testing.assert_allclose(attention_rollout([np.eye(5)[None]] * 3, add_residual=False), np.eye(5)[None])
    with pytest.raises(ValueError, match="head_fusion"):
        attention_rollout(layers, head_fusion="sum")
    with pytest.raises(ValueError, match="at least one layer"):
        attention_rollout([])
    with pytest.raises(ValueError, match="does not follow"):
        attention_rollout([layers[0], layers[0][:, :, :4, :4]])


def test_capture_records_what_multihead_attention_computes():
    tinymed.manual_seed(0)
    attention = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    x = tinymed.Tensor(np.random.default_rng(5).standard_normal((3, 4, 8)).astype(np.float32))
    out, averaged = attention(x, x, x)
    _, per_head = attention(x, x, x, average_attn_weights=False)
    with capture_attention(attention) as recorded:
        out_again, averaged_again = attention(x, x, x)
        _, none = attention(x, x, x, need_weights=False)
    assert none is None and len(recorded) == 2
    np.testing.assert_array_equal(out_again.numpy(), out.numpy())
    np.testing.assert_allclose(averaged_again.numpy(), averaged.numpy(), rtol=1e-6)
    np.testing.assert_allclose(recorded[0], per_head.numpy(), rtol=1e-6)
    assert "forward" not in attention.__dict__  # unwrapped after the block


def test_capture_and_rollout_of_a_transformer_encoder():
    tinymed.manual_seed(1)
    encoder = nn.Sequential(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                            nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)).eval()
    x = tinymed.Tensor(np.random.default_rng(6).standard_normal((2, 5, 8)).astype(np.float32))
    expected = encoder(x).numpy()
    with capture_attention(encoder) as recorded:
        np.testing.assert_array_equal(encoder(x).numpy(), expected)
    assert [a.shape for a in recorded] == [(2, 2, 5, 5)] * 2
    rollout = attention_rollout(recorded)
    assert rollout.shape == (2, 5, 5) and np.allclose(rollout.sum(-1), 1.0)
    with pytest.raises(ValueError, match="Linear holds no attention layer"):
        with capture_attention(nn.Linear(2, 2)):
            pass


# ----- the attention of tinymed.models' GPT and BERT, against transformers' output_attentions ---------
GPT_SIZES = dict(vocab_size=37, n_positions=12, n_embd=12, n_layer=2, n_head=3)
BERT_SIZES = dict(vocab_size=41, hidden_size=12, num_hidden_layers=2, num_attention_heads=3, intermediate_size=20,
                  max_position_embeddings=12)


def hugging_face_twin(kind):
    """A transformers model in float64 with random weights, attention computed eagerly (so it can
    return its weights), and tinymed's model holding the same weights."""
    transformers = pytest.importorskip("transformers", reason="the comparison needs transformers")
    torch = pytest.importorskip("torch", reason="the comparison needs PyTorch")
    from tinymed.models import BERT, GPT, BertConfig, GPTConfig

    torch.manual_seed(0)
    if kind == "gpt":
        theirs = transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT_SIZES, attn_implementation="eager"))
        ours = GPT(GPTConfig(**GPT_SIZES))
    else:
        theirs = transformers.BertModel(transformers.BertConfig(**BERT_SIZES, attn_implementation="eager"))
        ours = BERT(BertConfig(**BERT_SIZES))
    theirs = theirs.double().eval()
    ours.double().eval().load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs, torch


@pytest.mark.parametrize("kind", ["gpt", "bert"])
def test_captured_gpt_and_bert_attention_equals_transformers(kind):
    ours, theirs, torch = hugging_face_twin(kind)
    rng = np.random.default_rng(7)
    ids = rng.integers(1, 37, (3, 9))
    mask = np.ones_like(ids)
    mask[1, 6:] = 0  # padding in the second sequence (BERT)
    extra = {} if kind == "gpt" else dict(attention_mask=mask)
    with capture_attention(ours) as recorded:
        with tinymed.no_grad():
            ours(ids, **extra)
    expected = theirs(torch.tensor(ids), output_attentions=True,
                      **{k: torch.tensor(v) for k, v in extra.items()}).attentions
    assert len(recorded) == len(expected) == 2
    for got, want in zip(recorded, expected):
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-9, atol=1e-12)
    rollout = attention_rollout(recorded)
    if kind == "gpt":
        assert np.all(np.triu(rollout[0], 1) == 0)  # no position draws on a later one
    else:
        assert np.all(rollout[1][:6, 6:] == 0)  # no real token draws on the padding


def test_a_gpt_generating_with_a_cache_is_refused():
    from tinymed.models import GPT, DynamicCache, GPTConfig

    model = GPT(GPTConfig(**GPT_SIZES)).eval()
    with pytest.raises(ValueError, match="key/value cache"):
        with capture_attention(model), tinymed.no_grad():
            model(np.array([[1, 2]]), past_key_values=DynamicCache())
