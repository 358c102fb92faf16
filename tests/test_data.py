"""Datasets: chest phantoms, MedMNIST files, the bundled breast cancer data, splits."""

import contextlib
import pickle
import time

import numpy as np
import pytest

import tinymed
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data.breast_cancer import CSV_PATH, load_breast_cancer
from tinymed.data.dataset import Dataset
from tinymed.data.medmnist import load_medmnist
from tinymed.data.phantoms import chest_phantoms
from tinymed.data.split import stratified_split, train_test_split


# ----- the Dataset result type ------------------------------------------------------------
def test_dataset_unpacks_and_describes():
    X, y = np.zeros((3, 2)), np.array([0, 1, 1])
    data = Dataset(X, y, "Toy\nsource: here", feature_names=["a", "b"], class_names=["no", "yes"])
    X2, y2 = data
    assert X2 is X and y2 is y and data.X is X and data.y is y
    assert data.feature_names == ("a", "b") and data.class_names == ("no", "yes")
    assert "Toy" in repr(data) and "(3, 2)" in repr(data)
    copy = pickle.loads(pickle.dumps(data))
    assert copy.description == data.description and np.array_equal(copy.X, X)


# ----- chest phantoms ---------------------------------------------------------------------
def test_phantoms_shapes_dtypes_range_and_balance():
    data = chest_phantoms(41, size=32, seed=3)
    X, y = data
    assert X.shape == (41, 1, 32, 32) and X.dtype == np.float32
    assert y.shape == (41,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0 and np.isfinite(X).all()
    assert np.bincount(y).tolist() == [20, 21]
    assert "pneumonia" in data.description and "class balance" in data.description
    assert data.class_names[1].startswith("pneumonia")


def test_phantoms_are_reproducible_and_seeds_differ():
    a, ya = chest_phantoms(16, size=24, seed=7)
    b, yb = chest_phantoms(16, size=24, seed=7)
    c, _ = chest_phantoms(16, size=24, seed=8)
    assert np.array_equal(a, b) and np.array_equal(ya, yb)
    assert np.abs(a - c).mean() > 0.02


def test_phantoms_images_differ_from_each_other():
    X, _ = chest_phantoms(20, size=32, seed=0)
    flat = X.reshape(20, -1)
    distances = np.abs(flat[:, None] - flat[None]).mean(axis=2)
    assert distances[~np.eye(20, dtype=bool)].min() > 0.01


def test_difficulty_sets_opacity_contrast():
    # Only the opacities depend on the difficulty, so with one seed the normal images are the
    # same and the abnormal ones are brighter where the disease is stronger.
    X = {d: chest_phantoms(60, size=32, seed=5, difficulty=d)[0] for d in ("easy", "medium", "hard")}
    _, y = chest_phantoms(60, size=32, seed=5)
    assert np.array_equal(X["easy"][y == 0], X["hard"][y == 0])
    excess = {d: (X[d][y == 1] - X["hard"][y == 1]).sum(axis=(1, 2, 3)).mean() for d in X}
    assert excess["easy"] > excess["medium"] > excess["hard"] == 0


def test_phantoms_bad_arguments():
    with pytest.raises(ValueError, match="difficulty"):
        chest_phantoms(4, difficulty="impossible")
    with pytest.raises(ValueError, match="size"):
        chest_phantoms(4, size=4)
    with pytest.raises(ValueError, match="n must"):
        chest_phantoms(-1)


# The two separability figures quoted in chest_phantoms' docstring come from here
# (run `pytest tests/test_data.py -k separab -s` to print them).
SEPARABILITY = dict(size=32, n_train=2000, n_test=1000, train_seed=1, test_seed=2)


@pytest.fixture(scope="module")
def phantom_split():
    s = SEPARABILITY
    train = chest_phantoms(s["n_train"], size=s["size"], seed=s["train_seed"])
    test = chest_phantoms(s["n_test"], size=s["size"], seed=s["test_seed"])
    return train, test


def global_intensity_features(X):
    """Per image: mean, std, min, max, 9 percentiles, a 16-bin histogram, skewness, kurtosis."""
    flat = X.reshape(len(X), -1).astype(np.float64)
    mean, std = flat.mean(axis=1), flat.std(axis=1)
    z = (flat - mean[:, None]) / std[:, None]
    percentiles = np.percentile(flat, [1, 5, 10, 25, 50, 75, 90, 95, 99], axis=1).T
    histogram = np.stack([np.histogram(row, bins=16, range=(0, 1))[0] for row in flat]) / flat.shape[1]
    moments = np.stack([mean, std, flat.min(axis=1), flat.max(axis=1), (z ** 3).mean(1), (z ** 4).mean(1)], 1)
    return np.hstack([moments, percentiles, histogram])


def logistic_regression(features, y, steps=3000, lr=0.5, l2=1e-3):
    """Batch gradient descent on the mean log-loss (+ L2); returns (weights, bias)."""
    w, b = np.zeros(features.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(features @ w + b)))
        w -= lr * (features.T @ (p - y) / len(y) + l2 * w)
        b -= lr * (p - y).mean()
    return w, b


