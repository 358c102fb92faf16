"""Hundreds of bad arguments to the ops, drawn at random: each is refused with a ValueError,
TypeError or IndexError that names the op -- never a bare error from inside a kernel, never a
silently wrong result."""

import numpy as np
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
