"""to_onnx: every supported layer exported, checked by onnx.checker, run in ONNX Runtime and
matched with tinymed's outputs (float32, 1e-5 relative), with a free batch size; the clear
errors for what cannot be exported."""

import sys

import numpy as np
import pytest
from hypothesis import given

import tinymed
from tinymed import nn
from tinymed.models import BERT, GPT, BertConfig, BertForMaskedLM, BertForSequenceClassification, GPT2Model, GPTConfig
from tinymed.nn import functional as F

from ..strategies import conv_geometry, pool_geometry, seeds

onnx = pytest.importorskip("onnx", reason="exporting needs onnx (pip install 'tinymed[export]')")
from tinymed.export import to_onnx  # noqa: E402  (after the skip: the module needs onnx to be useful)


def runtime():
    return pytest.importorskip("onnxruntime", reason="running the exported models needs onnxruntime")


def outputs_of(result):
    """A model's outputs as a flat list of arrays (an LSTM gives (output, (h_n, c_n)))."""
    if isinstance(result, tinymed.Tensor):
        return [result.numpy()]
    return [a for part in result if part is not None for a in outputs_of(part)]


def assert_runs_like_tinymed(model, example, path, batches=(), **kwargs):
    """Export ``model``, run the file in ONNX Runtime on the example and on ``batches`` (other batch
    sizes), and compare every output with the model's."""
    proto = to_onnx(model, example, path, **kwargs)
    assert onnx.load(str(path)) == proto
    model.eval()  # the file is the model in eval mode (dropout off)
    session = runtime().InferenceSession(str(path))
    for inputs in [example] + list(batches):
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), inputs)})
        with tinymed.no_grad():
            expected = outputs_of(model(*(tinymed.Tensor(a) for a in inputs)))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            scale = max(1.0, float(np.abs(e).max()))
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5 * scale)
    return proto


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


FEED_FORWARD = {
    "mlp": (lambda: nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1)), (4, 5)),
    "mlp on 3-D input": (lambda: nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 3), nn.GELU("tanh"),
                                               nn.Sigmoid(), nn.Linear(3, 2, bias=False)), (2, 4, 5)),
    "cnn": (lambda: nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.AvgPool2d(2, padding=1, count_include_pad=False),
        nn.Conv2d(4, 4, 3, padding="same", dilation=2, bias=False), nn.MaxPool2d(3, stride=1, padding=1),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 5 * 5, 2), nn.Identity()), (3, 3, 17, 17)),
    "pneumonia cnn": (lambda: nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 1), nn.Flatten(start_dim=0)), (5, 1, 16, 16)),
    "layer norms": (lambda: nn.Sequential(nn.LayerNorm((4, 5)), nn.Flatten(1, 2),
                                          nn.LayerNorm(20, elementwise_affine=False)), (3, 4, 5)),
}


@pytest.mark.parametrize("name", FEED_FORWARD)
def test_feed_forward_models_run_in_onnx_runtime(name, tmp_path):
    tinymed.manual_seed(0)
    build, shape = FEED_FORWARD[name]
    larger = (7,) + shape[1:]
    assert_runs_like_tinymed(build(), normal(*shape), tmp_path / "m.onnx", batches=[normal(*larger, seed=1)])


def test_a_keras_sequential_of_nn_layers_and_keras_flatten(tmp_path):
    from tinymed.keras import layers
    from tinymed.keras.models import Sequential

    tinymed.manual_seed(1)
    model = Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), layers.Flatten(), layers.Dropout(0.2), nn.Linear(2 * 6 * 6, 1))
    assert_runs_like_tinymed(model, normal(2, 1, 8, 8), tmp_path / "k.onnx")


