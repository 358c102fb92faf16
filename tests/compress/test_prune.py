"""Pruning (``tinymed.compress.prune``) against ``torch.nn.utils.prune``: the same masks for the same
weights and amounts (one method, methods in turn, global), the same reparametrisation and state-dict
names; masks applied in forward and in the gradient on every backend; remove; bad input."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinymed
from tests.helpers import grad
from tests.strategies import seeds
from tinymed import Tensor, nn, optim
from tinymed.compress import prune

amounts = st.one_of(st.floats(0.0, 1.0), st.integers(0, 6))
norms = st.sampled_from([1, 2, 3.5, math.inf, -math.inf])  # "fro" is 2 (below); PyTorch has it for 2-D only
methods = st.one_of(st.tuples(st.just("l1"), amounts),
                    st.tuples(st.just("ln"), st.floats(0.0, 1.0), norms, st.integers(-2, 1)))


def _twins(seed):
    """A small conv + linear network in tinymed and in PyTorch with the same float64 weights."""
    torch = pytest.importorskip("torch", reason="pruning is compared with torch.nn.utils.prune")
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(16, 3)).double()
    ours = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _apply(library, layer, method):
    if method[0] == "l1":
        library.l1_unstructured(layer, "weight", amount=method[1])
    else:
        library.ln_structured(layer, "weight", amount=method[1], n=method[2], dim=method[3])


def _norms_tie(weight, method):
    """Whether ``ln_structured`` would meet channels of equal norm (PyTorch's choice among them is
    its sort's, not a rule; ours is the lowest index first, tested below)."""
    _, _, n, dim = method
    a = np.abs(weight)
    other = tuple(d for d in range(a.ndim) if d != dim % a.ndim)
    norms = a.max(other) if n == math.inf else a.min(other) if n == -math.inf else (a**n).sum(other) ** (1 / n)
    return len(np.unique(norms)) < len(norms)


def _masks_equal(ours, theirs):
    for (name, mask), (their_name, their_mask) in zip(sorted(ours.named_buffers()), sorted(theirs.named_buffers())):
        assert name == their_name
        np.testing.assert_array_equal(mask.numpy(), their_mask.numpy(), err_msg=name)


@given(st.lists(methods, min_size=1, max_size=3), st.sampled_from([0, 3]), seeds)
def test_masks_equal_pytorchs_for_methods_applied_in_turn(steps, layer, seed):
    """l1_unstructured and ln_structured, one after another on the same weight: PyTorch prunes each
    new amount from what is left, and so do we; where PyTorch refuses an amount, so do we."""
    tp = pytest.importorskip("torch.nn.utils.prune", reason="pruning is compared with torch.nn.utils.prune")
    ours, theirs = _twins(seed % 2**31)
    for method in steps:
        assume(method[0] == "l1" or not _norms_tie(ours[layer].weight.numpy(), method))
        try:
            _apply(tp, theirs[layer], method)
        except ValueError:
            with pytest.raises(ValueError, match="amount"):
                _apply(prune, ours[layer], method)
            break
        _apply(prune, ours[layer], method)
    _masks_equal(ours, theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


@given(amounts, st.booleans(), seeds)
def test_global_unstructured_equals_pytorchs(amount, pruned_before, seed):
    tp = pytest.importorskip("torch.nn.utils.prune", reason="pruning is compared with torch.nn.utils.prune")
    ours, theirs = _twins(seed % 2**31)
    if pruned_before:  # global pruning on top of a layer pruned on its own
        prune.l1_unstructured(ours[3], "weight", 0.25)
        tp.l1_unstructured(theirs[3], "weight", 0.25)
    pairs = [(0, "weight"), (3, "weight"), (3, "bias")]
    prune.global_unstructured([(ours[i], n) for i, n in pairs], prune.L1Unstructured, amount=amount)
    tp.global_unstructured([(theirs[i], n) for i, n in pairs], tp.L1Unstructured, amount=amount)
    _masks_equal(ours, theirs)


def test_forward_gradients_and_remove_match_pytorch(rng):
    torch = pytest.importorskip("torch", reason="pruning is compared with torch.nn.utils.prune")
    tp = pytest.importorskip("torch.nn.utils.prune", reason="pruning is compared with torch.nn.utils.prune")
    ours, theirs = _twins(0)
    prune.l1_unstructured(ours[0], "weight", 0.5)
    prune.ln_structured(ours[3], "weight", 1, n=2, dim=0)
    tp.l1_unstructured(theirs[0], "weight", 0.5)
    tp.ln_structured(theirs[3], "weight", 1, n=2, dim=0)
    x = rng.standard_normal((5, 2, 4, 4))
    y, y_torch = ours(Tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), y_torch.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.sum().backward()
    y_torch.sum().backward()
    for layer in (0, 3):
        np.testing.assert_allclose(tinymed.backend.to_numpy(ours[layer].weight_orig.grad),
                                   theirs[layer].weight_orig.grad.numpy(), atol=1e-12)
    for layer in (0, 3):
        prune.remove(ours[layer], "weight")
        tp.remove(theirs[layer], "weight")
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy(), err_msg=key)
    assert not prune.is_pruned(ours) and not tp.is_pruned(theirs)


# ----- behaviour, on every backend --------------------------------------------------------------
def test_the_mask_applies_in_forward_and_in_the_gradient(backend, rng):
    layer = nn.Linear(6, 4).double()
    layer.load_state_dict({"weight": rng.standard_normal((4, 6)), "bias": rng.standard_normal(4)})
    original = layer.weight
    prune.l1_unstructured(layer, "weight", amount=0.5)
    mask = layer.weight_mask.numpy()
    assert layer.weight_orig is original and "weight" not in dict(layer.named_parameters())
    assert mask.sum() == 12 and np.all(np.abs(original.numpy()[mask == 0]).max() <= np.abs(original.numpy()[mask == 1]))
    x = rng.standard_normal((3, 6))
    y = layer(Tensor(tinymed.backend.asarray(x)))
    np.testing.assert_allclose(y.numpy(), x @ (original.numpy() * mask).T + layer.bias.numpy(), rtol=1e-12)
    (y * y).sum().backward()
    assert np.all(grad(layer.weight_orig)[mask == 0] == 0) and np.any(grad(layer.weight_orig)[mask == 1] != 0)


def test_an_optimizer_made_before_pruning_fine_tunes_and_pruned_weights_stay_zero(rng):
    tinymed.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))  # tanh: no unit can die
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    prune.global_unstructured([(model[0], "weight"), (model[2], "weight")], prune.L1Unstructured, amount=0.6)
    x = Tensor(rng.standard_normal((16, 5)).astype(np.float32))
    y = Tensor(rng.standard_normal((16, 1)).astype(np.float32))
    before = model[0].weight_orig.numpy().copy()
    for _ in range(5):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    mask = model[0].weight_mask.numpy()
    assert np.array_equal(model[0].weight_orig.numpy()[mask == 0], before[mask == 0])  # no gradient reached them
    assert not np.array_equal(model[0].weight_orig.numpy()[mask == 1], before[mask == 1])
    assert np.all(model[0].weight.numpy()[mask == 0] == 0)
    assert prune.is_pruned(model)