def test_separability_global_statistics_baseline_stays_below_75_percent(phantom_split):
    (X_train, y_train), (X_test, y_test) = phantom_split
    f_train, f_test = global_intensity_features(X_train), global_intensity_features(X_test)
    mu, sd = f_train.mean(axis=0), f_train.std(axis=0) + 1e-12   # standardise on train only
    w, b = logistic_regression((f_train - mu) / sd, y_train)
    train_acc = (((f_train - mu) / sd @ w + b > 0) == y_train).mean()
    test_acc = (((f_test - mu) / sd @ w + b > 0) == y_test).mean()
    print(f"\nglobal-intensity logistic regression: train accuracy {train_acc:.3f}, "
          f"test accuracy {test_acc:.3f} ({SEPARABILITY})")
    assert test_acc < 0.75


def _standardise_each_image(X):
    mean = X.mean(axis=(1, 2, 3), keepdims=True)
    std = X.std(axis=(1, 2, 3), keepdims=True)
    return ((X - mean) / (std + 1e-6)).astype(np.float32)


def train_small_cnn(X, y, epochs=10, batch=32, lr=3e-3, seed=0):
    """conv3x3(8) - ReLU - maxpool2 - conv3x3(16) - ReLU - maxpool2 - linear(1), trained with
    hand-written Adam on binary cross-entropy; returns a predict(X) -> logits function."""
    rng = np.random.default_rng(seed)
    side = X.shape[-1] // 4

    def param(shape, fan_in):
        return Tensor((rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32), requires_grad=True)

    params = [param((8, 1, 3, 3), 9), Tensor(np.zeros(8, np.float32), requires_grad=True),
              param((16, 8, 3, 3), 72), Tensor(np.zeros(16, np.float32), requires_grad=True),
              param((1, 16 * side * side), 16 * side * side), Tensor(np.zeros(1, np.float32), requires_grad=True)]

    def forward(x):
        w1, b1, w2, b2, w3, b3 = params
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=1)), 2)
        return F.linear(h.reshape(h.shape[0], -1), w3, b3).reshape(-1)

    m = [np.zeros(p.shape, np.float32) for p in params]
    v = [np.zeros(p.shape, np.float32) for p in params]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start:start + batch]
            for p in params:
                p.grad = None
            loss = F.binary_cross_entropy_with_logits(forward(Tensor(X[idx])), y[idx].astype(np.float32))
            loss.backward()
            step += 1
            for i, p in enumerate(params):  # Adam
                g = tinymed.backend.to_numpy(p.grad)
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.999 * v[i] + 0.001 * g * g
                update = lr * (m[i] / (1 - 0.9 ** step)) / (np.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8)
                p.data = p.data - tinymed.backend.asarray(update.astype(np.float32))

    def predict(X_new):
        with tinymed.no_grad():
            return np.concatenate([forward(Tensor(X_new[s:s + 250])).numpy() for s in range(0, len(X_new), 250)])

    return predict


@contextlib.contextmanager
def one_numba_thread():
    """Numba's parallel loops and OpenBLAS's threads together oversubscribe a 2-core machine:
    this training took 49 s with both at 2 threads and 5 s with either at 1."""
    try:
        import numba
    except ImportError:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def test_separability_small_cnn_exceeds_90_percent(phantom_split):
    (X_train, y_train), (X_test, y_test) = phantom_split
    start = time.perf_counter()
    with one_numba_thread():
        predict = train_small_cnn(_standardise_each_image(X_train), y_train)
        test_acc = ((predict(_standardise_each_image(X_test)) > 0) == y_test).mean()
    print(f"\nsmall CNN: test accuracy {test_acc:.3f} ({SEPARABILITY}, "
          f"{time.perf_counter() - start:.1f} s on backend {tinymed.current()})")
    assert test_acc > 0.90


