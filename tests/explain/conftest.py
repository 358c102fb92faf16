"""The models the explanation tests explain: a small CNN and an MLP in float64, each with the
PyTorch twin that holds the same weights (for the comparisons with Captum)."""

import numpy as np
import pytest

import tinymed
from tinymed import nn


def small_cnn(classes=3):
    """conv 3x3 -> ReLU -> max-pool -> conv 3x3 -> ReLU -> flatten -> linear, for (N, 1, 8, 8) images."""
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, classes))


def small_mlp(features=5):
    """The tabular model: linear -> tanh -> linear -> one logit per example, (N,)."""
    return nn.Sequential(nn.Linear(features, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(start_dim=0))


def torch_twin(model):
    """The same layers in PyTorch, float64, holding ``model``'s weights."""
    torch = pytest.importorskip("torch", reason="the comparisons with Captum need PyTorch")
    layers = []
    for layer in model:
        if isinstance(layer, nn.Conv2d):
            layers.append(torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                          padding=layer.padding))
        elif isinstance(layer, nn.Linear):
            layers.append(torch.nn.Linear(layer.in_features, layer.out_features))
        elif isinstance(layer, nn.MaxPool2d):
            layers.append(torch.nn.MaxPool2d(layer.kernel_size))
        elif isinstance(layer, nn.Flatten):
            layers.append(torch.nn.Flatten(layer.start_dim, layer.end_dim))
        else:
            layers.append({nn.ReLU: torch.nn.ReLU, nn.Tanh: torch.nn.Tanh}[type(layer)]())
    twin = torch.nn.Sequential(*layers).double().eval()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return twin


@pytest.fixture
def twin():
    """``twin(model)``: the PyTorch twin of a small model (the Captum comparisons skip without torch)."""
    return torch_twin


@pytest.fixture
def make_mlp():
    """``make_mlp(seed)``: a fresh float64 tabular model in eval mode."""
    def make(seed):
        tinymed.manual_seed(seed)
        return small_mlp().double().eval()
    return make


@pytest.fixture
def cnn():
    tinymed.manual_seed(0)
    return small_cnn().double().eval()


@pytest.fixture
def mlp(make_mlp):
    return make_mlp(1)


@pytest.fixture
def images():
    return np.random.default_rng(2).standard_normal((4, 1, 8, 8))