@given(st.floats(0.0, 1.0), seeds)
def test_random_unstructured_prunes_the_rounded_amount_reproducibly(amount, seed):
    masks = []
    for _ in range(2):
        tinymed.manual_seed(seed)
        layer = prune.random_unstructured(nn.Conv2d(3, 5, 3), "weight", amount=amount)
        masks.append(layer.weight_mask.numpy())
    assert np.array_equal(masks[0], masks[1])
    assert masks[0].size - masks[0].sum() == round(amount * masks[0].size)


def test_frobenius_is_the_2_norm(rng):
    weight = rng.standard_normal((6, 3, 3, 3))
    masks = []
    for n in ("fro", 2):
        layer = nn.Conv2d(3, 6, 3).double()
        layer.load_state_dict({"weight": weight, "bias": np.zeros(6)})
        masks.append(prune.ln_structured(layer, "weight", amount=3, n=n, dim=0).weight_mask.numpy())
    np.testing.assert_array_equal(masks[0], masks[1])
    assert masks[0].sum() == 3 * 27


def test_ties_prune_the_lowest_index_first():
    layer = nn.Linear(4, 1, bias=False)
    layer.load_state_dict({"weight": np.array([[1.0, -1.0, 1.0, 2.0]])})
    prune.l1_unstructured(layer, "weight", amount=2)
    np.testing.assert_array_equal(layer.weight_mask.numpy(), [[0, 0, 1, 1]])
    rows = nn.Linear(2, 4, bias=False)
    rows.load_state_dict({"weight": np.array([[3.0, 0.0], [0.0, 3.0], [1.0, 1.0], [3.0, 0.0]])})
    prune.ln_structured(rows, "weight", amount=2, n=1, dim=0)  # L1 norms 3, 3, 2, 3
    np.testing.assert_array_equal(rows.weight_mask.numpy()[:, 0], [0, 1, 0, 1])


