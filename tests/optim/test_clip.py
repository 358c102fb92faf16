"""Gradient clipping: PyTorch's functions against torch.nn.utils, and the rules applied inside a step."""

import math

import numpy as np
import pytest

import tinymed
from tinymed import optim
from tinymed.optim.clip import clip_by_global_norm, clip_by_norm, clip_by_value


# ----- clipping functions vs torch.nn.utils -------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, rng):
    torch = pytest.importorskip("torch")
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), None]
    ours = [tinymed.Tensor(np.zeros((3, 4)), requires_grad=True), tinymed.Tensor(np.zeros(5), requires_grad=True),
            tinymed.Tensor(np.zeros(2), requires_grad=True)]
    theirs = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in [(3, 4), (5,), (2,)]]
    for p, q, g in zip(ours, theirs, grads):
        p.grad = None if g is None else g.copy()
        q.grad = None if g is None else torch.tensor(g)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    total_torch = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(total_torch.item(), rel=1e-12)
    for p, q in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert ours[2].grad is None


def test_clip_grad_value_matches_torch(rng):
    torch = pytest.importorskip("torch")
    g = rng.normal(size=(4, 3)) * 2
    p = tinymed.Tensor(np.zeros((4, 3)), requires_grad=True)
    q = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    p.grad, q.grad = g.copy(), torch.tensor(g)
    optim.clip_grad_value_(p, 0.7)
    torch.nn.utils.clip_grad_value_(q, 0.7)
    np.testing.assert_array_equal(p.grad, q.grad.numpy())


def test_clip_grad_norm_does_not_scale_a_shared_gradient_twice():
    a, b = tinymed.Tensor(np.ones(2), requires_grad=True), tinymed.Tensor(np.ones(2), requires_grad=True)
    (a + b).sum().backward()  # autograd may give both leaves the same gradient array
    optim.clip_grad_norm_([a, b], max_norm=1.0)
    expected = 1.0 / (2.0 + 1e-6)  # total norm sqrt(4) = 2
    np.testing.assert_allclose(a.grad, [expected] * 2)
    np.testing.assert_allclose(b.grad, [expected] * 2)


def test_clip_grad_norm_errors():
    p = tinymed.Tensor(np.ones(2), requires_grad=True)
    p.grad = np.array([np.nan, 1.0])
    with pytest.raises(ValueError, match="NaN or Inf"):
        optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type"):
        optim.clip_grad_norm_([p], 1.0, norm_type=0)
    assert optim.clip_grad_norm_([tinymed.Tensor(np.ones(2), requires_grad=True)], 1.0) == 0.0


# ----- the rules inside a step (Keras's clipvalue, clipnorm, global_clipnorm) ---------------
def test_rules_inside_a_step():
    g1, g2 = np.array([3.0, -4.0]), np.array([0.3, 0.4, -1.2])  # norms 5 and 1.3; global norm sqrt(26.69)
    grads = [g1, None, g2]
    for rule in (clip_by_value, clip_by_norm, clip_by_global_norm):
        clipped = rule(grads, 2.0)
        assert clipped[1] is None
        np.testing.assert_array_equal(g1, [3.0, -4.0])  # the arrays given are not changed
    np.testing.assert_array_equal(clip_by_value(grads, 1.0)[2], [0.3, 0.4, -1.0])
    np.testing.assert_allclose(clip_by_norm(grads, 2.0)[0], [1.2, -1.6])  # each on its own: g1 * 2/5
    np.testing.assert_array_equal(clip_by_norm(grads, 2.0)[2], g2)  # already within the bound
    scale = 2.0 / math.sqrt(26.69)  # all together
    np.testing.assert_allclose(clip_by_global_norm(grads, 2.0)[0], g1 * scale)
    np.testing.assert_allclose(clip_by_global_norm(grads, 2.0)[2], g2 * scale)
