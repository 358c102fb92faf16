"""Hundreds of bad arguments to the ops, drawn at random: each is refused with a ValueError,
TypeError or IndexError that names the op -- never a bare error from inside a kernel, never a
silently wrong result."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tinymed import Tensor


def f32(*shape):
    return Tensor(np.random.default_rng(0).normal(size=shape).astype(np.float32))


# op name -> (call, valid arguments); every argument is replaced in turn by something wrong
OPS = {
    "linear": (F.linear, lambda: [f32(4, 3), f32(2, 3), f32(2)]),
    "conv2d": (F.conv2d, lambda: [f32(2, 3, 6, 6), f32(4, 3, 3, 3), f32(4)]),
    "max_pool2d": (F.max_pool2d, lambda: [f32(2, 3, 6, 6), 2]),
    "avg_pool2d": (F.avg_pool2d, lambda: [f32(2, 3, 6, 6), 2]),
    "softmax": (F.softmax, lambda: [f32(4, 5), 1]),
    "log_softmax": (F.log_softmax, lambda: [f32(4, 5), 1]),
    "relu": (F.relu, lambda: [f32(4, 5)]),
    "mse_loss": (F.mse_loss, lambda: [f32(4, 5), f32(4, 5)]),
    "cross_entropy": (F.cross_entropy, lambda: [f32(4, 5), np.array([0, 1, 4, 2])]),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, lambda: [f32(4, 5), f32(4, 5)]),
    "layer_norm": (F.layer_norm, lambda: [f32(4, 5), (5,), f32(5), f32(5)]),
    "embedding": (F.embedding, lambda: [np.array([[0, 2], [1, 3]]), f32(4, 3)]),
    "scaled_dot_product_attention": (F.scaled_dot_product_attention, lambda: [f32(2, 3, 4), f32(2, 5, 4),
                                                                             f32(2, 5, 6)]),
    "rnn_tanh": (F.rnn_tanh, lambda: [f32(5, 2, 3), f32(2, 4), f32(4, 3), f32(4, 4)]),
    "gru": (F.gru, lambda: [f32(5, 2, 3), f32(2, 4), f32(12, 3), f32(12, 4)]),
    "cat": (lambda *ts: F.cat(list(ts), dim=0), lambda: [f32(2, 3), f32(4, 3)]),
}

WRONG = st.sampled_from([
    None, "text", [["a"]], 3.5, -1, 0, (2, 2, 2), object(),
    np.zeros(()), np.zeros(7, np.float32), np.zeros((2, 9, 9, 9, 9), np.float32), np.zeros((3, 1), np.int64),
    np.zeros((4, 5), np.complex64), np.zeros((4, 5), bool), np.zeros((4, 5), np.float64), np.zeros((0, 5), np.float32),
])


def _describe(value):
    return f"{type(value).__name__} {getattr(value, 'shape', '')} {getattr(value, 'dtype', '')}"


@settings(max_examples=300)
@given(op=st.sampled_from(sorted(OPS)), data=st.data())
def test_a_wrong_argument_is_refused_by_name(op, data):
    call, valid = OPS[op]
    args = valid()
    position = data.draw(st.integers(0, len(args) - 1))
    args[position] = data.draw(WRONG)
    try:
        call(*args)
    except (ValueError, TypeError, IndexError) as err:
        assert str(err).startswith(f"{op}: ") or f"{op}(" in str(err) or f"{op}: " in str(err), (
            f"{op} with argument {position} = {_describe(args[position])}: the error does not name the op: {err!r}")
    # no exception: the value happened to be acceptable (an empty batch, say), which is fine


# ----- constructors: layers refuse bad sizes and probabilities before any data is seen -------------
def _layers():
    from tinymed import nn
    from tinymed.keras import layers

    return {
        "Linear": (nn.Linear, [3, 2]), "Conv2d": (nn.Conv2d, [3, 4, 3]), "MaxPool2d": (nn.MaxPool2d, [2]),
        "AvgPool2d": (nn.AvgPool2d, [2]), "LayerNorm": (nn.LayerNorm, [5]), "Embedding": (nn.Embedding, [10, 3]),
        "RNN": (nn.RNN, [3, 4]), "LSTM": (nn.LSTM, [3, 4]), "GRU": (nn.GRU, [3, 4]),
        "MultiheadAttention": (nn.MultiheadAttention, [8, 2]), "Dropout": (nn.Dropout, [0.5]),
        "Dense": (layers.Dense, [4]), "Conv2D": (layers.Conv2D, [4, 3]), "MaxPooling2D": (layers.MaxPooling2D, [2]),
    }


BAD_SIZES = st.sampled_from([None, "text", [["a"]], 3.5, -1, 0, (2, 2, 2), object(), np.zeros((3, 1)),
                             float("nan"), True, 10**12])


@settings(max_examples=150)
@given(data=st.data())
def test_a_layer_refuses_a_bad_size_by_name_at_construction(data):
    layers = _layers()
    name = data.draw(st.sampled_from(sorted(layers)))
    build, args = layers[name]
    args = list(args)
    position = data.draw(st.integers(0, len(args) - 1))
    args[position] = data.draw(BAD_SIZES)
    try:
        build(*args)
    except (ValueError, TypeError, MemoryError) as err:  # MemoryError: 10**12 weights, refused up front
        assert name in str(err), f"{name}({args}): the error does not name the layer: {err!r}"


# ----- training, tensors and seeds ------------------------------------------------------------------
def _compiled():
    from tinymed.keras.layers import Dense
    from tinymed.keras.models import Sequential

    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    return model


X, Y = np.ones((8, 3), np.float32), np.ones(8, np.float32)


@pytest.mark.parametrize("call, error, message", [
    (lambda: _compiled().fit(X, Y, epochs=-1, verbose=0), ValueError, "fit: epochs must be an integer >= 0"),
    (lambda: _compiled().fit(X, Y, epochs="a", verbose=0), ValueError, "fit: epochs must be an integer"),
    (lambda: _compiled().fit(X, Y, verbose=5), ValueError, "fit: verbose must be 'auto', 0, 1 or 2"),
    (lambda: _compiled().fit(X, Y, callbacks=3, verbose=0), TypeError, "fit: callbacks must be a list"),
    (lambda: _compiled().fit("abc", Y, verbose=0), TypeError, "fit x: expected an array or a Tensor of numbers"),
    (lambda: _compiled().fit(X, ["a"] * 8, verbose=0), TypeError, "fit y: expected an array or a Tensor of numbers"),
    (lambda: Tensor(object()), TypeError, "Tensor: data must be numbers"),
    (lambda: Tensor(["a", "b"]), TypeError, "Tensor: data must be numbers"),
    (lambda: __import__("tinymed").manual_seed("a"), TypeError, "manual_seed: seed must be a non-negative integer"),
    (lambda: F.mse_loss(Tensor(np.ones(3, np.float32)), None), TypeError, "mse_loss: target must be numeric"),
])
def test_training_and_tensor_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