def test_embedding_with_int64_and_int32_ids(tmp_path):
    tinymed.manual_seed(2)
    model = nn.Sequential(nn.Embedding(10, 6, padding_idx=0), nn.LayerNorm(6), nn.Linear(6, 2))
    ids = np.random.default_rng(0).integers(0, 10, (3, 7))
    assert_runs_like_tinymed(model, ids, tmp_path / "e.onnx", batches=[ids[:1]])
    assert_runs_like_tinymed(model, ids.astype(np.int32), tmp_path / "e32.onnx")


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_and_their_gate_orders(mode, batch_first, bidirectional, tmp_path):
    tinymed.manual_seed(3)
    model = getattr(nn, mode)(4, 5, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    example = normal(3, 2, 4)  # (T, N, I), or (N, T, I) with batch_first
    other = normal(3, 5, 4, seed=1) if not batch_first else normal(5, 2, 4, seed=1)  # another batch size
    proto = assert_runs_like_tinymed(model, example, tmp_path / "r.onnx", batches=[other])
    assert [o.name for o in proto.graph.output] == ["output", "output_1"] + (["output_2"] if mode == "LSTM" else [])


def test_a_recurrent_layer_without_biases(tmp_path):
    tinymed.manual_seed(4)
    assert_runs_like_tinymed(nn.GRU(3, 4, bias=False), normal(5, 2, 3), tmp_path / "g.onnx")


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention(batch_first, tmp_path):
    tinymed.manual_seed(5)
    model = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    q, k, v = (normal(5, 3, 8, seed=s) for s in range(3))
    if batch_first:
        q, k, v = (a.transpose(1, 0, 2).copy() for a in (q, k, v))
    assert_runs_like_tinymed(model, (q, k, v), tmp_path / "a.onnx", input_names=["query", "key", "value"],
                             output_names=["attn_output", "attn_weights"])


@pytest.mark.parametrize("opset", [17, 18])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layers(opset, norm_first, tmp_path):
    tinymed.manual_seed(6)
    model = nn.Sequential(nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first),
                          nn.TransformerEncoderLayer(8, 2, 16, norm_first=norm_first, activation=F.gelu))
    assert_runs_like_tinymed(model, normal(5, 3, 8), tmp_path / "t.onnx", batches=[normal(5, 1, 8, seed=2)],
                             opset=opset)


@given(geometry=conv_geometry(max_side=6), seed=seeds)
def test_conv2d_geometries(geometry, seed, tmp_path_factory):
    x_shape, w_shape, stride, padding, dilation = geometry
    tinymed.manual_seed(seed % 2**31)
    model = nn.Sequential(nn.Conv2d(w_shape[1], w_shape[0], w_shape[2:], stride=stride, padding=padding,
                                    dilation=dilation))
    assert_runs_like_tinymed(model, normal(*x_shape, seed=seed), tmp_path_factory.mktemp("conv") / "c.onnx")


@given(geometry=pool_geometry(), seed=seeds)
def test_pooling_geometries(geometry, seed, tmp_path_factory):
    x_shape, kernel, stride, padding = geometry
    model = nn.Sequential(nn.MaxPool2d(kernel, stride, padding), nn.AvgPool2d(1),
                          nn.AvgPool2d((1, 1), 1, 0, count_include_pad=False))
    pool = nn.Sequential(nn.AvgPool2d(kernel, stride, padding, count_include_pad=bool(seed % 2)))
    folder = tmp_path_factory.mktemp("pool")
    assert_runs_like_tinymed(model, normal(*x_shape, seed=seed), folder / "max.onnx")
    assert_runs_like_tinymed(pool, normal(*x_shape, seed=seed), folder / "avg.onnx")


def test_float64_models(tmp_path):
    tinymed.manual_seed(7)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    x = np.random.default_rng(0).standard_normal((4, 5))
    to_onnx(model, x, tmp_path / "d.onnx")
    (got,) = runtime().InferenceSession(str(tmp_path / "d.onnx")).run(None, {"input": x})
    with tinymed.no_grad():
        np.testing.assert_allclose(got, model(tinymed.Tensor(x)).numpy(), rtol=1e-12)


# ----- the graph, the modes and the batch -----------------------------------------------------------
def test_the_batch_axis_is_free_only_when_asked(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    dims = lambda proto: [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]  # noqa: E731
    assert dims(to_onnx(model, normal(4, 3), tmp_path / "free.onnx")) == ["batch", 3]
    assert dims(to_onnx(model, normal(4, 3), tmp_path / "fixed.onnx", dynamic_batch=False)) == [4, 3]
    assert dims(to_onnx(nn.LSTM(3, 2), normal(5, 4, 3), tmp_path / "lstm.onnx")) == [5, "batch", 3]


def test_export_runs_in_eval_mode_and_restores_the_mode(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.9), nn.Linear(3, 1))
    model.train()
    model[1].eval()  # a mixed state comes back as it was
    proto = to_onnx(model, normal(4, 3), tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == [True, True, False, True]
    assert "Identity" in [n.op_type for n in proto.graph.node]


def test_the_onnx_checker_accepts_the_file_and_its_opset_is_the_one_asked_for(tmp_path):
    to_onnx(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), normal(1, 3), tmp_path / "m.onnx", opset=15)
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    assert [o.version for o in proto.opset_import] == [15]


# ----- bad input ------------------------------------------------------------------------------------
class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)

    def forward(self, x):
        return self.linear(x).relu() * 2


