"""Per-example gradients (``tinymed.privacy.GradSampleModule``): for drawn Linear and Conv2d geometries
they equal one backward per example, on every backend; they add up to the ordinary gradient; shared
layers and repeated backward passes accumulate; Opacus's GradSampleModule gives the same on a PyTorch
twin; unsupported layers and unbatched inputs are refused."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn.functional as F
from tests.strategies import conv_geometry, seeds
from tinymed import Tensor, nn
from tinymed.privacy import GradSampleModule


def _on_backend(a):
    return Tensor(tinymed.backend.asarray(a))


def _per_example_backward(model, x, y, loss):
    """Each parameter's gradient for each example alone, by one backward per example."""
    trained = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    grads = {name: [] for name, _ in trained}
    for n in range(len(x)):
        model.zero_grad()
        loss(model(_on_backend(x[n:n + 1])), y[n:n + 1]).backward()
        for name, p in trained:
            grads[name].append(tinymed.backend.to_numpy(p.grad))
    return {name: np.stack(g) for name, g in grads.items()}


def _assert_per_sample_grads_match(model, x, y, loss, reduction="mean"):
    expected = _per_example_backward(model, x, y, loss)
    wrapped = GradSampleModule(model, loss_reduction=reduction)
    wrapped.zero_grad()
    loss(wrapped(_on_backend(x)), y).backward()
    scale = len(x) if reduction == "mean" else 1
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        gs = tinymed.backend.to_numpy(p.grad_sample)
        np.testing.assert_allclose(gs, expected[name], rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(gs.sum(axis=0) / scale, tinymed.backend.to_numpy(p.grad), rtol=1e-10, atol=1e-12)


def _mse(out, target):
    return ((out - Tensor(tinymed.backend.asarray(target))) ** 2).mean()


@given(st.integers(1, 4), st.lists(st.integers(1, 3), max_size=2), st.integers(1, 4), st.integers(1, 3),
       st.booleans(), st.sampled_from(["mean", "sum"]), seeds)
def test_linear_equals_one_backward_per_example(backend, n, middle, n_in, n_out, bias, reduction, seed):
    """Inputs (N, ..., in): the middle axes (positions of a sequence, say) are summed over."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(n_in, 3, bias=bias), nn.Tanh(), nn.Linear(3, n_out)).double()
    x, y = rng.standard_normal((n, *middle, n_in)), rng.standard_normal((n, *middle, n_out))
    loss = _mse if reduction == "mean" else (lambda out, t: ((out - Tensor(tinymed.backend.asarray(t))) ** 2).sum())
    _assert_per_sample_grads_match(model, x, y, loss, reduction)


@given(conv_geometry(max_batch=3), seeds)
def test_conv2d_equals_one_backward_per_example(backend, geometry, seed):
    x_shape, w_shape, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    conv = nn.Conv2d(w_shape[1], w_shape[0], w_shape[2:], stride=stride, padding=padding, dilation=dilation)
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten()).double()
    out_shape = model(Tensor(np.zeros((1,) + x_shape[1:]))).shape[1:]
    model = nn.Sequential(*model, nn.Linear(out_shape[0], 2)).double()
    x, y = rng.standard_normal(x_shape), rng.integers(0, 2, x_shape[0])
    _assert_per_sample_grads_match(model, x, y, F.cross_entropy)


def test_same_padding_and_a_frozen_layer(backend, rng):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding="same"), nn.LayerNorm([3, 5, 5]), nn.Flatten(),
                          nn.Linear(75, 2)).double()
    for p in model[1].parameters():
        p.requires_grad = False  # frozen: it needs no per-sample rule
    x, y = rng.standard_normal((4, 2, 5, 5)), rng.integers(0, 2, 4)
    _assert_per_sample_grads_match(model, x, y, F.cross_entropy)
    assert getattr(model[1].weight, "grad_sample", None) is None


def test_shared_layers_and_repeated_backward_accumulate(rng):
    shared = nn.Linear(3, 3).double()
    plain = nn.Sequential(shared, nn.Tanh(), shared)
    x, target = rng.standard_normal((5, 3)), np.zeros((5, 3))
    expected = _per_example_backward(plain, x, target, _mse)["0.weight"]  # before the hooks go on
    model = GradSampleModule(plain)
    _mse(model(Tensor(x)), target).backward()
    on_host = tinymed.backend.to_numpy
    np.testing.assert_allclose(on_host(shared.weight.grad_sample), expected, rtol=1e-10, atol=1e-12)
    _mse(model(Tensor(x)), target).backward()
    np.testing.assert_allclose(on_host(shared.weight.grad_sample), 2 * expected, rtol=1e-10, atol=1e-12)
    model.zero_grad()
    assert shared.weight.grad_sample is None and shared.weight.grad is None


def test_evaluation_records_nothing_and_an_empty_batch_gives_empty_grad_samples(rng):
    model = GradSampleModule(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 1)).double())
    with tinymed.no_grad():
        model(Tensor(rng.standard_normal((3, 1, 4, 4))))
    assert all(getattr(p, "grad_sample", None) is None for p in model.parameters())
    for layer, shape in ((nn.Conv2d(1, 2, 3), (0, 1, 4, 4)), (nn.Linear(8, 1), (0, 8))):
        GradSampleModule(layer)(Tensor(np.zeros(shape, np.float32))).sum().backward()
        assert [p.grad_sample.shape for p in layer.parameters()] == [(0,) + p.shape for p in layer.parameters()]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # Opacus's hooks on a first layer
@given(seeds)
def test_equal_to_opacus_on_a_pytorch_twin(seed):
    torch = pytest.importorskip("torch", reason="per-sample gradients are compared with Opacus")
    opacus = pytest.importorskip("opacus", reason="per-sample gradients are compared with Opacus")
    rng = np.random.default_rng(seed)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, stride=2, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(27, 4)).double()
    ours = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(27, 4)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x, y = rng.standard_normal((6, 2, 5, 5)), rng.integers(0, 4, 6)
    F.cross_entropy(GradSampleModule(ours)(Tensor(x)), y).backward()
    wrapped = opacus.GradSampleModule(theirs)
    torch.nn.functional.cross_entropy(wrapped(torch.tensor(x)), torch.tensor(y)).backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(tinymed.backend.to_numpy(p.grad_sample),
                                   q.grad_sample.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_bad_input_is_refused_by_name():
    with pytest.raises(ValueError, match=r"layer '1' \(LayerNorm\) has trainable parameters but no per-sample"):
        GradSampleModule(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)))
    with pytest.raises(ValueError, match=r"\(LSTM\)"):
        GradSampleModule(nn.LSTM(2, 2))
    with pytest.raises(TypeError, match="expected a tinymed.nn.Module"):
        GradSampleModule(lambda x: x)
    with pytest.raises(ValueError, match="loss_reduction must be 'mean' or 'sum'"):
        GradSampleModule(nn.Linear(2, 2), loss_reduction="batchmean")
    with pytest.raises(ValueError, match="Linear needs a batched input"):
        GradSampleModule(nn.Linear(2, 2))(Tensor(np.ones(2, np.float32), requires_grad=True))
    with pytest.raises(ValueError, match="Conv2d needs a batched input"):
        GradSampleModule(nn.Conv2d(1, 1, 2))(Tensor(np.ones((1, 3, 3), np.float32)))
