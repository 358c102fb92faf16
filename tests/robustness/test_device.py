"""The GPU path without a GPU: tests/device.py stands in for CuPy (its arrays refuse implicit
conversion to NumPy and count every transfer), so host/device mixing and hidden round trips show
up on any machine.  A training step moves its batch to the device and nothing back but the loss."""

import numpy as np
import pytest

import tinymed
import tinymed.nn.functional as F
from tests.device import TRANSFERS, DeviceMixingError, StrictArray, xp
from tinymed import nn, optim


@pytest.fixture
def device():
    with tinymed.backend.device_stand_in(xp, StrictArray), tinymed.using("cupy"):
        TRANSFERS.update(to_device=0, to_host=0)
        yield TRANSFERS


def test_the_stand_in_refuses_what_cupy_refuses(device):
    a = xp.asarray(np.ones(3))
    with pytest.raises(DeviceMixingError, match="implicit conversion"):
        np.asarray(a)
    with pytest.raises(DeviceMixingError, match="numpy.sum was called on a device array"):
        np.sum(a)
    with pytest.raises(DeviceMixingError, match="mixed with device arrays"):
        a + np.ones(3)
    assert isinstance(a.sum(), StrictArray)  # a 0-d device array, as CuPy's reductions give
    assert device == {"to_device": 1, "to_host": 0}


def test_a_pytorch_style_training_step_moves_the_batch_in_and_only_the_loss_out(device):
    tinymed.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3), nn.LayerNorm(3))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(3):
        x, y = rng.normal(size=(8, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 8)  # from a loader, on the host
        device.update(to_device=0, to_host=0)
        loss = F.cross_entropy(model(tinymed.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        assert device == {"to_device": 2, "to_host": 1}, device
    assert all(isinstance(p.data, StrictArray) for p in model.parameters())
    assert all(isinstance(v, StrictArray) for s in opt.state.values() for v in s.values() if hasattr(v, "shape"))
    assert np.all(np.isfinite(losses))


def test_a_keras_fit_step_moves_the_batch_in_and_only_the_loss_out(device):
    from tinymed.keras.callbacks import Callback
    from tinymed.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from tinymed.keras.models import Sequential

    per_step = []

    class Count(Callback):
        def on_train_batch_end(self, batch, logs=None):
            per_step.append(dict(device))
            device.update(to_device=0, to_host=0)

    tinymed.manual_seed(0)
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(), Flatten(),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.float32)
    device.update(to_device=0, to_host=0)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[Count()])
    assert per_step == [{"to_device": 2, "to_host": 1}] * 4


def test_sequence_models_run_on_the_device(device):
    tinymed.manual_seed(0)
    lstm, attention = nn.LSTM(3, 4, batch_first=True), nn.MultiheadAttention(4, 2, batch_first=True)
    x = tinymed.Tensor(np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32))
    out, _ = lstm(x)
    mixed, _ = attention(out, out, out, key_padding_mask=np.array([[False] * 5, [False] * 3 + [True] * 2]))
    mixed.sum().backward()
    assert isinstance(lstm.weight_ih_l0.grad, StrictArray) and isinstance(mixed.data, StrictArray)