def test_an_unsupported_layer_is_named_with_its_place(tmp_path):
    from tinymed.keras import layers

    with pytest.raises(TypeError, match=r"cannot export Custom \(at the model\)"):
        to_onnx(Custom(), normal(2, 3), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match=r"cannot export Custom \(at 1\.0\): tinymed exports Sequential models of"):
        to_onnx(nn.Sequential(nn.Linear(3, 3), nn.Sequential(Custom())), normal(2, 3), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match=r"cannot export Dense \(at 0\)"):
        to_onnx(nn.Sequential(layers.Dense(2, input_shape=(3,))), normal(2, 3), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_bad_arguments_are_named(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="opset must be an int from 13"):
        to_onnx(model, normal(2, 3), tmp_path / "m.onnx", opset=11)
    with pytest.raises(ValueError, match="LayerNorm .* needs opset >= 17"):
        to_onnx(nn.Sequential(nn.LayerNorm(3)), normal(2, 3), tmp_path / "m.onnx", opset=16)
    with pytest.raises(TypeError, match="model must be a tinymed Module"):
        to_onnx(lambda x: x, normal(2, 3), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match="example_input 0 must be an array"):
        to_onnx(model, "x", tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="output_names must be 1 different names"):
        to_onnx(model, normal(2, 3), tmp_path / "m.onnx", output_names=["a", "b"])
    with pytest.raises(ValueError, match="is already the name of a value inside the graph"):
        to_onnx(model, normal(2, 3), tmp_path / "m.onnx", output_names=["linear"])
    with pytest.raises(ValueError, match="a tuple .* which no following layer can take"):
        to_onnx(nn.Sequential(nn.GRU(3, 2), nn.Linear(2, 2)), normal(4, 2, 3), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="Conv2d is exported for batched images"):
        to_onnx(nn.Sequential(nn.Conv2d(1, 1, 3)), normal(1, 5, 5), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match="mixes dtypes"):
        to_onnx(nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2).double()), normal(2, 3), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="activation .* cannot be exported"):
        to_onnx(nn.TransformerEncoderLayer(4, 2, 8, activation=F.sigmoid), normal(3, 2, 4), tmp_path / "m.onnx")


def test_a_hook_that_changes_the_output_is_caught_by_the_verification(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    model[0].register_forward_hook(lambda module, args, output: output + 1.0)
    with pytest.raises(RuntimeError, match="differs from the model's"):
        to_onnx(model, normal(2, 3), tmp_path / "m.onnx")
    to_onnx(model, normal(2, 3), tmp_path / "m.onnx", verify=False)  # written, without the check


def test_without_onnx_runtime_the_reference_evaluator_verifies(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 1))
    to_onnx(model, normal(2, 1, 8, 8), tmp_path / "m.onnx")
    model[0].register_forward_hook(lambda module, args, output: output * 2.0)
    with pytest.raises(RuntimeError, match="run by onnx's reference evaluator, differs"):
        to_onnx(model, normal(2, 1, 8, 8), tmp_path / "m.onnx")


def test_without_onnx_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'tinymed\[export\]'"):
        to_onnx(nn.Sequential(nn.Linear(3, 2)), normal(2, 3), tmp_path / "m.onnx")


# ----- tinymed.models' GPT and BERT --------------------------------------------------------------------
def small_language_models():
    gpt = GPTConfig(vocab_size=40, n_positions=12, n_embd=12, n_layer=2, n_head=3)
    bert = BertConfig(vocab_size=41, hidden_size=12, num_hidden_layers=2, num_attention_heads=3, intermediate_size=20,
                      max_position_embeddings=12, num_labels=3)
    return {"GPT": lambda: GPT(gpt), "GPT2Model": lambda: GPT2Model(gpt), "BERT": lambda: BERT(bert),
            "BERT without pooler": lambda: BERT(bert, add_pooling_layer=False),
            "BertForSequenceClassification": lambda: BertForSequenceClassification(bert),
            "BertForMaskedLM": lambda: BertForMaskedLM(bert)}


@pytest.mark.parametrize("name, with_mask", [
    ("GPT", False), ("GPT2Model", False), ("BERT", False), ("BERT", True), ("BERT without pooler", True),
    ("BertForSequenceClassification", False), ("BertForSequenceClassification", True), ("BertForMaskedLM", True)])
def test_gpt_and_bert_run_in_onnx_runtime(name, with_mask, tmp_path):
    tinymed.manual_seed(8)
    model = small_language_models()[name]()
    rng = np.random.default_rng(9)
    ids, other = rng.integers(1, 40, (3, 9)), rng.integers(1, 40, (5, 9))
    if with_mask:
        mask, other_mask = np.ones_like(ids), np.ones_like(other)
        mask[1, 6:], other_mask[0, 2:] = 0, 0  # padding at the end of some sequences
        example, batches = (ids, mask), [(other, other_mask)]
    else:
        example, batches = ids, [other]
    assert_runs_like_tinymed(model, example, tmp_path / "lm.onnx", batches=batches)
