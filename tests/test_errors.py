"""Bad input gets a clear error naming the op, what it expected and what it got."""

import numpy as np
import pytest

import tinymed.nn.functional as F
from tinymed import Tensor

x4 = Tensor(np.zeros((2, 3, 5, 5), np.float32))
w4 = Tensor(np.zeros((4, 3, 3, 3), np.float32))


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv2d(Tensor(np.zeros((5, 5), np.float32)), w4),
     ValueError, r"conv2d: input must be 4-D .* got shape \(5, 5\)"),
    (lambda: F.conv2d(x4, Tensor(np.zeros((4, 2, 3, 3), np.float32))),
     ValueError, "conv2d: input has 3 channels but weight expects 2"),
    (lambda: F.conv2d(x4, Tensor(np.zeros((4, 3, 7, 7), np.float32))),
     ValueError, "conv2d: kernel size .* larger than the padded input"),
    (lambda: F.conv2d(x4, w4, stride=0), ValueError, "conv2d: stride must be"),
    (lambda: F.conv2d(x4, w4, padding=-1), ValueError, "conv2d: padding must be"),
    (lambda: F.conv2d(x4, w4, Tensor(np.zeros(3, np.float32))), ValueError, r"conv2d: bias must have shape \(4,\)"),
    (lambda: F.conv2d(x4, Tensor(np.zeros((4, 3, 3, 3)))),
     TypeError, "conv2d: input has dtype float32 but weight has dtype float64"),
    (lambda: F.conv2d(Tensor(np.zeros((2, 3, 5, 5), np.int64)), w4), TypeError, "conv2d: input must be floating point"),
    (lambda: F.conv2d(x4, w4, padding="same", stride=2), ValueError, "padding='same' needs stride 1"),
    (lambda: F.max_pool2d(x4, 7), ValueError, "max_pool2d: kernel_size .* larger than the padded input"),
    (lambda: F.max_pool2d(x4, 2, padding=2), ValueError, "max_pool2d: padding .* at most half"),
    (lambda: F.avg_pool2d(Tensor(np.zeros(5, np.float32)), 2), ValueError, "avg_pool2d: input must be 4-D"),
    (lambda: F.linear(Tensor(np.zeros((2, 3), np.float32)), Tensor(np.zeros((4, 5), np.float32))),
     ValueError, "linear: input's last dimension must equal in_features=5"),
    (lambda: F.cross_entropy(Tensor(np.zeros((2, 3), np.float32)), np.array([0.0, 1.0])),
     TypeError, "cross_entropy: target must hold integer class indices, got dtype float64"),
    (lambda: F.cross_entropy(Tensor(np.zeros((2, 3), np.float32)), np.array([0, 3])),
     ValueError, r"cross_entropy: target values must be class indices in \[0, 3\)"),
    (lambda: F.cross_entropy(Tensor(np.zeros((2, 3), np.float32)), np.array([0, 1, 2])),
     ValueError, r"cross_entropy: target must have shape \(2,\)"),
    (lambda: F.mse_loss(Tensor(np.zeros(3, np.float32)), np.zeros(4)),
     ValueError, "mse_loss: input and target must have the same shape"),
    (lambda: F.mse_loss(Tensor(np.zeros(3, np.float32)), np.zeros(3), reduction="avg"),
     ValueError, "mse_loss: reduction must be one of"),
    (lambda: F.binary_cross_entropy(Tensor(np.array([0.5, 2.0], np.float32)), np.zeros(2)),
     ValueError, "binary_cross_entropy: input must be probabilities"),
    (lambda: F.softmax(Tensor(np.zeros((2, 3), np.float32)), dim=2), IndexError,
     r"softmax: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda: F.relu([1.0, 2.0]), TypeError, "relu: input must be a Tensor or an array, got list"),
    (lambda: F.dropout(x4, p=1.5), ValueError, r"dropout: p must be a probability in \[0, 1\], got 1.5"),
])
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()

