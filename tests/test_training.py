"""Keras-style layers, compile/fit/evaluate/predict, callbacks, losses and DataLoader."""

import math

import numpy as np
import pytest

import tinymed
from tinymed import nn, optim
from tinymed.data import DataLoader, TensorDataset
from tinymed.nn import functional as F


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


# ----- Keras layers ------------------------------------------------------------------------
def test_dense_infers_its_input_size_and_uses_glorot():
    tinymed.manual_seed(0)
    layer = nn.Dense(8, activation="relu")
    assert not layer.built
    out = layer(tinymed.Tensor(np.ones((3, 5), np.float32)))
    assert out.shape == (3, 8) and layer.weight.shape == (8, 5)
    limit = math.sqrt(6 / (5 + 8))
    assert np.abs(layer.weight.numpy()).max() <= limit and np.all(layer.bias.numpy() == 0)
    assert np.all(out.numpy() >= 0)


def test_conv2d_channels_last_equals_the_nchw_op():
    tinymed.manual_seed(1)
    layer = nn.Conv2D(4, (3, 3), padding="same", input_shape=(7, 6, 2))
    x = np.random.default_rng(0).normal(size=(2, 7, 6, 2)).astype(np.float32)
    got = layer(tinymed.Tensor(x)).numpy()
    nchw = F.conv2d(tinymed.Tensor(x.transpose(0, 3, 1, 2)), layer.weight, layer.bias, padding=1).numpy()
    assert got.shape == (2, 7, 6, 4)
    np.testing.assert_allclose(got, nchw.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)


def test_pooling_and_flatten_follow_keras_channels_last_order():
    x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    pooled = nn.MaxPooling2D((2, 2))(tinymed.Tensor(x)).numpy()
    expected = x.reshape(2, 2, 2, 2, 2, 3).max(axis=(2, 4))
    np.testing.assert_array_equal(pooled, expected)
    avg = nn.AveragePooling2D()(tinymed.Tensor(x)).numpy()
    np.testing.assert_allclose(avg, x.reshape(2, 2, 2, 2, 2, 3).mean(axis=(2, 4)))
    flat = nn.Flatten()(tinymed.Tensor(pooled)).numpy()
    np.testing.assert_array_equal(flat, pooled.reshape(2, -1))  # (H, W, C) order, as Keras


@pytest.mark.parametrize("build, match", [
    (lambda: nn.Dense(0), "units must be a positive integer"),
    (lambda: nn.Dense(3, activation="swishy"), "unknown activation 'swishy'"),
    (lambda: nn.Conv2D(4, (3, 3), padding="full"), "padding must be 'valid' or 'same'"),
    (lambda: nn.Conv2D(4, 3, strides=2, padding="same"), "strides 1 only"),
    (lambda: nn.Conv2D(4, (3, 3), input_shape=(8, 8)), r"expected images \(H, W, C\)"),
    (lambda: nn.MaxPooling2D((2, 0)), "pool_size must be a positive int"),
])
def test_keras_layer_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_dense_rejects_a_wrong_feature_size():
    layer = nn.Dense(2, input_shape=(3,))
    with pytest.raises(ValueError, match="expected inputs with 3 features"):
        layer(tinymed.Tensor(np.ones((4, 5), np.float32)))


# ----- losses ------------------------------------------------------------------------------
def test_keras_losses_match_their_formulas():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.0, 1.0, 0.0]], np.float32)
    y = np.array([0, 2, 0])
    sparse = nn.SparseCategoricalCrossentropy()(y, tinymed.Tensor(p)).item()
    expected = -np.mean(np.log(np.clip(p[np.arange(3), y], 1e-7, 1)))
    assert sparse == pytest.approx(expected, rel=1e-6)
    onehot = np.eye(3, dtype=np.float32)[y]
    assert nn.CategoricalCrossentropy()(onehot, tinymed.Tensor(p)).item() == pytest.approx(expected, rel=1e-6)
    logits = np.log(np.array([[0.7, 0.2, 0.1]], np.float32))
    ce = nn.SparseCategoricalCrossentropy(from_logits=True)(np.array([1]), tinymed.Tensor(logits)).item()
    assert ce == pytest.approx(-np.log(0.2), rel=1e-5)
    bce = nn.BinaryCrossentropy()(np.array([1.0, 0.0]), tinymed.Tensor(np.array([[0.8], [0.4]], np.float32)))
    assert bce.item() == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2, rel=1e-6)


