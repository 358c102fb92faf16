"""Recurrent layers (``kernels/reference/rnn.py``, ``ops/rnn.py``): the Elman RNN of article
formula F6, LSTM and GRU over a whole sequence, with hand-written BPTT; and the ``nn`` modules
built on them (stacked, bidirectional).

Gradient: every element against float64 central differences, on every backend, for drawn
lengths, batch and feature sizes, directions, biases and initial states.  Agreement: each fast
backend against the reference, contiguous and strided, and at saturated and tiny arguments.
PyTorch parity: modules with PyTorch's weights, forward and backward.  Degenerate inputs:
sequences of length 1, a batch of 1, an empty batch; an empty sequence is refused (as PyTorch
refuses it).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tests.helpers import (
    assert_close_to_torch,
    assert_gradients,
    assert_module_gradients_match,
    assert_report_passes,
    backward,
    compare,
    grad,
    grad_tensor,
    in_layout,
    load_torch_weights,
    needs_torch,
    on_fast_backends,
    reference,
    torch,
    torch_pair,
)
from tests.strategies import dtypes, layouts, recurrent_case, recurrent_sizes, seeds
from tinymed import Tensor, backend
from tinymed.gradcheck import check

GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}


# ----- gradient ------------------------------------------------------------------------------------
def _recurrent(op, arrays, reverse, with_bias, with_state):
    """Gradient check of one recurrent op; the initial state(s) and biases are optional."""
    names = ["x"] + (["h0", "c0"] if op == "lstm" else ["h0"] if with_state else []) + ["w_ih", "w_hh"]
    names += ["b_ih", "b_hh"] if with_bias else []

    def fn(*tensors):
        t = dict(zip(names, tensors))
        states = (t["h0"], t["c0"]) if op == "lstm" else (t.get("h0"),)
        out = getattr(F, op)(t["x"], *states, t["w_ih"], t["w_hh"], t.get("b_ih"), t.get("b_hh"), reverse=reverse)
        return F.cat(list(out), dim=0) if op == "lstm" else out

    assert_gradients(fn, *[arrays[n] for n in names])


@given(recurrent_case(GATES["rnn_tanh"]))
def test_rnn_tanh_gradients(backend, case):
    _recurrent("rnn_tanh", *case)


@given(recurrent_case(GATES["lstm"]))
def test_lstm_gradients(backend, case):
    _recurrent("lstm", *case)


@given(recurrent_case(GATES["gru"]))
def test_gru_gradients(backend, case):
    _recurrent("gru", *case)


@settings(max_examples=8)
@given(st.sampled_from(["RNN", "LSTM", "GRU"]), st.integers(1, 2), st.booleans(), st.booleans(), st.booleans(), seeds)
def test_stacked_bidirectional_module_gradients(backend, kind, layers, bidirectional, batch_first, with_state, seed):
    """Whole modules: every parameter of every layer and direction, the input and the states."""
    tinymed.manual_seed(seed % 1000)
    rng = np.random.default_rng(seed)
    module = getattr(nn, kind)(2, 3, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first).double()
    x = rng.standard_normal((2, 3, 2))
    count = layers * (2 if bidirectional else 1)
    states = [rng.standard_normal((count, 2 if batch_first else 3, 3)) for _ in range(2 if kind == "LSTM" else 1)]
    params = list(module.parameters())
    inputs = [grad_tensor(x)] + ([grad_tensor(s) for s in states] if with_state else []) + params

    def fn(x, *rest):
        hx = None
        if with_state:
            hx = (rest[0], rest[1]) if kind == "LSTM" else rest[0]
        out, final = module(x, hx)
        finals = list(final) if kind == "LSTM" else [final]
        return F.cat([t.reshape(-1) for t in [out] + finals])

    assert_report_passes(check(fn, *inputs))


# ----- agreement -----------------------------------------------------------------------------------
def _compare_recurrent_kernels(name, dtype, draw, steps, batch, n_in, hidden):
    """Forward and backward of the three recurrent kernels on ``name`` against the reference;
    ``draw(*shape, scale=1.0)`` makes an input."""
    x, h0, c0 = draw(steps, batch, n_in), draw(batch, hidden), draw(batch, hidden)
    dh, dc = draw(steps, batch, hidden), draw(steps, batch, hidden)
    # RNN (F6): W = weight_hh, U = weight_ih
    W, U, b = draw(hidden, hidden, scale=0.7), draw(hidden, n_in), draw(hidden)
    compare("rnn_tanh_forward", name, (x, h0), dtype, weights=dict(w_ih=U, w_hh=W, b=b))
    h = reference("rnn_tanh_forward", x, h0, w_ih=U, w_hh=W, b=b)
    compare("rnn_tanh_backward", name, (dh, x, h0, h), dtype, weights=dict(w_ih=U, w_hh=W))
    # LSTM
    w_ih, w_hh, b4 = draw(4 * hidden, n_in), draw(4 * hidden, hidden, scale=0.7), draw(4 * hidden)
    compare("lstm_forward", name, (x, h0, c0), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh, b=b4))
    h, c, gates = reference("lstm_forward", x, h0, c0, w_ih=w_ih, w_hh=w_hh, b=b4)
    compare("lstm_backward", name, (dh, dc, x, h0, c0, h, c, gates), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh))
    # GRU
    w_ih, w_hh = draw(3 * hidden, n_in), draw(3 * hidden, hidden, scale=0.7)
    b_ih, b_hh = draw(3 * hidden), draw(3 * hidden)
    compare("gru_forward", name, (x, h0), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh))
    h, gates = reference("gru_forward", x, h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh)
    compare("gru_backward", name, (dh, x, h0, h, gates), dtype, weights=dict(w_ih=w_ih, w_hh=w_hh))


@on_fast_backends
@given(recurrent_sizes(max_steps=6, max_batch=4, max_features=5), dtypes, layouts, seeds)
def test_kernels_agree_with_reference(name, sizes, dtype, strided, seed):
    rng = np.random.default_rng(seed)

    def draw(*shape, scale=1.0):
        return in_layout((scale * rng.standard_normal(shape)).astype(dtype), strided)

    _compare_recurrent_kernels(name, dtype, draw, *sizes)


@on_fast_backends
def test_kernels_agree_at_saturated_and_tiny_arguments(name):
    """tanh and the sigmoid at |x| up to 1e3 (no overflow, no NaN: exactly ±1, 0 or 1) and down
    to 1e-30 (agreement to the tolerance near 0; the numba kernels trade np.tanh's relative
    accuracy for tiny x for speed, see tinymed.kernels.numba.rnn)."""
    for dtype in (np.float64, np.float32):
        x = np.array([[[1e3, -1e3, 1e-30, -1e-30, 0.0, 30.0]]], dtype=dtype).transpose(2, 1, 0)
        h0 = np.zeros((1, 1), dtype)  # x is (T=6, N=1, I=1)
        eye, zero = np.eye(1, dtype=dtype), np.zeros(1, dtype)
        rnn = dict(w_ih=eye, w_hh=eye * 0, b=zero)
        compare("rnn_tanh_forward", name, (x, h0), dtype, weights=rnn)
        h = backend.to_numpy(backend.kernel("rnn_tanh_forward", backend=name)(x, h0, **rnn))
        assert h[0, 0, 0] == 1.0 and h[1, 0, 0] == -1.0 and h[4, 0, 0] == 0.0   # tanh(±1e3), tanh(0)
        four = np.ones((4, 1), dtype)
        lstm = dict(w_ih=four, w_hh=four * 0, b=np.zeros(4, dtype))
        compare("lstm_forward", name, (x, h0, h0), dtype, weights=lstm)
        _, _, gates = backend.kernel("lstm_forward", backend=name)(x, h0, h0, **lstm)
        gates = backend.to_numpy(gates)
        assert np.all(np.isfinite(gates)) and gates[0, 0, 0] == 1.0 and gates[1, 0, 0] == 0.0  # σ(±1e3)


# ----- PyTorch parity ------------------------------------------------------------------------------
@needs_torch
@settings(max_examples=12)
@given(st.sampled_from(["RNN", "LSTM", "GRU"]), dtypes, st.integers(1, 2), st.booleans(), st.booleans(),
       st.booleans(), st.booleans(), seeds)
def test_modules_match_torch(backend, kind, dtype, layers, bidirectional, batch_first, bias, with_state, seed):
    torch.manual_seed(seed % 2**31)
    rng = np.random.default_rng(seed)
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    ours, theirs = load_torch_weights(getattr(nn, kind)(3, 4, **kw), getattr(torch.nn, kind)(3, 4, **kw), dtype)
    steps, batch = 5, 2
    x, tx = torch_pair(rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3)), dtype)
    pairs = [(x, tx)]
    states = None, None
    if with_state:
        count = layers * (2 if bidirectional else 1)
        made = [torch_pair(rng.standard_normal((count, batch, 4)), dtype) for _ in range(2 if kind == "LSTM" else 1)]
        pairs += made
        ours_states = [m[0] for m in made]
        theirs_states = [m[1] for m in made]
        states = ((tuple(ours_states), tuple(theirs_states)) if kind == "LSTM" else (ours_states[0], theirs_states[0]))
    out, final = ours(x, states[0])
    tout, tfinal = theirs(tx, states[1])
    assert_close_to_torch(out, tout, dtype, "output")
    finals = list(final) if kind == "LSTM" else [final]
    tfinals = list(tfinal) if kind == "LSTM" else [tfinal]
    for f, tf in zip(finals, tfinals):
        assert_close_to_torch(f, tf, dtype, "final state")
    g = rng.standard_normal(out.shape).astype(dtype)
    loss = (out * Tensor(tinymed.backend.asarray(g))).sum() + sum(f.sum() * (i + 2) for i, f in enumerate(finals))
    tloss = (tout * torch.tensor(g)).sum() + sum(f.sum() * (i + 2) for i, f in enumerate(tfinals))
    loss.backward()
    tloss.backward()
    assert_module_gradients_match(ours, theirs, pairs, dtype)


@needs_torch
def test_unbatched_input_and_article_names(backend):
    """2-D input (L, H_in) as in PyTorch; W, U, b of F6 are weight_hh, weight_ih, bias_ih + bias_hh."""
    ours, theirs = load_torch_weights(nn.RNN(3, 4), torch.nn.RNN(3, 4, nonlinearity="tanh"), np.float64)
    x = np.random.default_rng(0).standard_normal((6, 3))
    out, h = ours(Tensor(x))
    tout, th = theirs(torch.tensor(x))
    assert_close_to_torch(out, tout, np.float64)
    assert_close_to_torch(h, th, np.float64)
    W, U = ours.weight_hh_l0.numpy(), ours.weight_ih_l0.numpy()
    b = ours.bias_ih_l0.numpy() + ours.bias_hh_l0.numpy()
    state = np.zeros(4)
    for t in range(6):  # F6 by hand
        state = np.tanh(W @ state + U @ x[t] + b)
    np.testing.assert_allclose(out.numpy()[-1], state, rtol=1e-12)


# ----- degenerate inputs ----------------------------------------------------------------------------
SHORT = [(1, 1), (1, 3), (4, 1)]
SHORT_IDS = ["T=1 N=1", "T=1", "N=1"]


@pytest.mark.parametrize("op", list(GATES))
@pytest.mark.parametrize("steps, batch", SHORT, ids=SHORT_IDS)
@pytest.mark.parametrize("reverse", [False, True])
def test_short_sequences_and_one_sample_gradients(backend, op, steps, batch, reverse):
    rng = np.random.default_rng(steps + 10 * batch)
    g, hidden = GATES[op], 3
    arrays = dict(x=rng.standard_normal((steps, batch, 2)), h0=rng.standard_normal((batch, hidden)),
                  c0=rng.standard_normal((batch, hidden)), w_ih=rng.standard_normal((g * hidden, 2)),
                  w_hh=rng.standard_normal((g * hidden, hidden)), b_ih=rng.standard_normal(g * hidden),
                  b_hh=rng.standard_normal(g * hidden))
    _recurrent(op, arrays, reverse, with_bias=True, with_state=True)


@on_fast_backends
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("steps, batch", SHORT + [(3, 0)], ids=SHORT_IDS + ["N=0"])
def test_short_sequences_and_empty_batches_agree_with_reference(name, dtype, steps, batch):
    rng = np.random.default_rng(0)

    def draw(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    _compare_recurrent_kernels(name, dtype, draw, steps, batch, 2, 3)


@needs_torch
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("steps, batch", SHORT + [(3, 0)], ids=SHORT_IDS + ["N=0"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_short_sequences_and_empty_batches_match_torch(backend, kind, steps, batch, dtype):
    """Length 1, batch 1, and a batch of 0 sequences (an empty output, parameter gradients of
    zeros), bidirectional so that the reversed direction sees them too."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    ours, theirs = load_torch_weights(getattr(nn, kind)(2, 3, bidirectional=True),
                                      getattr(torch.nn, kind)(2, 3, bidirectional=True), dtype)
    x, tx = torch_pair(rng.standard_normal((steps, batch, 2)), dtype)
    out, final = ours(x)
    tout, tfinal = theirs(tx)
    assert_close_to_torch(out, tout, dtype, "output")
    g = rng.standard_normal(out.shape).astype(dtype)
    backward(out, g)
    tout.backward(torch.tensor(g))
    assert_module_gradients_match(ours, theirs, [(x, tx)], dtype)
    if batch == 0:
        assert out.shape == (steps, 0, 6) and grad(x).shape == (steps, 0, 2)
        assert all(np.all(grad(p) == 0) for p in ours.parameters())


@pytest.mark.parametrize("kind, op", [("RNN", "rnn_tanh"), ("LSTM", "lstm"), ("GRU", "gru")])
def test_an_empty_sequence_is_refused_clearly(backend, kind, op):
    """A sequence of length 0 has no last state to return; PyTorch refuses it too ("Expected
    sequence length to be larger than 0 in RNN"), tinymed says so in its own words."""
    message = rf"{op}: input must be 3-D \(seq_len, batch, input_size\) with seq_len >= 1, got shape \(0, 2, 3\)"
    module_message = rf"{kind}: the sequence must have at least one step, got input shape \(0, 2, 3\)"
    with pytest.raises(ValueError, match=module_message):
        getattr(nn, kind)(3, 4).double()(np.zeros((0, 2, 3)))
    hidden = 4 * GATES[op]
    weights = (np.zeros((hidden, 3)), np.zeros((hidden, 4)))
    with pytest.raises(ValueError, match=message):
        getattr(F, op)(np.zeros((0, 2, 3)), *([None, None] if op == "lstm" else [None]), *weights)