# ----- MedMNIST ---------------------------------------------------------------------------
def _write_medmnist(path, n=(6, 3, 4), shape=(28, 28), n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count in zip(("train", "val", "test"), n):
        arrays[f"{split}_images"] = rng.integers(0, 256, (count, *shape), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, n_classes, (count, 1), dtype=np.uint8)
    np.savez(path, **arrays)
    return arrays


def test_medmnist_round_trip_grey(tmp_path):
    arrays = _write_medmnist(tmp_path / "pneumoniamnist.npz")
    for split in ("train", "val", "test"):
        data = load_medmnist("pneumoniamnist", split=split, root=tmp_path)
        X, y = data
        n = len(arrays[f"{split}_images"])
        assert X.shape == (n, 1, 28, 28) and X.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        np.testing.assert_allclose(X[:, 0] * 255, arrays[f"{split}_images"], atol=1e-4)
        np.testing.assert_array_equal(y, arrays[f"{split}_labels"][:, 0])
        assert X.min() >= 0 and X.max() <= 1
    assert "CC BY 4.0" in data.description and "Yang" in data.description
    assert "Scientific Data" in data.description and data.class_names == ("normal", "pneumonia")


def test_medmnist_round_trip_colour_and_size(tmp_path):
    arrays = _write_medmnist(tmp_path / "bloodmnist_64.npz", shape=(64, 64, 3), n_classes=8)
    X, y = load_medmnist("BloodMNIST", split="test", root=tmp_path, size=64)
    assert X.shape == (4, 3, 64, 64)
    np.testing.assert_allclose(X.transpose(0, 2, 3, 1) * 255, arrays["test_images"], atol=1e-4)


def test_medmnist_missing_file_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_medmnist("breastmnist", root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "breastmnist.npz") in message
    assert "pip install medmnist" in message and "python -m medmnist download" in message
    assert "~/.medmnist" in message


def test_medmnist_default_root_is_home_medmnist(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".medmnist").mkdir()
    _write_medmnist(tmp_path / ".medmnist" / "dermamnist.npz", shape=(28, 28, 3), n_classes=7)
    X, _ = load_medmnist("dermamnist", split="val")
    assert X.shape == (3, 3, 28, 28)


def test_medmnist_corrupt_file(tmp_path):
    (tmp_path / "pneumoniamnist.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(ValueError, match="not a readable MedMNIST"):
        load_medmnist(root=tmp_path)


def test_medmnist_wrong_keys(tmp_path):
    np.savez(tmp_path / "pneumoniamnist.npz", images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="train_images"):
        load_medmnist(root=tmp_path)


def test_medmnist_pickled_file_refused(tmp_path):
    np.savez(tmp_path / "pneumoniamnist.npz", train_images=np.array([{"a": 1}, None], dtype=object),
             train_labels=np.zeros((2, 1), np.uint8))
    with pytest.raises(ValueError, match="pickled"):
        load_medmnist(root=tmp_path)


def test_medmnist_wrong_dtype_or_shape(tmp_path):
    np.savez(tmp_path / "pneumoniamnist.npz", train_images=np.zeros((2, 28, 28), np.float32),
             train_labels=np.zeros((2, 1), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        load_medmnist(root=tmp_path)
    np.savez(tmp_path / "pneumoniamnist.npz", train_images=np.zeros((2, 28, 28), np.uint8),
             train_labels=np.zeros((3, 1), np.uint8))
    with pytest.raises(ValueError, match="N = 2"):
        load_medmnist(root=tmp_path)


def test_medmnist_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="pneumoniamnist"):
        load_medmnist("organmnist3d", root=tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_medmnist(split="validation", root=tmp_path)


# ----- Wisconsin breast cancer ------------------------------------------------------------
def test_breast_cancer_shape_counts_and_known_values():
    data = load_breast_cancer()
    X, y = data
    assert X.shape == (569, 30) and X.dtype == np.float64
    assert y.shape == (569,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [357, 212]       # 357 benign (0), 212 malignant (1)
    assert len(data.feature_names) == 30 and data.class_names == ("benign", "malignant")
    # first row of UCI wdbc.data: ID 842302, diagnosis M
    first = dict(zip(data.feature_names, X[0]))
    assert y[0] == 1
    assert first["radius_mean"] == 17.99 and first["texture_mean"] == 10.38
    assert first["perimeter_mean"] == 122.8 and first["area_mean"] == 1001.0
    assert first["fractal_dimension_worst"] == 0.1189
    assert data.feature_names[10] == "radius_se" and data.feature_names[20] == "radius_worst"
    # summary statistics published with the data set (min / max of a few columns)
    column = dict(zip(data.feature_names, X.T))
    assert column["radius_mean"].min() == 6.981 and column["radius_mean"].max() == 28.11
    assert column["area_worst"].max() == 4254.0
    assert "CC BY 4.0" in data.description and "malignant" in data.description


def test_breast_cancer_csv_carries_attribution():
    head = CSV_PATH.read_text().splitlines()[:8]
    text = "\n".join(head)
    assert head[0].startswith("#") and "Wolberg" in text and "CC BY 4.0" in text and "UCI" in text


# ----- splits -----------------------------------------------------------------------------
def test_stratified_split_keeps_class_ratios_disjoint_and_complete():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [300, 120, 80])
    X = np.arange(len(y) * 2).reshape(-1, 2)
    X, y = X[rng.permutation(len(y))], y[rng.permutation(len(y))]
    (X_tr, y_tr), (X_val, y_val), (X_te, y_te) = stratified_split(X, y, val=0.15, test=0.15, seed=1)
    assert (len(X_tr), len(X_val), len(X_te)) == (350, 75, 75)
    rows = np.concatenate([X_tr[:, 0], X_val[:, 0], X_te[:, 0]])
    assert np.array_equal(np.sort(rows), np.sort(X[:, 0]))               # every sample exactly once
    overall = np.bincount(y) / len(y)
    for part in (y_tr, y_val, y_te):
        assert np.abs(np.bincount(part, minlength=3) / len(part) - overall).max() < 0.01
    again = stratified_split(X, y, val=0.15, test=0.15, seed=1)
    assert np.array_equal(again[2][0], X_te)


def test_stratified_split_on_breast_cancer_and_empty_val():
    X, y = load_breast_cancer()
    (X_tr, y_tr), (X_val, _), (X_te, y_te) = stratified_split(X, y, val=0.0, test=0.2, seed=0)
    assert len(X_val) == 0 and len(X_tr) + len(X_te) == 569
    # 114 test cases: 357 * 114/569 = 71.5 and 212 * 114/569 = 42.5; the larger remainder wins
    assert np.bincount(y_te).tolist() == [72, 42]


def test_train_test_split_semantics():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    assert len(X_te) == 3 and len(X_tr) == 7                              # ceil(0.25 * 10)
    assert np.array_equal(X_tr[:, 0] // 2, y_tr) and np.array_equal(X_te[:, 0] // 2, y_te)
    assert len(train_test_split(X, test_size=4)[1]) == 4
    first, second = train_test_split(list("abcdefghij"), test_size=0.2, shuffle=False)
    assert first == list("abcdefgh") and second == list("ij")
    a = train_test_split(X, random_state=3)
    b = train_test_split(X, random_state=3)
    assert np.array_equal(a[0], b[0])
    tr, te = train_test_split(X, train_size=0.5, test_size=0.2, random_state=0)
    assert (len(tr), len(te)) == (5, 2) and not set(tr[:, 0]) & set(te[:, 0])


def test_train_test_split_stratify():
    y = np.array([0] * 80 + [1] * 20)
    y_tr, y_te = train_test_split(y, test_size=0.25, stratify=y, random_state=0)
    assert np.bincount(y_te).tolist() == [20, 5] and np.bincount(y_tr).tolist() == [60, 15]


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        train_test_split(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="shuffle=False"):
        train_test_split(np.zeros(10), shuffle=False, stratify=np.zeros(10))
    with pytest.raises(ValueError, match="least populated class"):
        train_test_split(np.zeros(10), stratify=np.array([0] * 9 + [1]))
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(10), test_size=1.5)