def test_loss_names_and_errors():
    assert isinstance(nn.losses.get("binary_crossentropy"), nn.BinaryCrossentropy)
    assert isinstance(nn.losses.get("MSE"), nn.MeanSquaredError)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        nn.losses.get("hinge")
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        nn.SparseCategoricalCrossentropy()(np.array([3]), tinymed.Tensor(np.full((1, 3), 1 / 3, np.float32)))


def test_sparse_categorical_gradient_matches_central_differences():
    from tinymed.gradcheck import check

    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.9, (4, 3))
    y = np.array([0, 2, 1, 2])
    report = check(lambda t: nn.SparseCategoricalCrossentropy()(y, t), tinymed.Tensor(p, requires_grad=True))
    assert report.passed, report


# ----- compile / fit / evaluate / predict ---------------------------------------------------
def test_s6_as_written_runs_but_its_labels_are_not_linearly_separable():
    """Snippet S6 (article 003 §5.2): the four points lie on one line with alternating labels."""
    tinymed.manual_seed(0)
    x_train = np.array([[1, 2], [3, 4], [5, 6], [7, 8]])
    y_train = np.array([[0, 1], [1, 0], [0, 1], [1, 0]])
    model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer=optim.Adam(learning_rate=0.05), loss=nn.BinaryCrossentropy(), metrics=["accuracy"])
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
    model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer=optim.Adam(learning_rate=0.1), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=300, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


