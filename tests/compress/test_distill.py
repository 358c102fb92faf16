"""Knowledge distillation's loss (``tinymed.compress.distillation_loss``): the formula of its docstring
written out in NumPy, PyTorch's ``kl_div``/``cross_entropy`` form, its gradient against central
differences on every backend and against the closed form alpha*T*(q - p)/N, its limits (alpha 0 is
cross-entropy, equal logits cost nothing), no gradient into the teacher; bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.helpers import assert_gradients, grad_tensor
from tests.strategies import seeds
from tinymed import Tensor, backend
from tinymed.compress import distillation_loss

temperatures = st.sampled_from([0.5, 1.0, 2.0, 4.0, 20.0])
alphas = st.sampled_from([0.0, 0.3, 0.9, 1.0])


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _case(seed, n=None, c=None):
    rng = np.random.default_rng(seed)
    n, c = n or int(rng.integers(1, 6)), c or int(rng.integers(2, 5))
    return 3 * rng.standard_normal((n, c)), 3 * rng.standard_normal((n, c)), rng.integers(0, c, n)


@given(temperatures, alphas, seeds)
def test_the_docstring_formula(T, alpha, seed):
    s, t, y = _case(seed)
    p, q = _softmax(t / T), _softmax(s / T)
    kl = np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))
    ce = np.mean(-np.log(_softmax(s)[np.arange(len(y)), y]))
    loss = distillation_loss(Tensor(s), t, y, T=T, alpha=alpha).item()
    assert loss == pytest.approx(alpha * T * T * kl + (1 - alpha) * ce, rel=1e-12, abs=1e-12)


@given(temperatures, alphas, seeds)
def test_gradient_against_central_differences(backend, T, alpha, seed):
    s, t, y = _case(seed)
    assert_gradients(lambda s: distillation_loss(s, t, y, T=T, alpha=alpha), s)


@given(temperatures, seeds)
def test_the_soft_terms_gradient_is_alpha_T_times_q_minus_p_over_N(T, seed):
    """Why the T^2: d/ds of T^2 KL(p || q) is T (q - p), so alpha keeps its meaning at any T."""
    s, t, y = _case(seed)
    st_ = grad_tensor(s)
    distillation_loss(st_, t, y, T=T, alpha=1.0).backward()
    expected = T * (_softmax(s / T) - _softmax(t / T)) / len(y)
    np.testing.assert_allclose(backend.to_numpy(st_.grad), expected, rtol=1e-10, atol=1e-12)


@given(temperatures, alphas, seeds)
def test_equals_pytorchs_kl_div_and_cross_entropy(T, alpha, seed):
    torch = pytest.importorskip("torch", reason="the loss is compared with PyTorch's kl_div and cross_entropy")
    tf = torch.nn.functional
    s, t, y = _case(seed)
    ours, theirs = grad_tensor(s), torch.tensor(s, requires_grad=True)
    distillation_loss(ours, t, y, T=T, alpha=alpha).backward()
    kd = tf.kl_div(tf.log_softmax(theirs / T, dim=1), tf.softmax(torch.tensor(t) / T, dim=1), reduction="batchmean")
    loss = alpha * T * T * kd + (1 - alpha) * tf.cross_entropy(theirs, torch.tensor(y))
    loss.backward()
    np.testing.assert_allclose(backend.to_numpy(ours.grad), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_limits_and_the_teacher_gets_no_gradient(rng):
    s, t, y = _case(0, n=4, c=3)
    plain = F.cross_entropy(Tensor(s), y).item()
    assert distillation_loss(Tensor(s), t, y, T=3.0, alpha=0.0).item() == pytest.approx(plain)
    assert distillation_loss(Tensor(s), s, y, T=3.0, alpha=1.0).item() == pytest.approx(0.0, abs=1e-12)
    teacher = Tensor(t, requires_grad=True)
    distillation_loss(grad_tensor(s), teacher, y).backward()
    assert teacher.grad is None
    saturated = np.array([[1e4, -1e4, 0.0]])  # a teacher certain to the last bit: p has exact zeros
    assert np.isfinite(distillation_loss(Tensor(s[:1]), saturated, y[:1], T=1.0).item())


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(T=0.0), ValueError, "temperature T must be a positive"),
    (dict(T=float("nan")), ValueError, "temperature"),
    (dict(alpha=1.5), ValueError, "alpha must be in"),
    (dict(teacher_logits=np.zeros((4, 2))), ValueError, "must both be"),
    (dict(student_logits=np.zeros((4, 3), np.int64)), TypeError, "floating point"),
    (dict(student_logits=np.zeros((0, 3)), teacher_logits=np.zeros((0, 3)), labels=np.zeros(0, np.int64)),
     ValueError, "empty"),
    (dict(labels=np.zeros(4)), TypeError, "integer class"),
])
def test_bad_input_is_refused_by_name(kwargs, error, words):
    s, t, y = _case(0, n=4, c=3)
    args = dict(student_logits=Tensor(s), teacher_logits=t, labels=y) | kwargs
    with pytest.raises(error, match=words):
        distillation_loss(**args)
