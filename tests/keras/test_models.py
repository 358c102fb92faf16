"""tinymed.keras models: compile / fit / evaluate / predict, callbacks, and the articles' Keras
snippets S1, S2, S4 and S6 built from tinymed.keras's layers."""

import math

import numpy as np
import pytest

import tinymed
from tinymed import nn, optim
from tinymed.data import DataLoader
from tinymed.keras import callbacks, layers, losses, optimizers
from tinymed.keras.models import Sequential


def _blobs(n, size=12, classes=2, channels_last=True, seed=0):
    """Images of noise with a bright square whose position is the class (a spatial task)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(0, 0.3, (n, size, size, 1)).astype(np.float32)
    side = size // 2
    for i, c in enumerate(y):
        r, col = divmod(int(c), 2)
        x[i, r * side:(r + 1) * side - 2, col * side:(col + 1) * side - 2, 0] += 1.0
    return (x if channels_last else x.transpose(0, 3, 1, 2).copy()), y



# ----- compile / fit / evaluate / predict ---------------------------------------------------
def test_s6_as_written_runs_but_its_labels_are_not_linearly_separable():
    """Snippet S6 (article 003 §5.2): the four points lie on one line with alternating labels."""
    tinymed.manual_seed(0)
    x_train = np.array([[1, 2], [3, 4], [5, 6], [7, 8]])
    y_train = np.array([[0, 1], [1, 0], [0, 1], [1, 0]])
    model = Sequential([layers.Dense(2, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss=losses.BinaryCrossentropy(), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=300, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x_train, y_train, verbose=0)
    assert loss == pytest.approx(history.history["loss"][-1], rel=0.05)
    # a single linear unit per output cannot get all four alternating points right
    assert accuracy <= 0.75
    assert model.predict(np.array([[2, 3], [4, 5], [6, 7]])).shape == (3, 2)


def test_s6_structure_learns_separable_labels():
    tinymed.manual_seed(0)
    x = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.float32) / 8
    y = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    model = Sequential([layers.Dense(2, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.1), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=300, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


def test_s4_cnn_learns_a_ten_way_spatial_task():
    """Snippet S4 (article 002 §4.1) with its layers and compile call, on 28x28x1 images."""
    tinymed.manual_seed(0)
    x_train, y_train = _blobs(320, size=28, classes=4, seed=1)
    x_test, y_test = _blobs(160, size=28, classes=4, seed=2)
    model = Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.9  # chance is 0.25 on the classes present


def test_s1_and_s2_structure_learns_then_recompiles_with_sgd_momentum():
    """S1 (001 §4.1): Conv2D 32/64/128 + pooling, Dense 1024, Dense 1 sigmoid, adam + BCE;
    S2 (001 §4.2): recompiled with SGD(lr=0.01, momentum=0.9).  Images 30x30x3 instead of 224."""
    tinymed.manual_seed(0)
    x, y = _blobs(192, size=30, classes=2, seed=3)
    x = np.repeat(x, 3, axis=3)
    model = Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(30, 30, 3)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(128, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Flatten())
    model.add(layers.Dense(1024, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    assert model[7].weight.shape == (1024, 2 * 2 * 128)  # built by compile from input_shape
    first = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    loss = losses.BinaryCrossentropy()
    optimizer = optimizers.SGD(lr=0.01, momentum=0.9)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    second = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert second.history["loss"][-1] < first.history["loss"][0]
    assert second.history["accuracy"][-1] > 0.9


def test_compile_and_fit_errors():
    model = Sequential([layers.Dense(1, input_shape=(2,))])
    x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.float32)
    with pytest.raises(RuntimeError, match="call compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'"):
        model.compile(optimizer="adamz", loss="mse")
    with pytest.raises(ValueError, match="unknown metric 'kappa'"):
        model.compile(optimizer="adam", loss="mse", metrics=["kappa"])
    with pytest.raises(ValueError, match="a loss is needed"):
        model.compile(optimizer="adam")
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="x has 4 samples but y has 3"):
        model.fit(x, y[:3], verbose=0)
    with pytest.raises(ValueError, match="validation_split must be in"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(x, y, batch_size=0, verbose=0)


def test_validation_split_takes_the_last_samples_and_is_reported():
    tinymed.manual_seed(0)
    x = np.linspace(-1, 1, 50, dtype=np.float32).reshape(-1, 1)
    y = 3 * x[:, 0] + 1
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=0.3), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=40, batch_size=10, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert history.params["steps"] == 4  # 40 training samples
    assert history.history["val_loss"][-1] < 1e-3
    assert model.evaluate(x[40:], y[40:], verbose=0, return_dict=True)["loss"] == pytest.approx(
        history.history["val_loss"][-1], rel=1e-5)


def test_fit_accepts_a_dataloader_with_augmentation():
    from tinymed.data import RandomHorizontalFlip

    tinymed.manual_seed(0)
    x, y = _blobs(128, size=12, classes=2, channels_last=False, seed=6)
    model = Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 2))
    model.compile(optimizer="adam", loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    loader = DataLoader((x, y), batch_size=16, shuffle=True, transform=RandomHorizontalFlip(p=0.0, seed=0))
    history = model.fit(loader, epochs=5, validation_data=(x, y), verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9
    with pytest.raises(ValueError, match="give neither y nor batch_size"):
        model.fit(loader, y, verbose=0)


def test_progress_output(capsys):
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(np.ones((8, 1)), np.ones(8), epochs=2, batch_size=4, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("Epoch 2/2") and "loss" in out[1] and "mae" in out[1]
    model.fit(np.ones((8, 1)), np.ones(8), epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_nan_loss_stops_with_a_clear_error_and_finite_weights():
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=1e6), loss="mse")
    x = np.linspace(-100, 100, 16, dtype=np.float32).reshape(-1, 1)
    with pytest.raises(FloatingPointError, match=r"the loss is (nan|inf) at epoch \d+, batch \d+"):
        model.fit(x, 1e3 * x[:, 0], epochs=50, batch_size=16, verbose=0)
    assert all(np.all(np.isfinite(p.numpy())) for p in model.parameters())


def test_ctrl_c_returns_the_history_so_far(capsys):
    class Interrupt(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if len(self.model.history.epoch) == 2:
                raise KeyboardInterrupt

    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((8, 1)), np.ones(8), epochs=5, batch_size=4, callbacks=[Interrupt()], verbose=0)
    assert history.interrupted and history.epoch == [0, 1]
    assert "interrupted during epoch 3" in capsys.readouterr().err


# ----- callbacks ----------------------------------------------------------------------------
def test_early_stopping_stops_and_restores_the_best_weights():
    tinymed.manual_seed(0)
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
    y = 2 * x[:, 0]
    snapshots = []

    class Record(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["val_loss"], self.model.state_dict()))

    model = Sequential([layers.Dense(1, input_shape=(1,))])
    # a learning rate that overshoots: the loss falls, then rises
    model.compile(optimizer=optim.SGD(lr=1.02), loss="mse")
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=100, batch_size=32, validation_data=(x, y),
                        callbacks=[Record(), stop], verbose=0)
    assert len(history.epoch) < 100 and stop.stopped_epoch == history.epoch[-1]
    assert history.epoch[-1] - stop.best_epoch == 3  # patience 2: the third bad epoch stops
    best_loss, best_state = min(snapshots, key=lambda s: s[0])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, best_state[key])


def test_model_checkpoint_saves_the_best_epochs(tmp_path):
    tinymed.manual_seed(0)
    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(-1, 1)
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=0.1), loss="mse")
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch:02d}-{val_loss:.4f}.npz"), save_best_only=True)
    every = callbacks.ModelCheckpoint(tmp_path / "last.npz", monitor="loss")
    model.fit(x, 3 * x[:, 0], epochs=5, validation_data=(x, 3 * x[:, 0]), callbacks=[checkpoint, every], verbose=0)
    assert len(checkpoint.saved) == 5 and checkpoint.saved[0].endswith(".npz") and "best-01-" in checkpoint.saved[0]
    fresh = Sequential([layers.Dense(1, input_shape=(1,))])
    fresh.load_state_dict(tinymed.load(tmp_path / "last.npz"))
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    model.save_weights(tmp_path / "weights.npz")
    again = Sequential([layers.Dense(1, input_shape=(1,))]).load_weights(tmp_path / "weights.npz")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    with pytest.raises(KeyError, match="names 'auc'"):
        model.fit(x, x[:, 0], epochs=1, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "{auc}.npz"))], verbose=0)


def test_learning_rate_scheduler_applies_the_articles_schedule():
    model = Sequential([layers.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=0.5), loss="mse")
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / math.sqrt(epoch + 1))
    history = model.fit(np.ones((4, 1)), np.ones(4), epochs=4, callbacks=[schedule], verbose=0)
    np.testing.assert_allclose(history.history["lr"], [0.1 / math.sqrt(t) for t in (1, 2, 3, 4)])
    with pytest.raises(ValueError, match="finite number"):
        model.fit(np.ones((4, 1)), np.ones(4), callbacks=[callbacks.LearningRateScheduler(lambda e, lr: math.nan)],
                  verbose=0)


# ----- the Keras names tinymed.nn held until this release ------------------------------------
def test_old_keras_names_in_nn_still_work_with_a_warning():
    with pytest.warns(DeprecationWarning, match=r"tinymed\.keras\.layers\.Dense"):
        dense = nn.Dense(2, input_shape=(3,))
    assert isinstance(dense, layers.Dense)
    with pytest.warns(DeprecationWarning, match=r"tinymed\.keras\.callbacks\.EarlyStopping"):
        assert nn.EarlyStopping is callbacks.EarlyStopping
    with pytest.warns(DeprecationWarning, match=r"tinymed\.keras\.callbacks"):
        assert nn.callbacks is callbacks
    with pytest.raises(AttributeError, match="has no attribute 'Dense2'"):
        nn.Dense2  # noqa: B018


def test_compile_on_an_nn_sequential_warns_and_makes_it_a_keras_model():
    tinymed.manual_seed(0)
    old = nn.Sequential(nn.Linear(2, 1))
    before = old.state_dict()
    with pytest.warns(DeprecationWarning, match=r"tinymed\.keras\.models\.Sequential"):
        old.compile(optimizer="sgd", loss="mse")
    assert isinstance(old, Sequential) and list(old.state_dict()) == list(before)
    history = old.fit(np.ones((4, 2), np.float32), np.ones(4, np.float32), epochs=2, verbose=0)
    assert len(history.epoch) == 2
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        nn.Sequential(nn.Linear(2, 1)).fitt  # noqa: B018