def test_s4_cnn_learns_a_ten_way_spatial_task():
    """Snippet S4 (article 002 §4.1) with its layers and compile call, on 28x28x1 images."""
    tinymed.manual_seed(0)
    x_train, y_train = _blobs(320, size=28, classes=4, seed=1)
    x_test, y_test = _blobs(160, size=28, classes=4, seed=2)
    model = nn.Sequential()
    model.add(nn.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(nn.MaxPooling2D((2, 2)))
    model.add(nn.Flatten())
    model.add(nn.Dense(10, activation="softmax"))
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
    model = nn.Sequential()
    model.add(nn.Conv2D(32, (3, 3), activation="relu", input_shape=(30, 30, 3)))
    model.add(nn.MaxPooling2D((2, 2)))
    model.add(nn.Conv2D(64, (3, 3), activation="relu"))
    model.add(nn.MaxPooling2D((2, 2)))
    model.add(nn.Conv2D(128, (3, 3), activation="relu"))
    model.add(nn.MaxPooling2D((2, 2)))
    model.add(nn.Flatten())
    model.add(nn.Dense(1024, activation="relu"))
    model.add(nn.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    assert model[7].weight.shape == (1024, 2 * 2 * 128)  # built by compile from input_shape
    first = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    loss = nn.BinaryCrossentropy()
    optimizer = optim.SGD(lr=0.01, momentum=0.9)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    second = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert second.history["loss"][-1] < first.history["loss"][0]
    assert second.history["accuracy"][-1] > 0.9


class LeNet(nn.Module):
    """Snippet S7 (article 004 §4), line for line."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def _cifar_like(n, seed):
    x, y = _blobs(n, size=32, classes=4, channels_last=False, seed=seed)
    return np.repeat(x, 3, axis=1), y


def test_s7_pytorch_style_loop_learns():
    tinymed.manual_seed(0)
    trainloader = DataLoader(TensorDataset(*_cifar_like(400, 4)), batch_size=20, shuffle=True)
    testloader = DataLoader(TensorDataset(*_cifar_like(200, 5)), batch_size=100, shuffle=False)
    model = LeNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for epoch in range(4):
        running = 0.0
        for inputs, labels in trainloader:
            optimizer.zero_grad()
            loss = criterion(model(tinymed.Tensor(inputs)), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
        losses.append(running / len(trainloader))
    correct = total = 0
    with tinymed.no_grad():
        for images, labels in testloader:
            predicted = model(tinymed.Tensor(images)).numpy().argmax(axis=1)
            total += len(labels)
            correct += int((predicted == labels).sum())
    assert losses[-1] < losses[0]
    assert correct / total > 0.8  # chance: 0.25


def test_compile_and_fit_errors():
    model = nn.Sequential([nn.Dense(1, input_shape=(2,))])
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
    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
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
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 2))
    model.compile(optimizer="adam", loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    loader = DataLoader((x, y), batch_size=16, shuffle=True, transform=RandomHorizontalFlip(p=0.0, seed=0))
    history = model.fit(loader, epochs=5, validation_data=(x, y), verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9
    with pytest.raises(ValueError, match="give neither y nor batch_size"):
        model.fit(loader, y, verbose=0)


def test_progress_output(capsys):
    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(np.ones((8, 1)), np.ones(8), epochs=2, batch_size=4, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("Epoch 2/2") and "loss" in out[1] and "mae" in out[1]
    model.fit(np.ones((8, 1)), np.ones(8), epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_nan_loss_stops_with_a_clear_error_and_finite_weights():
    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=1e6), loss="mse")
    x = np.linspace(-100, 100, 16, dtype=np.float32).reshape(-1, 1)
    with pytest.raises(FloatingPointError, match=r"the loss is (nan|inf) at epoch \d+, batch \d+"):
        model.fit(x, 1e3 * x[:, 0], epochs=50, batch_size=16, verbose=0)
    assert all(np.all(np.isfinite(p.numpy())) for p in model.parameters())


def test_ctrl_c_returns_the_history_so_far(capsys):
    class Interrupt(nn.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if len(self.model.history.epoch) == 2:
                raise KeyboardInterrupt

    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
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

    class Record(nn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["val_loss"], self.model.state_dict()))

    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
    # a learning rate that overshoots: the loss falls, then rises
    model.compile(optimizer=optim.SGD(lr=1.02), loss="mse")
    stop = nn.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
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
    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=0.1), loss="mse")
    checkpoint = nn.ModelCheckpoint(str(tmp_path / "best-{epoch:02d}-{val_loss:.4f}.npz"), save_best_only=True)
    every = nn.ModelCheckpoint(tmp_path / "last.npz", monitor="loss")
    model.fit(x, 3 * x[:, 0], epochs=5, validation_data=(x, 3 * x[:, 0]), callbacks=[checkpoint, every], verbose=0)
    assert len(checkpoint.saved) == 5 and checkpoint.saved[0].endswith(".npz") and "best-01-" in checkpoint.saved[0]
    fresh = nn.Sequential([nn.Dense(1, input_shape=(1,))])
    fresh.load_state_dict(tinymed.load(tmp_path / "last.npz"))
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    model.save_weights(tmp_path / "weights.npz")
    again = nn.Sequential([nn.Dense(1, input_shape=(1,))]).load_weights(tmp_path / "weights.npz")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    with pytest.raises(KeyError, match="names 'auc'"):
        model.fit(x, x[:, 0], epochs=1, callbacks=[nn.ModelCheckpoint(str(tmp_path / "{auc}.npz"))], verbose=0)


def test_learning_rate_scheduler_applies_the_articles_schedule():
    model = nn.Sequential([nn.Dense(1, input_shape=(1,))])
    model.compile(optimizer=optim.SGD(lr=0.5), loss="mse")
    schedule = nn.LearningRateScheduler(lambda epoch, lr: 0.1 / math.sqrt(epoch + 1))
    history = model.fit(np.ones((4, 1)), np.ones(4), epochs=4, callbacks=[schedule], verbose=0)
    np.testing.assert_allclose(history.history["lr"], [0.1 / math.sqrt(t) for t in (1, 2, 3, 4)])
    with pytest.raises(ValueError, match="finite number"):
        model.fit(np.ones((4, 1)), np.ones(4), callbacks=[nn.LearningRateScheduler(lambda e, lr: math.nan)],
                  verbose=0)


# ----- DataLoader --------------------------------------------------------------------------
def test_dataloader_batches_shuffles_reproducibly_and_transforms():
    x, y = np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert len(DataLoader((x, y), batch_size=4, drop_last=True)) == 2
    tinymed.manual_seed(3)
    first = np.concatenate([b[1] for b in DataLoader((x, y), batch_size=3, shuffle=True)])
    tinymed.manual_seed(3)
    again = np.concatenate([b[1] for b in DataLoader((x, y), batch_size=3, shuffle=True)])
    np.testing.assert_array_equal(first, again)
    assert sorted(first) == list(range(10)) and not np.array_equal(first, y)
    doubled = next(iter(DataLoader((x, y), batch_size=10, transform=lambda b: 2 * b)))
    np.testing.assert_array_equal(doubled[0], 2 * x)


def test_dataloader_accepts_item_datasets_and_rejects_bad_arguments():
    class Items:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(2, i, np.float32), i

    xb, yb = next(iter(DataLoader(Items(), batch_size=5)))
    assert xb.shape == (5, 2) and list(yb) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="same first axis length"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(Items(), batch_size=0)
    with pytest.raises(TypeError, match="must have __len__ and __getitem__"):
        DataLoader(42)


# ----- snippet S3 -----------------------------------------------------------------------------
class ArticleAttention(nn.Module):
    """Snippet S3 (article 001 §4.3) line for line, with its one bug fixed: ``MultiheadAttention``
    returns ``(output, weights)``, so the article's ``x = self.multihead_attention(x, x, x)``
    would hand a tuple to ``linear2``; here ``[0]`` takes the output."""

    def __init__(self, d_model, nhead=8, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.nhead = nhead
        self.dropout = dropout
        self.scaling = d_model ** -0.5
        self.linear1 = nn.Linear(d_model, d_model)
        self.linear2 = nn.Linear(d_model, d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.multihead_attention = nn.MultiheadAttention(d_model, nhead, dropout=dropout)

    def forward(self, x):
        x = x * self.scaling
        x = self.linear1(x)
        x = self.dropout1(x)
        x = self.multihead_attention(x, x, x)[0]
        x = self.linear2(x)
        x = self.dropout2(x)
        return x


def test_s3_attention_module_learns_a_task_that_needs_the_whole_sequence():
    """Sequence-first input (length, batch, d_model), as PyTorch's default.  The label says
    whether two marker steps occur in the same sequence: no single step decides it."""
    tinymed.manual_seed(0)
    rng = np.random.default_rng(0)
    length, d = 8, 16
    a, b = rng.normal(0, 1.5, d), rng.normal(0, 1.5, d)

    def batch(n):
        x = rng.normal(0, 1, (length, n, d))
        has_a, has_b = rng.random(n) < 0.7, rng.random(n) < 0.7
        for i in range(n):
            pos = rng.permutation(length)
            if has_a[i]:
                x[pos[0], i] += a
            if has_b[i]:
                x[pos[1], i] += b
        return x.astype(np.float32), (has_a & has_b).astype(np.float32)

    attention, head = ArticleAttention(d_model=d, nhead=4, dropout=0.1), nn.Linear(d, 1)
    params = list(attention.parameters()) + list(head.parameters())
    assert attention(np.zeros((length, 3, d), np.float32)).shape == (length, 3, d)
    opt = optim.Adam(params, lr=3e-3)
    for _ in range(300):
        x, y = batch(32)
        logits = head(attention(tinymed.Tensor(x)).mean(dim=0)).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(logits, tinymed.Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    attention.eval()
    x, y = batch(400)
    with tinymed.no_grad():
        predicted = head(attention(tinymed.Tensor(x)).mean(dim=0)).numpy().reshape(-1) > 0
    majority = max(y.mean(), 1 - y.mean())
    print(f"S3 accuracy {(predicted == y).mean():.3f}, majority class {majority:.3f}")
    assert (predicted == y).mean() > majority + 0.2
