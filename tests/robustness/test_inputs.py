"""Inputs that are legitimate but unusual: half precision on every backend, NumPy scalars where
Python numbers are expected, requests too large for memory, empty batches."""

import numpy as np
import pytest

import tinymed
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import chest_phantoms, train_test_split

HALF_OPS = {
    "conv2d": lambda x: F.conv2d(x, Tensor(np.full((2, 3, 3, 3), 0.1, np.float16))),
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(1),
    "layer_norm": lambda x: F.layer_norm(x, (6,)),
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(2, -1), np.array([0, 5])),
    "mse_loss": lambda x: F.mse_loss(x, Tensor(np.zeros(x.shape, np.float16))),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, Tensor(np.ones(x.shape, np.float16))),
}


@pytest.mark.parametrize("op", sorted(HALF_OPS))
def test_half_precision_runs_on_every_backend_and_agrees_with_the_reference(backend, op):
    """Numba has no float16: its backend runs the reference kernel for half-precision arrays."""
    data = np.random.default_rng(0).normal(size=(2, 3, 6, 6)).astype(np.float16)

    def run():
        x = Tensor(data, requires_grad=True)
        y = HALF_OPS[op](x)
        y.sum().backward()
        return y.numpy(), np.asarray(tinymed.backend.to_numpy(x.grad))

    y, grad = run()
    assert y.dtype == np.float16 and grad.dtype == np.float16
    with tinymed.using("numpy"):
        y_ref, grad_ref = run()
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(grad, grad_ref)


@pytest.mark.parametrize("size", [np.float32(0.25), np.float64(0.25), 0.25, np.int64(5), 5])
def test_split_sizes_may_be_numpy_scalars(size):
    train, test = train_test_split(np.arange(20), test_size=size, random_state=0)
    assert (len(train), len(test)) == (15, 5)


def test_a_data_set_too_large_for_memory_is_refused_up_front():
    with pytest.raises(MemoryError, match=r"chest_phantoms: 1000000000 images of 64x64 pixels \(float32\) need "
                                          r"16,384.0 GB, but only [\d,.]+ GB of memory is available"):
        chest_phantoms(10**9)


def test_flatten_keeps_an_empty_batch():
    from tinymed import nn

    x = Tensor(np.zeros((0, 3, 4, 4)), requires_grad=True)
    y = nn.Flatten()(x)
    y.sum().backward()
    assert y.shape == (0, 48) and tinymed.backend.to_numpy(x.grad).shape == (0, 3, 4, 4)
