"""Autograd: composite expressions with broadcasting, the tape, no_grad, creation rules."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tests.helpers import grad, grad_tensor, gradcheck_cases, needs_torch
from tests.strategies import seeds, shapes
from tinymed import Tensor
from tinymed.gradcheck import TOLERANCE, check
from tinymed.gradcheck_suite import distinct, torch_comparison


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: the second drops leading axes and sets some to 1."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    drop = draw(st.integers(0, len(shape) - 1))
    other = tuple(1 if draw(st.booleans()) else n for n in shape[drop:])
    return (shape, other) if draw(st.booleans()) else (other, shape)


@given(broadcast_pair(), seeds)
def test_broadcasting_arithmetic(backend, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 2, shapes[0]), rng.uniform(0.5, 2, shapes[1])
    report = check(lambda a, b: (a * b - a / b + b - 3.0 * a) ** 2 / (1.0 + b), grad_tensor(a), grad_tensor(b))
    assert report.max_rel_error <= TOLERANCE, str(report)


@given(st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                        ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 3, 4), (5, 4, 2))]), seeds)
def test_matmul_numpy_semantics(backend, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    y = grad_tensor(a) @ grad_tensor(b)
    np.testing.assert_allclose(y.numpy(), np.matmul(a, b), rtol=1e-12)
    assert check(lambda a, b: a @ b, grad_tensor(a), grad_tensor(b)).max_rel_error <= TOLERANCE


@given(shapes(), st.data(), st.booleans(), seeds)
def test_reductions(backend, shape, data, keepdim, seed):
    x = distinct(np.random.default_rng(seed), shape)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    for op in ("sum", "mean", "max"):
        y = getattr(grad_tensor(x), op)(dim=dim, keepdim=keepdim)
        expected = getattr(np, "amax" if op == "max" else op)(x, axis=dim, keepdims=keepdim)
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
        report = check(lambda t, op=op: getattr(t, op)(dim=dim, keepdim=keepdim) * 1.5, grad_tensor(x))
        assert report.max_rel_error <= TOLERANCE, (op, str(report))


def test_shape_ops_and_indexing(backend, rng):
    x = rng.standard_normal((2, 3, 4))
    fns = [
        lambda t: t.reshape(4, 6).T * 2,
        lambda t: t.transpose(0, 2).flatten(),
        lambda t: t.permute(2, 0, 1).flatten(1),
        lambda t: t[1, :, ::2],
        lambda t: t[[0, 0, 1], [2, 2, 0]],  # repeated picks add up
        lambda t: t[t.data > 0],
        lambda t: t.exp().log() + t,
    ]
    for fn in fns:
        assert check(fn, grad_tensor(x)).max_rel_error <= TOLERANCE


def test_a_tensor_used_twice_gets_both_gradients():
    x = Tensor([3.0], requires_grad=True)
    y = x * x + x
    y.sum().backward()
    assert grad(x)[0] == pytest.approx(7.0)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(grad(x), [5.0, 5.0])


def test_no_grad_builds_no_graph():
    x = Tensor([1.0], requires_grad=True)
    with tinymed.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        y.backward()


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(3))


def test_creation_dtypes():
    assert Tensor([1.0, 2.0]).dtype == np.float32           # Python floats -> float32
    assert Tensor(np.zeros(2)).dtype == np.float64          # arrays keep their dtype
    assert Tensor([1, 2]).dtype.kind == "i"                 # integer labels stay integers
    assert (Tensor(np.ones(2, np.float32)) * 2.5).dtype == np.float32  # scalars do not promote
    with pytest.raises(TypeError, match="floating-point"):
        Tensor([1, 2], requires_grad=True)


def test_ndarray_on_the_left_still_builds_the_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    y = np.arange(3.0) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(grad(x), [0.0, 1.0, 2.0])


def test_manual_seed_is_reproducible():
    tinymed.manual_seed(7)
    a = tinymed.randn(3).numpy()
    tinymed.manual_seed(7)
    np.testing.assert_array_equal(a, tinymed.randn(3).numpy())


def test_shape_errors_name_the_op():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: \(2, 3\) @ \(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="reshape: cannot reshape"):
        Tensor(np.ones(6)).reshape(4, 2)
    with pytest.raises(ValueError, match="mul: operands of shapes"):
        Tensor(np.ones(3)) * Tensor(np.ones(2))


def test_clamp_passes_the_gradient_only_inside_the_bounds():
    from tinymed.gradcheck import check

    x = np.array([-2.0, -0.5, 0.3, 0.9, 3.0])
    t = tinymed.Tensor(x, requires_grad=True)
    t.clamp(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(grad(t), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(tinymed.Tensor(x).clamp(min=0.0).numpy(), np.maximum(x, 0))
    assert check(lambda a: (a.clamp(-1.0, 1.0) ** 2).sum(), tinymed.Tensor(x, requires_grad=True)).passed
    with pytest.raises(ValueError, match="min must be <= max"):
        tinymed.Tensor(x).clamp(1.0, -1.0)


@needs_torch
@pytest.mark.parametrize("case", gradcheck_cases("matmul", "arithmetic", "exp/log/pow", "sum/mean/max",
                                                 "reshape/transpose/flatten", "indexing"))
def test_tensor_ops_match_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10
