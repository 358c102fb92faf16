"""Autograd refuses to be wrong: tensors changed in place between forward and backward, a second
backward through a freed graph, and out-of-range dimensions all raise instead of giving a number."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn.functional as F
from tests.helpers import grad
from tinymed import Tensor, nn, optim

# (name, forward of (a, b), whether the op keeps a for its backward, whether it keeps b)
OPS = [
    ("mul", lambda a, b: (a * b).sum(), True, True),
    ("div", lambda a, b: (a / (b * b + 1.0)).sum(), True, True),
    ("view", lambda a, b: (a.reshape(3, 4) * b.T.reshape(3, 4)).sum(), True, True),
    ("matmul", lambda a, b: (a @ b.T).sum(), True, True),
    ("linear", lambda a, b: F.linear(a, b).sum(), True, True),
    ("add", lambda a, b: (a + b).sum(), False, False),
    ("sub", lambda a, b: (a - b).sum(), False, False),
    ("relu", lambda a, b: a.relu().sum() + b.sum(), True, False),
    ("pow", lambda a, b: (a ** 2).sum() + b.sum(), True, False),
    ("max", lambda a, b: a.max(dim=1).sum() + b.sum(), True, False),
    ("layer_norm", lambda a, b: F.layer_norm(a, (3,)).sum() + b.sum(), True, False),
]


def fresh(rng):
    a = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    return a, b


@pytest.mark.parametrize("name, forward, keeps_a, keeps_b", OPS, ids=[op[0] for op in OPS])
@pytest.mark.parametrize("which", ["a", "b"])
@given(seed=st.integers(0, 2**32 - 1), how=st.sampled_from(["*=", "-=", "+="]))
def test_changing_a_kept_input_in_place_makes_backward_refuse(backend, name, forward, keeps_a, keeps_b, which,
                                                              seed, how):
    rng = np.random.default_rng(seed)
    a, b = fresh(rng)
    loss = forward(a, b)
    target = a if which == "a" else b
    if how == "*=":
        target.data *= 2.0
    elif how == "-=":
        target.data -= 1.0
    else:
        target.data += 1.0
    if (keeps_a if which == "a" else keeps_b):
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 1; expected version 0"):
            loss.backward()
        assert a.grad is None and b.grad is None  # refused before any gradient was written
    else:
        # an op that did not keep the tensor gives the same gradient as without the change
        loss.backward()
        a2, b2 = fresh(np.random.default_rng(seed))
        forward(a2, b2).backward()
        np.testing.assert_allclose(grad(a), grad(a2))
        np.testing.assert_allclose(grad(b), grad(b2))


def test_changing_an_output_that_backward_needs_is_refused():
    x = Tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    for make in (lambda t: t.exp(), lambda t: t.sigmoid(), lambda t: t.tanh(), lambda t: t.softmax(0)):
        y = make(x)
        loss = y.sum()  # Sum keeps nothing: only the op that made y needs its values
        y.data *= 3.0
        with pytest.raises(RuntimeError, match="output of"):
            loss.backward()


def test_a_detached_view_shares_the_version_counter():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    loss = (x * x).sum()
    x.detach().data *= 2.0
    with pytest.raises(RuntimeError, match="input 0 of Mul"):
        loss.backward()


def test_training_loops_that_update_weights_between_iterations_keep_working(backend):
    tinymed.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).double()
    opt = optim.Adam(model.parameters(), lr=0.05)
    x, y = Tensor(np.random.default_rng(0).normal(size=(16, 3))), Tensor(np.ones((16, 1)))
    losses = []
    for _ in range(20):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with tinymed.no_grad():
            model[0].weight.data *= 0.999  # a manual weight decay between iterations
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_a_step_between_forward_and_backward_is_refused():
    model = nn.Linear(3, 1).double()
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = model(Tensor(np.ones((2, 3)))).sum()
    loss.backward()
    opt.step()
    stale = model(Tensor(np.ones((2, 3)))).sum()
    opt.step()  # changes the weights the stale graph saved
    with pytest.raises(RuntimeError, match="LinearFunction"):
        stale.backward()


# ----- a second backward -------------------------------------------------------------------------
def test_a_second_backward_through_a_freed_graph_raises():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="a second time.*retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(grad(x), [2.0, 4.0])  # unchanged by the refused call


def test_a_graph_sharing_a_freed_part_raises_too():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="the Mul that computed this part"):
        (h * 3.0).sum().backward()


def test_retain_graph_allows_a_second_backward_that_adds_up():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(grad(x), [4.0, 8.0])
    assert not y.is_leaf


# ----- dimensions --------------------------------------------------------------------------------
BAD_DIMS = [
    ("sum", lambda t: t.sum(dim=5)), ("sum", lambda t: t.sum(dim=(0, 9))), ("mean", lambda t: t.mean(dim=-3)),
    ("max", lambda t: t.max(dim=2)), ("argmax", lambda t: t.argmax(dim=2)), ("flatten", lambda t: t.flatten(7)),
    ("flatten", lambda t: t.flatten(0, -3)), ("transpose", lambda t: t.transpose(5, 0)),
    ("permute", lambda t: t.permute(0, 2)), ("softmax", lambda t: t.softmax(2)),
    ("log_softmax", lambda t: t.log_softmax(-3)), ("softmax", lambda t: F.softmax(t, 2)),
    ("cat", lambda t: F.cat([t, t], dim=2)), ("stack", lambda t: F.stack([t, t], dim=4)),
]


@pytest.mark.parametrize("op, call", BAD_DIMS)
def test_a_dimension_out_of_range_is_an_index_error_like_pytorch(op, call):
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=rf"{op}: Dimension out of range \(expected to be in range of \[-\d, \d\], "
                                         r"but got -?\d\)"):
        call(t)


@given(dim=st.integers(-6, 5), ndim=st.integers(0, 4))
def test_every_valid_dimension_means_what_numpy_means(dim, ndim):
    shape = (2, 3, 4, 5)[:ndim]
    t = Tensor(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))
    span = max(ndim, 1)
    if -span <= dim < span:
        expected = t.numpy().sum() if ndim == 0 else t.numpy().sum(axis=dim)
        np.testing.assert_array_equal(t.sum(dim=dim).numpy(), expected)
    else:
        with pytest.raises(IndexError, match=f"expected to be in range of \\[{-span}, {span - 1}\\]"):
            t.sum(dim=dim)


@pytest.mark.parametrize("call, error, message", [
    (lambda t: t.sum(dim=(0, 0)), ValueError, "appears more than once"),
    (lambda t: t.sum(dim=1.0), TypeError, "dim must be an integer"),
    (lambda t: t.mean(dim=True), TypeError, "dim must be an integer"),
    (lambda t: t.permute(0, 0), ValueError, "appears more than once"),
    (lambda t: t.flatten(1, 0), ValueError, "start_dim=1 comes after end_dim=0"),
])
def test_other_bad_dimension_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3))))