def test_identity_custom_mask_and_remove():
    layer = prune.identity(nn.Linear(3, 2), "weight")
    assert np.all(layer.weight_mask.numpy() == 1)
    prune.custom_from_mask(layer, "weight", np.array([[1, 0, 1], [0, 1, 1]]))
    np.testing.assert_array_equal(layer.weight_mask.numpy(), [[1, 0, 1], [0, 1, 1]])
    pruned = layer.weight.numpy()
    prune.remove(layer, "weight")
    assert isinstance(layer.weight, nn.Parameter) and np.array_equal(layer.weight.numpy(), pruned)
    assert set(layer.state_dict()) == {"weight", "bias"} and not prune.is_pruned(layer)


def test_a_refused_second_pruning_leaves_the_first_in_place(rng):
    layer = prune.l1_unstructured(nn.Linear(4, 3), "weight", amount=8)
    mask = layer.weight_mask.numpy().copy()
    with pytest.raises(ValueError, match="more than the 4 units"):
        prune.l1_unstructured(layer, "weight", amount=5)  # only 4 weights are left
    assert np.array_equal(layer.weight_mask.numpy(), mask) and prune.is_pruned(layer)
    x = Tensor(rng.standard_normal((2, 4)).astype(np.float32))
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ (layer.weight_orig.numpy() * mask).T + layer.bias.numpy(),
                               rtol=1e-6)
    prune.l1_unstructured(layer, "weight", amount=2)
    assert layer.weight_mask.numpy().sum() == 2 and len(layer._forward_pre_hooks) == 1


# ----- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, words", [
    (lambda m: prune.l1_unstructured(m, "weight", -1), ValueError, "amount=-1"),
    (lambda m: prune.l1_unstructured(m, "weight", 1.5), ValueError, "amount=1.5"),
    (lambda m: prune.l1_unstructured(m, "weight", 13), ValueError, "more than the 12"),
    (lambda m: prune.l1_unstructured(m, "weight", True), TypeError, "int or a float"),
    (lambda m: prune.l1_unstructured(m, "weight", "half"), TypeError, "int or a float"),
    (lambda m: prune.l1_unstructured(m, "kernel", 0.5), ValueError, "no parameter named 'kernel'"),
    (lambda m: prune.l1_unstructured(m, "weight", 0.5, importance_scores=np.ones(3)), ValueError, "shape"),
    (lambda m: prune.ln_structured(m, "bias", 1, n=2, dim=0), ValueError, "at least 2 dimensions"),
    (lambda m: prune.ln_structured(m, "weight", 1, n=2, dim=2), IndexError, "dim=2"),
    (lambda m: prune.ln_structured(m, "weight", 1, n=0, dim=0), ValueError, "n must be"),
    (lambda m: prune.remove(m, "weight"), ValueError, "has to be pruned"),
    (lambda m: prune.global_unstructured([(m, "weight")], prune.LnStructured, amount=1, n=2), TypeError,
     "only unstructured"),
    (lambda m: prune.global_unstructured([], prune.L1Unstructured, amount=1), ValueError, "empty"),
    (lambda m: prune.l1_unstructured("not a module", "weight", 0.5), TypeError, "tinymed.nn.Module"),
])
def test_bad_input_is_refused_by_name(call, error, words):
    layer = nn.Linear(4, 3)
    with pytest.raises(error, match=words):
        call(layer)
    assert "weight" in dict(layer.named_parameters())  # a refused call leaves the layer as it was
