"""Joining tensors (``ops/shape.py``): ``cat``, and ``stack`` through it.

Gradient: every element against float64 central differences, on every backend, for drawn
shapes, axes and numbers of pieces.  Agreement: there is no kernel (the backend's own
``concatenate`` and ``split``), so the gradient checks on every backend are the agreement.
PyTorch parity: forward and backward against ``torch.cat`` and ``torch.stack``.  Degenerate
inputs: one piece, empty pieces.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.helpers import (
    assert_close_to_torch,
    assert_gradients,
    backward,
    grad,
    grad_tensor,
    needs_torch,
    torch,
    torch_pair,
)
from tests.strategies import dtypes, seeds, shapes


@st.composite
def pieces(draw, stacked):
    """``(shapes, dim)``: 1 to 3 shapes that ``cat`` (or, when ``stacked``, ``stack``) can join along ``dim``."""
    shape = draw(shapes())
    count = draw(st.integers(1, 3))
    if stacked:
        return [shape] * count, draw(st.integers(-len(shape) - 1, len(shape)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    axis = dim % len(shape)
    lengths = [draw(st.integers(1, 3)) for _ in range(count)]
    return [shape[:axis] + (n,) + shape[axis + 1:] for n in lengths], dim


# ----- gradient ------------------------------------------------------------------------------------
@given(st.sampled_from(["cat", "stack"]), st.data(), seeds)
def test_gradients(backend, op, data, seed):
    piece_shapes, dim = data.draw(pieces(stacked=op == "stack"))
    rng = np.random.default_rng(seed)
    assert_gradients(lambda *ts: getattr(F, op)(list(ts), dim=dim), *[rng.standard_normal(s) for s in piece_shapes])


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@given(st.sampled_from(["cat", "stack"]), st.data(), dtypes, seeds)
def test_matches_torch(backend, op, data, dtype, seed):
    piece_shapes, dim = data.draw(pieces(stacked=op == "stack"))
    rng = np.random.default_rng(seed)
    pairs = [torch_pair(rng.standard_normal(s), dtype) for s in piece_shapes]
    y = getattr(F, op)([p[0] for p in pairs], dim=dim)
    ty = getattr(torch, op)([p[1] for p in pairs], dim=dim)
    assert_close_to_torch(y, ty, dtype, "forward")
    g = rng.standard_normal(y.shape).astype(dtype)
    backward(y, g)
    ty.backward(torch.tensor(g))
    for i, (ours, theirs) in enumerate(pairs):
        assert_close_to_torch(ours.grad, theirs.grad, dtype, f"gradient of piece {i}")


# ----- degenerate inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["cat", "stack"])
def test_one_piece(backend, op):
    """Joining one tensor copies it (stack adds an axis of length 1); the gradient passes through."""
    a = np.arange(6.0).reshape(2, 3)
    t = grad_tensor(a)
    y = getattr(F, op)([t], dim=1)
    np.testing.assert_array_equal(y.numpy(), a if op == "cat" else a[:, None])
    backward(y, 2 * np.ones(y.shape))
    np.testing.assert_array_equal(grad(t), np.full((2, 3), 2.0))


def test_empty_pieces(backend):
    """Pieces of length 0 along the joined axis add nothing and get empty gradients."""
    a, empty = grad_tensor(np.ones((2, 3))), grad_tensor(np.zeros((0, 3)))
    y = F.cat([empty, a, empty], dim=0)
    backward(y, np.arange(6.0).reshape(2, 3))
    assert y.shape == (2, 3) and grad(empty).shape == (0, 3)
    np.testing.assert_array_equal(grad(a), np.arange(6.0).reshape(2, 3))
    s = F.stack([grad_tensor(np.zeros((0, 3)))] * 2, dim=1)
    assert s.shape == (0, 2, 3)


@needs_torch
@pytest.mark.parametrize("op, piece_shapes, dim", [
    ("cat", [(0, 3), (2, 3), (0, 3)], 0), ("cat", [(2, 0), (2, 3)], 1), ("stack", [(0, 3), (0, 3)], 1),
    ("cat", [(2, 3)], -1), ("stack", [(2, 3)], 0)], ids=["empty rows", "empty columns", "stack empty", "one piece",
                                                         "stack one piece"])
def test_degenerate_inputs_match_torch(backend, op, piece_shapes, dim):
    rng = np.random.default_rng(0)
    pairs = [torch_pair(rng.standard_normal(s)) for s in piece_shapes]
    y, ty = getattr(F, op)([p[0] for p in pairs], dim=dim), getattr(torch, op)([p[1] for p in pairs], dim=dim)
    assert_close_to_torch(y, ty, np.float64, "forward")
    g = rng.standard_normal(y.shape)
    backward(y, g)
    ty.backward(torch.tensor(g))
    for i, (ours, theirs) in enumerate(pairs):
        assert_close_to_torch(ours.grad, theirs.grad, np.float64, f"gradient of piece {i}")
