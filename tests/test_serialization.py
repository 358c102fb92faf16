"""tinymed.save / tinymed.load: round trips, atomic writes, refusing bad files, exact resume."""

import os
import pickle

import numpy as np
import pytest

import tinymed
from tinymed import nn, optim
from tinymed.data import DataLoader, TensorDataset
from tinymed.nn import functional as F
from tinymed.serialization import CheckpointError


def _model():
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3),
                         nn.Linear(3 * 3 * 3, 2))


def test_nested_round_trip_keeps_structure_types_and_values(tmp_path):
    tinymed.manual_seed(7)
    model = _model()
    state = {
        "model": model, "epoch": 3, "lr": 0.125, "name": "lenet", "done": False, "note": None,
        "sizes": (1, 2, 3), "history": [0.5, 0.25], "rng": tinymed.get_rng_state(),
        "mask": np.array([True, False]), "big": 2**100 + 1, "tensor": tinymed.Tensor([1.0, 2.0]),
    }
    path = tinymed.save(state, tmp_path / "ckpt.npz")
    back = tinymed.load(path)
    assert list(back) == list(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(back["model"][key], value)
    assert back["epoch"] == 3 and isinstance(back["epoch"], int)
    assert back["lr"] == 0.125 and back["name"] == "lenet" and back["done"] is False and back["note"] is None
    assert back["sizes"] == (1, 2, 3) and back["history"] == [0.5, 0.25] and back["big"] == 2**100 + 1
    assert back["rng"] == state["rng"]  # 128-bit integers survive
    np.testing.assert_array_equal(back["mask"], [True, False])
    np.testing.assert_array_equal(back["tensor"], [1.0, 2.0])
    with np.load(path, allow_pickle=False) as archive:  # an ordinary npz, readable without tinymed
        assert "model/0.weight" in archive.files


def test_save_is_atomic_and_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    tinymed.save({"w": np.ones(3)}, path)

    def broken_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        tinymed.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(tinymed.load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_load_refuses_pickles_and_garbage(tmp_path):
    pickled = tmp_path / "evil.npz"
    np.savez(pickled, payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError, match="pickled objects"):
        tinymed.load(pickled)
    raw_pickle = tmp_path / "model.pkl"
    raw_pickle.write_bytes(pickle.dumps({"w": [1, 2]}))
    with pytest.raises(CheckpointError, match="pickled"):
        tinymed.load(raw_pickle)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 but not really a zip file")
    with pytest.raises(CheckpointError, match="not a readable .npz"):
        tinymed.load(garbage)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(CheckpointError, match="a single .npy array, not an .npz archive"):
        tinymed.load(single)
    with pytest.raises(FileNotFoundError, match="no file at"):
        tinymed.load(tmp_path / "missing.npz")


def test_save_refuses_what_would_need_pickle(tmp_path):
    with pytest.raises(CheckpointError, match="'f' is a function"):
        tinymed.save({"f": lambda: 0}, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match="keys must be non-empty strings"):
        tinymed.save({"a/b": 1}, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match="expected a Module, an optimizer or a dict"):
        tinymed.save(np.ones(3), tmp_path / "x.npz")


def test_wrong_shapes_or_missing_keys_change_nothing(tmp_path):
    tinymed.manual_seed(0)
    model = _model()
    before = model.state_dict()
    other = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3),
                          nn.Linear(4 * 3 * 3, 2))
    tinymed.save(other, tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(4, 1, 3, 3\)"):
        model.load_state_dict(tinymed.load(tmp_path / "other.npz"))
    partial = dict(before)
    del partial["5.bias"]
    tinymed.save(partial, tmp_path / "partial.npz")
    with pytest.raises(KeyError, match="missing keys"):
        model.load_state_dict(tinymed.load(tmp_path / "partial.npz"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def _train(model, opt, loader, epochs):
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(tinymed.Tensor(xb)), yb).backward()
            opt.step()


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_resumed_training_ends_in_exactly_the_same_weights(tmp_path, backend, opt_name):
    if backend == "cupy":
        pytest.skip("exact resume is promised for the CPU backends")
    rng = np.random.default_rng(0)
    data = TensorDataset(rng.normal(size=(48, 1, 8, 8)).astype(np.float32), rng.integers(0, 2, 48))

    def fresh():
        model = _model()
        kwargs = {"momentum": 0.9} if opt_name == "SGD" else {}
        return model, getattr(optim, opt_name)(model.parameters(), lr=0.05, **kwargs)

    tinymed.manual_seed(11)
    model, opt = fresh()
    loader = DataLoader(data, batch_size=8, shuffle=True)
    _train(model, opt, loader, 4)
    uninterrupted = model.state_dict()

    tinymed.manual_seed(11)
    model, opt = fresh()
    _train(model, opt, loader, 2)
    tinymed.save({"model": model, "optimizer": opt, "rng": tinymed.get_rng_state()}, tmp_path / "ckpt.npz")
    tinymed.manual_seed(999)  # a new process would start from anywhere
    model, opt = fresh()
    state = tinymed.load(tmp_path / "ckpt.npz")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    tinymed.set_rng_state(state["rng"])
    _train(model, opt, loader, 2)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, uninterrupted[key], err_msg=key)
