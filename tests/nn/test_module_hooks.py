"""Forward hooks on Modules, with PyTorch's semantics (pre-hooks may replace the arguments,
hooks may replace the output, a handle removes them)."""

import numpy as np

import tinymed
from tinymed import nn


def test_hooks_see_and_may_replace_arguments_and_outputs():
    layer = nn.Linear(3, 2)
    seen = []
    pre = layer.register_forward_pre_hook(lambda module, args: (args[0] * 0.0,))
    post = layer.register_forward_hook(lambda module, args, output: seen.append((module, output.shape)) or output + 1.0)
    x = tinymed.Tensor(np.ones((4, 3), np.float32))
    out = layer(x).numpy()
    np.testing.assert_allclose(out, np.broadcast_to(layer.bias.numpy() + 1.0, (4, 2)))  # input zeroed, output + 1
    assert seen == [(layer, (4, 2))]
    pre.remove()
    post.remove()
    post.remove()  # removing twice is harmless
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy().T + layer.bias.numpy(), rtol=1e-6)
    assert len(seen) == 1


def test_a_hook_on_an_inner_layer_captures_its_activation_with_its_gradient():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    captured = {}
    model[1].register_forward_hook(lambda module, args, output: captured.setdefault("relu", output))
    x = tinymed.Tensor(np.random.default_rng(0).normal(size=(5, 3)))
    model.double()(x).sum().backward()
    assert captured["relu"].shape == (5, 4) and captured["relu"].requires_grad
